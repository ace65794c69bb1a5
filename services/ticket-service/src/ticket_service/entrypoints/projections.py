"""``ticket-service projections rebuild|catch-up``: maintain the read models from the CLI."""

from __future__ import annotations

from ticket_service.adapters.event_store import PostgresEventStore, create_pool
from ticket_service.adapters.projections import Projector
from ticket_service.entrypoints.http import projections
from ticket_service.settings import Settings


async def run_projections(settings: Settings, *, rebuild: bool) -> int:
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        projector = Projector(PostgresEventStore(pool), pool, projections())
        return await (projector.rebuild() if rebuild else projector.catch_up())
    finally:
        await pool.close()
