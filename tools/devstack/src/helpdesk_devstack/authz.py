"""The authorization matrix: who may call what, on every route of every service (issue #11).

One harness for all services. A service's table maps each ``(METHOD, OpenAPI path)`` to a
:class:`Route`: how to call it (:class:`Call`, with ``{name}`` placeholders filled from the
world's ids) and the status each caller must get (``"2xx"`` or an exact code). :func:`check`
reads the service's OpenAPI document, fails when a documented route has no row (so a new route
cannot ship without a decision about who may call it) or a row names a route that is gone,
then calls every route as every caller and fails with the list of wrong answers (any 5xx is
wrong).

The callers: no token, a forged token (a manager's, signed by a key no service trusts), two
customers, a technician, an agent, a manager and, where it matters, the mail gateway's own
principal (an agent token with ``via: mail-gateway``, as the mail gateway mints).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from helpdesk_devstack.tokens import mint_token

__all__ = [
    "CALLERS",
    "EVERYONE",
    "MAIL_CUSTOMER",
    "MAIL_GATEWAY",
    "MANAGERS_ONLY",
    "OWNER_OR_STAFF",
    "PUBLIC",
    "ROUTERS_ONLY",
    "STAFF",
    "STAFF_ONLY",
    "Call",
    "Callers",
    "Route",
    "World",
    "check",
    "expect",
    "forged_token",
    "make_callers",
]

#: Who calls, in the order reports list them.
CALLERS = (
    "anonymous",
    "forged",
    "customer_a",
    "customer_b",
    "technician",
    "agent",
    "manager",
)
#: The mail gateway's principals, extra callers for the service it calls: its own (an agent
#: token, ``sub: mail-gateway``) and customer A writing by email (a customer token with
#: ``sub: mail:<address>``), both with ``via: mail-gateway``.
MAIL_GATEWAY = "mail_gateway"
MAIL_CUSTOMER = "mail_customer"
STAFF = ("technician", "agent", "manager")


@dataclass(frozen=True)
class Call:
    """How to call a route: ``{name}`` in path parameters (``path`` maps a parameter to an
    id's name), query, body and headers is filled from the world's ids; ``fresh`` names ids
    made anew for every caller (for changes that can happen only once, such as a merge)."""

    path: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    query: Mapping[str, str] = field(default_factory=dict)
    content: bytes | None = None
    content_type: str = "text/plain"
    headers: Mapping[str, str] = field(default_factory=dict)
    fresh: tuple[str, ...] = ()
    #: An endless response (Server-Sent Events): only its status is read.
    stream: bool = False


@dataclass(frozen=True)
class Route:
    call: Call
    #: caller -> ``"2xx"`` or an exact status (``"401"``...).
    expect: Mapping[str, str]
    #: A route the service serves but leaves out of its OpenAPI document (health, the
    #: document itself): checked all the same.
    undocumented: bool = False


def expect(
    *,
    customer_a: str,
    customer_b: str | None = None,
    technician: str = "2xx",
    agent: str = "2xx",
    manager: str = "2xx",
    anonymous: str = "401",
    mail_gateway: str | None = None,
    mail_customer: str | None = None,
) -> dict[str, str]:
    """The expected status per caller: a forged token is refused like none; the mail gateway's
    own principal is an agent, and customer A by email is customer A, unless told otherwise."""
    return {
        "anonymous": anonymous,
        "forged": anonymous,
        "customer_a": customer_a,
        "customer_b": customer_b or customer_a,
        "technician": technician,
        "agent": agent,
        "manager": manager,
        MAIL_GATEWAY: mail_gateway or agent,
        MAIL_CUSTOMER: mail_customer or customer_a,
    }


EVERYONE = expect(customer_a="2xx")
PUBLIC = expect(customer_a="2xx", anonymous="2xx")
STAFF_ONLY = expect(customer_a="403")
ROUTERS_ONLY = expect(customer_a="403", technician="403")
MANAGERS_ONLY = expect(customer_a="403", technician="403", agent="403", mail_gateway="403")
#: Customer A's own record: B is told it does not exist.
OWNER_OR_STAFF = expect(customer_a="2xx", customer_b="404")


@dataclass(frozen=True)
class Callers:
    """A bearer header per caller and who each one is (``sub`` and ``email`` claims)."""

    headers: Mapping[str, Mapping[str, str]]
    subjects: Mapping[str, str]
    emails: Mapping[str, str]


def forged_token() -> str:
    """A well-formed manager's token, signed by a key no service trusts."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return mint_token(pem, "manager", str(uuid.uuid4()), timedelta(hours=1))


def make_callers(private_key: bytes) -> Callers:
    """Fresh people (random subjects, unique addresses) for one service's matrix."""
    marker = uuid.uuid4().hex[:8]
    roles = {
        "customer_a": "customer",
        "customer_b": "customer",
        "technician": "technician",
        "agent": "agent",
        "manager": "manager",
    }
    domain = {"customer": "example.co.id"}
    headers: dict[str, dict[str, str]] = {
        "anonymous": {},
        "forged": {"Authorization": f"Bearer {forged_token()}"},
    }
    subjects: dict[str, str] = {}
    emails: dict[str, str] = {}
    hour = timedelta(hours=1)
    for caller, role in roles.items():
        subjects[caller] = str(uuid.uuid4())
        emails[caller] = f"{caller}-{marker}@{domain.get(role, 'helpdesk.example')}"
        token = mint_token(
            private_key, role, subjects[caller], hour, f"Matrix {caller}", email=emails[caller]
        )
        headers[caller] = {"Authorization": f"Bearer {token}"}
    subjects[MAIL_GATEWAY] = "mail-gateway"
    mail_token = mint_token(
        private_key, "agent", "mail-gateway", hour, "Mail gateway", claims={"via": "mail-gateway"}
    )
    headers[MAIL_GATEWAY] = {"Authorization": f"Bearer {mail_token}"}
    subjects[MAIL_CUSTOMER] = f"mail:{emails['customer_a']}"
    emails[MAIL_CUSTOMER] = emails["customer_a"]
    by_mail = mint_token(
        private_key,
        "customer",
        subjects[MAIL_CUSTOMER],
        hour,
        "Matrix customer_a",
        email=emails["customer_a"],
        claims={"via": "mail-gateway"},
    )
    headers[MAIL_CUSTOMER] = {"Authorization": f"Bearer {by_mail}"}
    return Callers(headers, subjects, emails)


@dataclass
class World:
    """A running service, its callers, and the ids the calls name."""

    url: str
    callers: Callers
    ids: dict[str, str]
    #: Makes the ids named in ``Call.fresh`` anew: (client, name) -> {id name: id}.
    fresh: Callable[[httpx.AsyncClient, str], Awaitable[dict[str, str]]] | None = None
    #: Where the service's OpenAPI document is.
    openapi: str = "/openapi.json"
    #: Who calls: :data:`CALLERS`, plus :data:`MAIL_GATEWAY` where that principal matters.
    who: tuple[str, ...] = CALLERS


def documented_routes(document: Mapping[str, Any]) -> set[tuple[str, str]]:
    methods = {"get", "post", "put", "patch", "delete", "head", "options"}
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in methods
    }


