"""Acceptance rules of the commands other services send (AssignTicket, UnassignTicket,
EscalateTicket): pure domain, no servers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk_events import (
    DomainEvent,
    StatusCategory,
    StatusChanged,
    TagsChanged,
    TeamChanged,
    TicketAssigned,
    TicketCreated,
    TicketMerged,
    TicketUnassigned,
)
from ticket_service.domain import ticket as tickets
from ticket_service.domain import ticket_commands
from ticket_service.domain.ticket import NewTicket, Ticket
from ticket_service.domain.ticket_commands import CommandRefused

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
L1, L2 = uuid.uuid4(), uuid.uuid4()
ANA, BUDI = uuid.uuid4(), uuid.uuid4()


def ticket(
    *events: DomainEvent, team_id: uuid.UUID | None = L1, assignee: uuid.UUID | None = None
) -> Ticket:
    created: TicketCreated = tickets.create(
        NewTicket(subject="VPN drops", team_id=team_id, assignee_id=assignee)
    )
    state = tickets.apply(None, uuid.uuid4(), created, T0)
    for n, event in enumerate(events, start=1):
        state = tickets.apply(state, state.id, event, T0 + timedelta(minutes=n))
    return state


def assign(state: Ticket, **overrides: object) -> TicketAssigned:
    arguments: dict[str, object] = {
        "agent_id": ANA,
        "team_id": L1,
        "expected_version": state.version,
        "rule_id": "l1-default",
        "agent_assignable": True,
        "team_members": frozenset({ANA, BUDI}),
    } | overrides
    return ticket_commands.rule_assign(state, **arguments)  # type: ignore[arg-type]


# --- the aggregate tracks how the assignee got the ticket ------------------------------------


def test_the_aggregate_remembers_a_rule_assignment_and_a_manual_one() -> None:
    by_rule = ticket(TicketAssigned(assignee_id=ANA, method="rule", rule_id="r1"))
    assert (by_rule.assignee_id, by_rule.assignment_method, by_rule.routing_version) == (
        ANA,
        "rule",
        2,
    )
    by_hand = ticket(TicketAssigned(assignee_id=ANA, method="manual"))
    assert by_hand.assignment_method == "manual"
    created_assigned = ticket(assignee=BUDI)
    assert created_assigned.assignment_method == "manual"
    cleared = ticket(
        TicketAssigned(assignee_id=ANA, method="rule"), TicketUnassigned(previous_assignee_id=ANA)
    )
    assert (cleared.assignee_id, cleared.assignment_method, cleared.routing_version) == (
        None,
        None,
        3,
    )
    moved = ticket(TeamChanged(from_team_id=L1, to_team_id=L2), TagsChanged(added=("vpn",)))
    assert (moved.routing_version, moved.version) == (2, 3)


# --- AssignTicket ------------------------------------------------------------------------------


def test_a_rule_assigns_an_open_unassigned_ticket_in_its_team() -> None:
    state = ticket()
    event = assign(state)
    assert (event.assignee_id, event.method, event.rule_id) == (ANA, "rule", "l1-default")


def test_events_that_do_not_touch_team_or_assignee_keep_the_choice_valid() -> None:
    seen = ticket()
    later = ticket(TagsChanged(added=("vpn",)), TagsChanged(added=("urgent",)))
    assert assign(later, expected_version=seen.version).assignee_id == ANA


def test_a_manual_assignment_is_never_overridden() -> None:
    state = ticket(TicketAssigned(assignee_id=BUDI, method="manual"))
    with pytest.raises(CommandRefused, match="already assigned by hand"):
        assign(state, expected_version=state.version)


def test_an_assigned_ticket_is_refused_even_when_a_rule_assigned_it() -> None:
    state = ticket(TicketAssigned(assignee_id=BUDI, method="rule"))
    with pytest.raises(CommandRefused, match="already assigned by a rule"):
        assign(state)


def test_a_ticket_moved_to_another_team_is_refused() -> None:
    state = ticket(TeamChanged(from_team_id=L1, to_team_id=L2))
    with pytest.raises(CommandRefused, match=r"not .* the choice was made for"):
        assign(state, expected_version=1)


def test_team_or_assignee_changed_after_the_seen_version_is_refused() -> None:
    # Assigned and unassigned by hand after the rule looked: unassigned again, same team,
    # yet someone touched the assignment since.
    state = ticket(TicketAssigned(assignee_id=BUDI), TicketUnassigned(previous_assignee_id=BUDI))
    with pytest.raises(CommandRefused, match="changed at version 3"):
        assign(state, expected_version=1)


def test_an_agent_not_in_the_team_or_deactivated_is_refused() -> None:
    state = ticket()
    with pytest.raises(CommandRefused, match="not a member of team"):
        assign(state, team_members=frozenset({BUDI}))
    with pytest.raises(CommandRefused, match="deactivated"):
        assign(state, agent_assignable=False)


def test_a_ticket_without_team_takes_any_active_agent() -> None:
    state = ticket(team_id=None)
    assert assign(state, team_id=None, team_members=frozenset()).assignee_id == ANA


@pytest.mark.parametrize(
    ("status", "category"),
    [("Resolved", StatusCategory.RESOLVED), ("Closed", StatusCategory.CLOSED)],
)
def test_resolved_or_closed_tickets_are_refused(status: str, category: StatusCategory) -> None:
    state = ticket(
        StatusChanged(
            from_status="New",
            to_status=status,
            from_category=StatusCategory.NEW,
            to_category=category,
        )
    )
    with pytest.raises(CommandRefused, match=status):
        assign(state)


def test_a_merged_ticket_is_refused() -> None:
    state = ticket(TicketMerged(parent_id=uuid.uuid4(), parent_number=1))
    with pytest.raises(CommandRefused, match="merged"):
        assign(state)


# --- UnassignTicket ----------------------------------------------------------------------------


def test_a_rule_takes_back_its_own_assignment() -> None:
    state = ticket(TicketAssigned(assignee_id=ANA, method="rule"))
    event = ticket_commands.rule_unassign(state, assignee_id=ANA, reason="priority dropped")
    assert (event.previous_assignee_id, event.reason) == (ANA, "priority dropped")


def test_a_rule_does_not_undo_a_manual_assignment() -> None:
    state = ticket(TicketAssigned(assignee_id=ANA, method="manual"))
    with pytest.raises(CommandRefused, match="by hand"):
        ticket_commands.rule_unassign(state, assignee_id=ANA, reason="x")


def test_unassigning_someone_who_no_longer_owns_the_ticket_is_refused() -> None:
    state = ticket(TicketAssigned(assignee_id=BUDI, method="rule"))
    with pytest.raises(CommandRefused, match="not assigned to"):
        ticket_commands.rule_unassign(state, assignee_id=ANA, reason="x")


# --- EscalateTicket ----------------------------------------------------------------------------


def test_escalation_moves_to_the_next_tier_and_clears_an_assignee_not_in_it() -> None:
    state = ticket(TicketAssigned(assignee_id=ANA, method="rule"))
    events = ticket_commands.escalate(
        state, from_team_id=L1, escalates_to=L2, next_team_members=frozenset({BUDI})
    )
    assert events == [
        TeamChanged(from_team_id=L1, to_team_id=L2),
        TicketUnassigned(
            previous_assignee_id=ANA, reason="the assignee is not a member of the new team"
        ),
    ]


def test_escalation_keeps_an_assignee_who_is_in_the_next_tier() -> None:
    state = ticket(TicketAssigned(assignee_id=ANA, method="rule"))
    events = ticket_commands.escalate(
        state, from_team_id=L1, escalates_to=L2, next_team_members=frozenset({ANA})
    )
    assert events == [TeamChanged(from_team_id=L1, to_team_id=L2)]


def test_escalation_is_refused_without_a_next_tier_a_team_or_from_another_team() -> None:
    with pytest.raises(CommandRefused, match="no next tier"):
        ticket_commands.escalate(
            ticket(), from_team_id=L1, escalates_to=None, next_team_members=frozenset()
        )
    with pytest.raises(CommandRefused, match="no team"):
        ticket_commands.escalate(
            ticket(team_id=None), from_team_id=L1, escalates_to=L2, next_team_members=frozenset()
        )
    moved = ticket(TeamChanged(from_team_id=L1, to_team_id=L2))
    with pytest.raises(CommandRefused, match="not"):
        ticket_commands.escalate(
            moved, from_team_id=L1, escalates_to=L2, next_team_members=frozenset()
        )


def test_a_closed_ticket_is_not_escalated() -> None:
    state = ticket(
        StatusChanged(
            from_status="New",
            to_status="Closed",
            from_category=StatusCategory.NEW,
            to_category=StatusCategory.CLOSED,
        )
    )
    with pytest.raises(CommandRefused, match="Closed"):
        ticket_commands.escalate(
            state, from_team_id=L1, escalates_to=L2, next_team_members=frozenset()
        )


# --- RouteTicket: a routing rule's team for a ticket without one (issue #20 item 1) ----------


def route(state: Ticket, **overrides: object) -> list[DomainEvent]:
    arguments: dict[str, object] = {
        "team_id": L2,
        "expected_version": state.version,
        "team_exists": True,
        "team_members": frozenset({BUDI}),
    } | overrides
    return ticket_commands.route(state, **arguments)  # type: ignore[arg-type]


def test_a_ticket_without_a_team_is_routed_to_the_rules_team() -> None:
    state = ticket(team_id=None)
    (changed,) = route(state)
    assert isinstance(changed, TeamChanged)
    assert (changed.from_team_id, changed.to_team_id) == (None, L2)


def test_routing_leaves_a_team_or_an_assignee_set_since_and_needs_the_team_to_exist() -> None:
    with pytest.raises(CommandRefused, match="already in team"):
        route(ticket())
    with pytest.raises(CommandRefused, match="already assigned"):
        route(ticket(team_id=None, assignee=ANA))
    with pytest.raises(CommandRefused, match="no team"):
        route(ticket(team_id=None), team_exists=False)
    moved_and_back = ticket(
        TeamChanged(from_team_id=None, to_team_id=L1),
        TeamChanged(from_team_id=L1, to_team_id=None),
        team_id=None,
    )
    with pytest.raises(CommandRefused, match="changed at version"):
        route(moved_and_back, expected_version=1)
    resolved = ticket(
        StatusChanged(
            from_status="Open",
            to_status="Resolved",
            from_category=StatusCategory.NEW,
            to_category=StatusCategory.RESOLVED,
        ),
        team_id=None,
    )
    with pytest.raises(CommandRefused, match="Resolved"):
        route(resolved)
