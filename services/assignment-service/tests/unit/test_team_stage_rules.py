"""The team stage's answers to issue #20 items 2-5: unassign and close conditions, tickets
nobody can take (AssignmentBlocked with a reason), based-on-field on a custom field, and rules
on the customer's context."""

from __future__ import annotations

import uuid
from typing import Any

from assignment_service.domain.rule_set import RuleSet, fold_rules
from assignment_service.service_layer.team_stage import unassignable_slots
from helpdesk_events import StatusCategory

from .test_team_stage import (
    AGENTS,
    NOW,
    TEAM,
    Table,
    chosen,
    facts,
    member,
    staffed_table,
    team,
    ticket,
)


def rules(*raw: dict[str, Any]) -> RuleSet:
    saved: RuleSet = {}
    for rule in raw:
        saved = fold_rules(saved, "AssignmentRuleSaved", {"rule": rule})
    return saved


def test_unassign_condition_acts_when_a_rule_assigned_ticket_is_set_to_pending() -> None:
    """Issue #20 item 2: two rule-assigned tickets set to Pending stayed assigned."""
    table = staffed_table(
        rules(
            {
                "rule_id": "desk",
                "name": "Desk",
                "teams": [str(TEAM)],
                "unassign_condition": 'status == "Pending"',
            }
        )
    )
    for _ in range(2):
        assigned = facts(assignee_id=AGENTS[0], assignment_method="rule", rule_id="desk")
        assert ticket(table, assigned).commands == []
        pending = assigned.model_copy(
            update={
                "version": 2,
                "status": "Pending",
                "status_category": StatusCategory.PAUSED,
            }
        )
        (command,) = ticket(table, pending).commands
        assert command.event_type == "UnassignTicket"
        assert command.data["assignee_id"] == str(AGENTS[0])
        assert command.data["rule_id"] == "desk"
        # The ticket comes back unassigned and still Pending: it waits, nobody takes it, and
        # it is not reported as unassignable.
        released = pending.model_copy(
            update={"version": 3, "assignee_id": None, "assignment_method": None, "rule_id": None}
        )
        outcome = ticket(table, released)
        assert outcome.commands == [] and outcome.events == []
    assert table.load(AGENTS[0]) == 0


def test_close_condition_keeps_the_assignee_and_frees_the_capacity() -> None:
    """Frappe's close condition: the assignment is closed, not removed."""
    table = staffed_table(
        rules(
            {
                "rule_id": "capped",
                "name": "Capped",
                "teams": [str(TEAM)],
                "agents": [str(AGENTS[0])],
                "capacity": 1,
                "method": "load_balancing",
                "close_condition": '"closed-by-rule" in tags',
            }
        )
    )
    held = facts(assignee_id=AGENTS[0], assignment_method="rule", rule_id="capped")
    ticket(table, held)
    assert table.load(AGENTS[0]) == 1
    closed = held.model_copy(update={"version": 2, "tags": ("closed-by-rule",)})
    assert ticket(table, closed).commands == []  # no unassign: the agent keeps the ticket
    assert table.load(AGENTS[0]) == 0
    # A manual assignment is not the rule's: its close condition does not apply.
    by_hand = facts(assignee_id=AGENTS[1], assignment_method="manual", tags=("closed-by-rule",))
    ticket(table, by_hand)
    assert table.load(AGENTS[1]) == 1


def test_a_rule_naming_agents_outside_the_team_makes_the_ticket_visibly_unassignable() -> None:
    outsider = uuid.UUID(int=0x999)
    table = staffed_table(
        rules({"rule_id": "outsiders", "name": "Outsiders", "agents": [str(outsider)]})
    )
    request = facts()
    outcome = ticket(table, request)
    assert outcome.commands == []
    (event,) = outcome.events
    assert event.event_type == "AssignmentBlocked"
    assert event.stream_id == request.ticket_id
    assert event.data["reason"] == "no_candidates"
    assert event.data["rule_id"] == "outsiders"
    assert event.data["team_id"] == str(TEAM)
    assert "member of the ticket's team" in event.data["detail"]
    # Told once: a retry for the same reason says nothing new.
    again = request.model_copy(update={"version": 2, "tags": ("x",)})
    assert ticket(table, again).events == []
    (listed,) = unassignable_slots(table.data.items())
    assert listed["ticket_id"] == str(request.ticket_id)
    assert listed["reason"] == "no_candidates"
    assert listed["since"] == NOW.isoformat().replace("+00:00", "Z")


