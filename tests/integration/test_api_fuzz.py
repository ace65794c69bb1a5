"""Schemathesis over the ticket service's own /openapi.json: generated requests, valid and
invalid, for every operation. Whatever they send, the answer is never a 5xx."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from helpdesk_devstack.fuzz import fuzz_service
from helpdesk_devstack.tokens import mint_token

pytestmark = pytest.mark.integration

EXAMPLES_PER_OPERATION = 30


@pytest.fixture(scope="module")
def ticket_service_url(run_ticket_service: Callable[[str], str]) -> str:
    return run_ticket_service("fuzz")


def headers_of(dev_keys: tuple[Path, Path], role: str) -> dict[str, str]:
    token = mint_token(
        dev_keys[0].read_bytes(),
        role,
        str(uuid.uuid4()),
        timedelta(hours=1),
        "Fuzz",
        email=f"fuzz-{uuid.uuid4().hex[:8]}@example.co.id",
    )
    return {"Authorization": f"Bearer {token}"}


# A manager reaches every operation's logic; a customer the paths that filter and redact what
# a customer sees (their own tickets, public history, their own files).
@pytest.mark.timeout(900)  # hundreds of real requests; slow when the machine is busy
@pytest.mark.parametrize("role", ["manager", "customer"])
def test_no_request_makes_a_server_error(
    ticket_service_url: str, dev_keys: tuple[Path, Path], role: str
) -> None:
    report = fuzz_service(
        ticket_service_url, headers_of(dev_keys, role), examples=EXAMPLES_PER_OPERATION
    )
    assert report.operations >= 10, "the schema lost its operations"
    assert not report.failures, "\n\n".join(report.failures)
    assert report.calls >= 5 * report.operations, f"only {report.calls} requests were generated"
