"""SLA events (stream type ``sla``, topic ``helpdesk.sla.v1``, key = ticket id).

The SLA service derives them from ticket events and from its timers; the envelope's
``stream_id`` is the ticket id, ``causation_id`` the ticket event that led to them and
``correlation_id`` that event's correlation id. Their ids are deterministic
(:func:`helpdesk_events.envelope.derived_event_id`), so a retry or a restart of the service
re-emits the same id: consumers deduplicate by ``event_id``.

Durations are business time under the policy's calendar, in seconds; instants are UTC.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from helpdesk_events.registry import DomainEvent, event_type

SLA_STREAM = "sla"


class SlaMetricName(StrEnum):
    """What an SLA target measures."""

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class SlaClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"


class SlaTarget(BaseModel):
    """One metric's target on a ticket, and its due instant while the clock runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: SlaMetricName
    target_seconds: float = Field(gt=0)
    elapsed_seconds: float = Field(ge=0, description="business time already used")
    state: SlaClockState
    due_at: AwareDatetime | None = Field(description="null unless the clock is running")


@event_type("SlaTargetsSet", version=1, stream_type=SLA_STREAM)
class SlaTargetsSet(DomainEvent):
    """SLA targets were set on a ticket: on creation; anew when its priority changed, when a
    field change made another policy match, or when its policy was changed or deleted; and for
    each next-response exchange a customer's message opens."""

    ticket_id: uuid.UUID
    policy: str = Field(min_length=1, max_length=200, description="the policy id")
    priority: str = Field(min_length=1, max_length=50)
    targets: tuple[SlaTarget, ...]


@event_type("SlaPaused", version=1, stream_type=SLA_STREAM)
class SlaPaused(DomainEvent):
    """A metric's clock stopped counting (the ticket entered a pausing status)."""

    ticket_id: uuid.UUID
    metric: SlaMetricName
    paused_at: AwareDatetime
    elapsed_seconds: float = Field(ge=0)
    remaining_seconds: float = Field(description="negative once the target is exceeded")


@event_type("SlaResumed", version=1, stream_type=SLA_STREAM)
class SlaResumed(DomainEvent):
    """A metric's clock counts again; ``due_at`` is the new due instant."""

    ticket_id: uuid.UUID
    metric: SlaMetricName
    resumed_at: AwareDatetime
    due_at: AwareDatetime


@event_type("SlaMet", version=1, stream_type=SLA_STREAM)
class SlaMet(DomainEvent):
    """A metric was fulfilled (first public agent reply; ticket resolved or closed)."""

    ticket_id: uuid.UUID
    metric: SlaMetricName
    met_at: AwareDatetime
    elapsed_seconds: float = Field(ge=0)
    within_target: bool


@event_type("SlaWarning", version=1, stream_type=SLA_STREAM)
class SlaWarning(DomainEvent):
    """A metric has used ``threshold`` of its target: ``due_at`` is near."""

    ticket_id: uuid.UUID
    metric: SlaMetricName
    due_at: AwareDatetime
    threshold: float = Field(gt=0, lt=1, description="fraction of the target used")
    lead_seconds: float = Field(ge=0, description="business time left at the warning")


@event_type("SlaBreached", version=1, stream_type=SLA_STREAM)
class SlaBreached(DomainEvent):
    """A metric's target ran out at ``due_at`` before it was met."""

    ticket_id: uuid.UUID
    metric: SlaMetricName
    due_at: AwareDatetime
    target_seconds: float = Field(gt=0)
