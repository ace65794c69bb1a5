"""Choosing the agent for a ticket under one rule: a pure function of the rule, ticket and pool.

:func:`choose_agent` returns a :class:`Decision`: the agent, or the reason nobody fits. It does not
change the pool; once the assignment really happens (the ticket service accepted the
``AssignTicket`` command, or the ``TicketAssigned`` event came back), the caller records it with
:func:`~assignment_service.domain.pool.record_assignment`, which moves the rule's cursor. Choosing
twice without recording therefore picks the same agent twice - retries are idempotent.

Candidates for ``round_robin`` and ``load_balancing`` are the rule's ``agents`` and the members
of its ``teams`` that the pool knows, and of those only the ones who

1. are active (not deactivated) and not Unavailable;
2. hold fewer open tickets than the rule's capacity for them (if it has one);
3. are Active - or, when no Active agent is left after 1 and 2, Away.

``round_robin`` takes the first candidate after the rule's cursor (the agent who got the rule's
last ticket) in a stable order - agent ids sorted - wrapping round to the start. Because the cursor
is an agent id, not a position, agents joining or leaving do not reshuffle the rotation: a
newcomer simply takes their place in the order. ``load_balancing`` takes the candidates with the
fewest open tickets and breaks ties the same round-robin way.

``based_on_field`` reads the agent from the ticket field ``rule.assignee_field`` - a field, or a
custom field as ``custom.<key>`` - holding the agent's id (a UUID or its text) or email. That
agent gets the ticket if the pool knows them (a member of the ticket's team), they are active and
not Unavailable (Away is accepted: the ticket names them), under the rule's capacity and - when
the rule lists agents or teams - among them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, model_validator

from assignment_service.domain.pool import AgentPool, AgentState, Availability
from assignment_service.domain.rules import AssignmentMethod, AssignmentRule
from helpdesk_events.assignment import UnassignableReason

__all__ = ["Decision", "NoAgentReason", "candidate_ids", "choose_agent", "field_value"]


#: Why a rule found nobody for a ticket: the reasons the ``AssignmentBlocked`` event carries
#: (one list, in the contract).
NoAgentReason = UnassignableReason


class Decision(BaseModel):
    """The agent a rule chose for a ticket, or why it chose nobody."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str
    method: AssignmentMethod
    agent_id: uuid.UUID | None = None
    reason: NoAgentReason | None = None
    detail: str = ""

    @model_validator(mode="after")
    def _agent_or_reason(self) -> Self:
        if (self.agent_id is None) == (self.reason is None):
            raise ValueError("a decision has either an agent or a reason, not both or neither")
        return self

    @property
    def assigned(self) -> bool:
        return self.agent_id is not None


def candidate_ids(rule: AssignmentRule, pool: AgentPool) -> frozenset[uuid.UUID]:
    """The rule's agents and the current members of its teams."""
    ids = set(rule.agents)
    for team_id in rule.teams:
        ids |= pool.members(team_id)
    return frozenset(ids)


def _next_after(ordered: list[uuid.UUID], cursor: uuid.UUID | None) -> uuid.UUID:
    """The first id after ``cursor`` in ``ordered`` (sorted), wrapping round to the start."""
    if cursor is not None:
        for agent_id in ordered:
            if agent_id > cursor:
                return agent_id
    return ordered[0]


def _under_capacity(rule: AssignmentRule, pool: AgentPool, agent_id: uuid.UUID) -> bool:
    cap = rule.capacity_for(agent_id)
    return cap is None or pool.load(agent_id) < cap


def _agent_id(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value.strip())
        except ValueError:
            return None
    return None


def field_value(ticket: Mapping[str, Any], field: str) -> Any:
    """A ticket field's value; ``custom.<key>`` reads the custom field ``key``."""
    if field.startswith("custom."):
        custom = ticket.get("custom") or {}
        return custom.get(field.removeprefix("custom.")) if isinstance(custom, Mapping) else None
    return ticket.get(field)


