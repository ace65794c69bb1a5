"""``python -m ticket_service commands``: decides the commands other services send on
``helpdesk.ticket-commands.v1`` (assign, escalate), once each."""

from __future__ import annotations

from helpdesk_platform.telemetry import setup_telemetry
from ticket_service import bootstrap
from ticket_service.entrypoints.stopping import stop_on_signals
from ticket_service.settings import Settings


async def run_commands(settings: Settings) -> None:
    setup_telemetry("ticket-commands")
    stop = stop_on_signals()
    # One connection per ticket decided at once, and one for the rest.
    async with bootstrap.started(
        settings, min_size=1, max_size=settings.commands_concurrency + 1
    ) as service:
        await service.command_consumer().run(stop)
