"""Assignment rules: validation, which rule takes a ticket, team defaults, unassign conditions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from typing import Any

import pytest
from pydantic import ValidationError

from assignment_service.domain import (
    DEFAULT_TEAM_RULE_ORDER,
    WORKWEEK,
    AssignmentMethod,
    AssignmentRule,
    Schedule,
    default_rule_for_team,
    select_rule,
    should_unassign,
)
from helpdesk_conditions import Condition

TEAM_L1, TEAM_VIP = uuid.UUID(int=0x100), uuid.UUID(int=0x200)
ALICE = uuid.UUID(int=1)
# Monday 2 March 2026, 10:00 in Jakarta (03:00 UTC).
MONDAY_MORNING = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
# Saturday 7 March 2026, 10:00 in Jakarta.
SATURDAY = datetime(2026, 3, 7, 3, 0, tzinfo=UTC)
OFFICE = Schedule(time_zone="Asia/Jakarta", days=WORKWEEK, start=time(8), end=time(17))


def rule(rule_id: str, condition: str | None = None, **kwargs: Any) -> AssignmentRule:
    data: dict[str, Any] = {"rule_id": rule_id, "name": rule_id.title(), "teams": [TEAM_L1]}
    if condition is not None:
        data["assign_condition"] = condition
    return AssignmentRule.model_validate({**data, **kwargs})


def ticket(**fields: Any) -> dict[str, Any]:
    return {"subject": "Help", "priority": "Medium", "channel": "email", "tags": (), **fields}


# --- validation ------------------------------------------------------------------------------


def test_a_rule_from_json() -> None:
    parsed = AssignmentRule.model_validate_json(
        """{
          "rule_id": "vip-high", "name": "VIP high priority", "order": 10,
          "assign_condition": "priority in [\\"High\\", \\"Urgent\\"] && \\"vip\\" in tags",
          "unassign_condition": "status_category == \\"closed\\"",
          "schedule": {"time_zone": "Asia/Jakarta", "days": ["monday", "friday"],
                       "start": "08:00", "end": "17:00"},
          "method": "load_balancing",
          "teams": ["00000000-0000-0000-0000-000000000200"],
          "capacity": 5,
          "agent_capacity": {"00000000-0000-0000-0000-000000000001": 2},
          "escalate_on_breach": true
        }"""
    )
    assert parsed.method is AssignmentMethod.LOAD_BALANCING
    assert parsed.assign_condition == Condition.parse(
        'priority in ["High", "Urgent"] && "vip" in tags'
    )
    assert parsed.capacity_for(ALICE) == 2
    assert parsed.capacity_for(uuid.UUID(int=2)) == 5
    assert parsed.escalate_on_breach
    assert AssignmentRule.model_validate_json(parsed.model_dump_json()) == parsed
    dumped = parsed.model_dump(mode="json")
    assert dumped["unassign_condition"] == 'status_category == "closed"'
    assert dumped["schedule"]["days"] == ["monday", "friday"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"assign_condition": "prority == 'High'"}, "unknown field 'prority'"),
        ({"unassign_condition": "__import__('os')"}, "unknown function '__import__'"),
        ({"assign_condition": "priority =="}, "syntax error"),
        ({"teams": []}, "needs agents or teams"),
        ({"method": "load_balancing", "teams": []}, "needs agents or teams"),
        ({"method": "based_on_field"}, "needs the assignee_field"),
        ({"assignee_field": "account_manager_id"}, "only for based_on_field"),
        ({"method": "based_on_field", "assignee_field": "Bad Field"}, "pattern"),
        ({"method": "random"}, "round_robin"),
        ({"capacity": 0}, "greater than or equal to 1"),
        ({"agent_capacity": {str(ALICE): -1}}, "cannot be negative"),
        ({"rule_id": ""}, "at least 1"),
        ({"rule_id": "has space"}, "pattern"),
        ({"rule_id": "x" * 101}, "at most 100"),
        ({"name": ""}, "at least 1"),
        ({"schedule": {"time_zone": "Nowhere/City"}}, "unknown time zone"),
        ({"colour": "red"}, "Extra inputs"),
    ],
)
def test_invalid_rules(data: dict[str, Any], message: str) -> None:
    base = {"rule_id": "r1", "name": "R1", "teams": [str(TEAM_L1)]}
    with pytest.raises(ValidationError, match=message):
        AssignmentRule.model_validate({**base, **data})


def test_based_on_field_needs_no_agents() -> None:
    by_field = rule("owner", method="based_on_field", assignee_field="account_manager_id", teams=[])
    assert by_field.assignee_field == "account_manager_id"


def test_rules_are_immutable() -> None:
    with pytest.raises(ValidationError):
        rule("r1").order = 3  # type: ignore[misc]


# --- selecting the rule ----------------------------------------------------------------------


def test_conditions_select_the_right_rule() -> None:
    rules = [
        rule("catch-all", order=100),
        rule("vpn", '"vpn" in tags || subject.lowerAscii().contains("vpn")', order=20),
        rule("urgent", 'priority in ["High", "Urgent"]', order=10),
        rule("whatsapp", 'channel == "whatsapp"', order=30),
    ]
    assert _selected(rules, ticket(priority="Urgent", tags=("vpn",))) == "urgent"
    assert _selected(rules, ticket(tags=("vpn",))) == "vpn"
    assert _selected(rules, ticket(subject="My VPN is down")) == "vpn"
    assert _selected(rules, ticket(channel="whatsapp")) == "whatsapp"
    assert _selected(rules, ticket()) == "catch-all"
    assert _selected(rules[1:], ticket()) is None
    assert _selected([], ticket()) is None


def _selected(rules: list[AssignmentRule], data: dict[str, Any]) -> str | None:
    chosen = select_rule(rules, data, MONDAY_MORNING)
    return None if chosen is None else chosen.rule_id


def test_order_ties_are_broken_by_rule_id() -> None:
    rules = [rule("b"), rule("a"), rule("c")]
    assert _selected(rules, ticket()) == "a"
    assert _selected(list(reversed(rules)), ticket()) == "a"


def test_disabled_rules_are_skipped() -> None:
    rules = [rule("off", order=1, enabled=False), rule("on", order=2)]
    assert _selected(rules, ticket()) == "on"


def test_rules_outside_their_days_and_hours_are_skipped() -> None:
    rules = [rule("office", order=1, schedule=OFFICE), rule("after-hours", order=2)]
    assert select_rule(rules, ticket(), MONDAY_MORNING).rule_id == "office"  # type: ignore[union-attr]
    assert select_rule(rules, ticket(), SATURDAY).rule_id == "after-hours"  # type: ignore[union-attr]
    evening = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)  # Monday 18:00 in Jakarta
    assert select_rule(rules, ticket(), evening).rule_id == "after-hours"  # type: ignore[union-attr]


def test_a_condition_on_a_missing_field_does_not_select() -> None:
    rules = [rule("brand", 'brand == "Lenna"', order=1), rule("rest", order=2)]
    assert _selected(rules, ticket()) == "rest"
    assert _selected(rules, ticket(brand="Lenna")) == "brand"


def test_a_condition_error_does_not_select(caplog: pytest.LogCaptureFixture) -> None:
    rules = [rule("broken", "created_hour > 8", order=1), rule("rest", order=2)]
    assert _selected(rules, ticket(created_hour="nine")) == "rest"
    assert "created_hour" in caplog.text


def test_select_rule_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        select_rule([rule("r")], ticket(), datetime(2026, 3, 2, 10))


# --- team defaults ---------------------------------------------------------------------------


def test_default_rule_for_team() -> None:
    default = default_rule_for_team(TEAM_L1, "L1 Support")
    assert default.rule_id == f"team-{TEAM_L1}"
    assert default.name == "L1 Support (team default)"
    assert default.method is AssignmentMethod.ROUND_ROBIN
    assert default.teams == {TEAM_L1}
    assert default.agents == frozenset()
    assert default.order == DEFAULT_TEAM_RULE_ORDER
    assert default.unassign_condition is None
    assert default.schedule.is_active(SATURDAY)
    assert default.applies_to(ticket(team_id=TEAM_L1), SATURDAY)
    assert default.applies_to(ticket(team_id=str(TEAM_L1)), SATURDAY)
    assert not default.applies_to(ticket(team_id=TEAM_VIP), SATURDAY)
    assert not default.applies_to(ticket(), SATURDAY)


def test_explicit_rules_come_before_team_defaults() -> None:
    rules = [
        default_rule_for_team(TEAM_L1, "L1"),
        default_rule_for_team(TEAM_VIP, "VIP"),
        rule("vip-urgent", 'priority == "Urgent"', teams=[TEAM_VIP], order=5),
    ]
    assert _selected(rules, ticket(team_id=TEAM_L1, priority="Urgent")) == "vip-urgent"
    assert _selected(rules, ticket(team_id=TEAM_L1)) == f"team-{TEAM_L1}"
    assert _selected(rules, ticket(team_id=TEAM_VIP)) == f"team-{TEAM_VIP}"
    assert _selected(rules, ticket()) is None


def test_long_team_names_are_cut() -> None:
    assert len(default_rule_for_team(TEAM_L1, "x" * 200).name) == 200


# --- unassign --------------------------------------------------------------------------------


def test_unassign_condition() -> None:
    closing = rule("r", unassign_condition='status_category in ["resolved", "closed"]')
    assert should_unassign(closing, ticket(status_category="closed"))
    assert should_unassign(closing, ticket(status_category="resolved"))
    assert not should_unassign(closing, ticket(status_category="active"))
    assert not should_unassign(closing, ticket())  # missing field: no match, no unassign
    assert not should_unassign(rule("no-unassign"), ticket(status_category="closed"))


def test_unassign_when_the_ticket_leaves_the_team() -> None:
    leaving = rule("r", unassign_condition=f'team_id != "{TEAM_L1}"')
    assert should_unassign(leaving, ticket(team_id=TEAM_VIP))
    assert not should_unassign(leaving, ticket(team_id=TEAM_L1))
