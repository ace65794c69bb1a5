"""``command_outcomes``: every ticket command decided, with its outcome and, when refused, why.

Written in the transaction that appends the command's events (after them: the append must be the
first write), so a command is recorded as applied exactly when its events are in the log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from helpdesk_events import EventEnvelope
from ticket_service.adapters.event_store import PostgresEventStore
from ticket_service.service_layer.event_store import StreamAppend

APPLIED = "applied"


@dataclass(frozen=True)
class CommandOutcome:
    command_id: uuid.UUID
    command_type: str
    ticket_id: uuid.UUID
    outcome: str
    reason: str | None
    trace_id: str | None
    decided_at: datetime


class CommandOutcomes:
    """The PostgreSQL adapter behind ``service_layer.ticket_commands.CommandLedger``."""

    def __init__(self, pool: asyncpg.Pool, store: PostgresEventStore | None = None) -> None:
        self._pool = pool
        self._store = store or PostgresEventStore(pool)

    async def append_applied(
        self,
        append: StreamAppend,
        envelope: EventEnvelope,
        trace_id: str | None,
        traceparent: str | None,
    ) -> None:
        """Append the command's events and record it applied, in one transaction."""
        async with self._pool.acquire() as connection, connection.transaction():
            await self._store.append([append], traceparent=traceparent, connection=connection)
            await self.record(envelope, APPLIED, None, trace_id, connection)

    async def seen(self, command_id: uuid.UUID) -> bool:
        return bool(
            await self._pool.fetchval(
                "SELECT 1 FROM command_outcomes WHERE command_id = $1", command_id
            )
        )

    async def record(
        self,
        envelope: EventEnvelope,
        outcome: str,
        reason: str | None,
        trace_id: str | None,
        connection: asyncpg.Connection | None = None,
    ) -> None:
        await (connection or self._pool).execute(
            "INSERT INTO command_outcomes"
            " (command_id, command_type, ticket_id, outcome, reason, trace_id)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (command_id) DO NOTHING",
            envelope.event_id,
            envelope.event_type,
            envelope.stream_id,
            outcome,
            reason,
            trace_id,
        )

    async def for_ticket(self, ticket_id: uuid.UUID) -> list[CommandOutcome]:
        rows = await self._pool.fetch(
            "SELECT command_id, command_type, ticket_id, outcome, reason, trace_id, decided_at"
            " FROM command_outcomes WHERE ticket_id = $1 ORDER BY decided_at",
            ticket_id,
        )
        return [CommandOutcome(**dict(row)) for row in rows]
