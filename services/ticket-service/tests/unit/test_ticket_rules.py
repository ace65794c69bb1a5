"""Ticket lifecycle, conversation and merge rules (pure domain, no servers)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk_events import (
    ChildTicketMerged,
    DomainEvent,
    MessageAdded,
    StatusCategory,
    StatusChanged,
    TeamChanged,
    TicketCreated,
    TicketMerged,
    TicketUnassigned,
    TicketUnmerged,
    Visibility,
)
from ticket_service.domain import ticket as tickets
from ticket_service.domain.errors import InvalidTransition
from ticket_service.domain.options import DEFAULT_STATUSES, TicketOptions, configure
from ticket_service.domain.ticket import NewMessage, NewTicket, Ticket, TicketClosed

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def new_ticket(number: int = 1042, **fields: object) -> Ticket:
    created = tickets.create(
        NewTicket(
            subject="  VPN drops every hour ",
            description="since Monday",
            channel="email",
            priority="High",
            requester_email="sari@example.co.id",
            tags=["VPN", "network", "vpn", " "],
            **fields,  # type: ignore[arg-type]
        ),
        number=number,
    )
    return tickets.apply(None, uuid.uuid4(), created, T0)


def after(ticket: Ticket, *events: DomainEvent) -> Ticket:
    for event in events:
        ticket = tickets.apply(ticket, ticket.id, event, T0 + timedelta(minutes=ticket.version))
    return ticket


def in_status(status: str) -> Ticket:
    ticket = new_ticket()
    return after(ticket, tickets.change_status(ticket, status))


def reply(
    by_customer: bool, visibility: Visibility = Visibility.PUBLIC, **kw: object
) -> NewMessage:
    return NewMessage(
        body_html="<p>Any news?</p>",
        visibility=visibility,
        by_customer=by_customer,
        **kw,  # type: ignore[arg-type]
    )


# --- creation ------------------------------------------------------------------------------------


def test_create_starts_new_with_number_clean_subject_and_unique_lowercase_tags() -> None:
    ticket = new_ticket()
    assert (ticket.status, ticket.version, ticket.number) == ("New", 1, 1042)
    assert ticket.subject == "VPN drops every hour"
    assert ticket.tags == ("vpn", "network")
    assert ticket.status_category is StatusCategory.NEW


def test_create_defaults_to_the_middle_priority() -> None:
    created = tickets.create(NewTicket(subject="x"))
    assert (created.priority, created.status, created.status_category) == (
        "Medium",
        "New",
        StatusCategory.NEW,
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"priority": "Whenever"}, "Low, Medium, High, Urgent"),
        ({"status": "Closed"}, "cannot start Closed"),
        ({"status": "Teleported"}, "unknown status"),
        ({"type": "Gossip"}, "unknown type"),
        ({"category": "Gossip"}, "unknown category"),
        ({"business_unit": "Retail"}, "unknown business unit"),
        ({"brand": "Acme"}, "needs its business unit"),
    ],
)
def test_create_refuses_values_outside_the_options(fields: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidTransition, match=message):
        tickets.create(NewTicket(subject="x", **fields))  # type: ignore[arg-type]


def test_brands_belong_to_their_business_unit() -> None:
    options = TicketOptions(business_units={"Retail": ("Acme", "Zeta")})
    created = tickets.create(
        NewTicket(subject="x", business_unit="Retail", brand="Acme"), options=options
    )
    assert (created.business_unit, created.brand) == ("Retail", "Acme")
    with pytest.raises(InvalidTransition, match="use one of Acme, Zeta"):
        tickets.create(
            NewTicket(subject="x", business_unit="Retail", brand="Omega"), options=options
        )


# --- status ------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", [s for s in DEFAULT_STATUSES if s != "New"])
def test_a_new_ticket_may_move_to_any_other_status(target: str) -> None:
    event = tickets.change_status(new_ticket(), target)
    assert (event.from_status, event.to_status, event.to_category) == (
        "New",
        target,
        DEFAULT_STATUSES[target],
    )


def test_never_back_to_new() -> None:
    with pytest.raises(InvalidTransition, match="never goes back to New"):
        tickets.change_status(in_status("Open"), "New")


@pytest.mark.parametrize("target", list(DEFAULT_STATUSES))
def test_closed_is_final(target: str) -> None:
    with pytest.raises(TicketClosed, match="Closed and cannot change"):
        tickets.change_status(in_status("Closed"), target)


def test_closed_ticket_refuses_every_edit() -> None:
    closed = in_status("Closed")
    with pytest.raises(TicketClosed):
        tickets.change_priority(closed, "Low")
    with pytest.raises(TicketClosed):
        tickets.edit_fields(closed, {"subject": "new"})
    with pytest.raises(TicketClosed):
        tickets.change_tags(closed, add=["x"])
    with pytest.raises(TicketClosed):
        tickets.assign(closed, uuid.uuid4())


def test_same_status_and_unknown_status_are_refused() -> None:
    with pytest.raises(InvalidTransition, match="already 'New'"):
        tickets.change_status(new_ticket(), "New")
    with pytest.raises(InvalidTransition, match="unknown status"):
        tickets.change_status(new_ticket(), "Teleported")


def test_solved_ticket_can_be_reopened() -> None:
    assert tickets.change_status(in_status("Solved"), "Open").to_status == "Open"


# --- edits ---------------------------------------------------------------------------------------


def test_edit_records_only_real_changes() -> None:
    ticket = new_ticket()
    assert tickets.edit_fields(ticket, {"subject": "VPN drops every hour"}) is None
    edit = tickets.edit_fields(ticket, {"subject": "VPN drops", "category": "Problem"})
    assert edit is not None
    assert [(c.field, c.old, c.new) for c in edit.changes] == [
        ("subject", "VPN drops every hour", "VPN drops"),
        ("category", None, "Problem"),
    ]
    assert after(ticket, edit).category == "Problem"
    with pytest.raises(InvalidTransition, match="subject cannot be empty"):
        tickets.edit_fields(ticket, {"subject": "  "})


def test_tags_add_and_remove_only_what_changes() -> None:
    ticket = new_ticket()
    assert tickets.change_tags(ticket, add=["VPN"], remove=["billing"]) is None
    change = tickets.change_tags(ticket, add=["Urgent-Fix", "vpn"], remove=["network"])
    assert change is not None
    assert (change.added, change.removed) == (("urgent-fix",), ("network",))
    assert after(ticket, change).tags == ("vpn", "urgent-fix")


def test_team_change_clears_an_assignee_outside_the_new_team() -> None:
    agent, other_agent = uuid.uuid4(), uuid.uuid4()
    ticket = after(new_ticket(), tickets.assign(new_ticket(), agent))  # type: ignore[arg-type]
    team = uuid.uuid4()
    kept = tickets.change_team(ticket, team, frozenset({agent}))
    assert kept == [TeamChanged(from_team_id=None, to_team_id=team)]
    cleared = tickets.change_team(ticket, team, frozenset({other_agent}))
    assert isinstance(cleared[1], TicketUnassigned)
    assert after(ticket, *cleared).assignee_id is None
    assert tickets.change_team(after(ticket, *kept), team, frozenset()) == []


def test_assign_and_unassign() -> None:
    agent = uuid.uuid4()
    ticket = new_ticket()
    assigned = tickets.assign(ticket, agent)
    assert assigned is not None
    ticket = after(ticket, assigned)
    assert ticket.assignee_id == agent
    assert tickets.assign(ticket, agent) is None
    unassigned = tickets.assign(ticket, None)
    assert isinstance(unassigned, TicketUnassigned)


# --- conversation ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["Solved", "Waiting on Customer"])
def test_customer_reply_reopens_solved_or_waiting_tickets(status: str) -> None:
    events = tickets.add_message(in_status(status), reply(True), message_id=uuid.uuid4())
    assert isinstance(events[0], MessageAdded)
    assert isinstance(events[1], StatusChanged)
    assert (events[1].to_status, events[1].reason) == ("Open", "the customer replied")


@pytest.mark.parametrize("status", ["Open", "In Progress", "Pending"])
def test_customer_reply_leaves_other_statuses_alone(status: str) -> None:
    assert len(tickets.add_message(in_status(status), reply(True), message_id=uuid.uuid4())) == 1


def test_agent_public_reply_opens_a_new_ticket_but_a_note_does_not() -> None:
    replied = tickets.add_message(new_ticket(), reply(False), message_id=uuid.uuid4())
    assert isinstance(replied[1], StatusChanged)
    assert replied[1].to_status == "Open"
    noted = tickets.add_message(
        new_ticket(), reply(False, Visibility.INTERNAL), message_id=uuid.uuid4()
    )
    assert len(noted) == 1


def test_reply_and_set_waiting_on_customer_is_one_command() -> None:
    events = tickets.add_message(
        in_status("Open"), reply(False, set_status="Waiting on Customer"), message_id=uuid.uuid4()
    )
    assert [type(e) for e in events] == [MessageAdded, StatusChanged]
    assert events[1].to_status == "Waiting on Customer"  # type: ignore[attr-defined]


def test_message_body_is_kept_as_html_and_text() -> None:
    message = NewMessage(
        body_html="<p>Tap &amp; hold <b>Reset</b></p>",
        visibility=Visibility.PUBLIC,
        by_customer=False,
    )
    added = tickets.add_message(in_status("Open"), message, message_id=uuid.uuid4())[0]
    assert isinstance(added, MessageAdded)
    assert (added.body_html, added.body_text) == (
        "<p>Tap &amp; hold <b>Reset</b></p>",
        "Tap & hold Reset",
    )


def test_message_rules() -> None:
    with pytest.raises(InvalidTransition, match="internal notes"):
        tickets.add_message(new_ticket(), reply(True, Visibility.INTERNAL), message_id=uuid.uuid4())
    with pytest.raises(InvalidTransition, match="cannot set a ticket's status"):
        tickets.add_message(new_ticket(), reply(True, set_status="Solved"), message_id=uuid.uuid4())
    with pytest.raises(TicketClosed, match="follow-up"):
        tickets.add_message(in_status("Closed"), reply(True), message_id=uuid.uuid4())
    empty = NewMessage(body_html="  ", visibility=Visibility.PUBLIC, by_customer=False)
    with pytest.raises(InvalidTransition, match="needs a body"):
        tickets.add_message(new_ticket(), empty, message_id=uuid.uuid4())


# --- merge -------------------------------------------------------------------------------------


def test_merge_closes_children_with_notes_and_links_both_ways() -> None:
    parent, child = new_ticket(1), in_status("Pending")
    decided = tickets.merge(parent, [child])
    child_events, parent_events = decided[child.id], decided[parent.id]
    assert isinstance(child_events[0], TicketMerged)
    assert child_events[0].parent_id == parent.id
    note = child_events[1]
    assert isinstance(note, MessageAdded)
    assert note.visibility is Visibility.INTERNAL
    assert note.automated
    assert "#1" in note.body_text
    assert isinstance(child_events[2], StatusChanged)
    assert child_events[2].to_status == "Closed"
    assert isinstance(parent_events[0], ChildTicketMerged)
    assert f"#{child.number}" in parent_events[-1].body_text  # type: ignore[attr-defined]
    merged_child = after(child, *child_events)
    assert (merged_child.merged_into, merged_child.is_closed) == (parent.id, True)
    assert after(parent, *parent_events).merged_children == (child.id,)


def test_merge_refusals() -> None:
    parent, child = new_ticket(1), new_ticket(2)
    with pytest.raises(InvalidTransition, match="into itself"):
        tickets.merge(parent, [parent])
    with pytest.raises(InvalidTransition, match="at least one"):
        tickets.merge(parent, [])
    with pytest.raises(InvalidTransition, match="named twice"):
        tickets.merge(parent, [child, child])
    with pytest.raises(InvalidTransition, match="Closed or merged"):
        tickets.merge(in_status("Closed"), [child])
    with pytest.raises(InvalidTransition, match="Closed or already merged"):
        tickets.merge(parent, [in_status("Closed")])
    grandparent = after(child, *tickets.merge(child, [new_ticket(3)])[child.id])
    with pytest.raises(InvalidTransition, match="unmerge them first"):
        tickets.merge(parent, [grandparent])


def test_a_merged_parent_cannot_receive_merges_no_cycles() -> None:
    a, b = new_ticket(1), new_ticket(2)
    merged_a = after(a, *tickets.merge(b, [a])[a.id])
    with pytest.raises(InvalidTransition):
        tickets.merge(merged_a, [b])


def test_unmerge_restores_the_status_before_the_merge() -> None:
    parent, child = new_ticket(1), in_status("Pending")
    decided = tickets.merge(parent, [child])
    merged_child = after(child, *decided[child.id])
    merged_parent = after(parent, *decided[parent.id])
    undone = tickets.unmerge(merged_parent, merged_child)
    assert isinstance(undone[child.id][0], TicketUnmerged)
    restored = after(merged_child, *undone[child.id])
    assert (restored.status, restored.merged_into, restored.is_closed) == ("Pending", None, False)
    assert after(merged_parent, *undone[parent.id]).merged_children == ()
    with pytest.raises(InvalidTransition, match="not merged into"):
        tickets.unmerge(merged_parent, restored)


# --- options and replay ------------------------------------------------------------------------


def test_configuration_keeps_the_statuses_the_lifecycle_needs() -> None:
    statuses = dict(DEFAULT_STATUSES)
    configured = configure(("P3", "P2", "P1"), statuses, ("Incident",), ("Problem",), {})
    assert configured.priorities == ("P3", "P2", "P1")
    del statuses["Waiting on Customer"]
    with pytest.raises(InvalidTransition, match="Waiting on Customer"):
        configure(("P1",), statuses, (), (), {})
    with pytest.raises(InvalidTransition, match="must not repeat"):
        configure(("P1", "P1"), dict(DEFAULT_STATUSES), (), (), {})
    options = TicketOptions.from_event(configured)
    assert (options.default_priority, options.priority_rank("P1")) == ("P2", 2)


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
    assert ticket.status_category is StatusCategory.PAUSED  # v1 events without a category
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
