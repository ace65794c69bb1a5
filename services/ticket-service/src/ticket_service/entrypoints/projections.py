"""``ticket-service projections rebuild|catch-up``: maintain the read models from the CLI."""

from __future__ import annotations

from ticket_service import bootstrap
from ticket_service.settings import Settings


async def run_projections(settings: Settings, *, rebuild: bool) -> int:
    async with bootstrap.started(settings, min_size=1, max_size=2) as service:
        projector = service.projector
        return await (projector.rebuild() if rebuild else projector.catch_up())