def fill(value: Any, ids: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    if isinstance(value, str) and "{" in value:
        return value.format(**ids)
    return value


def matches(status: int, expected: str) -> bool:
    return 200 <= status < 300 if expected == "2xx" else status == int(expected)


async def check(world: World, table: Mapping[tuple[str, str], Route], service: str) -> int:
    """Call every route of ``table`` as every caller of ``world``; return the number of calls.

    Fails when the service documents a route without a row, when a documented row's route is
    gone, and with every call whose status is not the expected one (or is a 5xx).
    """
    async with httpx.AsyncClient(base_url=world.url, timeout=30) as api:
        document = (await api.get(world.openapi)).json()
        routes = documented_routes(document)
        unlisted = sorted(routes - table.keys())
        assert not unlisted, f"{service}: routes without an entry in the matrix: {unlisted}"
        documented = {key for key, route in table.items() if not route.undocumented}
        gone = sorted(documented - routes)
        assert not gone, f"{service}: matrix entries for routes that no longer exist: {gone}"

        wrong: list[str] = []
        calls = 0
        for (method, path), route in sorted(table.items()):
            missing = set(world.who) - set(route.expect)
            assert not missing, f"{service} {method} {path}: no expectation for {missing}"
            for caller in world.who:
                ids = dict(world.ids)
                for name in route.call.fresh:
                    assert world.fresh is not None, f"{service}: no way to make {name}"
                    ids |= await world.fresh(api, name)
                url = path.format(**{k: ids[v] for k, v in route.call.path.items()})
                headers = dict(world.callers.headers[caller]) | fill(dict(route.call.headers), ids)
                if route.call.content is not None:
                    headers["Content-Type"] = route.call.content_type
                request = api.build_request(
                    method,
                    url,
                    params=fill(dict(route.call.query), ids),
                    json=fill(route.call.body, ids) if route.call.body is not None else None,
                    content=route.call.content,
                    headers=headers,
                )
                response = await api.send(request, stream=route.call.stream)
                text = "" if route.call.stream else response.text[:200]
                await response.aclose()
                calls += 1
                if response.status_code >= 500 or not matches(
                    response.status_code, route.expect[caller]
                ):
                    wrong.append(
                        f"{method} {path} as {caller}: {response.status_code}, expected "
                        f"{route.expect[caller]}: {text}"
                    )
    assert not wrong, f"{service}: {len(wrong)} of {calls} calls answered wrongly:\n" + "\n".join(
        wrong
    )
    return calls
