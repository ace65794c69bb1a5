"""Schemathesis over the service's own /openapi.json (every operation but the endless SSE
stream): generated requests, valid and invalid, as a manager. The answer is never a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from .conftest import Harness, ServiceProcess, bearer

EXAMPLES_PER_OPERATION = 25
FUZZ_MANAGER = "fuzz-manager"


def probe_operation(
    operation: Any, base_url: str, headers: dict[str, str], failures: list[str]
) -> int:
    """Run the generated cases of one operation; the number of requests made."""
    calls = 0

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def probe(case: schemathesis.Case) -> None:
        nonlocal calls
        calls += 1
        case.call_and_validate(base_url=base_url, headers=headers, checks=[not_a_server_error])

    try:
        probe()
    except Exception as error:  # collect every operation's failure, then report them all
        failures.append(f"{operation.label}: {error}")
    return calls


@pytest.mark.timeout(900)  # hundreds of real requests; slow when the machine is busy
async def test_no_request_makes_a_server_error(
    ready_service: ServiceProcess, harness: Harness
) -> None:
    headers = bearer(harness.token(FUZZ_MANAGER, "manager"))
    schema = schemathesis.openapi.from_url(f"{ready_service.url}/openapi.json")
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if result.ok().path != "/notifications/stream"
    ]
    assert len(operations) >= 14, "the schema lost its operations"
    failures: list[str] = []
    calls = 0
    try:
        for operation in operations:
            calls += probe_operation(operation, ready_service.url, headers, failures)
    finally:
        # Subscriptions the fuzzer made must not go on calling whatever URLs it generated.
        await harness.fetch("DELETE FROM webhook_subscriptions WHERE owner = $1", FUZZ_MANAGER)
    assert not failures, "\n\n".join(failures)
    assert calls >= 5 * len(operations), f"only {calls} requests were generated"
