"""The saved rule set folded from configuration events, and the teams' implied defaults."""

from __future__ import annotations

import uuid

import pytest

from assignment_service.domain.rule_set import (
    agents_outside_teams,
    check_references,
    effective_rules,
    fold_rules,
    parse_rule,
    rule_teams,
)

TEAM = uuid.uuid4()


def rule(rule_id: str, **fields: object) -> dict[str, object]:
    return {"rule_id": rule_id, "name": rule_id, "teams": [str(TEAM)], **fields}


def test_saved_rules_replace_and_delete() -> None:
    rules = fold_rules({}, "AssignmentRuleSaved", {"rule": rule("a", order=5)})
    rules = fold_rules(rules, "AssignmentRuleSaved", {"rule": rule("a", order=2)})
    assert rules["a"].order == 2
    assert fold_rules(rules, "AssignmentRuleDeleted", {"rule_id": "a"}) == {}


def test_deleting_an_unknown_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="no saved rule 'nope'"):
        fold_rules({}, "AssignmentRuleDeleted", {"rule_id": "nope"})


def test_an_invalid_rule_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="assign_condition"):
        fold_rules({}, "AssignmentRuleSaved", {"rule": rule("a", assign_condition="priority ==")})
    with pytest.raises(ValueError, match="needs agents or teams"):
        parse_rule({"rule_id": "b", "name": "b", "method": "round_robin"})


def test_unknown_event_types_leave_the_rules_alone() -> None:
    rules = fold_rules({}, "AssignmentRuleSaved", {"rule": rule("a")})
    assert fold_rules(rules, "SomethingElse", {}) == rules


def test_team_defaults_come_after_saved_rules_unless_a_saved_rule_replaces_them() -> None:
    saved = fold_rules({}, "AssignmentRuleSaved", {"rule": rule("a", order=3)})
    other = uuid.uuid4()
    rules = effective_rules(saved, [(TEAM, "L1"), (other, "L2")])
    assert [r.rule_id for r in rules] == ["a", *sorted([f"team-{TEAM}", f"team-{other}"])]

    override = rule(f"team-{TEAM}", method="load_balancing")
    saved = fold_rules(saved, "AssignmentRuleSaved", {"rule": override})
    by_id = {r.rule_id: r for r in effective_rules(saved, [(TEAM, "L1")])}
    assert by_id[f"team-{TEAM}"].method.value == "load_balancing"


def test_a_rule_naming_unknown_teams_or_agents_is_refused() -> None:
    """Security issue #11, item 9: PUT /rules accepted a team id that does not exist."""
    team, agent, stranger = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    rule = parse_rule(
        {
            "rule_id": "r",
            "name": "R",
            "teams": [str(team), str(stranger)],
            "agents": [str(agent)],
            "agent_capacity": {str(stranger): 2},
        }
    )
    with pytest.raises(ValueError, match=f"unknown teams: {stranger}; unknown agents: {stranger}"):
        check_references(rule, lambda t: t == team, lambda a: a == agent)
    check_references(rule, lambda t: True, lambda a: True)


def test_agents_outside_the_rules_teams_are_found() -> None:
    """Issue #20 item 3: a rule naming agents who are not members of its teams (given as
    ``teams`` or in its condition's ``team_id``) could never assign them."""
    l1, l2, member, outsider, loner = (uuid.uuid4() for _ in range(5))
    membership = {member: frozenset({l1}), outsider: frozenset({l2})}

    def teams_of(agent: uuid.UUID) -> frozenset[uuid.UUID]:
        return membership.get(agent, frozenset())

    agents = [str(member), str(outsider), str(loner)]
    by_teams = parse_rule({"rule_id": "a", "name": "A", "teams": [str(l1)], "agents": agents})
    assert rule_teams(by_teams) == {l1}
    assert agents_outside_teams(by_teams, teams_of) == {outsider, loner}

    condition = f'team_id in ["{l1}", "{l2}"] && priority == "Urgent"'
    by_condition = parse_rule(
        {"rule_id": "b", "name": "B", "assign_condition": condition, "agents": agents}
    )
    assert rule_teams(by_condition) == {l1, l2}
    assert agents_outside_teams(by_condition, teams_of) == {loner}

    # A condition naming an id but not reading team_id names no team: any team will do.
    by_customer = parse_rule(
        {
            "rule_id": "c",
            "name": "C",
            "assign_condition": f'customer_id == "{l1}"',
            "agents": agents,
        }
    )
    assert rule_teams(by_customer) == frozenset()
    assert agents_outside_teams(by_customer, teams_of) == {loner}
