"""The ticket use cases on the in-memory event store: the same rules as on PostgreSQL (open,
idempotent retries, optimistic edits, the conversation, what a customer sees), in milliseconds.
The PostgreSQL runs of these paths stay in ``tests/integration``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk_events import Actor, ActorKind, Visibility
from helpdesk_platform.auth import Principal, Role
from ticket_service.adapters.memory_event_store import InMemoryEventStore, InMemoryIdempotency
from ticket_service.domain.errors import TicketNotFound, VersionConflict
from ticket_service.domain.ticket import NewMessage, NewTicket
from ticket_service.service_layer.access import Forbidden
from ticket_service.service_layer.context import CommandContext
from ticket_service.service_layer.idempotency import IdempotencyKeyReused, IdempotencyRequest
from ticket_service.service_layer.tickets import TicketApplication, TicketChanges

AGENT = Principal(subject="agent-1", role=Role.AGENT, name="Rina")
BUDI = Principal(subject="budi", role=Role.CUSTOMER, name="Budi", email="budi@example.co.id")
SARI = Principal(subject="sari", role=Role.CUSTOMER, name="Sari", email="sari@example.co.id")


def context(who: Principal) -> CommandContext:
    kind = ActorKind.CUSTOMER if who.role is Role.CUSTOMER else ActorKind.AGENT
    return CommandContext(
        actor=Actor(kind=kind, id=who.subject, role=who.role.value, display_name=who.name),
        correlation_id=uuid.uuid4(),
        caller=who,
    )


@pytest.fixture
def tickets() -> TicketApplication:
    store = InMemoryEventStore()
    now = iter(datetime(2026, 12, 6, 9, tzinfo=UTC) + timedelta(minutes=m) for m in range(999))
    return TicketApplication(store, InMemoryIdempotency(store), clock=lambda: next(now))


async def test_an_agent_opens_a_numbered_ticket(tickets: TicketApplication) -> None:
    ticket, replayed = await tickets.create_ticket(
        NewTicket(subject="VPN down", requester_email="budi@example.co.id"), context(AGENT)
    )
    assert not replayed
    assert (ticket.number, ticket.version, ticket.status) == (1001, 1, "New")
    assert await tickets.get_ticket(ticket.id) == ticket
    second, _ = await tickets.create_ticket(NewTicket(subject="Printer"), context(AGENT))
    assert second.number == 1002


async def test_a_retry_with_the_same_key_returns_the_first_ticket(
    tickets: TicketApplication,
) -> None:
    request = IdempotencyRequest.of("agent-1:POST /tickets", "key-1", {"subject": "VPN"})
    first, _ = await tickets.create_ticket(NewTicket(subject="VPN"), context(AGENT), request)
    again, replayed = await tickets.create_ticket(NewTicket(subject="VPN"), context(AGENT), request)
    assert replayed and again.id == first.id
    other = IdempotencyRequest.of("agent-1:POST /tickets", "key-1", {"subject": "Other"})
    with pytest.raises(IdempotencyKeyReused):
        await tickets.create_ticket(NewTicket(subject="Other"), context(AGENT), other)


async def test_an_edit_pinned_to_a_stale_version_is_a_conflict(
    tickets: TicketApplication,
) -> None:
    ticket, _ = await tickets.create_ticket(NewTicket(subject="VPN"), context(AGENT))
    edited = await tickets.update_ticket(
        ticket.id, TicketChanges(fields={}, priority="High"), context(AGENT), expected_version=1
    )
    assert (edited.priority, edited.version) == ("High", 2)
    with pytest.raises(VersionConflict):
        await tickets.update_ticket(
            ticket.id, TicketChanges(fields={}, priority="Low"), context(AGENT), expected_version=1
        )
    unpinned = await tickets.change_status(ticket.id, "Open", context(AGENT))
    assert (unpinned.status, unpinned.priority, unpinned.version) == ("Open", "High", 3)


async def test_a_customer_sees_their_public_history_only(tickets: TicketApplication) -> None:
    ticket, _ = await tickets.create_ticket(NewTicket(subject="Login fails"), context(BUDI))
    assert ticket.requester_email == BUDI.email
    internal, public = Visibility.INTERNAL, Visibility.PUBLIC
    note = NewMessage(body_html="Known SSO issue", visibility=internal, by_customer=False)
    reply = NewMessage(body_html="<p>Try again</p>", visibility=public, by_customer=False)
    await tickets.add_message(ticket.id, note, context(AGENT))
    await tickets.add_message(ticket.id, reply, context(AGENT))

    staff = await tickets.read_timeline(AGENT, ticket.id)
    mine = await tickets.read_timeline(BUDI, ticket.id)
    assert len(mine) < len(staff)
    assert [entry.version for entry in mine] == list(range(1, len(mine) + 1))
    assert "Known SSO issue" not in str([entry.data for entry in mine])
    assert (await tickets.read_ticket(BUDI, ticket.id)).version == len(mine)

    with pytest.raises(TicketNotFound):
        await tickets.read_ticket(SARI, ticket.id)
    with pytest.raises(Forbidden):
        await tickets.add_message(
            ticket.id,
            NewMessage(body_html="psst", visibility=Visibility.INTERNAL, by_customer=True),
            context(BUDI),
        )
