"""Schemathesis over the service's own /openapi.json (every operation but the endless SSE
streams): generated requests, valid and invalid, as a manager. The answer is never a 5xx."""

from __future__ import annotations

import asyncio

import pytest

from helpdesk_devstack.fuzz import fuzz_service

from .conftest import Harness, ServiceProcess, bearer

EXAMPLES_PER_OPERATION = 25
FUZZ_MANAGER = "fuzz-manager"


@pytest.mark.timeout(900)  # hundreds of real requests; slow when the machine is busy
async def test_no_request_makes_a_server_error(
    ready_service: ServiceProcess, harness: Harness
) -> None:
    headers = bearer(harness.token(FUZZ_MANAGER, "manager"))
    try:
        report = await asyncio.to_thread(
            fuzz_service,
            ready_service.url,
            headers,
            skip=("/notifications/stream", "/presence/tickets/{ticket_id}/stream"),
            examples=EXAMPLES_PER_OPERATION,
        )
    finally:
        # Subscriptions the fuzzer made must not go on calling whatever URLs it generated.
        await harness.fetch("DELETE FROM webhook_subscriptions WHERE owner = $1", FUZZ_MANAGER)
    assert report.operations >= 14, "the schema lost its operations"
    assert not report.failures, "\n\n".join(report.failures)
    assert report.calls >= 5 * report.operations, f"only {report.calls} requests were generated"
