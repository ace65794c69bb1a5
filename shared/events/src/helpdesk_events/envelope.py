"""The envelope every event travels in (DESIGN.md §4), and its wire form.

On Kafka the message value is the envelope as JSON, the key is the stream id, and the headers
carry ``event_type``, ``event_id`` and ``traceparent`` so consumers can route and join the trace
without parsing the body.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from helpdesk_events.registry import DomainEvent, parse_event

#: Namespace of event ids derived deterministically from other facts (see derived_event_id).
DERIVED_EVENT_NAMESPACE = uuid.UUID("4f9c3e8e-3b5d-4a57-9a42-2d8a3f6f1c10")


class ActorKind(StrEnum):
    AGENT = "agent"
    CUSTOMER = "customer"
    SYSTEM = "system"
    SERVICE = "service"


class Actor(BaseModel):
    """Who caused the event: a person (agent or customer), a service, or the system."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ActorKind
    id: str = Field(min_length=1, max_length=200)
    role: str | None = None
    display_name: str | None = None


class EventEnvelope(BaseModel):
    """One event as stored in the log and published on Kafka."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    event_type: str
    schema_version: int = Field(ge=1)
    stream_id: uuid.UUID
    stream_type: str
    stream_version: int = Field(ge=1)
    occurred_at: AwareDatetime
    actor: Actor
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    data: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    def payload(self) -> DomainEvent:
        """The typed event, upcast to the current schema version."""
        return parse_event(self.event_type, self.schema_version, self.data)


def encode_envelope(envelope: EventEnvelope) -> bytes:
    return orjson.dumps(envelope.model_dump(mode="json"))


def decode_envelope(raw: bytes | str) -> EventEnvelope:
    return EventEnvelope.model_validate(orjson.loads(raw))


def kafka_headers(envelope: EventEnvelope, traceparent: str | None) -> list[tuple[str, bytes]]:
    headers = [
        ("event_type", envelope.event_type.encode()),
        ("event_id", str(envelope.event_id).encode()),
        ("schema_version", str(envelope.schema_version).encode()),
    ]
    if traceparent:
        headers.append(("traceparent", traceparent.encode()))
    return headers


def derived_event_id(*parts: object) -> uuid.UUID:
    """A deterministic event id for a fact derived from others (a breach, an assignment).

    A replay or a retry derives the same id, so consumers deduplicate it like any other event.
    """
    return uuid.uuid5(DERIVED_EVENT_NAMESPACE, "/".join(str(part) for part in parts))
