"""Assignment rule configuration events (stream type ``assignment-rules``, topic
``helpdesk.assignment-rules.v1``, one stream: the rule set), read and written by the assignment
service through :class:`helpdesk_platform.config_log.ConfigLog`.

A rule travels as the JSON the assignment service's admin API accepts (its ``AssignmentRule``);
the contract keeps it as an object so that the rule model can grow without a new event version.
"""

from __future__ import annotations

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
