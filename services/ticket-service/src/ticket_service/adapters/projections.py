"""Read models as projections of the event log, rebuilt from it on demand.

A :class:`Projection` turns events into rows of its tables. The :class:`Projector` feeds every
projection each event in global log order, one transaction per batch together with its
checkpoint, so a crash never applies a batch twice or skips one. A :class:`BatchProjection`
takes the batch at once, to write a row once for all the batch's events that change it.
``rebuild`` empties the tables and replays the whole log through the same code
(``ticket-service projections rebuild``).
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar, runtime_checkable

import asyncpg
import structlog

from ticket_service.adapters.event_store import LogPosition, PostgresEventStore, RecordedEvent
from ticket_service.adapters.idle_pacer import IdlePacer
from ticket_service.adapters.session_lock import while_holding

log = structlog.get_logger()

T = TypeVar("T")


class Projection(Protocol):
    """Keeps some tables up to date from events; ignores the event types it does not use."""

    name: str
    #: Emptied on rebuild, in this order.
    tables: tuple[str, ...]

    async def apply(self, connection: asyncpg.Connection, event: RecordedEvent) -> None: ...


@runtime_checkable
class BatchProjection(Projection, Protocol):
    """A projection that takes a whole batch at once (to write each row once per batch)."""

    async def apply_batch(
        self, connection: asyncpg.Connection, events: Sequence[RecordedEvent]
    ) -> None: ...


async def apply_all(
    projection: Projection, connection: asyncpg.Connection, events: Sequence[RecordedEvent]
) -> None:
    """``events`` in log order through ``projection``."""
    if isinstance(projection, BatchProjection):
        await projection.apply_batch(connection, events)
        return
    for event in events:
        await projection.apply(connection, event)


class Projector:
    def __init__(
        self,
        store: PostgresEventStore,
        pool: asyncpg.Pool,
        projections: Sequence[Projection],
        *,
        name: str = "projections",
        batch_size: int = 500,
        pacer: IdlePacer | None = None,
        standby_seconds: float = 1.0,
    ) -> None:
        self._store = store
        self._pool = pool
        self._projections = tuple(projections)
        self._checkpoint_name = f"projector:{name}"
        # Serialises catch-ups of this projector across processes without taking a transaction
        # id (which would hold back the log's readable horizon).
        self._lock_key = zlib.crc32(self._checkpoint_name.encode())
        # Held for as long as a process keeps this projector running (see ``run``).
        self._leader_key = zlib.crc32(f"{self._checkpoint_name}:leader".encode())
        self._batch_size = batch_size
        # Woken by this process's appends when bootstrap shares it with the event store.
        self._pacer = pacer or IdlePacer()
        self._standby_seconds = standby_seconds

    async def catch_up(self) -> int:
        """Apply every event committed so far; returns how many were applied."""
        async with self._pool.acquire() as connection:
            return await self._catch_up_on(connection)

    async def _catch_up_on(self, connection: asyncpg.Connection) -> int:
        applied = 0
        while True:
            # One transaction per batch: it never holds back the log's readable horizon long.
            async with connection.transaction():
                await connection.execute("SELECT pg_advisory_xact_lock($1)", self._lock_key)
                checkpoint = await self._store.load_checkpoint(
                    self._checkpoint_name, connection=connection
                )
                batch = await self._store.read_after(
                    checkpoint, self._batch_size, connection=connection
                )
                # Projection by projection: each keeps its own tables, none reads another's.
                for projection in self._projections:
                    await apply_all(projection, connection, batch)
                if batch:
                    await self._store.save_checkpoint(
                        self._checkpoint_name, batch[-1].log_position, connection=connection
                    )
            applied += len(batch)
            if len(batch) < self._batch_size:
                return applied

    async def run(self, stop: asyncio.Event) -> None:
        """Keep the read models current until ``stop`` is set.

        Of the processes running this (the API's workers, its replicas), one polls the log: the
        one holding a session advisory lock on a connection of its own. The others try to take
        it every ``standby_seconds``, so one of them takes over about a second after the
        polling process ends. (Every process polling every 20 ms doubled the projector's
        queries, and most of the second one's found nothing.) The lock only saves work: if two
        processes ever poll at once, their catch-ups still take turns.
        """

        async def poll() -> None:
            await _repeat(stop, self.catch_up, self._pacer.pause, "projector")

        async def stand_by(_: object) -> None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._standby_seconds)

        async def poll_when_free() -> None:
            await while_holding(
                self._pool,
                self._leader_key,
                stop,
                poll,
                standby_seconds=self._standby_seconds,
                name="projector",
            )

        # A lost connection while standing by: take a new one and stand by again.
        await _repeat(stop, poll_when_free, stand_by, "projector standby")

    async def rebuild(self) -> int:
        """Empty every table and replay the whole log; returns the events applied.

        A session lock held for the whole rebuild keeps other catch-ups (the API's background
        projector) out until the replay is done; the replay's own batches run in the same
        session, where that lock does not block them.
        """
        async with self._pool.acquire() as connection:
            await connection.execute("SELECT pg_advisory_lock($1)", self._lock_key)
            try:
                async with connection.transaction():
                    tables = [table for p in self._projections for table in p.tables]
                    await connection.execute(f"TRUNCATE {', '.join(tables)}")  # our constants
                    await self._store.save_checkpoint(
                        self._checkpoint_name, LogPosition.start(), connection=connection
                    )
                applied = await self._catch_up_on(connection)
            finally:
                await connection.execute("SELECT pg_advisory_unlock($1)", self._lock_key)
        log.info("projections rebuilt", events=applied, tables=tables)
        return applied


async def _repeat(
    stop: asyncio.Event,
    step: Callable[[], Awaitable[T]],
    pause: Callable[[T], Awaitable[None]],
    name: str,
) -> None:
    """Run ``step`` and then ``pause(its result)`` until ``stop`` is set; after a database
    error, wait 0.2 s, doubling up to 5 s, and try again."""
    backoff = 0.2
    while not stop.is_set():
        try:
            result = await step()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning(f"{name} interrupted; retrying", error=repr(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2, 5.0)
            continue
        backoff = 0.2
        await pause(result)
