"""Email on tickets, for the mail gateway: a mail opens a ticket or adds a message to one, with
its headers (``EmailReceived``) and the thread's CC participants (``TicketParticipantsAdded``);
outgoing deliveries and bounces are recorded on the ticket.

Every call is idempotent by a key the gateway derives from the account and the Message-ID: the
events and the answer are stored with the key in one statement, so a mail the gateway reads
twice (a crash before it flagged the mail handled) changes the ticket once. The ticket rules are
the ticket service's own: a customer's mail to a Closed ticket opens a follow-up, to a merged
ticket lands on its parent, to a Solved one reopens it (``domain.ticket.add_message``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from helpdesk_events import DomainEvent, EventEnvelope, Visibility
from helpdesk_events.mail import (
    EmailBounced,
    EmailDeliveryRecorded,
    EmailReceived,
    TicketParticipantsAdded,
)
from helpdesk_events.tickets import AttachmentRef
from ticket_service.domain import ticket as tickets
from ticket_service.domain.errors import TicketNotFound, VersionConflict
from ticket_service.domain.options import TicketOptions
from ticket_service.domain.ticket import NewMessage, NewTicket, Ticket
from ticket_service.service_layer.context import CommandContext
from ticket_service.service_layer.event_store import DuplicateEvent, EventStore, StreamAppend
from ticket_service.service_layer.idempotency import (
    IdempotencyRequest,
    IdempotencyStore,
    StoredResponse,
)
from ticket_service.service_layer.streams import RETRY, decided_append
from ticket_service.service_layer.tickets import TICKET_STREAM, TicketApplication

#: A merged ticket's parent may itself have been merged later; follow at most this many hops.
MERGE_HOPS = 5

#: The ticket an append was decided on, and each event appended after it with its envelope.
_Appended = tuple[Ticket, list[tuple[DomainEvent, EventEnvelope]]]


@dataclass(frozen=True)
class EmailMessage:
    """A mail as the ticket should keep it: sanitised body, attachments and headers."""

    body_html: str
    received: EmailReceived
    attachments: tuple[AttachmentRef, ...] = ()
    participants: tuple[str, ...] = ()


@dataclass(frozen=True)
class MailOutcome:
    """Where the mail landed: the ticket (a follow-up or parent, maybe), the message id, and
    whether an earlier identical request already did it."""

    ticket_id: uuid.UUID
    message_id: uuid.UUID | None
    created: bool = False
    follow_up_of: uuid.UUID | None = None
    replayed: bool = False
    #: The ticket after this request's append (None on a replay: read it): the answer needs
    #: no second read of the stream just written.
    ticket: Ticket | None = field(default=None, compare=False, repr=False)

    def body(self) -> dict[str, str | bool | None]:
        return {
            "ticket_id": str(self.ticket_id),
            "message_id": str(self.message_id) if self.message_id else None,
            "created": self.created,
            "follow_up_of": str(self.follow_up_of) if self.follow_up_of else None,
        }

    @classmethod
    def of(cls, body: dict[str, object]) -> MailOutcome:
        def uid(name: str) -> uuid.UUID | None:
            value = body.get(name)
            return uuid.UUID(str(value)) if value else None

        ticket_id = uid("ticket_id")
        assert ticket_id is not None
        return cls(
            ticket_id=ticket_id,
            message_id=uid("message_id"),
            created=bool(body.get("created")),
            follow_up_of=uid("follow_up_of"),
            replayed=True,
        )


@dataclass(frozen=True)
class Thread:
    """Who is on a ticket's email thread besides its customer."""

    participants: frozenset[str] = field(default_factory=frozenset)


