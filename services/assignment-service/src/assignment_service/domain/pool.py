"""The agent pool: who can take tickets, who is in which team, open load and round-robin cursors.

An :class:`AgentPool` is plain, immutable data: every change returns a new pool. The service
builds it from the directory events (agents, availability, team membership) and keeps the load
and cursors up to date with :func:`record_assignment` and :func:`record_release` as it sees
tickets assigned, released, resolved or reassigned.

* ``agents`` - what the directory says about each agent (:class:`AgentState`).
* ``teams`` - the members of each team. A member not (yet) in ``agents`` is never a candidate.
* ``open_load`` - per agent id, the tickets assigned to them that are in an active status (new or
  active). It is kept apart from ``agents`` because ticket and directory events arrive on
  different topics in no guaranteed order: load may be counted for an agent the pool does not
  know yet.
* ``cursors`` - per cursor key (a rule's id), the agent who got that rule's last ticket. The next
  round-robin pick is the first candidate *after* that agent id in a stable order (agent ids
  sorted), so agents joining or leaving never reshuffle the rotation.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from helpdesk_events.directory import Availability

if TYPE_CHECKING:
    from assignment_service.domain.rules import AssignmentRule

__all__ = ["AgentPool", "AgentState", "Availability", "record_assignment", "record_release"]


class AgentState(BaseModel):
    """One agent as the assignment service sees them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent_id: uuid.UUID
    availability: Availability = Availability.ACTIVE
    #: False once the agent is deactivated: they get no tickets at all.
    active: bool = True
    #: Lower-case, as invited: based_on_field may name the agent by email.
    email: str | None = None

    @property
    def can_take_tickets(self) -> bool:
        return self.active and self.availability is not Availability.UNAVAILABLE


class AgentPool(BaseModel):
    """Immutable state of agents, teams, load and cursors; see the module documentation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agents: Mapping[uuid.UUID, AgentState] = Field(default_factory=dict)
    teams: Mapping[uuid.UUID, frozenset[uuid.UUID]] = Field(default_factory=dict)
    open_load: Mapping[uuid.UUID, int] = Field(default_factory=dict)
    cursors: Mapping[str, uuid.UUID] = Field(default_factory=dict)

    def agent(self, agent_id: uuid.UUID) -> AgentState | None:
        return self.agents.get(agent_id)

    def agent_by_email(self, email: str) -> AgentState | None:
        wanted = email.strip().lower()
        return next((agent for agent in self.agents.values() if agent.email == wanted), None)

    def load(self, agent_id: uuid.UUID) -> int:
        """Open tickets (in active statuses) assigned to the agent."""
        return self.open_load.get(agent_id, 0)

    def members(self, team_id: uuid.UUID) -> frozenset[uuid.UUID]:
        return self.teams.get(team_id, frozenset())

    def cursor(self, key: str) -> uuid.UUID | None:
        return self.cursors.get(key)

    # --- directory changes (pure: each returns a new pool) ---------------------------------

    def with_agent(self, agent: AgentState) -> AgentPool:
        return self.model_copy(update={"agents": {**self.agents, agent.agent_id: agent}})

    def with_availability(self, agent_id: uuid.UUID, availability: Availability) -> AgentPool:
        current = self.agents.get(agent_id) or AgentState(agent_id=agent_id)
        return self.with_agent(current.model_copy(update={"availability": availability}))

    def with_active(self, agent_id: uuid.UUID, active: bool) -> AgentPool:
        current = self.agents.get(agent_id) or AgentState(agent_id=agent_id)
        return self.with_agent(current.model_copy(update={"active": active}))

    def with_member(self, team_id: uuid.UUID, agent_id: uuid.UUID) -> AgentPool:
        members = self.members(team_id) | {agent_id}
        return self.model_copy(update={"teams": {**self.teams, team_id: members}})

    def without_member(self, team_id: uuid.UUID, agent_id: uuid.UUID) -> AgentPool:
        members = self.members(team_id) - {agent_id}
        return self.model_copy(update={"teams": {**self.teams, team_id: members}})


def record_assignment(
    pool: AgentPool, rule: AssignmentRule | None, agent_id: uuid.UUID
) -> AgentPool:
    """A ticket in an active status was assigned to ``agent_id``: their load goes up by one.

    ``rule`` is the rule that chose the agent: its cursor moves to this agent, so its round robin
    goes on after them. ``None`` for manual assignments, which leave every cursor where it is.
    The cursor moves only here - on a real assignment - never when an agent is merely chosen.
    """
    load = {**pool.open_load, agent_id: pool.load(agent_id) + 1}
    update: dict[str, object] = {"open_load": load}
    if rule is not None:
        update["cursors"] = {**pool.cursors, rule.cursor_key: agent_id}
    return pool.model_copy(update=update)


def record_release(pool: AgentPool, agent_id: uuid.UUID) -> AgentPool:
    """A ticket left ``agent_id`` (reassigned, unassigned) or left the active statuses.

    Their load goes down by one, never below zero (a release may be seen for a ticket whose
    assignment was counted before the pool existed).
    """
    current = pool.load(agent_id)
    if current == 0:
        return pool
    return pool.model_copy(update={"open_load": {**pool.open_load, agent_id: current - 1}})
