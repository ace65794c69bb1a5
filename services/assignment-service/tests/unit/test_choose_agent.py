"""Choosing the agent: round robin, load balancing, availability, capacity, based on a field."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, time
from typing import Any

import pytest
from pydantic import ValidationError

from assignment_service.domain import (
    WORKWEEK,
    AgentPool,
    AgentState,
    AssignmentMethod,
    AssignmentRule,
    Availability,
    Decision,
    NoAgentReason,
    Schedule,
    candidate_ids,
    choose_agent,
    default_rule_for_team,
    record_assignment,
    record_release,
)

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # Monday 10:00 in Jakarta
TEAM, OTHER_TEAM = uuid.UUID(int=0x100), uuid.UUID(int=0x200)
A, B, C, D, E = (uuid.UUID(int=i) for i in range(1, 6))
TICKET: dict[str, Any] = {"subject": "Help", "priority": "High", "team_id": TEAM}

ACTIVE, AWAY, UNAVAILABLE = Availability.ACTIVE, Availability.AWAY, Availability.UNAVAILABLE


def pool(
    *agents: AgentState, teams: dict[uuid.UUID, set[uuid.UUID]] | None = None, **load: int
) -> AgentPool:
    """A pool with ``agents``, all in TEAM unless ``teams`` says otherwise."""
    members = {TEAM: {agent.agent_id for agent in agents}} if teams is None else teams
    return AgentPool(
        agents={agent.agent_id: agent for agent in agents},
        teams={team: frozenset(ids) for team, ids in members.items()},
        open_load={_ID[name]: count for name, count in load.items()},
    )


_ID = {"A": A, "B": B, "C": C, "D": D, "E": E}


def agent(
    agent_id: uuid.UUID, availability: Availability = ACTIVE, active: bool = True
) -> AgentState:
    return AgentState(agent_id=agent_id, availability=availability, active=active)


def rule(method: str = "round_robin", **kwargs: Any) -> AssignmentRule:
    data: dict[str, Any] = {"rule_id": "r1", "name": "R1", "method": method, "teams": [TEAM]}
    return AssignmentRule.model_validate({**data, **kwargs})


def choose(
    the_rule: AssignmentRule, the_pool: AgentPool, ticket: dict[str, Any] = TICKET
) -> Decision:
    return choose_agent(the_rule, ticket, the_pool, NOW)


def run(
    the_rule: AssignmentRule, the_pool: AgentPool, tickets: int
) -> tuple[list[uuid.UUID], AgentPool]:
    """Assign ``tickets`` tickets in a row, recording each; the chosen agents and the pool."""
    chosen = []
    for _ in range(tickets):
        decision = choose(the_rule, the_pool)
        assert decision.agent_id is not None, decision
        chosen.append(decision.agent_id)
        the_pool = record_assignment(the_pool, the_rule, decision.agent_id)
    return chosen, the_pool


# --- round robin -----------------------------------------------------------------------------


def test_round_robin_takes_turns_in_agent_id_order() -> None:
    chosen, after = run(rule(), pool(agent(C), agent(A), agent(B)), 7)
    assert chosen == [A, B, C, A, B, C, A]
    assert after.cursor("r1") == A
    assert after.load(A) == 3
    assert after.load(B) == after.load(C) == 2


def test_round_robin_ignores_load() -> None:
    chosen, _ = run(rule(), pool(agent(A), agent(B), A=10), 2)
    assert chosen == [A, B]


def test_the_cursor_moves_only_on_a_real_assignment() -> None:
    the_rule, the_pool = rule(), pool(agent(A), agent(B))
    first = choose(the_rule, the_pool)
    assert choose(the_rule, the_pool) == first  # nothing recorded: the same pick again
    assert first.agent_id == A
    assert choose(the_rule, record_assignment(the_pool, the_rule, A)).agent_id == B
    # A manual assignment counts load but leaves the rule's cursor alone.
    manual = record_assignment(the_pool, None, B)
    assert manual.cursor("r1") is None
    assert manual.load(B) == 1
    assert choose(the_rule, manual).agent_id == A


def test_each_rule_has_its_own_cursor() -> None:
    first, second = rule(rule_id="first"), rule(rule_id="second")
    the_pool = record_assignment(pool(agent(A), agent(B), agent(C)), first, A)
    the_pool = record_assignment(the_pool, first, B)
    assert choose(first, the_pool).agent_id == C
    assert choose(second, the_pool).agent_id == A


def test_a_joining_agent_takes_their_place_in_the_order() -> None:
    the_rule = rule()
    chosen, the_pool = run(the_rule, pool(agent(A), agent(C), agent(E)), 2)
    assert chosen == [A, C]
    # B joins (sorts before the cursor C) and D joins (after it): the rotation goes on at D.
    the_pool = the_pool.with_agent(agent(B)).with_member(TEAM, B)
    the_pool = the_pool.with_agent(agent(D)).with_member(TEAM, D)
    more, _ = run(the_rule, the_pool, 6)
    assert more == [D, E, A, B, C, D]


def test_the_cursor_agent_leaving_does_not_reset_the_rotation() -> None:
    the_rule = rule()
    chosen, the_pool = run(the_rule, pool(agent(A), agent(B), agent(C), agent(D)), 2)
    assert chosen == [A, B]
    # B (the cursor) leaves the team: the next is still C, not A.
    more, _ = run(the_rule, the_pool.without_member(TEAM, B), 4)
    assert more == [C, D, A, C]


def test_the_last_agent_in_the_order_leaving_wraps_round() -> None:
    the_rule = rule()
    chosen, the_pool = run(the_rule, pool(agent(A), agent(B), agent(C)), 3)
    assert chosen == [A, B, C]
    more, _ = run(the_rule, the_pool.without_member(TEAM, C), 3)
    assert more == [A, B, A]


def test_round_robin_over_listed_agents_and_several_teams() -> None:
    the_pool = pool(
        agent(A), agent(B), agent(C), agent(D), teams={TEAM: {A, B}, OTHER_TEAM: {B, C}}
    )
    the_rule = rule(teams=[TEAM, OTHER_TEAM], agents=[D])
    assert candidate_ids(the_rule, the_pool) == {A, B, C, D}
    chosen, _ = run(the_rule, the_pool, 5)
    assert chosen == [A, B, C, D, A]


def test_default_team_rule_rotates_over_the_team() -> None:
    the_rule = default_rule_for_team(TEAM, "L1")
    the_pool = pool(agent(A), agent(B), agent(C), teams={TEAM: {A, B}, OTHER_TEAM: {C}})
    chosen, _ = run(the_rule, the_pool, 4)
    assert chosen == [A, B, A, B]


# --- load balancing --------------------------------------------------------------------------


def test_load_balancing_picks_the_least_loaded() -> None:
    the_pool = pool(agent(A), agent(B), agent(C), A=4, B=1, C=3)
    assert choose(rule("load_balancing"), the_pool).agent_id == B


def test_load_balancing_fills_up_the_least_loaded_then_rotates() -> None:
    chosen, after = run(rule("load_balancing"), pool(agent(A), agent(B), agent(C), A=3, B=1), 6)
    # C (0) first; then B and C tie at 1 and take turns (after the cursor C comes B), and so
    # on until everyone holds 3 and A, first in the order after the cursor C, is next.
    assert chosen == [C, B, C, B, C, A]
    assert [after.load(x) for x in (A, B, C)] == [4, 3, 3]


def test_load_balancing_ties_rotate_stably() -> None:
    chosen, _ = run(rule("load_balancing"), pool(agent(A), agent(B), agent(C)), 6)
    assert chosen == [A, B, C, A, B, C]


def test_released_tickets_make_an_agent_least_loaded_again() -> None:
    the_rule = rule("load_balancing")
    _, the_pool = run(the_rule, pool(agent(A), agent(B), agent(C)), 6)
    the_pool = record_release(record_release(the_pool, B), B)
    assert the_pool.load(B) == 0
    assert choose(the_rule, the_pool).agent_id == B


def test_load_is_counted_across_rules_and_teams() -> None:
    the_pool = pool(agent(A), agent(B), teams={TEAM: {A, B}, OTHER_TEAM: {A}})
    other = rule("load_balancing", rule_id="other", teams=[OTHER_TEAM])
    the_pool = record_assignment(the_pool, other, A)
    assert choose(rule("load_balancing"), the_pool).agent_id == B


# --- availability and deactivation -----------------------------------------------------------


@pytest.mark.parametrize("method", ["round_robin", "load_balancing"])
def test_away_agents_only_when_nobody_is_active(method: str) -> None:
    the_rule = rule(method)
    mixed = pool(agent(A, AWAY), agent(B), agent(C, AWAY), agent(D), B=5, D=5)
    chosen, _ = run(the_rule, mixed, 4)
    assert set(chosen) == {B, D}
    away_only = pool(agent(A, AWAY), agent(B, UNAVAILABLE), agent(C, AWAY))
    chosen, _ = run(the_rule, away_only, 4)
    assert chosen == [A, C, A, C]


@pytest.mark.parametrize("method", ["round_robin", "load_balancing"])
def test_never_unavailable_or_deactivated(method: str) -> None:
    the_pool = pool(agent(A, UNAVAILABLE), agent(B, active=False), agent(C), agent(D, AWAY, False))
    chosen, _ = run(rule(method), the_pool, 5)
    assert chosen == [C] * 5


@pytest.mark.parametrize("method", ["round_robin", "load_balancing"])
def test_nobody_available(method: str) -> None:
    the_pool = pool(agent(A, UNAVAILABLE), agent(B, active=False))
    decision = choose(rule(method), the_pool)
    assert not decision.assigned
    assert decision.agent_id is None
    assert decision.reason is NoAgentReason.NONE_AVAILABLE


def test_availability_changes_take_effect() -> None:
    the_rule, the_pool = rule(), pool(agent(A), agent(B))
    the_pool = the_pool.with_availability(A, UNAVAILABLE)
    assert choose(the_rule, the_pool).agent_id == B
    the_pool = the_pool.with_active(B, False)
    assert choose(the_rule, the_pool).reason is NoAgentReason.NONE_AVAILABLE
    the_pool = the_pool.with_availability(A, AWAY)
    assert choose(the_rule, the_pool).agent_id == A
    the_pool = the_pool.with_active(B, True)
    assert choose(the_rule, the_pool).agent_id == B  # Active again beats Away


def test_no_candidates() -> None:
    assert choose(rule(), AgentPool()).reason is NoAgentReason.NO_CANDIDATES
    # Members the directory has not told us about yet are not candidates.
    unknown = AgentPool(teams={TEAM: frozenset({A})})
    assert choose(rule(), unknown).reason is NoAgentReason.NO_CANDIDATES
    assert choose(rule(teams=[OTHER_TEAM]), pool(agent(A))).reason is NoAgentReason.NO_CANDIDATES


# --- capacity --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["round_robin", "load_balancing"])
def test_capacity_caps_are_respected(method: str) -> None:
    the_rule = rule(method, capacity=2)
    chosen, the_pool = run(the_rule, pool(agent(A), agent(B)), 4)
    assert Counter(chosen) == {A: 2, B: 2}
    full = choose(the_rule, the_pool)
    assert full.reason is NoAgentReason.AT_CAPACITY
    assert "capacity" in full.detail
    # A release makes room again.
    assert choose(the_rule, record_release(the_pool, B)).agent_id == B


def test_per_agent_capacity_overrides_the_rule() -> None:
    the_rule = rule(capacity=3, agent_capacity={str(A): 1, str(C): 0})
    chosen, _ = run(the_rule, pool(agent(A), agent(B), agent(C)), 4)
    assert Counter(chosen) == {A: 1, B: 3}


def test_an_away_agent_with_room_beats_active_agents_at_capacity() -> None:
    the_pool = pool(agent(A), agent(B, AWAY), A=2)
    assert choose(rule(capacity=2), the_pool).agent_id == B


def test_capacity_counts_load_from_other_rules() -> None:
    assert choose(rule(capacity=1), pool(agent(A), agent(B), A=1)).agent_id == B


# --- based on a field ------------------------------------------------------------------------


def by_field(**kwargs: Any) -> AssignmentRule:
    defaults: dict[str, Any] = {"assignee_field": "account_manager_id", "teams": []}
    return rule("based_on_field", **{**defaults, **kwargs})


@pytest.mark.parametrize("value", [B, str(B), f"  {B}  ", str(B).upper()])
def test_based_on_field_assigns_the_named_agent(value: object) -> None:
    decision = choose(by_field(), pool(agent(A), agent(B)), {**TICKET, "account_manager_id": value})
    assert decision.agent_id == B
    assert decision.method is AssignmentMethod.BASED_ON_FIELD


def test_based_on_field_does_not_rotate() -> None:
    the_rule, the_pool = by_field(), pool(agent(A), agent(B))
    ticket = {**TICKET, "account_manager_id": A}
    chosen = []
    for _ in range(3):
        decision = choose(the_rule, the_pool, ticket)
        assert decision.agent_id is not None
        chosen.append(decision.agent_id)
        the_pool = record_assignment(the_pool, the_rule, decision.agent_id)
    assert chosen == [A, A, A]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, NoAgentReason.FIELD_EMPTY),
        ("", NoAgentReason.FIELD_EMPTY),
        ("   ", NoAgentReason.FIELD_EMPTY),
        ("alice@example.com", NoAgentReason.FIELD_NOT_AN_AGENT),
        (42, NoAgentReason.FIELD_NOT_AN_AGENT),
        (["not", "an", "id"], NoAgentReason.FIELD_NOT_AN_AGENT),
        (E, NoAgentReason.FIELD_NOT_AN_AGENT),  # a UUID the pool does not know
        (C, NoAgentReason.NONE_AVAILABLE),  # unavailable
        (D, NoAgentReason.NONE_AVAILABLE),  # deactivated
    ],
)
def test_based_on_field_when_nobody_fits(value: object, reason: NoAgentReason) -> None:
    the_pool = pool(agent(A), agent(B), agent(C, UNAVAILABLE), agent(D, active=False))
    decision = choose(by_field(), the_pool, {**TICKET, "account_manager_id": value})
    assert decision.reason is reason
    assert decision.detail


def test_based_on_field_missing_field() -> None:
    decision = choose(by_field(), pool(agent(A)), TICKET)
    assert decision.reason is NoAgentReason.FIELD_EMPTY
    assert "account_manager_id" in decision.detail


def test_based_on_field_accepts_away_agents() -> None:
    decision = choose(by_field(), pool(agent(A, AWAY)), {**TICKET, "account_manager_id": A})
    assert decision.agent_id == A


def test_based_on_field_restricted_to_the_rule_agents_and_teams() -> None:
    the_pool = pool(agent(A), agent(B), agent(C), teams={TEAM: {A}})
    the_rule = by_field(teams=[TEAM], agents=[B])
    for allowed in (A, B):
        assert choose(the_rule, the_pool, {"account_manager_id": allowed}).agent_id == allowed
    outside = choose(the_rule, the_pool, {"account_manager_id": C})
    assert outside.reason is NoAgentReason.AGENT_NOT_ELIGIBLE


def test_based_on_field_capacity() -> None:
    the_pool = pool(agent(A), A=3)
    decision = choose(by_field(capacity=3), the_pool, {"account_manager_id": A})
    assert decision.reason is NoAgentReason.AT_CAPACITY
    assert choose(by_field(capacity=4), the_pool, {"account_manager_id": A}).agent_id == A


def test_based_on_field_reads_an_existing_ticket_field() -> None:
    # The assignee field may be any ticket field, e.g. the current assignee when reassigning.
    the_rule = by_field(assignee_field="assignee_id")
    assert choose(the_rule, pool(agent(A)), {"assignee_id": str(A)}).agent_id == A


# --- schedule and enabled --------------------------------------------------------------------


def test_a_rule_outside_its_schedule_chooses_nobody() -> None:
    office = Schedule(time_zone="Asia/Jakarta", days=WORKWEEK, start=time(8), end=time(17))
    the_rule, the_pool = rule(schedule=office), pool(agent(A))
    assert choose(the_rule, the_pool).agent_id == A
    saturday = datetime(2026, 3, 7, 3, 0, tzinfo=UTC)
    decision = choose_agent(the_rule, TICKET, the_pool, saturday)
    assert decision.reason is NoAgentReason.RULE_INACTIVE
    assert "Asia/Jakarta" in decision.detail


def test_a_disabled_rule_chooses_nobody() -> None:
    decision = choose(rule(enabled=False), pool(agent(A)))
    assert decision.reason is NoAgentReason.RULE_INACTIVE
    assert decision.detail == "the rule is disabled"


# --- the decision ----------------------------------------------------------------------------


def test_a_decision_has_an_agent_or_a_reason() -> None:
    with pytest.raises(ValidationError, match="either an agent or a reason"):
        Decision(rule_id="r", method=AssignmentMethod.ROUND_ROBIN)
    with pytest.raises(ValidationError, match="either an agent or a reason"):
        Decision(
            rule_id="r",
            method=AssignmentMethod.ROUND_ROBIN,
            agent_id=A,
            reason=NoAgentReason.AT_CAPACITY,
        )
    decision = choose(rule(), pool(agent(A)))
    assert decision.rule_id == "r1"
    assert decision.assigned
    assert Decision.model_validate_json(decision.model_dump_json()) == decision