class MailApplication:
    def __init__(
        self,
        store: EventStore,
        idempotency: IdempotencyStore,
        tickets_app: TicketApplication,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._clock = clock
        self._store = store
        self._idempotency = idempotency
        self._tickets = tickets_app

    # --- reads ---------------------------------------------------------------------------

    async def thread(self, ticket_id: uuid.UUID) -> Thread:
        recorded = await self._tickets.timeline(ticket_id)
        found: set[str] = set()
        for r in recorded:
            if r.envelope.event_type == TicketParticipantsAdded.event_type:
                found.update(a.lower() for a in r.envelope.data.get("addresses", ()))
        return Thread(frozenset(found))

    # --- inbound -------------------------------------------------------------------------

    async def open_ticket(
        self,
        new: NewTicket,
        mail: EmailMessage,
        context: CommandContext,
        request: IdempotencyRequest,
    ) -> MailOutcome:
        """A new ticket from a mail: ``TicketCreated``, the customer's message and the mail's
        headers, appended in one statement with the key (one write, not two: a mail burst is
        bound by the ticket service's work per mail)."""
        stored = await self._idempotency.lookup(request.scope, request.key, request.fingerprint)
        if stored is not None:
            return MailOutcome.of(stored.body)
        ticket, created = await self._tickets.decide_ticket(new, context)
        return await self._add(
            ticket, mail, context, request, by_customer=True, created=True, first=created
        )

    async def add_to_ticket(
        self,
        ticket_id: uuid.UUID,
        mail: EmailMessage,
        context: CommandContext,
        request: IdempotencyRequest,
        *,
        by_customer: bool = True,
        visibility: Visibility = Visibility.PUBLIC,
    ) -> MailOutcome:
        """A reply by mail. Lands on the parent of a merged ticket; to a Closed ticket it opens
        a follow-up (an auto-reply is only recorded there); to a Solved ticket it reopens it.
        ``visibility`` internal: staff's internal note by mail (never a customer's)."""
        stored = await self._idempotency.lookup(request.scope, request.key, request.fingerprint)
        if stored is not None:
            return MailOutcome.of(stored.body)
        ticket = await self._tickets.get_ticket(ticket_id)
        for _ in range(MERGE_HOPS):
            if ticket.merged_into is None:
                break
            ticket = await self._tickets.get_ticket(ticket.merged_into)
        automated = mail.received.automated
        if ticket.is_closed and not automated and by_customer:
            follow_up, _ = await self._tickets.create_ticket(
                tickets.follow_up(ticket, mail.body_html, "email"),
                context,
                IdempotencyRequest(request.scope, f"{request.key}:follow-up", request.fingerprint),
            )
            return await self._add(
                follow_up, mail, context, request, by_customer=True, created=True,
                follow_up_of=ticket.id,
            )  # fmt: skip
        return await self._add(
            ticket, mail, context, request, by_customer=by_customer and not automated,
            visibility=visibility,
        )  # fmt: skip

    async def _add(
        self,
        ticket: Ticket,
        mail: EmailMessage,
        context: CommandContext,
        request: IdempotencyRequest,
        *,
        by_customer: bool,
        created: bool = False,
        follow_up_of: uuid.UUID | None = None,
        first: EventEnvelope | None = None,
        visibility: Visibility = Visibility.PUBLIC,
    ) -> MailOutcome:
        """``first``: the new ticket's ``TicketCreated`` (``ticket`` is not appended yet)."""

        async def attempt() -> MailOutcome:
            nonlocal ticket
            options, _ = await self._tickets.options()
            message_id = uuid.uuid4()
            automated = mail.received.automated
            events: list[DomainEvent] = []
            if not (automated and ticket.is_closed):
                events.extend(
                    tickets.add_message(
                        ticket,
                        NewMessage(
                            body_html=mail.body_html,
                            # An auto-reply is kept as an automated internal note: it never
                            # reopens the ticket and never counts as the customer's answer.
                            visibility=Visibility.INTERNAL if automated else visibility,
                            by_customer=by_customer,
                            attachments=mail.attachments,
                            channel="email",
                            automated=automated,
                            email_message_id=mail.received.email_message_id,
                        ),
                        message_id=message_id,
                        options=options,
                    )
                )
            has_message = bool(events)
            events.append(
                mail.received.model_copy(update={"message_id": message_id if has_message else None})
            )
            added = await self._new_participants(ticket, mail.participants, fresh=first is not None)
            if added:
                events.append(TicketParticipantsAdded(addresses=added))
            outcome = MailOutcome(
                ticket_id=ticket.id,
                message_id=message_id if has_message else None,
                created=created,
                follow_up_of=follow_up_of,
            )
            try:
                stored, after = await self._append_once(
                    ticket, events, context, request, outcome, first
                )
            except VersionConflict:
                if first is None:  # a fresh stream: nobody else can have written it
                    ticket = await self._tickets.get_ticket(ticket.id)  # it moved: read it again
                raise
            if stored is not None:
                return MailOutcome.of(stored.body)
            return replace(outcome, ticket=self._after(after, options))

        return await RETRY.run(attempt)

    async def _new_participants(
        self, ticket: Ticket, addresses: Iterable[str], *, fresh: bool = False
    ) -> tuple[str, ...]:
        """``fresh``: the ticket is being created (no stream to read yet)."""
        wanted = [a.lower() for a in addresses]
        if not wanted:
            return ()
        thread = Thread() if fresh else await self.thread(ticket.id)
        known = thread.participants | {(ticket.requester_email or "").lower()}
        return tuple(dict.fromkeys(a for a in wanted if a not in known))

    async def _append_once(
        self,
        ticket: Ticket,
        events: list[DomainEvent],
        context: CommandContext,
        request: IdempotencyRequest,
        outcome: MailOutcome,
        first: EventEnvelope | None = None,
    ) -> tuple[StoredResponse | None, _Appended]:
        """Append and remember the outcome under the key; the earlier outcome if a twin won
        (else None), and what was appended. With ``first`` (a new ticket's creation) the
        stream is appended from its start."""
        append = decided_append(
            ticket.id, TICKET_STREAM, ticket.version, events, context, self._clock()
        )
        if first is not None:
            append = StreamAppend(ticket.id, TICKET_STREAM, 0, [first, *append.events])
        stored = await self._remember(append, context, request, outcome)
        later = append.events[1:] if first is not None else append.events
        return stored, (ticket, list(zip(events, later, strict=True)))

    async def _remember(
        self,
        append: StreamAppend,
        context: CommandContext,
        request: IdempotencyRequest,
        outcome: MailOutcome,
    ) -> StoredResponse | None:
        """Append and keep the outcome under the key in one statement; the earlier outcome
        if a twin request won, else None."""
        response = StoredResponse(201, outcome.body())
        stored = await self._idempotency.append(
            append,
            scope=request.scope,
            key=request.key,
            fingerprint=request.fingerprint,
            response=response,
            traceparent=context.traceparent,
        )
        return None if stored is response else stored

    @staticmethod
    def _after(appended: _Appended, options: TicketOptions) -> Ticket:
        """The ticket after an append of ours, folded from the state it was decided on."""
        ticket, events = appended
        for event, envelope in events:
            ticket = tickets.apply(ticket, ticket.id, event, envelope.occurred_at, options)
        return ticket

    # --- outbound ------------------------------------------------------------------------

    async def record(
        self,
        ticket_id: uuid.UUID,
        event: EmailDeliveryRecorded | EmailBounced,
        context: CommandContext,
        request: IdempotencyRequest,
    ) -> bool:
        """Append a delivery state or a bounce once per key (also on a Closed ticket: it is a
        record of what happened, not a change to the conversation). False: already recorded.
        The event's id derives from the key, so :meth:`record_many` and this agree."""
        stored = await self._idempotency.lookup(request.scope, request.key, request.fingerprint)
        if stored is not None:
            return False
        event_id = record_event_id(request.scope, request.key)

        async def attempt() -> bool:
            # No rule of the ticket decides a record: its version is all the append needs,
            # not a fold of its stream.
            head = (await self._store.stream_heads([ticket_id])).get(ticket_id)
            if head is None or head[0] != TICKET_STREAM:
                raise TicketNotFound(f"no ticket {ticket_id}")
            outcome = MailOutcome(ticket_id=ticket_id, message_id=None)
            append = decided_append(
                ticket_id, TICKET_STREAM, head[1], [event], context, self._clock(),
                event_id=lambda _: event_id,
            )  # fmt: skip
            try:
                return await self._remember(append, context, request, outcome) is None
            except DuplicateEvent:  # recorded by a batch already
                return False

        return await RETRY.run(attempt)

    async def record_many(
        self, records: Sequence[MailRecord], context: CommandContext
    ) -> list[bool | None]:
        """Delivery states of many tickets in one append (the send queue's batch): True
        recorded, False recorded before, None no such ticket. Each record's event id derives
        from its key: a batch sent again, or a record also sent alone, is stored once. When a
        ticket moved meanwhile, or a record is in already, the batch goes one by one."""
        heads = await self._store.stream_heads([r.ticket_id for r in records])
        mine: dict[uuid.UUID, list[MailRecord]] = {}
        for record in records:
            head = heads.get(record.ticket_id)
            if head is not None and head[0] == TICKET_STREAM:
                mine.setdefault(record.ticket_id, []).append(record)
        now = self._clock()
        appends = [
            decided_append(
                ticket_id,
                TICKET_STREAM,
                heads[ticket_id][1],
                [r.event for r in on_ticket],
                context,
                now,
                event_id=_ids_of(on_ticket),
            )
            for ticket_id, on_ticket in mine.items()
        ]
        try:
            if appends:
                await self._store.append(appends, traceparent=context.traceparent)
            return [True if r.ticket_id in mine else None for r in records]
        except (VersionConflict, DuplicateEvent):
            return [await self._record_alone(r, context) for r in records]

    async def _record_alone(self, record: MailRecord, context: CommandContext) -> bool | None:
        async def attempt() -> bool | None:
            head = (await self._store.stream_heads([record.ticket_id])).get(record.ticket_id)
            if head is None or head[0] != TICKET_STREAM:
                return None
            append = decided_append(
                record.ticket_id, TICKET_STREAM, head[1], [record.event], context,
                self._clock(), event_id=lambda _: record.event_id,
            )  # fmt: skip
            try:
                await self._store.append([append], traceparent=context.traceparent)
            except DuplicateEvent:
                return False
            return True

        return await RETRY.run(attempt)


#: Event ids of the gateway's records derive from (scope, key) in this namespace.
RECORD_NAMESPACE = uuid.UUID("6f1d8f0e-3c52-4a9e-9d1b-6a0c3f2e7b55")


def _ids_of(records: Sequence[MailRecord]) -> Callable[[int], uuid.UUID]:
    """The n-th (from 1) event's id of an append of ``records``."""
    return lambda n: records[n - 1].event_id


def record_event_id(scope: str, key: str) -> uuid.UUID:
    return uuid.uuid5(RECORD_NAMESPACE, f"{scope}\n{key}")


@dataclass(frozen=True)
class MailRecord:
    """One record of a batch (a delivery state) for a ticket, under the gateway's key."""

    ticket_id: uuid.UUID
    event: EmailDeliveryRecorded | EmailBounced
    scope: str
    key: str

    @property
    def event_id(self) -> uuid.UUID:
        return record_event_id(self.scope, self.key)
