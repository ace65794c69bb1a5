"""Authorization matrices for the services' HTTP APIs: callers, their tokens, and the check.

A matrix test enumerates every route of a service's ``/openapi.json``, calls each as every caller
in :data:`CALLERS` and compares the status with its table; a route the document lists without a
row fails, so a new route cannot go out without its row (security issue #11).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from helpdesk_devstack.tokens import mint_token

__all__ = ["CALLERS", "Expected", "caller_headers", "check_matrix", "forged_token"]

#: Who calls: no token, a forged one, two customers, then staff by rising role.
CALLERS = ("none", "forged", "customer_a", "customer_b", "technician", "agent", "manager")

#: ``(METHOD, OpenAPI path) -> status per caller``, in the order of :data:`CALLERS`.
Expected = Mapping[tuple[str, str], tuple[int, ...]]


def forged_token() -> str:
    """A well-formed manager's token, signed by a key no service trusts."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return mint_token(pem, "manager", "intruder", timedelta(hours=1))


def caller_headers(
    private_key: bytes, customer_a: str, customer_b: str
) -> dict[str, dict[str, str]]:
    """The ``Authorization`` header of each caller; the customers' subjects are their ids."""
    hour = timedelta(hours=1)
    tokens = {
        "forged": forged_token(),
        "customer_a": mint_token(private_key, "customer", customer_a, hour),
        "customer_b": mint_token(private_key, "customer", customer_b, hour),
        "technician": mint_token(private_key, "technician", "tech-1", hour),
        "agent": mint_token(private_key, "agent", "agent-1", hour),
        "manager": mint_token(private_key, "manager", "manager-1", hour),
    }
    return {"none": {}, **{name: {"Authorization": f"Bearer {t}"} for name, t in tokens.items()}}


async def check_matrix(
    client: httpx.AsyncClient,
    expected: Expected,
    headers: Mapping[str, Mapping[str, str]],
    concrete: Callable[[str], str],
    body: Callable[[str, str], Any] = lambda method, path: None,
) -> None:
    """Call every route of the service's ``/openapi.json`` as every caller; fail with the list of
    ``(method, path, caller, expected, got)`` that differ, and on routes without a row.

    ``concrete`` fills a path template's parameters; ``body`` gives the JSON body to send.
    """
    document = (await client.get("/openapi.json")).json()
    routes = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert routes - expected.keys() == set(), "routes without a row in the matrix"
    assert expected.keys() - routes == set(), "rows for routes the service does not have"
    wrong = []
    for (method, path), statuses in sorted(expected.items()):
        for caller, status in zip(CALLERS, statuses, strict=True):
            response = await client.request(
                method, concrete(path), headers=dict(headers[caller]), json=body(method, path)
            )
            if response.status_code != status:
                wrong.append((method, path, caller, status, response.status_code))
    assert wrong == [], "(method, path, caller, expected, got)"
