"""``python -m ticket_service sla-projector``: keeps each ticket's SLA due times and breaches
(the read model behind views and reports) from ``helpdesk.sla.v1``."""

from __future__ import annotations

from helpdesk_platform.telemetry import setup_telemetry
from ticket_service import bootstrap
from ticket_service.entrypoints.stopping import stop_on_signals
from ticket_service.settings import Settings


async def run_sla_projector(settings: Settings) -> None:
    setup_telemetry("ticket-sla-projector")
    stop = stop_on_signals()
    async with bootstrap.started(settings, min_size=1, max_size=2) as service:
        await service.sla_projector().run(stop)
