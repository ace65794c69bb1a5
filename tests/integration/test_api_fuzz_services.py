"""Schemathesis over the OpenAPI document of every service but the ticket service (fuzzed in
``test_api_fuzz``): the SLA and assignment workers, the mail gateway, the notification service
and the API gateway's own routes, each as a manager (every operation's logic) and as a customer
(the refusals; the notification service's manager run is its own ``test_api_fuzz``). Whatever
the generated requests send, no answer is a 5xx (issue #11)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from helpdesk_devstack.fuzz import fuzz_service

from .authz_worlds import WORLDS
from .gateway_stack import gateway  # noqa: F401 - the session's gateway stack, for its world

pytestmark = pytest.mark.integration

#: Who fuzzes each service.
CALLERS = {
    "sla-service": ("manager", "customer_a"),
    "assignment-service": ("manager", "customer_a"),
    "mail-gateway": ("manager", "customer_a"),
    "notification-service": ("customer_a",),
    "api-gateway": ("manager", "customer_a"),
}
#: Endless Server-Sent Events streams: nothing to fuzz, and a probe would never end.
STREAMS = ("/notifications/stream",)


@pytest.mark.timeout(1200)  # hundreds of real requests; slow when the machine is busy
@pytest.mark.parametrize("service", sorted(CALLERS))
async def test_no_request_makes_a_server_error(
    request: pytest.FixtureRequest, dev_keys: tuple[Path, Path], service: str
) -> None:
    world = await WORLDS[service](request, dev_keys[0].read_bytes())
    for caller in CALLERS[service]:
        report = await asyncio.to_thread(
            fuzz_service,
            world.url,
            world.callers.headers[caller],
            openapi=world.openapi,
            skip=STREAMS,
            examples=15,
        )
        assert report.operations >= 3, f"{service}: the schema lost its operations"
        assert not report.failures, f"{service} as {caller}:\n" + "\n\n".join(report.failures)
        assert report.calls >= 5 * report.operations, f"only {report.calls} requests"
