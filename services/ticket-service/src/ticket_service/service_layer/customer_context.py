"""Follow the directory onto open tickets: when a contact's company, tags, country or email
change, or their company's tags, tier or country, every open ticket of that contact gets a
``TicketCustomerContextChanged`` with the whole new context (#20 item 5).

Driven by the customer and company events (``helpdesk.customers.v1``, at least once). Each
appended event's id is derived from the directory event and the ticket, and the change is
decided from the contact's record as it is now, so a redelivery or a replay after a restart
appends nothing twice and a late one never brings back an older context.

Also driven by ``TicketCreated`` (``helpdesk.tickets.v1``): a ticket opened at the very instant
of a directory change read the contact's record before the change committed, but committed
itself after the follower had listed the contact's open tickets for that change - it would
keep the old context until the next change. Its ``TicketCreated`` reaches Kafka only after it
committed, so re-checking it then against the directory as it is now closes the gap exactly:
a change committed before the re-check is seen by it, one committed after lists the ticket.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace

import structlog

from helpdesk_events import Actor, ActorKind, EventEnvelope
from helpdesk_events.customers import (
    COMPANY,
    CompanyProfileChanged,
    CompanyTagsChanged,
    CustomerProfileChanged,
    CustomerTagsChanged,
)
from helpdesk_events.tickets import TicketCreated
from ticket_service.adapters.customer_context_queries import CustomerContextQueries
from ticket_service.domain.customers import Company, CompanyNotFound, Customer, CustomerNotFound
from ticket_service.domain.errors import TicketNotFound
from ticket_service.service_layer.context import CommandContext
from ticket_service.service_layer.customers import CustomerApplication
from ticket_service.service_layer.tickets import TicketApplication

log = structlog.get_logger()

ACTOR_ID = "ticket-service.customer-context"
#: Namespace of the derived event ids: uuid5(NAMESPACE, "<directory event id>/<ticket id>").
NAMESPACE = uuid.UUID("5b3f6c62-1f0e-4a8e-9d2e-6f1c0c2a7e41")

CUSTOMER_FIELDS = frozenset({"company_id", "country", "email", "language"})
COMPANY_FIELDS = frozenset({"country", "tier"})


def concerns_tickets(envelope: EventEnvelope) -> bool:
    """Whether this directory event can change what tickets carry about their customer."""
    if envelope.event_type in (CustomerTagsChanged.event_type, CompanyTagsChanged.event_type):
        return True
    if envelope.event_type == CustomerProfileChanged.event_type:
        fields = CUSTOMER_FIELDS
    elif envelope.event_type == CompanyProfileChanged.event_type:
        fields = COMPANY_FIELDS
    else:
        return False
    return any(change.get("field") in fields for change in envelope.data.get("changes", ()))


def derived_event_id(cause: uuid.UUID, ticket_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{cause}/{ticket_id}")


class CustomerContextFollower:
    def __init__(
        self,
        tickets: TicketApplication,
        customers: CustomerApplication,
        queries: CustomerContextQueries,
        catch_up: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._tickets = tickets
        self._customers = customers
        self._queries = queries
        #: Brings the read models up to date first, so tickets opened just before are found.
        self._catch_up = catch_up

    async def follow(self, envelope: EventEnvelope, traceparent: str | None = None) -> int:
        """Apply one directory event, or re-check one new ticket; returns how many tickets
        changed."""
        if envelope.event_type == TicketCreated.event_type:
            return await self._recheck(envelope, traceparent)
        if not concerns_tickets(envelope):
            return 0
        if self._catch_up is not None:
            await self._catch_up()
        if envelope.stream_type == COMPANY:
            customer_ids = await self._queries.customers_of(envelope.stream_id)
        else:
            customer_ids = [envelope.stream_id]
        changed = 0
        for customer_id in customer_ids:
            record = await self._record_of(customer_id)
            if record is None:
                continue
            for ticket_id in await self._queries.open_tickets_of(customer_id):
                changed += await self._bring_up_to_date(ticket_id, record, envelope, traceparent)
        if changed:
            log.info(
                "customer context followed",
                cause=str(envelope.event_id),
                event_type=envelope.event_type,
                tickets=changed,
            )
        return changed

    async def _recheck(self, envelope: EventEnvelope, traceparent: str | None) -> int:
        """A new ticket against its contact's record as it is now (see the module docstring)."""
        customer_id = envelope.data.get("customer_id")
        if not customer_id:
            return 0
        record = await self._record_of(uuid.UUID(str(customer_id)))
        if record is None:
            return 0
        named = envelope.data.get("company_id")
        if named and uuid.UUID(str(named)) != record[0].company_id:
            # Staff named another company for this ticket: it keeps that one (as it was opened),
            # and its context is the contact's with that company's.
            record = await self._with_company(record[0], uuid.UUID(str(named)))
        changed = await self._bring_up_to_date(envelope.stream_id, record, envelope, traceparent)
        if changed:
            log.info("new ticket's customer context caught up", ticket=str(envelope.stream_id))
        return changed

    async def _record_of(self, customer_id: uuid.UUID) -> tuple[Customer, Company | None] | None:
        """The contact and their company as the directory has them now (None: no contact)."""
        try:
            customer = await self._customers.get_customer(customer_id)
        except CustomerNotFound:
            return None
        return customer, await self._company(customer.company_id)

    async def _company(self, company_id: uuid.UUID | None) -> Company | None:
        if company_id is None:
            return None
        try:
            return await self._customers.get_company(company_id)
        except CompanyNotFound:
            return None

    async def _with_company(
        self, customer: Customer, company_id: uuid.UUID
    ) -> tuple[Customer, Company | None]:
        return replace(customer, company_id=company_id), await self._company(company_id)

    async def _bring_up_to_date(
        self,
        ticket_id: uuid.UUID,
        record: tuple[Customer, Company | None],
        cause: EventEnvelope,
        traceparent: str | None,
    ) -> int:
        context = CommandContext(
            actor=Actor(kind=ActorKind.SERVICE, id=ACTOR_ID),
            correlation_id=cause.correlation_id,
            causation_id=cause.event_id,
            traceparent=traceparent,
        )
        customer, company = record
        try:
            appended = await self._tickets.follow_customer(
                ticket_id,
                customer,
                company,
                context,
                event_id=derived_event_id(cause.event_id, ticket_id),
            )
        except TicketNotFound:  # another deployment's ticket on a shared topic
            return 0
        return int(appended)
