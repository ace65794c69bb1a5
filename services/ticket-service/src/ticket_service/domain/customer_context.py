"""What a ticket carries about its customer, taken from the directory (#20 item 5).

SLA and assignment conditions read a ticket's ``customer_tags``, ``customer_country``,
``company_tags``, ``company_tier`` and ``company_country`` ("separate rules for Enterprise
customers or for customers in India"). Those workers only see ticket events, so the ticket
carries a copy: filled in when it is opened (:func:`derived`) and followed afterwards with
``TicketCustomerContextChanged`` (:func:`context_change`) whenever the contact's company, tags or
country, or their company's tags, tier or country change. The copy is the whole context, not a
diff, so applying the latest one is always right. Pure functions, no I/O.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from helpdesk_events import StatusCategory
from helpdesk_events.tickets import CustomerContext, TicketCustomerContextChanged
from ticket_service.domain.customers import Company, Customer
from ticket_service.domain.ticket import NewTicket, Ticket

EMPTY = CustomerContext()


def context_of(customer: Customer | None, company: Company | None) -> CustomerContext:
    """The context of a contact and their company (either may be unknown)."""
    return CustomerContext(
        customer_tags=customer.tags if customer else (),
        customer_country=customer.country if customer else None,
        company_tags=company.tags if company else (),
        company_tier=company.tier if company else None,
        company_country=company.country if company else None,
        customer_language=customer.language if customer else None,
    )


def derived(new: NewTicket, customer: Customer | None, company: Company | None) -> NewTicket:
    """A new ticket completed from its contact's record: the company (unless one was given),
    the contact's email (so a search by email finds it) and name (the directory's, not the
    name a token or a form carried), and the context.

    ``company`` is the ticket's company: the one given, else the contact's."""
    if customer is None:
        return replace(new, customer_context=context_of(None, company))
    return replace(
        new,
        company_id=new.company_id or customer.company_id,
        requester_email=customer.email or new.requester_email,
        requester_name=customer.name,
        customer_context=context_of(customer, company),
    )


def follows_its_customer(ticket: Ticket) -> bool:
    """Closed (and merged) tickets keep the context they ended with: the record of what was."""
    return ticket.status_category is not StatusCategory.CLOSED and ticket.merged_into is None


def context_change(
    ticket: Ticket, customer: Customer, company: Company | None
) -> TicketCustomerContextChanged | None:
    """The event that brings ``ticket`` up to date with its contact ``customer`` (now at
    ``company``); None when it already is, or when it no longer follows its customer."""
    if not follows_its_customer(ticket) or ticket.customer_id != customer.id:
        return None
    context = context_of(customer, company)
    company_id: uuid.UUID | None = customer.company_id
    email = customer.email or ticket.requester_email
    current = ticket.customer_context or EMPTY
    if (company_id, email, context) == (ticket.company_id, ticket.requester_email, current):
        return None
    return TicketCustomerContextChanged(
        company_id=company_id, requester_email=email, customer_context=context
    )