def test_nobody_available_and_a_team_the_worker_does_not_know_are_reasons_too() -> None:
    table = Table()
    (event,) = ticket(table, facts()).events  # the team was never created: no default rule
    assert event.data["reason"] == "no_rule"
    table = staffed_table()
    for agent in AGENTS:
        member(table, agent, availability="unavailable")
    (event,) = ticket(table, facts()).events
    assert event.data["reason"] == "none_available"
    # Someone comes back: the waiting ticket is assigned and leaves the list.
    member(table, AGENTS[1])
    assert unassignable_slots(table.data.items()) == []


def test_based_on_field_reads_a_custom_field_holding_an_id_or_an_email() -> None:
    table = staffed_table(
        rules(
            {
                "rule_id": "account-manager",
                "name": "Account manager",
                "method": "based_on_field",
                "assignee_field": "custom.account_manager",
            }
        )
    )
    member(table, AGENTS[2], email="siti@example.co.id")
    by_id = facts(custom_fields={"account_manager": str(AGENTS[1])})
    assert chosen(ticket(table, by_id)) == AGENTS[1]
    by_email = facts(custom_fields={"account_manager": "Siti@Example.co.id"})
    assert chosen(ticket(table, by_email)) == AGENTS[2]
    unknown = facts(custom_fields={"account_manager": "nobody@example.co.id"})
    (event,) = ticket(table, unknown).events
    assert event.data["reason"] == "field_not_an_agent"
    (event,) = ticket(table, facts()).events
    assert event.data["reason"] == "field_empty"


def test_an_enterprise_rule_reads_the_company_tier() -> None:
    """Seed 000 §2: separate rules for Enterprise customers."""
    table = staffed_table(
        rules(
            {
                "rule_id": "enterprise",
                "name": "Enterprise",
                "agents": [str(AGENTS[2])],
                "assign_condition": 'company_tier == "Enterprise"',
            }
        )
    )
    enterprise = facts(company_tier="Enterprise", customer_country="ID")
    (command,) = ticket(table, enterprise).commands
    assert command.data["rule_id"] == "enterprise"
    assert command.data["agent_id"] == str(AGENTS[2])
    (command,) = ticket(table, facts(company_tier="SMB")).commands
    assert command.data["rule_id"] == f"team-{TEAM}"


def test_a_held_ticket_neither_waits_for_members_nor_blocks_the_tickets_behind_it() -> None:
    table = staffed_table(
        rules(
            {
                "rule_id": "desk",
                "name": "Desk",
                "teams": [str(TEAM)],
                "unassign_condition": '"hold" in tags',
            }
        )
    )
    for agent in AGENTS:
        member(table, agent, availability="unavailable")
    held = facts(tags=("hold",))
    assert ticket(table, held).events == []  # held on purpose: not unassignable
    waiting = facts()
    (event,) = ticket(table, waiting).events
    assert event.data["reason"] == "none_available"
    outcome = member(table, AGENTS[0])  # someone is back: the waiting ticket is assigned
    (command,) = outcome.commands
    assert command.stream_id == waiting.ticket_id
    # Reconciliation tries the held ticket again (the rules may have changed): still held.
    reconcile = {"kind": "reconcile", "team_id": str(TEAM), "facts": held.model_dump(mode="json")}
    assert table.send(reconcile).commands == []


def test_a_ticket_escalated_to_a_team_without_members_is_told() -> None:
    """Issue #20 item 3: a ticket escalated on breach to L2 stayed unassigned, silently."""
    table = Table()
    team(table)  # known (its default rule exists) but nobody is in it
    (event,) = ticket(table, facts()).events
    assert (event.data["reason"], event.data["detail"]) == (
        "no_candidates",
        "the team has no members",
    )
