"""Ticket use cases: create (idempotent), read (now or as of a time), change status."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from helpdesk_events import Actor, DomainEvent, EventEnvelope
from ticket_service.adapters.event_store import PostgresEventStore, RecordedEvent, StreamAppend
from ticket_service.adapters.idempotency import IdempotentAppender, StoredResponse
from ticket_service.domain import ticket as tickets
from ticket_service.domain.errors import TicketNotFound, VersionConflict
from ticket_service.domain.ticket import Ticket

TICKET_STREAM = "ticket"


@dataclass(frozen=True)
class CommandContext:
    """Who asks, and the ids that tie the resulting events to the request."""

    actor: Actor
    correlation_id: uuid.UUID
    traceparent: str | None = None
    causation_id: uuid.UUID | None = None


@dataclass(frozen=True)
class CreateTicket:
    subject: str
    description: str
    channel: str
    priority: str
    requester_email: str | None
    requester_name: str | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class IdempotencyRequest:
    scope: str
    key: str
    fingerprint: str


def envelope_for(
    event: DomainEvent,
    *,
    stream_id: uuid.UUID,
    stream_version: int,
    context: CommandContext,
    occurred_at: datetime,
) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=stream_id,
        stream_type=event.stream_type,
        stream_version=stream_version,
        occurred_at=occurred_at,
        actor=context.actor,
        correlation_id=context.correlation_id,
        causation_id=context.causation_id,
        data=event.model_dump(mode="json"),
    )


def fold(ticket_id: uuid.UUID, recorded: list[RecordedEvent]) -> Ticket:
    return Ticket.replay(
        ticket_id, ((r.envelope.payload(), r.envelope.occurred_at) for r in recorded)
    )


class TicketApplication:
    def __init__(
        self,
        store: PostgresEventStore,
        idempotency: IdempotentAppender,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._idempotency = idempotency
        self._clock = clock

    async def create_ticket(
        self,
        command: CreateTicket,
        context: CommandContext,
        idempotency: IdempotencyRequest | None = None,
    ) -> tuple[Ticket, bool]:
        """Open a ticket; returns it and whether this was a replay of an earlier request.

        With an idempotency key the append and the key are written in one statement; a retry
        (or a concurrent twin) loses on the key and gets the first request's ticket instead.
        """
        created = tickets.create(
            subject=command.subject,
            description=command.description,
            channel=command.channel,
            priority=command.priority,
            requester_email=command.requester_email,
            requester_name=command.requester_name,
            tags=command.tags,
        )
        ticket_id = uuid.uuid4()
        now = self._clock()
        envelope = envelope_for(
            created, stream_id=ticket_id, stream_version=1, context=context, occurred_at=now
        )
        append = StreamAppend(ticket_id, TICKET_STREAM, 0, [envelope])
        if idempotency is None:
            await self._store.append([append], traceparent=context.traceparent)
            return tickets.apply(None, ticket_id, created, now), False
        response = StoredResponse(201, {"ticket_id": str(ticket_id)})
        stored = await self._idempotency.append(
            append,
            scope=idempotency.scope,
            key=idempotency.key,
            fingerprint=idempotency.fingerprint,
            response=response,
            traceparent=context.traceparent,
        )
        if stored is not response:  # a concurrent twin request won
            return await self.get_ticket(uuid.UUID(stored.body["ticket_id"])), True
        return tickets.apply(None, ticket_id, created, now), False

    async def get_ticket(self, ticket_id: uuid.UUID, *, as_of: datetime | None = None) -> Ticket:
        recorded = await self._store.read_stream(ticket_id)
        if as_of is not None:
            recorded = [r for r in recorded if r.envelope.occurred_at <= as_of]
        if not recorded:
            raise TicketNotFound(f"no ticket {ticket_id}" + (f" at {as_of}" if as_of else ""))
        return fold(ticket_id, recorded)

    async def change_status(
        self,
        ticket_id: uuid.UUID,
        to_status: str,
        context: CommandContext,
        *,
        expected_version: int | None = None,
        reason: str | None = None,
    ) -> Ticket:
        ticket = await self.get_ticket(ticket_id)
        if expected_version is not None and expected_version != ticket.version:
            raise VersionConflict(ticket_id, expected_version, ticket.version)
        changed = tickets.change_status(ticket, to_status, reason)
        now = self._clock()
        envelope = envelope_for(
            changed,
            stream_id=ticket_id,
            stream_version=ticket.version + 1,
            context=context,
            occurred_at=now,
        )
        await self._store.append(
            [StreamAppend(ticket_id, TICKET_STREAM, ticket.version, [envelope])],
            traceparent=context.traceparent,
        )
        return tickets.apply(ticket, ticket_id, changed, now)
