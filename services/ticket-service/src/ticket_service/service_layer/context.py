"""What every command carries: who asks and the ids tying its events to the request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from helpdesk_events import Actor, DomainEvent, EventEnvelope
from helpdesk_platform.auth import Principal


@dataclass(frozen=True)
class CommandContext:
    """Who asks, and the ids that tie the resulting events to the request."""

    actor: Actor
    correlation_id: uuid.UUID
    traceparent: str | None = None
    causation_id: uuid.UUID | None = None
    #: The verified caller, for the access policy (``service_layer.access``); never stored.
    caller: Principal | None = None


def envelope_for(
    event: DomainEvent,
    *,
    stream_id: uuid.UUID,
    stream_version: int,
    context: CommandContext,
    occurred_at: datetime,
    event_id: uuid.UUID | None = None,
) -> EventEnvelope:
    return EventEnvelope(
        event_id=event_id or uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=stream_id,
        stream_type=event.stream_type,
        stream_version=stream_version,
        occurred_at=occurred_at,
        actor=context.actor,
        correlation_id=context.correlation_id,
        causation_id=context.causation_id,
        data=event.model_dump(mode="json"),
    )
