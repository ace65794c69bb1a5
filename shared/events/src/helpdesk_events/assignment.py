"""Assignment rule configuration events (stream type ``assignment-rules``, topic
``helpdesk.assignment-rules.v1``: one stream for the assignment rules, one for the team routing
rules and channel default teams), read and written by the assignment service through
:class:`helpdesk_platform.config_log.ConfigLog`; and ``AssignmentBlocked`` (stream type
``assignment``, topic ``helpdesk.assignment.v1``), what the worker could not assign and why.

A rule travels as the JSON the assignment service's admin API accepts (its ``AssignmentRule``);
the contract keeps it as an object so that the rule model can grow without a new event version.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import Field

from helpdesk_events.registry import DomainEvent, event_type

ASSIGNMENT_RULES_STREAM = "assignment-rules"


@event_type("AssignmentRuleSaved", version=1, stream_type=ASSIGNMENT_RULES_STREAM)
class AssignmentRuleSaved(DomainEvent):
    """A rule was created or replaced as a whole (``rule["rule_id"]`` names it)."""

    rule: dict[str, Any] = Field(description="the rule, as the assignment service's API takes it")


@event_type("AssignmentRuleDeleted", version=1, stream_type=ASSIGNMENT_RULES_STREAM)
class AssignmentRuleDeleted(DomainEvent):
    """A rule was removed; a team's implied default rule comes back if it was overridden."""

    rule_id: str = Field(min_length=1, max_length=100)


# --- Team routing (the same topic, its own stream: ROUTING_STREAM_ID in the assignment service) ---


@event_type("RoutingRuleSaved", version=1, stream_type=ASSIGNMENT_RULES_STREAM)
class RoutingRuleSaved(DomainEvent):
    """A routing rule (a condition on the ticket -> a team) was created or replaced as a whole
    (``rule["rule_id"]`` names it)."""

    rule: dict[str, Any] = Field(
        description="the routing rule, as the assignment service's API takes it"
    )


@event_type("RoutingRuleDeleted", version=1, stream_type=ASSIGNMENT_RULES_STREAM)
class RoutingRuleDeleted(DomainEvent):
    rule_id: str = Field(min_length=1, max_length=100)


@event_type("ChannelTeamSet", version=1, stream_type=ASSIGNMENT_RULES_STREAM)
class ChannelTeamSet(DomainEvent):
    """The default team of a channel (tickets no routing rule takes); None removes it."""

    channel: str = Field(min_length=1, max_length=100)
    team_id: uuid.UUID | None = None


# --- What the assignment worker could not do (topic helpdesk.assignment.v1, key: ticket id) ---

ASSIGNMENT_STREAM = "assignment"


class UnassignableReason(StrEnum):
    """Why a ticket waits without an agent."""

    NO_RULE = "no_rule"
    """No assignment rule of the team takes the ticket (or the team is unknown to the worker)."""
    RULE_INACTIVE = "rule_inactive"
    """The rule that takes it is disabled or outside its days and hours."""
    NO_CANDIDATES = "no_candidates"
    """The rule names nobody who is a member of the ticket's team."""
    NONE_AVAILABLE = "none_available"
    """Every candidate is deactivated or Unavailable."""
    AT_CAPACITY = "at_capacity"
    """Every available candidate holds their capacity of open tickets."""
    FIELD_EMPTY = "field_empty"
    """based_on_field: the ticket's field is empty."""
    FIELD_NOT_AN_AGENT = "field_not_an_agent"
    """based_on_field: the field names no agent of the team."""
    AGENT_NOT_ELIGIBLE = "agent_not_eligible"
    """based_on_field: the agent named is outside the rule's agents and teams."""


@event_type("AssignmentBlocked", version=1, stream_type=ASSIGNMENT_STREAM)
class AssignmentBlocked(DomainEvent):
    """The ticket (the stream id) cannot be assigned in its team now; it waits, and is tried
    again when members, availability or rules change. Sent once per reason."""

    ticket_id: uuid.UUID
    team_id: uuid.UUID
    rule_id: str | None = Field(default=None, max_length=100)
    reason: UnassignableReason
    detail: str = Field(default="", max_length=500)