def _nobody(rule: AssignmentRule, reason: NoAgentReason, detail: str) -> Decision:
    return Decision(rule_id=rule.rule_id, method=rule.method, reason=reason, detail=detail)


def _chosen(rule: AssignmentRule, agent_id: uuid.UUID) -> Decision:
    return Decision(rule_id=rule.rule_id, method=rule.method, agent_id=agent_id)


def choose_agent(
    rule: AssignmentRule, ticket: Mapping[str, Any], pool: AgentPool, now: datetime
) -> Decision:
    """The agent ``rule`` gives ``ticket`` at ``now``, or why it gives nobody; see the module."""
    if not rule.enabled:
        return _nobody(rule, NoAgentReason.RULE_INACTIVE, "the rule is disabled")
    if not rule.schedule.is_active(now):
        detail = f"outside the rule's schedule ({rule.schedule})"
        return _nobody(rule, NoAgentReason.RULE_INACTIVE, detail)
    if rule.method is AssignmentMethod.BASED_ON_FIELD:
        return _based_on_field(rule, ticket, pool)

    known = [agent for i in candidate_ids(rule, pool) if (agent := pool.agent(i)) is not None]
    if not known:
        detail = "the rule's agents and teams hold no known agent"
        return _nobody(rule, NoAgentReason.NO_CANDIDATES, detail)
    available = [agent for agent in known if agent.can_take_tickets]
    if not available:
        detail = "every candidate is deactivated or unavailable"
        return _nobody(rule, NoAgentReason.NONE_AVAILABLE, detail)
    with_room = [agent for agent in available if _under_capacity(rule, pool, agent.agent_id)]
    if not with_room:
        detail = "every available candidate is at capacity"
        return _nobody(rule, NoAgentReason.AT_CAPACITY, detail)
    preferred = _preferred(with_room)
    if rule.method is AssignmentMethod.LOAD_BALANCING:
        least = min(pool.load(agent_id) for agent_id in preferred)
        preferred = [agent_id for agent_id in preferred if pool.load(agent_id) == least]
    return _chosen(rule, _next_after(preferred, pool.cursor(rule.cursor_key)))


def _preferred(agents: Iterable[AgentState]) -> list[uuid.UUID]:
    """The Active agents' ids, sorted; the Away ones' when nobody is Active."""
    agents = list(agents)
    active = [agent.agent_id for agent in agents if agent.availability is Availability.ACTIVE]
    return sorted(active or [agent.agent_id for agent in agents])


def _based_on_field(rule: AssignmentRule, ticket: Mapping[str, Any], pool: AgentPool) -> Decision:
    field = rule.assignee_field
    assert field is not None  # the rule's validator makes sure
    value = field_value(ticket, field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return _nobody(rule, NoAgentReason.FIELD_EMPTY, f"the ticket has no {field}")
    agent_id = _agent_id(value)
    if agent_id is None and isinstance(value, str) and "@" in value:
        by_email = pool.agent_by_email(value)
        agent_id = by_email.agent_id if by_email is not None else None
    agent = pool.agent(agent_id) if agent_id is not None else None
    if agent_id is None or agent is None:
        detail = f"{field} = {str(value)[:100]!r} is not a known agent"
        return _nobody(rule, NoAgentReason.FIELD_NOT_AN_AGENT, detail)
    if (rule.agents or rule.teams) and agent_id not in candidate_ids(rule, pool):
        detail = f"agent {agent_id} is not among the rule's agents and teams"
        return _nobody(rule, NoAgentReason.AGENT_NOT_ELIGIBLE, detail)
    if not agent.can_take_tickets:
        detail = f"agent {agent_id} is deactivated or unavailable"
        return _nobody(rule, NoAgentReason.NONE_AVAILABLE, detail)
    if not _under_capacity(rule, pool, agent_id):
        return _nobody(rule, NoAgentReason.AT_CAPACITY, f"agent {agent_id} is at capacity")
    return _chosen(rule, agent_id)
