"""The agent pool: pure state transitions for load, cursors and the directory."""

from __future__ import annotations

import uuid

from assignment_service.domain import (
    AgentPool,
    AgentState,
    AssignmentRule,
    Availability,
    record_assignment,
    record_release,
)

A, B = uuid.UUID(int=1), uuid.UUID(int=2)
TEAM = uuid.UUID(int=0x100)
RULE = AssignmentRule(rule_id="r1", name="R1", teams=frozenset({TEAM}))


def test_record_assignment_counts_load_and_moves_the_cursor() -> None:
    empty = AgentPool()
    after = record_assignment(empty, RULE, A)
    assert after.load(A) == 1
    assert after.cursor("r1") == A
    after = record_assignment(after, RULE, B)
    assert (after.load(A), after.load(B), after.cursor("r1")) == (1, 1, B)
    # The old pool is untouched.
    assert empty.load(A) == 0
    assert empty.cursor("r1") is None
    assert empty.open_load == {}


def test_manual_assignments_count_load_without_a_cursor() -> None:
    after = record_assignment(AgentPool(), None, A)
    assert after.load(A) == 1
    assert after.cursors == {}


def test_load_is_counted_for_agents_the_directory_has_not_announced() -> None:
    after = record_assignment(AgentPool(), None, A)
    assert after.agent(A) is None
    assert after.load(A) == 1


def test_record_release_never_goes_below_zero() -> None:
    the_pool = record_assignment(record_assignment(AgentPool(), RULE, A), RULE, A)
    the_pool = record_release(the_pool, A)
    assert the_pool.load(A) == 1
    the_pool = record_release(the_pool, A)
    assert the_pool.load(A) == 0
    the_pool = record_release(the_pool, A)
    assert the_pool.load(A) == 0
    assert record_release(AgentPool(), B).load(B) == 0
    # Releasing leaves the cursor alone.
    assert the_pool.cursor("r1") == A


def test_directory_changes() -> None:
    the_pool = AgentPool().with_agent(AgentState(agent_id=A)).with_member(TEAM, A)
    assert the_pool.members(TEAM) == {A}
    assert the_pool.agent(A) == AgentState(agent_id=A)
    assert the_pool.agent(A).can_take_tickets  # type: ignore[union-attr]

    away = the_pool.with_availability(A, Availability.AWAY)
    assert away.agent(A).availability is Availability.AWAY  # type: ignore[union-attr]
    assert away.agent(A).can_take_tickets  # type: ignore[union-attr]
    assert the_pool.agent(A).availability is Availability.ACTIVE  # type: ignore[union-attr]

    gone = the_pool.with_availability(A, Availability.UNAVAILABLE)
    assert not gone.agent(A).can_take_tickets  # type: ignore[union-attr]
    deactivated = the_pool.with_active(A, False)
    assert not deactivated.agent(A).can_take_tickets  # type: ignore[union-attr]
    assert deactivated.with_active(A, True).agent(A).can_take_tickets  # type: ignore[union-attr]

    # Availability for an agent not yet known creates them with the defaults otherwise.
    assert the_pool.with_availability(B, Availability.AWAY).agent(B) == AgentState(
        agent_id=B, availability=Availability.AWAY
    )
    two = the_pool.with_member(TEAM, B)
    assert two.members(TEAM) == {A, B}
    assert two.without_member(TEAM, A).members(TEAM) == {B}
    assert two.without_member(TEAM, uuid.UUID(int=9)).members(TEAM) == {A, B}
    assert the_pool.members(uuid.UUID(int=0x999)) == frozenset()


def test_a_pool_round_trips_through_json() -> None:
    the_pool = record_assignment(
        AgentPool().with_agent(AgentState(agent_id=A)).with_member(TEAM, A), RULE, A
    )
    assert AgentPool.model_validate_json(the_pool.model_dump_json()) == the_pool
