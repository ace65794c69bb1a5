"""SQL of webhook subscriptions, their deliveries and the attempts of each."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from notification_service.adapters.database import DELIVERIES_CHANNEL

SUBSCRIPTION_COLUMNS = """id, owner, url, description, event_types, condition, enabled,
    disabled_reason, created_at, updated_at, previous_secret_expires_at"""


async def create(
    pool: asyncpg.Pool,
    *,
    owner: str,
    url: str,
    description: str | None,
    event_types: tuple[str, ...],
    condition: str | None,
    secret: str,
) -> dict[str, Any]:
    row = await pool.fetchrow(
        f"""INSERT INTO webhook_subscriptions
                (id, owner, url, description, event_types, condition, secret)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {SUBSCRIPTION_COLUMNS}""",  # noqa: S608
        uuid.uuid4(),
        owner,
        url,
        description,
        list(event_types),
        condition,
        secret,
    )
    return dict(row)


async def get(pool: asyncpg.Pool, subscription_id: uuid.UUID) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        f"SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE id = $1",  # noqa: S608
        subscription_id,
    )
    return dict(row) if row else None


async def list_all(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        f"SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions ORDER BY created_at"  # noqa: S608
    )
    return [dict(r) for r in rows]


async def update(
    pool: asyncpg.Pool, subscription_id: uuid.UUID, changes: dict[str, Any]
) -> dict[str, Any] | None:
    allowed = {"url", "description", "event_types", "condition", "enabled"}
    assert set(changes) <= allowed, changes
    if changes.get("enabled") is True:
        changes["disabled_reason"] = None
    columns = list(changes)
    assignments = ", ".join(f"{c} = ${n}" for n, c in enumerate(columns, start=2))
    row = await pool.fetchrow(
        f"""UPDATE webhook_subscriptions SET {assignments}, updated_at = now()
            WHERE id = $1 RETURNING {SUBSCRIPTION_COLUMNS}""",  # noqa: S608 - allow-listed
        subscription_id,
        *[changes[c] for c in columns],
    )
    return dict(row) if row else None


async def delete(pool: asyncpg.Pool, subscription_id: uuid.UUID) -> bool:
    result = await pool.execute("DELETE FROM webhook_subscriptions WHERE id = $1", subscription_id)
    return bool(result != "DELETE 0")


async def rotate_secret(
    pool: asyncpg.Pool, subscription_id: uuid.UUID, secret: str, old_valid_until: datetime
) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        f"""UPDATE webhook_subscriptions
            SET previous_secret = secret, previous_secret_expires_at = $3, secret = $2,
                updated_at = now()
            WHERE id = $1 RETURNING {SUBSCRIPTION_COLUMNS}""",  # noqa: S608
        subscription_id,
        secret,
        old_valid_until,
    )
    return dict(row) if row else None


async def deliveries(
    pool: asyncpg.Pool, subscription_id: uuid.UUID, limit: int, before: int | None
) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        """SELECT d.id, d.seq, d.event_id, d.event_type, d.order_key, d.status, d.attempts,
                  d.next_attempt_at, d.created_at, d.last_attempt_at, d.delivered_at,
                  d.last_status, d.last_error,
                  coalesce(json_agg(json_build_object(
                      'attempted_at', a.attempted_at, 'status_code', a.status_code,
                      'response_ms', a.response_ms, 'error', a.error) ORDER BY a.id)
                      FILTER (WHERE a.id IS NOT NULL), '[]')::text AS attempt_log
           FROM webhook_deliveries d LEFT JOIN webhook_attempts a ON a.delivery_id = d.id
           WHERE d.subscription_id = $1 AND ($2::bigint IS NULL OR d.seq < $2)
           GROUP BY d.id ORDER BY d.seq DESC LIMIT $3""",
        subscription_id,
        before,
        limit,
    )
    return [dict(r) for r in rows]


async def redeliver(pool: asyncpg.Pool, subscription_id: uuid.UUID, delivery: uuid.UUID) -> bool:
    """Queue a delivery again (same ``webhook-id``), with a fresh retry schedule."""
    await pool.execute("SELECT pg_notify($1, '')", DELIVERIES_CHANNEL)
    result = await pool.execute(
        """UPDATE webhook_deliveries SET status = 'pending', attempts = 0,
                  next_attempt_at = now()
           WHERE id = $1 AND subscription_id = $2""",
        delivery,
        subscription_id,
    )
    return bool(result != "UPDATE 0")


async def due_heads(pool: asyncpg.Pool, limit: int) -> list[asyncpg.Record]:
    """The oldest pending delivery of each (subscription, ticket) whose time has come, of
    enabled subscriptions: a later event for a ticket waits until the earlier one is through."""
    return list(
        await pool.fetch(
            """SELECT h.id, h.subscription_id, h.payload, h.attempts, h.order_key,
                      s.url, s.secret, s.previous_secret, s.previous_secret_expires_at
               FROM (SELECT DISTINCT ON (subscription_id, order_key) *
                     FROM webhook_deliveries WHERE status = 'pending'
                     ORDER BY subscription_id, order_key, seq) h
               JOIN webhook_subscriptions s ON s.id = h.subscription_id AND s.enabled
               WHERE h.next_attempt_at <= now()
               ORDER BY h.next_attempt_at LIMIT $1""",
            limit,
        )
    )


async def claim(
    pool: asyncpg.Pool, delivery: uuid.UUID, *, attempts: int, lease: timedelta
) -> bool:
    """Take a due delivery for one attempt: only while it is still pending, due and at the
    attempt number it was read with, so a head read before another attempt was recorded (by
    this dispatcher or another replica) is dropped instead of sent again (#16). The lease moves
    ``next_attempt_at`` ahead: no one else takes it (nor the ticket's next delivery) meanwhile,
    and a dispatcher that dies mid-attempt leaves it due again when the lease runs out."""
    result = await pool.execute(
        """UPDATE webhook_deliveries SET next_attempt_at = now() + $3::interval
           WHERE id = $1 AND status = 'pending' AND attempts = $2 AND next_attempt_at <= now()""",
        delivery,
        attempts,
        lease,
    )
    return bool(result == "UPDATE 1")


async def next_due_at(pool: asyncpg.Pool) -> datetime | None:
    value: datetime | None = await pool.fetchval(
        """SELECT min(d.next_attempt_at) FROM webhook_deliveries d
           JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.enabled
           WHERE d.status = 'pending'"""
    )
    return value


async def record_attempt(
    pool: asyncpg.Pool,
    delivery: uuid.UUID,
    *,
    attempts: int,
    status_code: int | None,
    response_ms: float,
    error: str | None,
    new_status: str,
    next_attempt_at: datetime | None,
    disable_subscription: uuid.UUID | None,
) -> None:
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(
            """INSERT INTO webhook_attempts (delivery_id, status_code, response_ms, error)
               VALUES ($1, $2, $3, $4)""",
            delivery,
            status_code,
            response_ms,
            error,
        )
        await connection.execute(
            """UPDATE webhook_deliveries
               SET status = $2, attempts = attempts + 1, last_attempt_at = now(),
                   last_status = $3, last_error = $4,
                   next_attempt_at = coalesce($5, next_attempt_at),
                   delivered_at = CASE WHEN $2 = 'delivered' THEN now() END
               WHERE id = $1 AND attempts = $6""",
            delivery,
            new_status,
            status_code,
            error,
            next_attempt_at,
            attempts,
        )
        if disable_subscription is not None:
            await connection.execute(
                """UPDATE webhook_subscriptions
                   SET enabled = false, disabled_reason = $2, updated_at = now()
                   WHERE id = $1""",
                disable_subscription,
                "the receiver answered 410 Gone",
            )
