"""Pure domain of the assignment service: rules, schedules, the agent pool and decisions; no I/O."""

from assignment_service.domain.decision import (
    Decision,
    NoAgentReason,
    candidate_ids,
    choose_agent,
)
from assignment_service.domain.pool import (
    AgentPool,
    AgentState,
    Availability,
    record_assignment,
    record_release,
)
from assignment_service.domain.rules import (
    DEFAULT_TEAM_RULE_ORDER,
    AssignmentMethod,
    AssignmentRule,
    assignment_closed,
    default_rule_for_team,
    select_rule,
    should_unassign,
)
from assignment_service.domain.schedule import (
    EVERY_DAY,
    WORKWEEK,
    NaiveDatetimeError,
    Schedule,
    Weekday,
)

__all__ = [
    "DEFAULT_TEAM_RULE_ORDER",
    "EVERY_DAY",
    "WORKWEEK",
    "AgentPool",
    "AgentState",
    "AssignmentMethod",
    "AssignmentRule",
    "Availability",
    "Decision",
    "NaiveDatetimeError",
    "NoAgentReason",
    "Schedule",
    "Weekday",
    "assignment_closed",
    "candidate_ids",
    "choose_agent",
    "default_rule_for_team",
    "record_assignment",
    "record_release",
    "select_rule",
    "should_unassign",
]
