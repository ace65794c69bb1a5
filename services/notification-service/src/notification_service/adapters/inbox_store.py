"""SQL of a person's notifications, their preferences and the tickets they follow."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from notification_service.domain.kinds import Channel, Kind, Preference

COLUMNS = """id, seq, recipient_id, kind, title, body, ticket_id, ticket_number, event_id,
             event_type, occurred_at, created_at, read_at"""


async def list_notifications(
    pool: asyncpg.Pool, recipient: str, *, unread: bool, limit: int, before: int | None
) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        f"""SELECT {COLUMNS} FROM notifications
            WHERE recipient_id = $1 AND ($2::bigint IS NULL OR seq < $2)
              AND (NOT $3 OR read_at IS NULL)
            ORDER BY seq DESC LIMIT $4""",  # noqa: S608 - a constant column list
        recipient,
        before,
        unread,
        limit,
    )
    return [dict(r) for r in rows]


async def notifications_after(
    pool: asyncpg.Pool, recipient: str, after: int, limit: int
) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        f"""SELECT {COLUMNS} FROM notifications WHERE recipient_id = $1 AND seq > $2
            ORDER BY seq LIMIT $3""",  # noqa: S608 - a constant column list
        recipient,
        after,
        limit,
    )
    return [dict(r) for r in rows]


async def last_seq(pool: asyncpg.Pool, recipient: str) -> int:
    value = await pool.fetchval(
        "SELECT max(seq) FROM notifications WHERE recipient_id = $1", recipient
    )
    return int(value or 0)


async def unread_count(pool: asyncpg.Pool, recipient: str) -> int:
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM notifications WHERE recipient_id = $1 AND read_at IS NULL",
            recipient,
        )
    )


async def mark_read(pool: asyncpg.Pool, recipient: str, notification_id: uuid.UUID) -> bool:
    """False when the recipient has no such notification (someone else's counts as none)."""
    row = await pool.fetchrow(
        """UPDATE notifications SET read_at = coalesce(read_at, now())
           WHERE id = $1 AND recipient_id = $2 RETURNING id""",
        notification_id,
        recipient,
    )
    return row is not None


async def mark_all_read(pool: asyncpg.Pool, recipient: str, up_to: int | None) -> int:
    result = await pool.execute(
        """UPDATE notifications SET read_at = now()
           WHERE recipient_id = $1 AND read_at IS NULL AND ($2::bigint IS NULL OR seq <= $2)""",
        recipient,
        up_to,
    )
    return int(result.split()[-1])


async def preferences(pool: asyncpg.Pool, recipient: str) -> dict[Kind, Preference]:
    rows = await pool.fetch(
        "SELECT kind, channel, digest FROM preferences WHERE recipient_id = $1", recipient
    )
    return {
        Kind(r["kind"]): Preference(channel=Channel(r["channel"]), digest=r["digest"]) for r in rows
    }


async def save_preferences(
    pool: asyncpg.Pool, recipient: str, chosen: dict[Kind, Preference]
) -> None:
    await pool.executemany(
        """INSERT INTO preferences (recipient_id, kind, channel, digest) VALUES ($1, $2, $3, $4)
           ON CONFLICT (recipient_id, kind) DO UPDATE SET channel = $3, digest = $4""",
        [(recipient, k.value, p.channel.value, p.digest) for k, p in chosen.items()],
    )


async def follow(pool: asyncpg.Pool, recipient: str, ticket_id: uuid.UUID) -> None:
    await pool.execute(
        """INSERT INTO ticket_followers (ticket_id, agent_id, source) VALUES ($1, $2, 'explicit')
           ON CONFLICT DO NOTHING""",
        ticket_id,
        recipient,
    )


async def unfollow(pool: asyncpg.Pool, recipient: str, ticket_id: uuid.UUID) -> bool:
    result = await pool.execute(
        "DELETE FROM ticket_followers WHERE ticket_id = $1 AND agent_id = $2",
        ticket_id,
        recipient,
    )
    return bool(result != "DELETE 0")


async def followed(pool: asyncpg.Pool, recipient: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        """SELECT f.ticket_id, f.source, f.since, t.number, t.facts->>'subject' AS subject
           FROM ticket_followers f LEFT JOIN tickets t USING (ticket_id)
           WHERE f.agent_id = $1 ORDER BY f.since DESC""",
        recipient,
    )
    return [dict(r) for r in rows]
