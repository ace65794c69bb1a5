"""The connection pool (JSON codecs set up once per connection) and the notification channels
the service uses between its processes (PostgreSQL LISTEN/NOTIFY).

A ``NOTIFY`` sent inside a transaction is delivered when it commits, and not at all when it rolls
back: a stream is woken exactly for notifications that are really stored.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import orjson
import structlog

log = structlog.get_logger("notification_service.database")

#: Payload: the recipient id whose notifications were stored.
NOTIFICATIONS_CHANNEL = "notifications_stored"
#: Payload: empty; wakes the webhook dispatcher.
DELIVERIES_CHANNEL = "webhook_deliveries_due"
#: Payload: empty; wakes the email sender.
EMAILS_CHANNEL = "emails_due"
#: Payload: a ticket id whose presence (who is viewing or replying) changed.
PRESENCE_CHANNEL = "presence_changed"
#: Payload: a ticket id that changed (an event on it) while someone is viewing it.
TICKET_CHANGED_CHANNEL = "ticket_changed"

#: Advisory locks (transaction- or session-level) of this service's database.
NOTIFICATION_WRITER_LOCK = 0x6E6F7469  # one transaction at a time numbers notifications
EMAIL_SENDER_LOCK = 0x6E6F7465  # one email sender per database
WEBHOOK_DISPATCHER_LOCK = 0x6E6F7477  # one webhook dispatcher per database


async def _init(connection: asyncpg.Connection) -> None:
    await connection.set_type_codec(
        "jsonb",
        encoder=lambda value: orjson.dumps(value).decode(),
        decoder=orjson.loads,
        schema="pg_catalog",
    )


async def create_pool(
    database_url: str, *, min_size: int = 2, max_size: int = 20, schema: str | None = None
) -> Any:
    """``schema``: the service's tables are there (``search_path``), not in the default one."""
    return await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        init=_init,
        server_settings={"search_path": schema} if schema else None,
    )


async def while_holding(
    pool: Any,
    key: int,
    stop: asyncio.Event,
    work: Callable[[], Awaitable[None]],
    *,
    name: str,
    standby_seconds: float = 2.0,
) -> None:
    """Run ``work`` once this process holds the session lock ``key`` (one email sender and one
    webhook dispatcher per database, however many processes run); the others stand by and take
    over when the holder's session ends."""
    async with pool.acquire() as connection:
        announced = False
        while not stop.is_set():
            if await connection.fetchval("SELECT pg_try_advisory_lock($1)", key):
                try:
                    await work()
                finally:
                    with contextlib.suppress(Exception):
                        await connection.execute("SELECT pg_advisory_unlock($1)", key)
                return
            if not announced:
                log.info(f"another {name} is active; standing by")
                announced = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), standby_seconds)


async def listen(database_url: str, channel: str, wake: asyncio.Event) -> asyncpg.Connection:
    """A connection of its own that sets ``wake`` on every NOTIFY on ``channel``."""
    connection = await asyncpg.connect(database_url)
    await connection.add_listener(channel, lambda *_args: wake.set())
    return connection
