"""``python -m ticket_service relay``: the outbox relay, which publishes the event log in
PostgreSQL to Kafka (one active relay at a time, by an advisory lock)."""

from __future__ import annotations

from helpdesk_platform.telemetry import setup_telemetry
from ticket_service import bootstrap
from ticket_service.entrypoints.stopping import stop_on_signals
from ticket_service.settings import Settings


async def run_relay(settings: Settings) -> None:
    setup_telemetry("ticket-relay")
    stop = stop_on_signals()
    async with bootstrap.started(settings, min_size=2, max_size=4) as service:
        await service.outbox_relay().run(stop)
