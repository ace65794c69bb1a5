"""One active process per database for a loop that must not run twice at once (the outbox
relay) or need not (the projector): a PostgreSQL session advisory lock, held on a connection of
its own for as long as the work runs. The others stand by and take the lock when its holder's
session ends (a clean stop, a crash, a lost connection)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncpg
import structlog

log = structlog.get_logger()

__all__ = ["while_holding"]


async def while_holding(
    pool: asyncpg.Pool,
    key: int,
    stop: asyncio.Event,
    work: Callable[[], Awaitable[None]],
    *,
    standby_seconds: float,
    name: str,
) -> bool:
    """Run ``work`` once this process holds the session lock ``key``, trying every
    ``standby_seconds`` until then; False when ``stop`` was set before the lock was taken."""
    async with pool.acquire() as connection:
        waiting_logged = False
        while not stop.is_set():
            if await connection.fetchval("SELECT pg_try_advisory_lock($1)", key):
                try:
                    await work()
                finally:
                    await connection.execute("SELECT pg_advisory_unlock($1)", key)
                return True
            if not waiting_logged:
                log.info(f"another {name} is active; standing by")
                waiting_logged = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), standby_seconds)
        return False
