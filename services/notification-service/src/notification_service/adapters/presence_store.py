"""PostgreSQL side of presence: the ``presence`` table (UNLOGGED, see migration 0003) and the
NOTIFYs that wake the per-ticket streams of every process when it changes."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from notification_service.adapters.database import PRESENCE_CHANNEL, TICKET_CHANGED_CHANNEL
from notification_service.domain.presence import TTL, Activity, Heartbeat

#: Rows this much past their expiry are deleted by the next heartbeat of anyone.
_KEEP_EXPIRED = timedelta(minutes=5)


async def beat(
    pool: Any,
    *,
    ticket_id: uuid.UUID,
    agent_id: str,
    session_id: uuid.UUID,
    activity: Activity,
    name: str | None,
    now: datetime,
) -> Heartbeat | None:
    """Store a heartbeat; the session's previous one (None: it had none), read in the same
    statement. ``since`` starts again when the previous one had expired."""
    async with pool.acquire() as connection, connection.transaction():
        previous = await connection.fetchrow(
            """
            WITH previous AS (
                SELECT activity, seen_at, since FROM presence
                WHERE ticket_id = $1 AND agent_id = $2 AND session_id = $3
            ), saved AS (
                INSERT INTO presence AS p
                    (ticket_id, agent_id, session_id, activity, name, since, seen_at)
                VALUES ($1, $2, $3, $4, $5, $6, $6)
                ON CONFLICT (ticket_id, agent_id, session_id) DO UPDATE SET
                    activity = EXCLUDED.activity,
                    name = coalesce(EXCLUDED.name, p.name),
                    since = CASE WHEN p.seen_at <= EXCLUDED.seen_at - $7::interval
                                 THEN EXCLUDED.since ELSE p.since END,
                    seen_at = EXCLUDED.seen_at
                RETURNING 1
            )
            SELECT activity, seen_at, since FROM previous  -- "saved" runs all the same
            """,
            ticket_id,
            agent_id,
            session_id,
            activity.value,
            name,
            now,
            TTL,
        )
        await connection.execute(
            "DELETE FROM presence WHERE seen_at < $1", now - TTL - _KEEP_EXPIRED
        )
        if previous is None:
            return None
        return Heartbeat(
            agent_id,
            str(session_id),
            Activity(previous["activity"]),
            previous["seen_at"],
            previous["since"],
        )


async def leave(pool: Any, *, ticket_id: uuid.UUID, agent_id: str, session_id: uuid.UUID) -> bool:
    """Forget a page; whether it was there."""
    deleted = await pool.fetchval(
        "DELETE FROM presence WHERE ticket_id = $1 AND agent_id = $2 AND session_id = $3 "
        "RETURNING 1",
        ticket_id,
        agent_id,
        session_id,
    )
    return deleted is not None


async def announce(pool: Any, ticket_id: uuid.UUID) -> None:
    await pool.execute("SELECT pg_notify($1, $2)", PRESENCE_CHANNEL, str(ticket_id))


async def heartbeats(pool: Any, ticket_id: uuid.UUID, now: datetime) -> list[Heartbeat]:
    """The live heartbeats on a ticket, with the agent's name from the directory (the token's
    name when the directory does not know them yet)."""
    rows = await pool.fetch(
        """
        SELECT p.agent_id, p.session_id, p.activity, p.seen_at, p.since,
               coalesce(a.name, p.name) AS name
        FROM presence p LEFT JOIN agents a ON a.agent_id = p.agent_id
        WHERE p.ticket_id = $1 AND p.seen_at > $2
        """,
        ticket_id,
        now - TTL,
    )
    return [
        Heartbeat(
            r["agent_id"],
            str(r["session_id"]),
            Activity(r["activity"]),
            r["seen_at"],
            r["since"],
            r["name"],
        )
        for r in rows
    ]


async def announce_viewed_changes(
    connection: asyncpg.Connection, ticket_ids: Collection[uuid.UUID], now: datetime
) -> int:
    """In the consumer's transaction: wake the streams of the tickets among ``ticket_ids`` that
    someone has open (on commit); how many. Tickets nobody views cost one indexed read."""
    if not ticket_ids:
        return 0
    viewed = await connection.fetch(
        "SELECT DISTINCT ticket_id FROM presence WHERE ticket_id = ANY($1::uuid[]) "
        "AND seen_at > $2",
        list(ticket_ids),
        now - TTL,
    )
    if viewed:
        await connection.execute(
            "SELECT pg_notify($1, t::text) FROM unnest($2::uuid[]) AS t",
            TICKET_CHANGED_CHANNEL,
            [r["ticket_id"] for r in viewed],
        )
    return len(viewed)
