"""Handle a batch of events from Kafka in ONE database transaction: fold them into the
projection, decide the notifications, emails and webhook deliveries, store them (each with a
deterministic id, inserted only if new) and move the consumer's stored position past them.

So a batch either happened completely or not at all: after a crash (even ``kill -9``) the
consumer starts from the stored position, and what was redelivered below it is skipped; a
record that is redelivered anyway (a replay) derives the same ids and inserts nothing. Kafka's
own committed offsets follow the database, only to spare a restart re-reading old records.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import structlog
from pydantic import ValidationError

from helpdesk_conditions import Condition, ConditionError
from helpdesk_events import EventEnvelope, UnknownEventType, decode_envelope, encode_envelope
from helpdesk_events.registry import DomainEvent
from notification_service.adapters import presence_store
from notification_service.adapters import projection_store as store
from notification_service.domain.kinds import effective
from notification_service.domain.replies import reply_hint
from notification_service.domain.rules import Notification, notifications_for
from notification_service.domain.views import (
    Agent,
    Directory,
    Team,
    TicketView,
    apply_directory_event,
    apply_ticket_event,
    new_followers,
)
from notification_service.domain.webhooks import Subscription, delivery_id, wants

log = structlog.get_logger("notification_service.events")

TICKET_STREAMS = frozenset({"ticket", "sla"})
DIRECTORY_STREAMS = frozenset({"agent", "team", "config"})


@dataclass(frozen=True)
class Record:
    """One Kafka record as the consumer hands it over."""

    topic: str
    partition: int
    offset: int
    value: bytes | None


@dataclass
class BatchResult:
    handled: int = 0
    skipped: int = 0
    notifications: int = 0
    emails: int = 0
    deliveries: int = 0
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)


def email_text(notification: Notification, portal_url: str, replies: bool = False) -> str:
    """The mail's text; ``replies``: notification mails carry a reply reference (the reply key
    is set), so one about a ticket says what answering it does."""
    lines = [notification.title, "", notification.body]
    if notification.ticket_id is not None:
        lines += ["", f"Open the ticket: {portal_url.rstrip('/')}/tickets/{notification.ticket_id}"]
        if replies:
            lines.append(reply_hint(notification.kind))
    lines += [
        "",
        "--",
        "You receive this because of your notification preferences in the helpdesk.",
    ]
    return "\n".join(lines)


class EventProcessor:
    """Keeps the directory and parsed subscription conditions between batches."""

    def __init__(self, portal_url: str, *, replies: bool = False) -> None:
        self._portal_url = portal_url
        self._replies = replies
        self._directory = Directory()
        self._directory_version = -1
        self._conditions: dict[str, Condition | None] = {}
        self._subscriptions: list[Subscription] = []
        self._subscriptions_version = -1

    def _condition(self, source: str | None) -> Condition | None:
        if source is None:
            return None
        if source not in self._conditions:
            try:
                self._conditions[source] = Condition.parse(source)
            except ConditionError:  # checked when saved; a stored one that fails matches nothing
                self._conditions[source] = Condition.parse("false")
        return self._conditions[source]

    async def handle(
        self, connection: asyncpg.Connection, records: Sequence[Record]
    ) -> BatchResult:
        """Handle ``records`` on ``connection`` in one transaction (started here)."""
        result = BatchResult()
        async with connection.transaction():
            await store.lock_writer(connection)
            stored, version, subscriptions_version = await store.positions_and_versions(
                connection, ((r.topic, r.partition) for r in records)
            )
            fresh = [r for r in records if r.offset >= stored.get((r.topic, r.partition), 0)]
            result.skipped = len(records) - len(fresh)
            if not fresh:
                return result
            decoded = self._decode(fresh)
            if version != self._directory_version:
                self._directory = await store.load_directory(connection)
                self._directory_version = version
            ticket_ids = [e.stream_id for e, _ in decoded if e.stream_type in TICKET_STREAMS]
            tickets, followers = await store.load_tickets(connection, ticket_ids)
            if subscriptions_version != self._subscriptions_version:
                self._subscriptions = [
                    Subscription(
                        row["id"],
                        tuple(row["event_types"]),
                        self._condition(row["condition"]),
                        row["enabled"],
                    )
                    for row in await store.subscriptions(connection)
                ]
                self._subscriptions_version = subscriptions_version
            subscriptions = self._subscriptions

            notifications: list[Notification] = []
            deliveries: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, str, str, bytes]] = []
            changed_directory: dict[str, Agent | Team] = {}
            changed_tickets: dict[uuid.UUID, TicketView] = {}
            followed: set[tuple[uuid.UUID, str]] = set()
            directory = self._directory
            for envelope, event in decoded:
                facts = None
                if envelope.stream_type in TICKET_STREAMS:
                    ticket_id = envelope.stream_id
                    before = tickets.get(ticket_id) or TicketView(ticket_id)
                    notifications += notifications_for(
                        envelope,
                        event,
                        before,
                        directory,
                        frozenset(followers.get(ticket_id, ())),
                    )
                    after = apply_ticket_event(before, event)
                    tickets[ticket_id] = after
                    if after is not before:
                        changed_tickets[ticket_id] = after
                    for agent_id in new_followers(
                        event, envelope.actor.kind.value, envelope.actor.id
                    ):
                        if agent_id not in followers.get(ticket_id, set()):
                            followers.setdefault(ticket_id, set()).add(agent_id)
                            followed.add((ticket_id, agent_id))
                    facts = after.facts if after.facts else None
                elif envelope.stream_type in DIRECTORY_STREAMS:
                    directory, changed = apply_directory_event(directory, envelope.stream_id, event)
                    if isinstance(changed, Agent):
                        changed_directory[changed.agent_id] = changed
                    elif isinstance(changed, Team):
                        changed_directory[changed.team_id] = changed
                payload = encode_envelope(envelope)
                for subscription in subscriptions:
                    if wants(subscription, envelope.event_type, facts):
                        deliveries.append(
                            (
                                delivery_id(envelope.event_id, subscription.id),
                                subscription.id,
                                envelope.event_id,
                                envelope.event_type,
                                str(envelope.stream_id),
                                payload,
                            )
                        )

            preferences = await store.load_preferences(
                connection, (n.recipient_id for n in notifications)
            )
            in_app: list[Notification] = []
            emails: list[tuple[Notification, bool, str]] = []
            for notification in notifications:
                chosen = effective(
                    notification.kind,
                    preferences.get((notification.recipient_id, notification.kind)),
                )
                if chosen.channel.in_app:
                    in_app.append(notification)
                if chosen.channel.email:
                    text = email_text(notification, self._portal_url, self._replies)
                    emails.append((notification, chosen.digest, text))
            woken = await store.store_notifications(connection, in_app)
            result.notifications = len(woken)
            result.emails = await store.store_emails(connection, emails)
            result.deliveries = await store.store_deliveries(connection, deliveries)
            await store.save_tickets(connection, changed_tickets.values(), sorted(followed))
            new_version = await store.save_directory(connection, list(changed_directory.values()))
            for record in fresh:
                key = (record.topic, record.partition)
                result.next_offsets[key] = max(result.next_offsets.get(key, 0), record.offset + 1)
            await store.save_positions(connection, result.next_offsets)
            await store.announce(connection, set(woken), result.emails, result.deliveries)
            # Every change (not only those that notify someone) reaches the open ticket pages.
            await presence_store.announce_viewed_changes(
                connection, set(ticket_ids), datetime.now(UTC)
            )
            result.handled = len(fresh)
        # Only once committed does the in-memory directory move on.
        self._directory = directory
        if new_version is not None:
            self._directory_version = new_version
        return result

    def _decode(self, records: Sequence[Record]) -> list[tuple[EventEnvelope, DomainEvent]]:
        decoded: list[tuple[EventEnvelope, DomainEvent]] = []
        for record in records:
            try:
                envelope = decode_envelope(record.value or b"")
                decoded.append((envelope, envelope.payload()))
            except (ValueError, ValidationError, UnknownEventType) as error:
                # Not ours to fix: the record is skipped (its offset still moves on), and said.
                log.warning(
                    "unreadable event skipped",
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    error=str(error)[:500],
                )
        return decoded
