"""SLA policy configuration events (stream type ``sla-policies``, topic
``helpdesk.sla-policies.v1``, one stream: the policy set), read and written by the SLA service
through :class:`helpdesk_platform.config_log.ConfigLog`.

A policy travels as the JSON the SLA service's admin API accepts (its condition, active range,
calendar, targets per priority, pausing and fulfilling categories, position in the ordered list,
whether it is the default); the contract keeps it as an object so that the policy model can grow
without a new event version.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from helpdesk_events.registry import DomainEvent, event_type

SLA_POLICIES_STREAM = "sla-policies"


@event_type("SlaPolicySaved", version=1, stream_type=SLA_POLICIES_STREAM)
class SlaPolicySaved(DomainEvent):
    """A policy was created or replaced as a whole (``policy["policy_id"]`` names it)."""

    policy: dict[str, Any] = Field(description="the policy, as the SLA service's API takes it")


@event_type("SlaPolicyDeleted", version=1, stream_type=SLA_POLICIES_STREAM)
class SlaPolicyDeleted(DomainEvent):
    """A policy was removed (the default policy cannot be)."""

    policy_id: str = Field(min_length=1, max_length=100)
