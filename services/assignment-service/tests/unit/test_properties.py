"""Properties of choosing over random pools: fairness, load, availability, cursor stability."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from assignment_service.domain import (
    AgentPool,
    AgentState,
    AssignmentRule,
    Availability,
    Decision,
    NoAgentReason,
    choose_agent,
    record_assignment,
    record_release,
)

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
TEAM = uuid.UUID(int=0x100)
TICKET = {"team_id": TEAM}

agent_ids = st.lists(st.uuids(), min_size=1, max_size=12, unique=True)


def make_rule(method: str, capacity: int | None = None) -> AssignmentRule:
    return AssignmentRule(
        rule_id="r", name="R", method=method, teams=frozenset({TEAM}), capacity=capacity
    )


def team_pool(agents: list[AgentState], load: dict[uuid.UUID, int] | None = None) -> AgentPool:
    return AgentPool(
        agents={agent.agent_id: agent for agent in agents},
        teams={TEAM: frozenset(agent.agent_id for agent in agents)},
        open_load=load or {},
    )


def assign_all(
    rule: AssignmentRule, pool: AgentPool, tickets: int
) -> tuple[list[Decision], AgentPool]:
    decisions = []
    for _ in range(tickets):
        decision = choose_agent(rule, TICKET, pool, NOW)
        decisions.append(decision)
        if decision.agent_id is not None:
            pool = record_assignment(pool, rule, decision.agent_id)
    return decisions, pool


@given(ids=agent_ids, tickets=st.integers(0, 100))
@settings(max_examples=200, deadline=None)
def test_round_robin_is_fair(ids: list[uuid.UUID], tickets: int) -> None:
    """N tickets over k agents: everyone gets N // k or N // k + 1, in agent-id order."""
    decisions, pool = assign_all(
        make_rule("round_robin"), team_pool([AgentState(agent_id=i) for i in ids]), tickets
    )
    counts = Counter(d.agent_id for d in decisions)
    assert all(d.assigned for d in decisions)
    got = [counts.get(i, 0) for i in ids]
    assert max(got) - min(got) <= 1
    assert sum(got) == tickets
    order = sorted(ids)
    assert [d.agent_id for d in decisions] == [order[n % len(order)] for n in range(tickets)]
    assert all(pool.load(i) == counts.get(i, 0) for i in ids)


@given(
    ids=agent_ids,
    initial=st.lists(st.integers(0, 20), min_size=12, max_size=12),
    tickets=st.integers(1, 60),
)
@settings(max_examples=200, deadline=None)
def test_load_balancing_always_picks_a_least_loaded_agent(
    ids: list[uuid.UUID], initial: list[int], tickets: int
) -> None:
    rule = make_rule("load_balancing")
    pool = team_pool([AgentState(agent_id=i) for i in ids], dict(zip(ids, initial, strict=False)))
    for _ in range(tickets):
        decision = choose_agent(rule, TICKET, pool, NOW)
        assert decision.agent_id is not None
        assert pool.load(decision.agent_id) == min(pool.load(i) for i in ids)
        pool = record_assignment(pool, rule, decision.agent_id)
    # Starting level, the spread never exceeds one.
    loads = [pool.load(i) for i in ids]
    if len(set(initial[: len(ids)])) == 1:
        assert max(loads) - min(loads) <= 1


availabilities = st.sampled_from(list(Availability))


@given(
    agents=st.lists(
        st.builds(
            AgentState, agent_id=st.uuids(), availability=availabilities, active=st.booleans()
        ),
        min_size=0,
        max_size=10,
        unique_by=lambda agent: agent.agent_id,
    ),
    method=st.sampled_from(["round_robin", "load_balancing"]),
    capacity=st.none() | st.integers(1, 4),
    steps=st.lists(st.booleans(), max_size=40),
)
@settings(max_examples=300, deadline=None)
def test_choices_respect_availability_and_capacity(
    agents: list[AgentState], method: str, capacity: int | None, steps: list[bool]
) -> None:
    """Never unavailable or deactivated, Away only when no Active can take it, never over cap."""
    rule = make_rule(method, capacity)
    pool = team_pool(agents)
    for assign in steps:
        decision = choose_agent(rule, TICKET, pool, NOW)
        fits = [
            a
            for a in agents
            if a.can_take_tickets and (capacity is None or pool.load(a.agent_id) < capacity)
        ]
        if not fits:
            assert decision.reason in {
                NoAgentReason.NO_CANDIDATES,
                NoAgentReason.NONE_AVAILABLE,
                NoAgentReason.AT_CAPACITY,
            }
            released = [a.agent_id for a in agents if pool.load(a.agent_id)]
            if released:
                pool = record_release(pool, released[0])
            continue
        assert decision.agent_id in {a.agent_id for a in fits}
        chosen = pool.agent(decision.agent_id)
        assert chosen is not None
        if any(a.availability is Availability.ACTIVE for a in fits):
            assert chosen.availability is Availability.ACTIVE
        if assign:
            pool = record_assignment(pool, rule, decision.agent_id)
        else:
            victim = max(agents, key=lambda a: pool.load(a.agent_id)).agent_id
            pool = record_release(pool, victim)
        assert all(pool.load(a.agent_id) >= 0 for a in agents)
        if capacity is not None:
            assert all(pool.load(a.agent_id) <= capacity for a in agents)


@given(
    ids=st.lists(st.uuids(), min_size=2, max_size=10, unique=True),
    before=st.integers(0, 20),
    changes=st.lists(st.tuples(st.booleans(), st.uuids()), max_size=6),
)
@settings(max_examples=200, deadline=None)
def test_joins_and_leaves_keep_the_rotation(
    ids: list[uuid.UUID], before: int, changes: list[tuple[bool, uuid.UUID]]
) -> None:
    """After agents join or leave, the next pick is the first remaining id after the cursor."""
    rule = make_rule("round_robin")
    _, pool = assign_all(rule, team_pool([AgentState(agent_id=i) for i in ids]), before)
    members = set(ids)
    for joins, someone in changes:
        if joins:
            pool = pool.with_agent(AgentState(agent_id=someone)).with_member(TEAM, someone)
            members.add(someone)
        elif len(members) > 1:
            leaving = sorted(members)[someone.int % len(members)]
            pool = pool.without_member(TEAM, leaving)
            members.discard(leaving)
    decision = choose_agent(rule, TICKET, pool, NOW)
    cursor = pool.cursor("r")
    order = sorted(members)
    after = [i for i in order if cursor is not None and i > cursor]
    assert decision.agent_id == (after[0] if after else order[0])
