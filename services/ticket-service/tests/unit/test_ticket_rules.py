"""Ticket lifecycle rules (pure domain, no servers)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk_events import StatusChanged, TicketCreated
from ticket_service.domain import ticket as tickets
from ticket_service.domain.errors import InvalidTransition
from ticket_service.domain.ticket import DEFAULT_STATUSES, StatusCategory, Ticket

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def new_ticket() -> Ticket:
    created = tickets.create(
        subject="  VPN drops every hour ",
        description="since Monday",
        channel="email",
        priority="High",
        requester_email="sari@example.co.id",
        tags=["VPN", "network", "vpn", " "],
    )
    return tickets.apply(None, uuid.uuid4(), created, T0)


def test_create_starts_new_with_clean_subject_and_unique_lowercase_tags() -> None:
    ticket = new_ticket()
    assert (ticket.status, ticket.version, ticket.subject) == ("New", 1, "VPN drops every hour")
    assert ticket.tags == ("vpn", "network")
    assert ticket.status_category is StatusCategory.NEW


def test_create_refuses_unknown_priority_naming_the_valid_ones() -> None:
    with pytest.raises(InvalidTransition, match="Low, Medium, High, Urgent"):
        tickets.create(subject="x", description="", channel="portal", priority="Whenever")


@pytest.mark.parametrize("target", [s for s in DEFAULT_STATUSES if s != "New"])
def test_a_new_ticket_may_move_to_any_other_status(target: str) -> None:
    event = tickets.change_status(new_ticket(), target)
    assert event == StatusChanged(from_status="New", to_status=target)


def test_never_back_to_new() -> None:
    ticket = new_ticket()
    opened = tickets.apply(ticket, ticket.id, tickets.change_status(ticket, "Open"), T0)
    with pytest.raises(InvalidTransition, match="never goes back to New"):
        tickets.change_status(opened, "New")


@pytest.mark.parametrize("target", list(DEFAULT_STATUSES))
def test_closed_is_final(target: str) -> None:
    ticket = new_ticket()
    closed = tickets.apply(ticket, ticket.id, tickets.change_status(ticket, "Closed"), T0)
    with pytest.raises(InvalidTransition, match="Closed and cannot change"):
        tickets.change_status(closed, target)


def test_same_status_and_unknown_status_are_refused() -> None:
    with pytest.raises(InvalidTransition, match="already 'New'"):
        tickets.change_status(new_ticket(), "New")
    with pytest.raises(InvalidTransition, match="unknown status"):
        tickets.change_status(new_ticket(), "Teleported")


def test_solved_ticket_can_be_reopened() -> None:
    ticket = new_ticket()
    solved = tickets.apply(ticket, ticket.id, tickets.change_status(ticket, "Solved"), T0)
    assert tickets.change_status(solved, "Open").to_status == "Open"


def test_replay_folds_events_in_order_and_counts_versions() -> None:
    ticket_id = uuid.uuid4()
    created = TicketCreated(subject="s", channel="portal", status="New", priority="Low")
    history = [
        (created, T0),
        (StatusChanged(from_status="New", to_status="Open"), T0 + timedelta(minutes=5)),
        (StatusChanged(from_status="Open", to_status="Pending"), T0 + timedelta(hours=1)),
    ]
    ticket = Ticket.replay(ticket_id, history)
    assert (ticket.version, ticket.status, ticket.updated_at) == (3, "Pending", history[2][1])
    assert [s for s, _ in ticket.status_history] == ["New", "Open", "Pending"]
    assert Ticket.replay(ticket_id, history[:2]).status == "Open"


def test_replay_refuses_malformed_histories() -> None:
    ticket_id = uuid.uuid4()
    created = TicketCreated(subject="s", channel="portal", status="New", priority="Low")
    with pytest.raises(ValueError, match="no events"):
        Ticket.replay(ticket_id, [])
    with pytest.raises(ValueError, match="before TicketCreated"):
        Ticket.replay(ticket_id, [(StatusChanged(from_status="New", to_status="Open"), T0)])
    with pytest.raises(ValueError, match="created twice"):
        Ticket.replay(ticket_id, [(created, T0), (created, T0)])
