"""SQL for the consumer's transaction: positions, the projection (tickets, followers,
directory), subscriptions and preferences read; notifications, emails and webhook deliveries
written. Every function runs on the one connection of the batch's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

import asyncpg

from notification_service.adapters.database import (
    DELIVERIES_CHANNEL,
    EMAILS_CHANNEL,
    NOTIFICATION_WRITER_LOCK,
    NOTIFICATIONS_CHANNEL,
)
from notification_service.domain.kinds import Channel, Kind, Preference
from notification_service.domain.rules import Notification
from notification_service.domain.views import Agent, Directory, Team, TicketView


async def lock_writer(connection: asyncpg.Connection) -> None:
    """Held to the end of the transaction: notifications are numbered (``seq``) in commit order,
    so a stream that has seen number n never misses a smaller one committed later."""
    await connection.execute("SELECT pg_advisory_xact_lock($1)", NOTIFICATION_WRITER_LOCK)


async def positions_and_versions(
    connection: asyncpg.Connection, partitions: Iterable[tuple[str, int]]
) -> tuple[dict[tuple[str, int], int], int, int]:
    """The stored positions of ``partitions``, the directory's and the subscriptions' versions,
    in one read (after :func:`lock_writer`, which already keeps other consumers out)."""
    wanted = list(set(partitions))
    rows = await connection.fetch(
        """SELECT 'p' AS what, topic, partition, next_offset AS value FROM consumer_positions
           WHERE (topic, partition) IN (SELECT * FROM unnest($1::text[], $2::int[]))
           UNION ALL SELECT 'd', NULL, NULL, version FROM directory_version
           UNION ALL SELECT 's', NULL, NULL, version FROM subscription_version""",
        [t for t, _ in wanted],
        [p for _, p in wanted],
    )
    stored = {(r["topic"], r["partition"]): r["value"] for r in rows if r["what"] == "p"}
    directory = next(int(r["value"]) for r in rows if r["what"] == "d")
    subscriptions = next(int(r["value"]) for r in rows if r["what"] == "s")
    return stored, directory, subscriptions


async def save_positions(
    connection: asyncpg.Connection, next_offsets: dict[tuple[str, int], int]
) -> None:
    await connection.execute(
        """INSERT INTO consumer_positions (topic, partition, next_offset)
           SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[])
           ON CONFLICT (topic, partition) DO UPDATE
           SET next_offset = GREATEST(consumer_positions.next_offset, EXCLUDED.next_offset),
               updated_at = now()""",
        [t for t, _ in next_offsets],
        [p for _, p in next_offsets],
        list(next_offsets.values()),
    )


async def load_directory(connection: asyncpg.Connection) -> Directory:
    agents = {
        r["agent_id"]: Agent(r["agent_id"], r["name"], r["email"], r["role"], r["active"])
        for r in await connection.fetch("SELECT * FROM agents")
    }
    teams = {
        r["team_id"]: Team(
            r["team_id"], r["name"], r["lead_id"], r["escalates_to"], frozenset(r["members"])
        )
        for r in await connection.fetch("SELECT * FROM teams")
    }
    return Directory(agents, teams)


async def save_directory(
    connection: asyncpg.Connection, changed: Sequence[Agent | Team]
) -> int | None:
    """Store the changed agents and teams; the new directory version (None: nothing changed)."""
    if not changed:
        return None
    for item in changed:
        if isinstance(item, Agent):
            await connection.execute(
                """INSERT INTO agents (agent_id, name, email, role, active)
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (agent_id) DO UPDATE
                   SET name = $2, email = $3, role = $4, active = $5""",
                item.agent_id,
                item.name,
                item.email,
                item.role,
                item.active,
            )
        else:
            await connection.execute(
                """INSERT INTO teams (team_id, name, lead_id, escalates_to, members)
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (team_id) DO UPDATE
                   SET name = $2, lead_id = $3, escalates_to = $4, members = $5""",
                item.team_id,
                item.name,
                item.lead_id,
                item.escalates_to,
                sorted(item.members),
            )
    return int(
        await connection.fetchval(
            "UPDATE directory_version SET version = version + 1 WHERE id = 1 RETURNING version"
        )
    )


async def load_tickets(
    connection: asyncpg.Connection, ticket_ids: Iterable[uuid.UUID]
) -> tuple[dict[uuid.UUID, TicketView], dict[uuid.UUID, set[str]]]:
    """The tickets seen so far among ``ticket_ids`` and their followers, in one read."""
    rows = await connection.fetch(
        """SELECT ids.id, t.number, t.facts, t.mail_account,
                  ARRAY(SELECT f.agent_id FROM ticket_followers f WHERE f.ticket_id = ids.id)
                      AS followers
           FROM unnest($1::uuid[]) AS ids(id) LEFT JOIN tickets t ON t.ticket_id = ids.id""",
        list(set(ticket_ids)),
    )
    tickets = {
        r["id"]: TicketView(r["id"], r["number"], dict(r["facts"]), r["mail_account"])
        for r in rows
        if r["facts"] is not None
    }
    followers = {r["id"]: set(r["followers"]) for r in rows if r["followers"]}
    return tickets, followers


async def save_tickets(
    connection: asyncpg.Connection,
    tickets: Iterable[TicketView],
    new_followers: Iterable[tuple[uuid.UUID, str]],
) -> None:
    changed = list(tickets)
    if changed:
        await connection.execute(
            """INSERT INTO tickets (ticket_id, number, facts, mail_account)
               SELECT * FROM unnest($1::uuid[], $2::int[], $3::jsonb[], $4::text[])
               ON CONFLICT (ticket_id) DO UPDATE
               SET number = EXCLUDED.number, facts = EXCLUDED.facts,
                   mail_account = EXCLUDED.mail_account""",
            [t.ticket_id for t in changed],
            [t.number for t in changed],
            [t.facts for t in changed],
            [t.mail_account for t in changed],
        )
    followers = list(new_followers)
    if followers:
        await connection.execute(
            """INSERT INTO ticket_followers (ticket_id, agent_id, source)
               SELECT ids.t, ids.a, 'activity' FROM unnest($1::uuid[], $2::text[]) AS ids(t, a)
               ON CONFLICT DO NOTHING""",
            [t for t, _ in followers],
            [a for _, a in followers],
        )


async def load_preferences(
    connection: asyncpg.Connection, recipients: Iterable[str]
) -> dict[tuple[str, Kind], Preference]:
    rows = await connection.fetch(
        "SELECT recipient_id, kind, channel, digest FROM preferences "
        "WHERE recipient_id = ANY($1::text[])",
        list(set(recipients)),
    )
    return {
        (r["recipient_id"], Kind(r["kind"])): Preference(
            channel=Channel(r["channel"]), digest=r["digest"]
        )
        for r in rows
    }


async def subscriptions(connection: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(
        await connection.fetch(
            "SELECT id, event_types, condition, enabled FROM webhook_subscriptions WHERE enabled"
        )
    )


async def store_notifications(
    connection: asyncpg.Connection, notifications: Sequence[Notification]
) -> list[str]:
    """Insert the in-app notifications not stored yet; the recipient of each that was new."""
    if not notifications:
        return []
    rows = await connection.fetch(
        """INSERT INTO notifications (id, recipient_id, kind, title, body, ticket_id,
                                      ticket_number, event_id, event_type, occurred_at)
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                                $6::uuid[], $7::int[], $8::uuid[], $9::text[],
                                $10::timestamptz[])
           ON CONFLICT (id) DO NOTHING
           RETURNING recipient_id""",
        [n.id for n in notifications],
        [n.recipient_id for n in notifications],
        [n.kind.value for n in notifications],
        [n.title for n in notifications],
        [n.body for n in notifications],
        [n.ticket_id for n in notifications],
        [n.ticket_number for n in notifications],
        [n.event_id for n in notifications],
        [n.event_type for n in notifications],
        [n.occurred_at for n in notifications],
    )
    return [r["recipient_id"] for r in rows]


async def store_emails(
    connection: asyncpg.Connection, emails: Sequence[tuple[Notification, bool, str]]
) -> int:
    """Queue ``(notification, digest, text)`` emails not queued yet; how many were new."""
    if not emails:
        return 0
    rows = await connection.fetch(
        """INSERT INTO emails (id, recipient_id, kind, subject, body, ticket_id, digest)
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                                $6::uuid[], $7::bool[])
           ON CONFLICT (id) DO NOTHING RETURNING id""",
        [n.id for n, _, _ in emails],
        [n.recipient_id for n, _, _ in emails],
        [n.kind.value for n, _, _ in emails],
        [n.title for n, _, _ in emails],
        [text for _, _, text in emails],
        [n.ticket_id for n, _, _ in emails],
        [digest for _, digest, _ in emails],
    )
    return len(rows)


async def store_deliveries(
    connection: asyncpg.Connection,
    deliveries: Sequence[tuple[uuid.UUID, uuid.UUID, uuid.UUID, str, str, bytes]],
) -> int:
    """Queue ``(id, subscription, event id, event type, order key, payload)`` deliveries."""
    if not deliveries:
        return 0
    rows = await connection.fetch(
        """INSERT INTO webhook_deliveries
               (id, subscription_id, event_id, event_type, order_key, payload)
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[],
                                $6::bytea[])
           ON CONFLICT (id) DO NOTHING RETURNING id""",
        *[list(column) for column in zip(*deliveries, strict=True)],
    )
    return len(rows)


async def announce(
    connection: asyncpg.Connection, recipients: set[str], emails: int, deliveries: int
) -> None:
    """Wake streams, the email sender and the webhook dispatcher when this transaction commits
    (one statement for all of them)."""
    channels = [NOTIFICATIONS_CHANNEL] * len(recipients)
    payloads = sorted(recipients)
    if emails:
        channels.append(EMAILS_CHANNEL)
        payloads.append("")
    if deliveries:
        channels.append(DELIVERIES_CHANNEL)
        payloads.append("")
    if channels:
        await connection.execute(
            "SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS x(c, p)",
            channels,
            payloads,
        )
