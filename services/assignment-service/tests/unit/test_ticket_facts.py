"""Folding ticket events into the facts assignment acts on."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from assignment_service.domain.ticket_facts import TicketFacts, fold_ticket, stored_needs_agent
from helpdesk_events import StatusCategory

TICKET = uuid.uuid4()
TEAM = uuid.uuid4()
AGENT = uuid.uuid4()


def fold(facts: TicketFacts | None, event_type: str, version: int, **data: Any) -> TicketFacts:
    result = fold_ticket(
        facts,
        ticket_id=TICKET,
        event_type=event_type,
        version=version,
        event_id=uuid.uuid4(),
        data=data,
    )
    assert result is not None
    return result


def created(**data: Any) -> TicketFacts:
    fields = {"status": "Open", "status_category": "new", "priority": "Medium", "channel": "email"}
    return fold(None, "TicketCreated", 1, **{**fields, **data})


def test_a_new_ticket_in_a_team_needs_an_agent() -> None:
    facts = created(team_id=str(TEAM), tags=["vpn"])
    assert facts.needs_agent
    assert facts.open_holder is None
    fields = facts.condition_fields()
    assert fields["team_id"] == str(TEAM)
    assert fields["tags"] == ["vpn"]
    assert fields["channel"] == "email"


def test_without_a_team_nobody_is_asked() -> None:
    assert not created().needs_agent


def test_assigned_at_creation_is_a_manual_assignment_that_counts_as_load() -> None:
    facts = created(team_id=str(TEAM), assignee_id=str(AGENT))
    assert not facts.needs_agent
    assert facts.assignment_method == "manual"
    assert facts.open_holder == AGENT


def test_a_rule_assignment_then_unassignment() -> None:
    facts = fold(
        created(team_id=str(TEAM)),
        "TicketAssigned",
        2,
        assignee_id=str(AGENT),
        method="rule",
        rule_id="r1",
    )
    assert (facts.assignment_method, facts.rule_id, facts.open_holder) == ("rule", "r1", AGENT)
    facts = fold(facts, "TicketUnassigned", 3, previous_assignee_id=str(AGENT))
    assert facts.needs_agent and facts.assignee_id is None and facts.rule_id is None


def test_resolved_tickets_leave_the_load_and_need_nobody() -> None:
    facts = fold(
        created(team_id=str(TEAM), assignee_id=str(AGENT)),
        "StatusChanged",
        2,
        to_status="Resolved",
        to_category="resolved",
    )
    assert facts.status_category is StatusCategory.RESOLVED
    assert facts.open_holder is None
    assert not facts.needs_agent


def test_team_priority_fields_and_tags_follow_their_events() -> None:
    other = uuid.uuid4()
    facts = fold(
        created(team_id=str(TEAM), tags=["a", "b"]),
        "TeamChanged",
        2,
        from_team_id=str(TEAM),
        to_team_id=str(other),
    )
    facts = fold(facts, "PriorityChanged", 3, from_priority="Medium", to_priority="Urgent")
    facts = fold(
        facts,
        "TicketFieldsChanged",
        4,
        changes=[{"field": "category", "old": None, "new": "Network"}],
    )
    facts = fold(facts, "TagsChanged", 5, added=["c"], removed=["a"])
    assert (facts.team_id, facts.priority, facts.category) == (other, "Urgent", "Network")
    assert facts.tags == ("b", "c")
    assert facts.version == 5


def test_a_redelivered_or_older_event_changes_nothing() -> None:
    facts = fold(created(team_id=str(TEAM)), "PriorityChanged", 2, to_priority="High")
    assert fold(facts, "PriorityChanged", 2, to_priority="Low") == facts
    assert fold(facts, "PriorityChanged", 1, to_priority="Low") == facts


def test_events_before_the_creation_is_known_are_ignored() -> None:
    result = fold_ticket(
        None,
        ticket_id=TICKET,
        event_type="PriorityChanged",
        version=3,
        event_id=uuid.uuid4(),
        data={"to_priority": "High"},
    )
    assert result is None


def test_a_merged_ticket_needs_nobody() -> None:
    facts = fold(created(team_id=str(TEAM)), "TicketMerged", 2, parent_id=str(uuid.uuid4()))
    assert not facts.needs_agent


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"team_id": None},
        {"assignee_id": uuid.uuid4()},
        {"merged": True},
        {"status_category": StatusCategory.PAUSED},
        {"status_category": StatusCategory.RESOLVED},
        {"status_category": StatusCategory.CLOSED},
        {"status_category": StatusCategory.ACTIVE},
    ],
)
def test_needs_agent_reads_the_same_from_the_stored_json(changes: dict[str, Any]) -> None:
    facts = TicketFacts(
        ticket_id=uuid.uuid4(), version=1, last_event_id=uuid.uuid4(), team_id=uuid.uuid4()
    ).model_copy(update=changes)
    assert stored_needs_agent(facts.model_dump(mode="json")) is facts.needs_agent


# --- the customer's context and custom fields (issue #20 items 4-5) --------------------------


def test_the_customer_context_and_custom_fields_come_with_the_ticket_and_follow_changes() -> None:
    from helpdesk_conditions import Condition

    facts = created(
        team_id=str(TEAM),
        company_id=str(AGENT),
        customer_context={
            "customer_tags": ["vip"],
            "customer_country": "IN",
            "company_tags": ["enterprise"],
            "company_tier": "Enterprise",
            "company_country": "ID",
        },
        custom_fields={"account_manager": "siti@example.co.id", "modules": ["payroll", "hr"]},
    )
    fields = facts.condition_fields()
    assert fields["company_tier"] == "Enterprise"
    assert fields["customer_tags"] == ["vip"]
    assert fields["custom"] == {
        "account_manager": "siti@example.co.id",
        "modules": ["payroll", "hr"],
    }
    enterprise = Condition.parse('company_tier == "Enterprise" && customer_country == "IN"')
    assert enterprise.matches(fields)
    assert Condition.parse('"payroll" in custom.modules').matches(fields)

    moved = fold(
        facts,
        "TicketCustomerContextChanged",
        2,
        company_id=None,
        customer_context={"customer_tags": [], "company_tier": None},
    )
    assert moved.company_id is None and moved.company_tier is None
    assert not enterprise.matches(moved.condition_fields())

    changed = fold(
        moved,
        "CustomFieldsChanged",
        3,
        changes=[
            {"key": "account_manager", "old": "siti@example.co.id", "new": None},
            {"key": "product", "old": None, "new": "Payroll"},
        ],
    )
    assert changed.custom_fields == {"modules": ["payroll", "hr"], "product": "Payroll"}
    # As the table stores it and reads it back: the same facts.
    assert TicketFacts.model_validate(changed.model_dump(mode="json")) == changed


def test_a_ticket_without_a_team_or_assignee_needs_routing() -> None:
    assert created().needs_team
    assert not created(team_id=str(TEAM)).needs_team
    assert not created(assignee_id=str(AGENT)).needs_team
