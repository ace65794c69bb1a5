"""Assignment rules: which tickets a rule takes, when it is on, how it picks, and whom from.

An :class:`AssignmentRule` (after the product seed's "HD Assignment Rule") has

* an ``assign_condition`` (a :class:`helpdesk_conditions.Condition` over ticket fields, e.g.
  ``priority == "High" && "vpn" in tags``; none means every ticket), an ``unassign_condition``
  (when it comes true for a ticket the rule assigned, the assignee is removed and their capacity
  freed) and a ``close_condition`` (Frappe Helpdesk's meaning: when it comes true, the
  assignment is closed - the ticket keeps its assignee but no longer counts toward their open
  load, so capacity, load balancing and the next round-robin picks leave it out);
* a :class:`~assignment_service.domain.schedule.Schedule` - the assignment days and hours, in a
  time zone - outside which the rule is off;
* a :class:`AssignmentMethod`: ``round_robin`` (in turn), ``load_balancing`` (fewest open
  tickets) or ``based_on_field`` (the agent named by a ticket field, e.g. an account manager:
  ``assignee_field`` is a ticket field or a custom field ``custom.<key>``, holding the agent's
  id or email);
* the ``agents`` and ``teams`` it assigns to (their union; team membership is read from the
  pool when choosing, so it follows the directory);
* an optional per-agent ``capacity`` (open tickets an agent may hold before this rule skips
  them), with per-agent overrides in ``agent_capacity``;
* ``escalate_on_breach``, kept for the escalation flow (an SLA breach moves the ticket to the
  team's ``escalates_to`` team).

Rules are tried in ``order`` (lowest first, then by ``rule_id`` so the order is total): the first
rule that is enabled, inside its schedule and whose condition matches takes the ticket
(:func:`select_rule`). Every team gets a default rule (:func:`default_rule_for_team`): round robin
over its members for the tickets routed to it, tried after the explicit rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assignment_service.domain.schedule import Schedule
from helpdesk_conditions import Condition

__all__ = [
    "DEFAULT_TEAM_RULE_ORDER",
    "AssignmentMethod",
    "AssignmentRule",
    "OrderedRule",
    "assignment_closed",
    "default_rule_for_team",
    "select_rule",
    "should_unassign",
]

#: Where default team rules sit in the order: after any explicit rule with a smaller order.
DEFAULT_TEAM_RULE_ORDER: Final = 1_000_000


class AssignmentMethod(StrEnum):
    ROUND_ROBIN = "round_robin"
    LOAD_BALANCING = "load_balancing"
    BASED_ON_FIELD = "based_on_field"


class OrderedRule(BaseModel):
    """What every configured rule has (assignment and routing rules): an id, a name, a place in
    the order (lowest first, then by id) and an on/off switch."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    order: int = 0
    enabled: bool = True


class AssignmentRule(OrderedRule):
    """One assignment rule; see the module documentation."""

    assign_condition: Condition | None = None
    unassign_condition: Condition | None = None
    close_condition: Condition | None = None
    schedule: Schedule = Field(default_factory=Schedule)
    method: AssignmentMethod = AssignmentMethod.ROUND_ROBIN
    agents: frozenset[uuid.UUID] = frozenset()
    teams: frozenset[uuid.UUID] = frozenset()
    #: For ``based_on_field``: the ticket field (or ``custom.<key>``) holding the agent's id or
    #: email.
    assignee_field: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=r"^(?:[a-z_][a-z0-9_]*|custom\.[a-z][a-z0-9_]{0,62})$",
    )
    capacity: int | None = Field(default=None, ge=1)
    agent_capacity: Mapping[uuid.UUID, int] = Field(default_factory=dict)
    escalate_on_breach: bool = False

    @model_validator(mode="after")
    def _method_needs(self) -> Self:
        if self.method is AssignmentMethod.BASED_ON_FIELD:
            if self.assignee_field is None:
                raise ValueError("a based_on_field rule needs the assignee_field to read")
        else:
            if self.assignee_field is not None:
                raise ValueError("assignee_field is only for based_on_field rules")
            if not self.agents and not self.teams:
                raise ValueError(f"a {self.method.value} rule needs agents or teams to assign to")
        negative = sorted(str(agent) for agent, cap in self.agent_capacity.items() if cap < 0)
        if negative:
            raise ValueError(f"agent capacity cannot be negative (agents {', '.join(negative)})")
        return self

    @property
    def cursor_key(self) -> str:
        """The key of this rule's round-robin cursor in the pool."""
        return self.rule_id

    def capacity_for(self, agent_id: uuid.UUID) -> int | None:
        """Open tickets ``agent_id`` may hold before this rule skips them; None: no cap."""
        return self.agent_capacity.get(agent_id, self.capacity)

    def is_active(self, now: datetime) -> bool:
        """Enabled and inside its schedule at ``now`` (timezone-aware)."""
        return self.enabled and self.schedule.is_active(now)

    def applies_to(self, ticket: Mapping[str, Any], now: datetime) -> bool:
        """Active at ``now`` and its assign condition matches ``ticket``."""
        if not self.is_active(now):
            return False
        return self.assign_condition is None or self.assign_condition.matches(ticket)


def default_rule_for_team(
    team_id: uuid.UUID, name: str, *, order: int = DEFAULT_TEAM_RULE_ORDER
) -> AssignmentRule:
    """Round robin over the team's members for the tickets routed to the team, at any time."""
    return AssignmentRule(
        rule_id=f"team-{team_id}",
        name=f"{name} (team default)"[:200],
        order=order,
        assign_condition=Condition.parse(f'team_id == "{team_id}"'),
        method=AssignmentMethod.ROUND_ROBIN,
        teams=frozenset({team_id}),
    )


def _rule_order(rule: AssignmentRule) -> tuple[int, str]:
    return (rule.order, rule.rule_id)


def select_rule(
    rules: Iterable[AssignmentRule], ticket: Mapping[str, Any], now: datetime
) -> AssignmentRule | None:
    """The first rule, in order, that is active at ``now`` and whose condition matches."""
    for rule in sorted(rules, key=_rule_order):
        if rule.applies_to(ticket, now):
            return rule
    return None


def should_unassign(rule: AssignmentRule, ticket: Mapping[str, Any]) -> bool:
    """Whether the rule's unassign condition says the ticket's assignee should be removed."""
    return rule.unassign_condition is not None and rule.unassign_condition.matches(ticket)


def assignment_closed(rule: AssignmentRule, ticket: Mapping[str, Any]) -> bool:
    """Whether the rule's close condition says its assignment of the ticket is closed (the
    assignee keeps it; it no longer counts toward their load)."""
    return rule.close_condition is not None and rule.close_condition.matches(ticket)
