"""The event log in PostgreSQL (asyncpg): append with expected version, read, tail.

Appends go through the ``append_events`` SQL function (one round trip): it locks the streams,
checks their versions and inserts. Tailing readers use :meth:`PostgresEventStore.read_after`,
which returns events in (transaction_id, position) order and only from transactions older than
every transaction still running — an event that commits late is never skipped.
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import asyncpg
import orjson

from helpdesk_events import EventEnvelope
from ticket_service.domain.errors import VersionConflict
from ticket_service.service_layer.event_store import (
    DuplicateEvent,
    LogPosition,
    RecordedEvent,
    StreamAppend,
)

__all__ = [
    "DuplicateEvent",
    "LogPosition",
    "PostgresEventStore",
    "RecordedEvent",
    "StreamAppend",
    "batch_document",
    "create_pool",
    "translate_append_error",
]

CONFLICT_SQLSTATE = "HD409"


async def init_connection(connection: asyncpg.Connection) -> None:
    """Codecs for every pooled connection: jsonb via orjson, xid8 as int."""
    await connection.set_type_codec(
        "jsonb",
        encoder=lambda value: orjson.dumps(value).decode(),
        decoder=orjson.loads,
        schema="pg_catalog",
    )
    await connection.set_type_codec(
        "xid8", encoder=str, decoder=int, schema="pg_catalog", format="text"
    )


async def reset_connection(connection: asyncpg.Connection) -> None:
    """On release to the pool: end a transaction left open, nothing more.

    asyncpg's default reset sends RESET ALL / UNLISTEN / advisory unlock on every release, a
    round trip per request. This service keeps no session state on pooled connections (the
    relay releases its session lock itself), so only an unfinished transaction needs undoing.
    """
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


async def create_pool(database_url: str, *, min_size: int = 2, max_size: int = 20) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        reset=reset_connection,
    )
    assert pool is not None
    return pool


def batch_document(appends: Sequence[StreamAppend], traceparent: str | None) -> list[Any]:
    """The JSON ``append_events`` takes."""
    return [
        {
            "stream_id": str(append.stream_id),
            "stream_type": append.stream_type,
            "expected_version": append.expected_version,
            "events": [
                {
                    **envelope.model_dump(
                        mode="json",
                        include={
                            "event_id",
                            "event_type",
                            "schema_version",
                            "occurred_at",
                            "actor",
                            "correlation_id",
                            "causation_id",
                            "data",
                        },
                    ),
                    "traceparent": traceparent,
                }
                for envelope in append.events
            ],
        }
        for append in appends
    ]


def translate_append_error(error: asyncpg.PostgresError) -> Exception:
    """Turn the database's refusal of an append into the domain's error."""
    if error.sqlstate == CONFLICT_SQLSTATE:
        detail = orjson.loads(getattr(error, "detail", None) or "{}")
        return VersionConflict(
            detail.get("stream_id"), detail.get("expected"), detail.get("actual")
        )
    if isinstance(error, asyncpg.UniqueViolationError) and "event_id" in (
        getattr(error, "constraint_name", "") or ""
    ):
        return DuplicateEvent(str(error))
    return error  # type: ignore[no-any-return]  # asyncpg's exception classes are untyped


#: Streams read by :meth:`PostgresEventStore.read_ahead`, for the block (and task) that read them.
_read_ahead: contextvars.ContextVar[dict[uuid.UUID, list[RecordedEvent]] | None] = (
    contextvars.ContextVar("read_ahead", default=None)
)

_COLUMNS = """stream_id, stream_type, stream_version, event_id, event_type, schema_version,
              occurred_at, actor, correlation_id, causation_id, data, traceparent,
              transaction_id, position"""


def _record(row: asyncpg.Record) -> RecordedEvent:
    envelope = EventEnvelope(
        event_id=row["event_id"],
        event_type=row["event_type"],
        schema_version=row["schema_version"],
        stream_id=row["stream_id"],
        stream_type=row["stream_type"],
        stream_version=row["stream_version"],
        occurred_at=row["occurred_at"],
        actor=row["actor"],
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        data=row["data"],
    )
    return RecordedEvent(
        envelope=envelope,
        log_position=LogPosition(row["transaction_id"], row["position"]),
        traceparent=row["traceparent"],
    )


class PostgresEventStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._appended: list[Callable[[], None]] = []

    def on_append(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each append of this process (the tailing loops wake on it;
        within a caller's transaction it is called before that commits)."""
        self._appended.append(listener)

    async def append(
        self,
        appends: Sequence[StreamAppend],
        *,
        traceparent: str | None = None,
        connection: asyncpg.Connection | None = None,
    ) -> dict[uuid.UUID, int]:
        """Append atomically to one or more streams; returns each stream's new version.

        With ``connection`` the append joins the caller's transaction and must be its first
        write (the database refuses otherwise); without it, it is a transaction of its own.
        """
        document = batch_document(appends, traceparent)
        try:
            if connection is not None:
                result = await connection.fetchval("SELECT append_events($1)", document)
            else:
                result = await self._pool.fetchval("SELECT append_events($1)", document)
        except asyncpg.PostgresError as error:
            raise translate_append_error(error) from error
        for listener in self._appended:
            listener()
        return {uuid.UUID(key): int(value) for key, value in result.items()}

    async def next_ticket_number(self) -> int:
        """A fresh ticket number, in its own statement: sequences are not transactional, and
        the append must stay the first write of its transaction."""
        return int(await self._pool.fetchval("SELECT nextval('ticket_numbers')"))

    @contextlib.asynccontextmanager
    async def read_ahead(self, *stream_ids: uuid.UUID | None) -> AsyncIterator[None]:
        """Read these streams in one query; inside the block (in this task, and tasks it
        starts there), :meth:`read_stream` serves them from that read.

        For a decision that needs several streams (a ticket, its agent, its team): one round
        trip to PostgreSQL instead of one per stream. The block sees the streams as they were
        when it began; an append that expects their versions still fails if they moved."""
        wanted = list(dict.fromkeys(s for s in stream_ids if s is not None))
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = ANY($1::uuid[])"  # noqa: S608
            " ORDER BY stream_id, stream_version",
            wanted,
        )
        streams: dict[uuid.UUID, list[RecordedEvent]] = {stream_id: [] for stream_id in wanted}
        for row in rows:
            streams[row["stream_id"]].append(_record(row))
        token = _read_ahead.set({**(_read_ahead.get() or {}), **streams})
        try:
            yield
        finally:
            _read_ahead.reset(token)

    async def read_stream(
        self, stream_id: uuid.UUID, *, up_to_version: int | None = None
    ) -> list[RecordedEvent]:
        ahead = (_read_ahead.get() or {}).get(stream_id)
        if ahead is not None:
            if up_to_version is None:
                return list(ahead)
            return [r for r in ahead if r.envelope.stream_version <= up_to_version]
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1"  # noqa: S608 - constant
            " AND ($2::integer IS NULL OR stream_version <= $2) ORDER BY stream_version",
            stream_id,
            up_to_version,
        )
        return [_record(row) for row in rows]

    async def stream_heads(
        self, stream_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[str, int]]:
        rows = await self._pool.fetch(
            "SELECT DISTINCT ON (stream_id) stream_id, stream_type, stream_version FROM events"
            " WHERE stream_id = ANY($1::uuid[]) ORDER BY stream_id, stream_version DESC",
            list(stream_ids),
        )
        return {row["stream_id"]: (row["stream_type"], row["stream_version"]) for row in rows}

    async def read_after(
        self,
        after: LogPosition,
        limit: int = 500,
        *,
        connection: asyncpg.Connection | None = None,
    ) -> list[RecordedEvent]:
        """Events after ``after`` in global order, only from finished transactions.

        Rows are read below the snapshot's xmin: every transaction with a smaller id has ended,
        so no event can appear later before the returned ones.
        """
        rows = await (connection or self._pool).fetch(
            f"SELECT {_COLUMNS} FROM events"  # noqa: S608 - constant
            " WHERE (transaction_id, position) > ($1::text::xid8, $2)"
            "   AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())"
            " ORDER BY transaction_id, position LIMIT $3",
            str(after.transaction_id),
            after.position,
            limit,
        )
        return [_record(row) for row in rows]

    async def load_checkpoint(
        self, consumer: str, *, connection: asyncpg.Connection | None = None
    ) -> LogPosition:
        row = await (connection or self._pool).fetchrow(
            "SELECT transaction_id, position FROM outbox_checkpoints WHERE consumer = $1",
            consumer,
        )
        return LogPosition(row["transaction_id"], row["position"]) if row else LogPosition.start()

    async def save_checkpoint(
        self,
        consumer: str,
        position: LogPosition,
        *,
        connection: asyncpg.Connection | None = None,
    ) -> None:
        await (connection or self._pool).execute(
            "INSERT INTO outbox_checkpoints (consumer, transaction_id, position)"
            " VALUES ($1, $2::text::xid8, $3)"
            " ON CONFLICT (consumer) DO UPDATE SET transaction_id = excluded.transaction_id,"
            " position = excluded.position, updated_at = now()",
            consumer,
            str(position.transaction_id),
            position.position,
        )
