"""Ticket use cases: create (idempotent, numbered), read (now or as of a time), edit, converse,
merge and unmerge, configure the ticket options."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from helpdesk_events import DomainEvent, EventEnvelope, Visibility
from helpdesk_events.directory import CustomFieldForm, TicketOptionsConfigured
from helpdesk_events.tickets import CustomFieldValue, TicketField
from ticket_service.domain import custom_fields as custom_field_rules
from ticket_service.domain import customer_context, ticket_commands
from ticket_service.domain import ticket as tickets
from ticket_service.domain.customers import Company, CompanyNotFound, Customer, CustomerNotFound
from ticket_service.domain.errors import (
    InvalidTransition,
    TicketNotFound,
    VersionConflict,
)
from ticket_service.domain.options import CONFIG_STREAM_ID, DEFAULT_OPTIONS, TicketOptions
from ticket_service.domain.options import configure as configure_ticket_options
from ticket_service.domain.ticket import NewMessage, NewTicket, Ticket
from ticket_service.service_layer import access
from ticket_service.service_layer.access import Action, HistoryEntry
from ticket_service.service_layer.company_sharing import SharedCompany
from ticket_service.service_layer.context import CommandContext, envelope_for
from ticket_service.service_layer.custom_fields import (
    CustomFieldConfig,
    append_configuration,
    check_sort_key,
    filter_values,
    require_version,
    visible_values,
)
from ticket_service.service_layer.customers import NewCustomer
from ticket_service.service_layer.event_store import (
    DuplicateEvent,
    EventStore,
    RecordedEvent,
    StreamAppend,
)
from ticket_service.service_layer.idempotency import (
    IdempotencyRequest,
    IdempotencyStore,
    StoredResponse,
)
from ticket_service.service_layer.streams import decided_append, pinned_or_retried
from ticket_service.service_layer.ticket_filter import TicketFilter

TICKET_STREAM = "ticket"


def fold(
    ticket_id: uuid.UUID, recorded: list[RecordedEvent], options: TicketOptions = DEFAULT_OPTIONS
) -> Ticket:
    return Ticket.replay(
        ticket_id, ((r.envelope.payload(), r.envelope.occurred_at) for r in recorded), options
    )


class Directory(Protocol):
    """What ticket commands need to know about agents and teams (read from the directory)."""

    async def team_exists(self, team_id: uuid.UUID) -> bool: ...
    async def team_members(self, team_id: uuid.UUID) -> frozenset[uuid.UUID]: ...
    async def agent_assignable(self, agent_id: uuid.UUID) -> bool: ...
    async def escalates_to(self, team_id: uuid.UUID) -> uuid.UUID | None: ...
    async def teams_led_by(self, who: access.Principal) -> frozenset[uuid.UUID]: ...


class Customers(Protocol):
    """Finds or registers the contact a ticket is for."""

    async def get_customer(self, customer_id: uuid.UUID) -> Customer: ...
    async def get_company(self, company_id: uuid.UUID) -> Company: ...

    async def resolve_customer(
        self,
        context: CommandContext,
        *,
        customer_id: uuid.UUID | None = None,
        new_customer: NewCustomer | None = None,
    ) -> uuid.UUID: ...


class TicketReadModel(Protocol):
    """The ticket views and the conversation (``adapters/ticket_queries.py``)."""

    async def search(self, where: TicketFilter) -> tuple[list[Any], int]: ...

    async def conversation(self, ticket_id: uuid.UUID, *, include_internal: bool) -> list[Any]: ...

    async def merged_descriptions(self, ticket_id: uuid.UUID) -> list[Any]: ...

    async def sla_due(self, ticket_id: uuid.UUID) -> dict[str, Any]: ...


class NoDirectory:
    """Used until the directory read model is wired in: knows no team and no agent."""

    async def team_exists(self, team_id: uuid.UUID) -> bool:
        return False

    async def team_members(self, team_id: uuid.UUID) -> frozenset[uuid.UUID]:
        return frozenset()

    async def agent_assignable(self, agent_id: uuid.UUID) -> bool:
        return False

    async def escalates_to(self, team_id: uuid.UUID) -> uuid.UUID | None:
        return None

    async def teams_led_by(self, who: access.Principal) -> frozenset[uuid.UUID]:
        return frozenset()


OPTIONS_CACHE_SECONDS = 1.0
CONTACT_CACHE_SECONDS = 60.0
CONTACT_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class TicketChanges:
    """An edit of a ticket; None leaves a field as it is."""

    fields: dict[TicketField, str | None]
    priority: str | None = None
    status: str | None = None
    status_reason: str | None = None
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    team_id: uuid.UUID | None = None
    clear_team: bool = False
    assignee_id: uuid.UUID | None = None
    clear_assignee: bool = False
    #: Custom field values by key (None clears one); checked against their definitions.
    custom_fields: dict[str, Any] = field(default_factory=dict)


class TicketApplication:
    def __init__(
        self,
        store: EventStore,
        idempotency: IdempotencyStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        directory: Directory | None = None,
        customers: Customers | None = None,
        queries: TicketReadModel | None = None,
        custom_fields: CustomFieldConfig | None = None,
        company_sharing: SharedCompany | None = None,
    ) -> None:
        self._store = store
        self.custom_fields = custom_fields or CustomFieldConfig(store, clock)
        #: The caller's company when it shares its tickets with its customers (the portal).
        self._sharing = company_sharing
        self._queries = queries
        self._idempotency = idempotency
        self._clock = clock
        self._directory = directory or NoDirectory()
        self._customers = customers
        # email -> (contact id, expiry): contacts are unique by email and never deleted, so a
        # minute-old answer is at worst the contact that had this address a moment ago.
        self._contacts: OrderedDict[str, tuple[uuid.UUID, float]] = OrderedDict()
        self._options: tuple[float, TicketOptions, int] | None = None

    # --- options ---------------------------------------------------------------------------

    async def options(self) -> tuple[TicketOptions, int]:
        """The configured options and their stream version (0: defaults), cached for a second."""
        now = time.monotonic()
        if self._options is not None and now - self._options[0] < OPTIONS_CACHE_SECONDS:
            return self._options[1], self._options[2]
        recorded = await self._store.read_stream(CONFIG_STREAM_ID)
        options, version = DEFAULT_OPTIONS, 0
        if recorded:
            latest = recorded[-1].envelope
            event = latest.payload()
            assert isinstance(event, TicketOptionsConfigured)
            options, version = TicketOptions.from_event(event), latest.stream_version
        self._options = (now, options, version)
        return options, version

    async def configure_options(
        self, options: TicketOptions, context: CommandContext, expected_version: int | None
    ) -> tuple[TicketOptions, int]:
        access.require(access.caller_of(context), Action.CONFIGURE_OPTIONS)
        expected = require_version(expected_version, "/ticket-options")
        event = configure_ticket_options(
            options.priorities,
            options.statuses,
            options.types,
            options.categories,
            options.business_units,
        )
        version = await append_configuration(
            self._store, CONFIG_STREAM_ID, event, context, expected, self._clock()
        )
        self._options = None
        return TicketOptions.from_event(event), version

    # --- create ----------------------------------------------------------------------------

    async def create_ticket(
        self,
        new: NewTicket,
        context: CommandContext,
        idempotency: IdempotencyRequest | None = None,
    ) -> tuple[Ticket, bool]:
        """Open a ticket as the caller may (see :func:`access.check_new_ticket`); returns it and
        whether this was a replay of an earlier request.

        A customer's ticket is always for themselves: the contact of their token's email.
        With an idempotency key the append and the key are written in one statement; a retry
        (or a concurrent twin) loses on the key and gets the first request's ticket instead.
        """
        return await self._create(await self._checked_new(new, context), context, idempotency)

    async def decide_ticket(
        self, new: NewTicket, context: CommandContext
    ) -> tuple[Ticket, EventEnvelope]:
        """A new ticket checked and decided as :meth:`create_ticket` does, but not appended:
        the caller appends the envelope (stream version 1) with more events in one statement
        (a ticket from a mail and its first message)."""
        checked = await self._checked_new(new, context)
        # Deciding reads the contact resolved above twice (it exists; its company and name):
        # one read of its stream serves both.
        async with self._store.read_ahead(checked.customer_id):
            return await self._decided(checked, context)

    async def _checked_new(self, new: NewTicket, context: CommandContext) -> NewTicket:
        who = access.caller_of(context)
        options, _ = await self.options()
        own_company: uuid.UUID | None = None
        if who.role is access.Role.CUSTOMER:
            if not who.email:
                raise InvalidTransition("your token has no email; a customer needs one")
            new = replace(new, requester_email=who.email, requester_name=who.name, customer_id=None)
            new = await self._with_customer(new, context)
            own_company = await self._company_of(new.customer_id)
        new = access.check_new_ticket(who, new, options, own_company_id=own_company)
        by_customer = who.role is access.Role.CUSTOMER
        values = await self._checked_custom_fields(
            new.custom_fields,
            by_customer=by_customer,
            required_on=CustomFieldForm.PORTAL if by_customer else CustomFieldForm.AGENT,
        )
        return replace(new, custom_fields={k: v for k, v in values.items() if v is not None})

    async def _checked_custom_fields(
        self,
        values: Mapping[str, Any],
        *,
        by_customer: bool,
        required_on: CustomFieldForm | None = None,
    ) -> dict[str, CustomFieldValue | None]:
        """Values checked by their definitions; a user field must name an agent."""
        definitions, _ = await self.custom_fields.definitions()
        if not values and not (required_on and definitions.on_form(required_on)):
            return {}
        checked = custom_field_rules.check_values(
            definitions, values, by_customer=by_customer, required_on=required_on
        )
        for agent_id in custom_field_rules.users_named(definitions, checked):
            if not await self._directory.agent_assignable(agent_id):
                raise custom_field_rules.InvalidCustomField(
                    f"no active agent {agent_id} for a user custom field"
                )
        return checked

    async def _company_of(self, customer_id: uuid.UUID | None) -> uuid.UUID | None:
        if customer_id is None or self._customers is None:
            return None
        try:
            return (await self._customers.get_customer(customer_id)).company_id
        except CustomerNotFound:
            return None

    async def _create(
        self,
        new: NewTicket,
        context: CommandContext,
        idempotency: IdempotencyRequest | None = None,
    ) -> tuple[Ticket, bool]:
        ticket, envelope = await self._decided(new, context)
        ticket_id = ticket.id
        append = StreamAppend(ticket_id, TICKET_STREAM, 0, [envelope])
        if idempotency is None:
            await self._store.append([append], traceparent=context.traceparent)
            return ticket, False
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
        return ticket, False

    async def _decided(
        self, new: NewTicket, context: CommandContext
    ) -> tuple[Ticket, EventEnvelope]:
        options, _ = await self.options()
        await self._check_team_and_assignee(new.team_id, new.assignee_id)
        new = await self._with_customer(new, context)
        new = await self._from_directory(new)
        created = tickets.create(
            new, number=await self._store.next_ticket_number(), options=options
        )
        ticket_id = uuid.uuid4()
        now = self._clock()
        envelope = envelope_for(
            created, stream_id=ticket_id, stream_version=1, context=context, occurred_at=now
        )
        return tickets.apply(None, ticket_id, created, now, options), envelope

    async def _with_customer(self, new: NewTicket, context: CommandContext) -> NewTicket:
        """Name the ticket's contact: the one given (it must exist), else the one with the
        requester's email, registered on first contact (contacts are unique by email)."""
        if self._customers is None:
            return new
        try:
            if new.customer_id is not None:
                await self._customers.resolve_customer(context, customer_id=new.customer_id)
                return new
            if new.requester_email is None:
                return new
            email = new.requester_email.strip().lower()
            cached = self._contacts.get(email)
            if cached is not None and cached[1] > time.monotonic():
                return replace(new, customer_id=cached[0])
            name = new.requester_name or email.split("@")[0]
            customer_id = await self._customers.resolve_customer(
                context,
                new_customer=NewCustomer(name=name, email=email, channel=new.channel),
            )
            self._contacts[email] = (customer_id, time.monotonic() + CONTACT_CACHE_SECONDS)
            if len(self._contacts) > CONTACT_CACHE_SIZE:
                self._contacts.popitem(last=False)
        except CustomerNotFound as error:
            raise InvalidTransition(str(error)) from None
        return replace(new, customer_id=customer_id)

    async def _from_directory(self, new: NewTicket) -> NewTicket:
        """Complete the ticket from its contact's record and their company (item 5): company,
        email and name, and the customer context conditions read."""
        if self._customers is None:
            return new
        customer: Customer | None = None
        if new.customer_id is not None:
            try:
                customer = await self._customers.get_customer(new.customer_id)
            except CustomerNotFound as error:
                raise InvalidTransition(str(error)) from None
        company_id = new.company_id or (customer.company_id if customer else None)
        company: Company | None = None
        if company_id is not None:
            try:
                company = await self._customers.get_company(company_id)
            except CompanyNotFound:
                raise InvalidTransition(
                    f"company_id: no company {company_id}; create it first (POST /companies)"
                ) from None
        return customer_context.derived(new, customer, company)

    async def follow_customer(
        self,
        ticket_id: uuid.UUID,
        customer: Customer,
        company: Company | None,
        context: CommandContext,
        *,
        event_id: uuid.UUID,
    ) -> bool:
        """Bring an open ticket's customer context up to date with its contact's record; True
        when an event was appended. ``event_id`` is derived from the directory event that
        caused it, so a redelivery of that event appends nothing twice."""

        async def attempt() -> bool:
            ticket = await self.get_ticket(ticket_id)
            event = customer_context.context_change(ticket, customer, company)
            if event is None:
                return False
            envelope = envelope_for(
                event,
                stream_id=ticket_id,
                stream_version=ticket.version + 1,
                context=context,
                occurred_at=self._clock(),
                event_id=event_id,
            )
            try:
                await self._store.append(
                    [StreamAppend(ticket_id, TICKET_STREAM, ticket.version, [envelope])],
                    traceparent=context.traceparent,
                )
            except DuplicateEvent:
                return False
            return True

        return await pinned_or_retried(None, attempt)

    # --- read ------------------------------------------------------------------------------

    async def get_ticket(self, ticket_id: uuid.UUID, *, as_of: datetime | None = None) -> Ticket:
        recorded = await self._store.read_stream(ticket_id)
        if as_of is not None:
            recorded = [r for r in recorded if r.envelope.occurred_at <= as_of]
        if not recorded or recorded[0].envelope.stream_type != TICKET_STREAM:
            raise TicketNotFound(f"no ticket {ticket_id}" + (f" at {as_of}" if as_of else ""))
        options, _ = await self.options()
        return fold(ticket_id, recorded, options)

    async def timeline(self, ticket_id: uuid.UUID) -> list[RecordedEvent]:
        recorded = await self._store.read_stream(ticket_id)
        if not recorded or recorded[0].envelope.stream_type != TICKET_STREAM:
            raise TicketNotFound(f"no ticket {ticket_id}")
        return recorded

    # --- reads as a caller may see them -----------------------------------------------------

    async def visible_ticket(self, who: access.Principal, ticket_id: uuid.UUID) -> Ticket:
        """The ticket, or :class:`TicketNotFound` when the caller may not see it (a customer is
        never told that another customer's ticket exists)."""
        ticket = await self.get_ticket(ticket_id)
        if not await self._may_see(who, ticket):
            raise TicketNotFound(f"no ticket {ticket_id}")
        return ticket

    async def _may_see(self, who: access.Principal, ticket: Ticket) -> bool:
        """Own tickets, and a company's tickets where it shares them with its customers."""
        if access.owns_ticket(who, ticket):
            return True
        if self._sharing is None or ticket.company_id is None:
            return False
        return access.sees_company_ticket(who, ticket, await self._sharing.shared_company(who))

    async def company_scope(self, who: access.Principal) -> uuid.UUID:
        """The company whose tickets the customer may list, or :class:`access.Forbidden`."""
        company = await self._sharing.shared_company(who) if self._sharing else None
        if company is None:
            raise access.Forbidden(
                "your company's tickets are not shared in the portal; ask the helpdesk"
            )
        return company

    async def read_ticket(
        self, who: access.Principal, ticket_id: uuid.UUID, *, as_of: datetime | None = None
    ) -> Ticket:
        """The ticket now or at ``as_of``, as the caller may see it (one read of its stream)."""
        access.require(who, Action.READ_TICKETS)
        recorded, current = await self._visible_stream(who, ticket_id)
        options, _ = await self.options()
        if as_of is not None:
            recorded = [r for r in recorded if r.envelope.occurred_at <= as_of]
            if not recorded:
                raise TicketNotFound(f"no ticket {ticket_id} at {as_of}")
        ticket = current if as_of is None else fold(ticket_id, recorded, options)
        if who.role is not access.Role.CUSTOMER:
            return ticket
        owned = await self._owned_by(who, current, recorded)
        history = access.customer_history((r.envelope for r in recorded), owned)
        definitions, _ = await self.custom_fields.definitions()
        shown = visible_values(who, definitions, ticket.custom_fields)
        return replace(access.customer_ticket(ticket, history, owned), custom_fields=shown)

    async def read_detail(
        self, who: access.Principal, ticket_id: uuid.UUID, *, as_of: datetime | None = None
    ) -> tuple[Ticket, dict[str, Any]]:
        """The ticket as :meth:`read_ticket` gives it, and for staff its SLA due times now
        (first response, next response, resolution; from the SLA projection)."""
        ticket = await self.read_ticket(who, ticket_id, as_of=as_of)
        if who.role is access.Role.CUSTOMER or as_of is not None:
            return ticket, {}
        return ticket, await self._read_model().sla_due(ticket_id)

    async def read_timeline(
        self, who: access.Principal, ticket_id: uuid.UUID
    ) -> list[HistoryEntry]:
        """Every change to the ticket, oldest first; a customer's is their public history."""
        access.require(who, Action.READ_TICKETS)
        recorded, current = await self._visible_stream(who, ticket_id)
        if who.role is access.Role.CUSTOMER:
            owned = await self._owned_by(who, current, recorded)
            return access.customer_history((r.envelope for r in recorded), owned)
        return [
            HistoryEntry(
                version=r.envelope.stream_version,
                event_type=r.envelope.event_type,
                occurred_at=r.envelope.occurred_at,
                actor=r.envelope.actor.model_dump(mode="json"),
                data=r.envelope.data,
            )
            for r in recorded
        ]

    async def _visible_stream(
        self, who: access.Principal, ticket_id: uuid.UUID
    ) -> tuple[list[RecordedEvent], Ticket]:
        recorded = await self.timeline(ticket_id)
        options, _ = await self.options()
        ticket = fold(ticket_id, recorded, options)
        if not await self._may_see(who, ticket):
            raise TicketNotFound(f"no ticket {ticket_id}")
        return recorded, ticket

    async def _owned_by(
        self, who: access.Principal, ticket: Ticket, recorded: list[RecordedEvent] | None = None
    ) -> Callable[[uuid.UUID], bool]:
        """Which of the tickets this one names in merges (now or in ``recorded``) the caller
        owns, as a lookup for the access policy."""
        named = {*ticket.merged_children, *([ticket.merged_into] if ticket.merged_into else [])}
        for r in recorded or ():
            for key in ("child_id", "parent_id"):
                value = r.envelope.data.get(key)
                if value:
                    named.add(uuid.UUID(str(value)))
        owned: set[uuid.UUID] = set()
        for other_id in named:
            try:
                if access.owns_ticket(who, await self.get_ticket(other_id)):
                    owned.add(other_id)
            except TicketNotFound:
                continue
        return owned.__contains__

    async def read_conversation(
        self, who: access.Principal, ticket_id: uuid.UUID
    ) -> list[dict[str, object]]:
        """The conversation with the messages of tickets merged into this one, oldest first:
        staff see every message, a customer the public messages of tickets they own."""
        access.require(who, Action.READ_TICKETS)
        ticket = await self.visible_ticket(who, ticket_id)
        shared = not access.owns_ticket(who, ticket)  # a coworker's, seen through the company
        read_model = self._read_model()
        rows = await read_model.conversation(
            ticket_id, include_internal=access.allowed(who, Action.WRITE_INTERNAL_NOTE)
        )
        messages = [dict(row) | {"merged_description": False} for row in rows]
        # Item 13: what each merged child asked first shows too, marked with its number.
        messages += [
            tickets.merged_description(row)
            for row in await read_model.merged_descriptions(ticket_id)
        ]
        messages.sort(key=lambda m: (m["created_at"], str(m["message_id"])))
        return [
            message
            for message in messages
            if access.may_see_message(
                who, message["visibility"], message["owner_customer_id"], message["owner_email"]
            )
            or (
                shared
                and access.may_see_shared_message(
                    message["visibility"], message["owner_customer_id"], ticket
                )
            )
        ]

    async def search(
        self, who: access.Principal, where: TicketFilter, *, company: bool = False
    ) -> tuple[list[Any], int]:
        """Ticket views and search; customers only ever find their own tickets, or with
        ``company`` their company's where it shares them."""
        access.require(who, Action.READ_TICKETS)
        by_customer = who.role is access.Role.CUSTOMER
        definitions, _ = await self.custom_fields.definitions()
        if where.custom_wanted:
            where.custom = filter_values(definitions, where.custom_wanted, by_customer=by_customer)
        if where.sort_custom is not None:
            check_sort_key(definitions, where.sort_custom, by_customer=by_customer)
        if not by_customer:
            return await self._read_model().search(where)
        where.owner = (access.subject_id(who), who.email or "")
        if company:
            where.owner_company = await self.company_scope(who)
        rows, total = await self._read_model().search(where)
        return [
            access.customer_summary(
                {**row, "custom_fields": visible_values(who, definitions, row["custom_fields"])}
            )
            for row in rows
        ], total

    async def may_download(
        self, who: access.Principal, uploaded_by: str, public_on: list[uuid.UUID]
    ) -> bool:
        """Staff get every file; a customer files they uploaded, or that are on the ticket
        itself or a public message of one of their own tickets (``public_on``)."""
        if who.role is not access.Role.CUSTOMER or uploaded_by == who.subject:
            return True
        for ticket_id in public_on:
            try:
                await self.visible_ticket(who, ticket_id)
            except TicketNotFound:
                continue
            return True
        return False

    def _read_model(self) -> TicketReadModel:
        if self._queries is None:
            raise RuntimeError("TicketApplication was built without its read model (queries)")
        return self._queries

    # --- change ----------------------------------------------------------------------------

    async def change_status(
        self,
        ticket_id: uuid.UUID,
        to_status: str,
        context: CommandContext,
        *,
        expected_version: int | None = None,
        reason: str | None = None,
    ) -> Ticket:
        return await self.update_ticket(
            ticket_id,
            TicketChanges(fields={}, status=to_status, status_reason=reason),
            context,
            expected_version=expected_version,
        )

    async def update_ticket(
        self,
        ticket_id: uuid.UUID,
        changes: TicketChanges,
        context: CommandContext,
        *,
        expected_version: int | None = None,
    ) -> Ticket:
        """Apply an edit as one append of every event it implies (or none if nothing changes).

        Without ``expected_version`` a concurrent change to the ticket is not a conflict: the
        edit is decided again on the new state (a stale version given is a 409)."""
        routing = changes.team_id is not None or changes.clear_team
        routing = routing or changes.assignee_id is not None or changes.clear_assignee
        who = access.caller_of(context)
        leads_team = False
        if routing and not access.allowed(who, Action.ROUTE_TICKET):
            # A team's lead (of any staff role) assigns within their team (item 10).
            led = await self._directory.teams_led_by(who)
            ticket = await self.get_ticket(ticket_id)
            leads_team = ticket.team_id in led and (
                changes.clear_team is False and changes.team_id in (None, ticket.team_id)
            )
        access.check_edit(who, routing=routing, leads_team=leads_team)
        return await pinned_or_retried(
            expected_version, lambda: self._update(ticket_id, changes, context, expected_version)
        )

    async def _update(
        self,
        ticket_id: uuid.UUID,
        changes: TicketChanges,
        context: CommandContext,
        expected_version: int | None,
    ) -> Ticket:
        options, _ = await self.options()
        ticket = await self.get_ticket(ticket_id)
        if expected_version is not None and expected_version != ticket.version:
            raise VersionConflict(ticket_id, expected_version, ticket.version)
        decided: list[DomainEvent] = []
        state = ticket

        def take(event: DomainEvent | None) -> None:
            nonlocal state
            if event is not None:
                decided.append(event)
                state = tickets.apply(state, ticket_id, event, self._clock(), options)

        if changes.fields:
            take(tickets.edit_fields(state, changes.fields, options))
        if changes.custom_fields:
            values = await self._checked_custom_fields(changes.custom_fields, by_customer=False)
            take(tickets.change_custom_fields(state, values))
        # A screen sends the whole form: a value the ticket already has is no change (item 14).
        if changes.priority is not None and changes.priority != state.priority:
            take(tickets.change_priority(state, changes.priority, options))
        if changes.add_tags or changes.remove_tags:
            take(tickets.change_tags(state, changes.add_tags, changes.remove_tags))
        if changes.team_id is not None or changes.clear_team:
            team_id = None if changes.clear_team else changes.team_id
            members = await self._directory.team_members(team_id) if team_id else frozenset()
            for event in tickets.change_team(state, team_id, members):
                take(event)
        if changes.assignee_id is not None or changes.clear_assignee:
            agent_id = None if changes.clear_assignee else changes.assignee_id
            await self._check_team_and_assignee(state.team_id, agent_id)
            take(tickets.assign(state, agent_id))
        if changes.status is not None and changes.status != state.status:
            take(tickets.change_status(state, changes.status, changes.status_reason, options))
        if decided:
            await self._append(ticket, decided, context)
        return state

    async def add_message(
        self, ticket_id: uuid.UUID, message: NewMessage, context: CommandContext
    ) -> tuple[Ticket, uuid.UUID, Ticket | None]:
        """Add a reply or note; returns the ticket, the message id, and the follow-up ticket
        opened instead when a customer writes to a Closed ticket (else None).

        A concurrent change to the ticket is not a conflict: the message is decided again on
        the new state (messages name no version)."""
        who = access.caller_of(context)
        access.require(who, Action.REPLY)
        if message.visibility is Visibility.INTERNAL:
            access.require(who, Action.WRITE_INTERNAL_NOTE)
        message = replace(message, by_customer=who.role is access.Role.CUSTOMER)
        await self.visible_ticket(who, ticket_id)
        return await pinned_or_retried(
            None, lambda: self._add_message(who, ticket_id, message, context)
        )

    async def _add_message(
        self,
        who: access.Principal,
        ticket_id: uuid.UUID,
        message: NewMessage,
        context: CommandContext,
    ) -> tuple[Ticket, uuid.UUID, Ticket | None]:
        options, _ = await self.options()
        ticket = await self.get_ticket(ticket_id)
        message_id = uuid.uuid4()
        if ticket.merged_into is not None and not access.owns_ticket(
            who, await self.get_ticket(ticket.merged_into)
        ):
            # Merged into another customer's ticket: their conversation is not this
            # customer's to write to (or to be answered with); treat it as closed.
            ticket = replace(ticket, merged_into=None)
        if ticket.is_closed and message.by_customer and ticket.merged_into is None:
            follow_up, _ = await self._create(
                tickets.follow_up(
                    ticket,
                    message.body_html,
                    message.channel or ticket.channel,
                    message.attachments,
                ),
                context,
            )
            return ticket, message_id, follow_up
        if ticket.merged_into is not None:
            # Messages to a merged ticket belong to its parent's conversation.
            return await self._add_message(who, ticket.merged_into, message, context)
        events = tickets.add_message(ticket, message, message_id=message_id, options=options)
        state = ticket
        for event in events:
            state = tickets.apply(state, ticket_id, event, self._clock(), options)
        await self._append(ticket, events, context)
        return state, message_id, None

    async def merge(
        self, parent_id: uuid.UUID, child_ids: list[uuid.UUID], context: CommandContext
    ) -> Ticket:
        access.require(access.caller_of(context), Action.MERGE_TICKETS)

        async def attempt() -> None:
            parent = await self.get_ticket(parent_id)
            children = [await self.get_ticket(child_id) for child_id in child_ids]
            decided = tickets.merge(parent, children)
            await self._append_many({t.id: t for t in (parent, *children)}, decided, context)

        await pinned_or_retried(None, attempt)
        return await self.get_ticket(parent_id)

    async def unmerge(
        self, parent_id: uuid.UUID, child_id: uuid.UUID, context: CommandContext
    ) -> Ticket:
        access.require(access.caller_of(context), Action.MERGE_TICKETS)

        async def attempt() -> None:
            parent, child = await self.get_ticket(parent_id), await self.get_ticket(child_id)
            decided = tickets.unmerge(parent, child)
            await self._append_many({parent.id: parent, child.id: child}, decided, context)

        await pinned_or_retried(None, attempt)
        return await self.get_ticket(child_id)

    async def escalate(
        self,
        ticket_id: uuid.UUID,
        context: CommandContext,
        *,
        expected_version: int | None = None,
        reason: str | None = None,
    ) -> Ticket:
        """Move the ticket to the team its team escalates to (the next tier), with the reason
        as an internal note; raises :class:`CommandRefused` when it has no team, or its team
        has no next tier."""
        access.require(access.caller_of(context), Action.ROUTE_TICKET)

        async def attempt() -> Ticket:
            ticket = await self.get_ticket(ticket_id)
            if expected_version is not None and expected_version != ticket.version:
                raise VersionConflict(ticket_id, expected_version, ticket.version)
            events = await self.decide_escalation(ticket, ticket.team_id)
            if reason and reason.strip():
                events.append(ticket_commands.escalation_note(reason.strip()))
            options, _ = await self.options()
            state = ticket
            for event in events:
                state = tickets.apply(state, ticket_id, event, self._clock(), options)
            await self._append(ticket, events, context)
            return state

        return await pinned_or_retried(expected_version, attempt)

    async def decide_escalation(
        self, ticket: Ticket, from_team_id: uuid.UUID | None
    ) -> list[DomainEvent]:
        next_team = await self._directory.escalates_to(from_team_id) if from_team_id else None
        members = await self._directory.team_members(next_team) if next_team else frozenset()
        return ticket_commands.escalate(
            ticket, from_team_id=from_team_id, escalates_to=next_team, next_team_members=members
        )

    # --- helpers ---------------------------------------------------------------------------

    async def _check_team_and_assignee(
        self, team_id: uuid.UUID | None, agent_id: uuid.UUID | None
    ) -> None:
        if team_id is not None and not await self._directory.team_exists(team_id):
            raise InvalidTransition(f"no team {team_id}")
        if agent_id is None:
            return
        if not await self._directory.agent_assignable(agent_id):
            raise InvalidTransition(f"agent {agent_id} does not exist or is deactivated")
        if team_id is not None and agent_id not in await self._directory.team_members(team_id):
            raise InvalidTransition(f"agent {agent_id} is not a member of team {team_id}")

    async def _append(
        self, ticket: Ticket, events: list[DomainEvent], context: CommandContext
    ) -> None:
        await self._append_many({ticket.id: ticket}, {ticket.id: events}, context)

    async def _append_many(
        self,
        current: dict[uuid.UUID, Ticket],
        decided: dict[uuid.UUID, list[DomainEvent]],
        context: CommandContext,
    ) -> None:
        now = self._clock()
        appends = [
            decided_append(
                ticket_id, TICKET_STREAM, current[ticket_id].version, events, context, now
            )
            for ticket_id, events in decided.items()
            if events
        ]
        await self._store.append(appends, traceparent=context.traceparent)
