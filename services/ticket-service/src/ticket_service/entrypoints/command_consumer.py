"""``python -m ticket_service commands``: decides the commands other services send on
``helpdesk.ticket-commands.v1`` (assign, escalate), once each, and follows contact and company
changes onto open tickets (the customer-context follower, so that every stack runs it);
``python -m ticket_service customer-context`` runs the follower alone."""

from __future__ import annotations

import asyncio

from helpdesk_platform.telemetry import setup_telemetry
from ticket_service import bootstrap
from ticket_service.entrypoints.stopping import stop_on_signals
from ticket_service.settings import Settings


async def run_commands(settings: Settings) -> None:
    setup_telemetry("ticket-commands")
    stop = stop_on_signals()
    # One connection per ticket decided at once, and one for the rest.
    async with (
        bootstrap.started(
            settings, min_size=1, max_size=settings.commands_concurrency + 1
        ) as service,
        asyncio.TaskGroup() as group,
    ):
        group.create_task(service.command_consumer().run(stop))
        group.create_task(service.customer_context_consumer().run(stop))


async def run_customer_context(settings: Settings) -> None:
    setup_telemetry("ticket-customer-context")
    stop = stop_on_signals()
    async with bootstrap.started(settings, min_size=1, max_size=3) as service:
        await service.customer_context_consumer().run(stop)
