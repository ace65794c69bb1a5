"""The customer context a ticket carries (#20 item 5): derived from the directory when the
ticket is opened, followed afterwards; pure rules, no servers."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from helpdesk_events import Actor, ActorKind, EventEnvelope
from helpdesk_events.tickets import CustomerContext, TicketCustomerContextChanged
from ticket_service.domain import customer_context
from ticket_service.domain import ticket as tickets
from ticket_service.domain.customers import (
    Company,
    Customer,
    InvalidCustomerData,
    apply_company,
    apply_customer,
    change_company_profile,
    change_company_tags,
    change_customer_profile,
    register_company,
    register_customer,
)
from ticket_service.domain.ticket import NewTicket, Ticket
from ticket_service.service_layer import customer_context as customer_context_service
from ticket_service.service_layer.context import CommandContext, envelope_for

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
NOW_ID = uuid.UUID(int=1)


def company(**fields: Any) -> Company:
    event = register_company(name="PT Maju", **fields)
    return apply_company(None, uuid.uuid4(), event, NOW)


def customer(company_id: uuid.UUID | None = None, **fields: Any) -> Customer:
    event = register_customer(
        name="Budi Santoso", email="Budi@Example.co.id", company_id=company_id, **fields
    )
    return apply_customer(None, uuid.uuid4(), event, NOW)


def test_a_new_ticket_takes_company_email_name_and_context_from_the_directory() -> None:
    maju = company(tier="Enterprise", country="in", tags=["Key Account"])
    budi = customer(maju.id, tags=["vip"], country="ID")
    new = NewTicket(subject="VPN down", customer_id=budi.id, requester_name="Dev Customer")
    derived = customer_context.derived(new, budi, maju)
    assert derived.company_id == maju.id
    assert derived.requester_email == "budi@example.co.id"
    assert derived.requester_name == "Budi Santoso"  # the contact's, not the token's (item 16)
    assert derived.customer_context == CustomerContext(
        customer_tags=("vip",),
        customer_country="ID",
        company_tags=("key account",),
        company_tier="Enterprise",
        company_country="IN",
    )
    created = tickets.create(derived)
    assert created.customer_context == derived.customer_context
    assert created.company_id == maju.id


def test_a_company_given_by_staff_is_kept() -> None:
    mine, other = company(tier="SMB"), company(tier="Enterprise")
    budi = customer(mine.id)
    derived = customer_context.derived(
        NewTicket(subject="x", customer_id=budi.id, company_id=other.id), budi, other
    )
    assert derived.company_id == other.id
    assert derived.customer_context is not None
    assert derived.customer_context.company_tier == "Enterprise"


def test_countries_are_iso_alpha_2() -> None:
    assert company(country=" sg ").country == "SG"
    with pytest.raises(InvalidCustomerData, match="ISO 3166-1 alpha-2"):
        company(country="Indonesia")
    with pytest.raises(InvalidCustomerData, match="ISO 3166-1 alpha-2"):
        customer(country="XX")
    budi = customer()
    with pytest.raises(InvalidCustomerData, match="country"):
        change_customer_profile(budi, {"country": "ZZ"})


def test_a_contacts_language_is_iso_639_1_and_followed_onto_tickets() -> None:
    """Routing to a team that speaks the contact's language (#20 item 11) reads it from the
    ticket's context; a change of it is followed like the country."""
    maju = company()
    budi = customer(maju.id, language=" ID ")
    assert budi.language == "id"
    with pytest.raises(InvalidCustomerData, match="ISO 639-1"):
        customer(language="Bahasa")
    ticket = ticket_of(budi, maju)
    assert ticket.customer_context is not None
    assert ticket.customer_context.customer_language == "id"
    changed = change_customer_profile(budi, {"language": "en"})
    assert changed is not None
    assert customer_context_service.concerns_tickets(envelope_of(changed, budi.id))
    budi = apply_customer(budi, budi.id, changed, NOW)
    event = customer_context.context_change(ticket, budi, maju)
    assert event is not None and event.customer_context.customer_language == "en"


def envelope_of(event: Any, stream_id: uuid.UUID) -> EventEnvelope:
    context = CommandContext(actor=Actor(kind=ActorKind.AGENT, id="agent"), correlation_id=NOW_ID)
    return envelope_for(
        event, stream_id=stream_id, stream_version=2, context=context, occurred_at=NOW
    )


def ticket_of(budi: Customer, maju: Company) -> Ticket:
    created = tickets.create(
        customer_context.derived(NewTicket(subject="x", customer_id=budi.id), budi, maju)
    )
    return tickets.apply(None, uuid.uuid4(), created, NOW)


def test_a_change_of_the_company_tier_is_followed_onto_open_tickets() -> None:
    maju = company(tier="SMB")
    budi = customer(maju.id)
    ticket = ticket_of(budi, maju)
    assert customer_context.context_change(ticket, budi, maju) is None  # up to date
    changed = change_company_profile(maju, {"tier": "Enterprise"})
    assert changed is not None
    maju = apply_company(maju, maju.id, changed, NOW)
    event = customer_context.context_change(ticket, budi, maju)
    assert isinstance(event, TicketCustomerContextChanged)
    assert event.customer_context.company_tier == "Enterprise"
    followed = tickets.apply(ticket, ticket.id, event, NOW)
    assert followed.customer_context == event.customer_context
    assert customer_context.context_change(followed, budi, maju) is None  # idempotent


def test_company_tags_and_a_move_to_another_company() -> None:
    maju, jaya = company(), company(tags=["enterprise"])
    budi = customer(maju.id)
    ticket = ticket_of(budi, maju)
    tags = change_company_tags(maju, ["Priority"])
    assert tags is not None and tags.added == ("priority",)
    assert change_company_tags(apply_company(maju, maju.id, tags, NOW), ["priority"]) is None
    moved = change_customer_profile(budi, {"company_id": jaya.id})
    assert moved is not None
    budi = apply_customer(budi, budi.id, moved, NOW)
    event = customer_context.context_change(ticket, budi, jaya)
    assert event is not None and event.company_id == jaya.id
    assert event.customer_context.company_tags == ("enterprise",)


def test_closed_tickets_keep_the_context_they_ended_with() -> None:
    maju = company(tier="SMB")
    budi = customer(maju.id)
    closed = replace(
        ticket_of(budi, maju), status="Closed", status_category=tickets.StatusCategory.CLOSED
    )
    enterprise = replace(maju, tier="Enterprise")
    assert customer_context.context_change(closed, budi, enterprise) is None
