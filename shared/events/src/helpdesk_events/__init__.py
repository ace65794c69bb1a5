"""The helpdesk event contract, shared by every service.

- :mod:`helpdesk_events.envelope` — the envelope every event travels in, (de)serialisation, ids.
- :mod:`helpdesk_events.registry` — event types by name and version, and upcasting of old versions.
- :mod:`helpdesk_events.tickets` — ticket events (stream type ``ticket``).
- :mod:`helpdesk_events.topics` — Kafka topics, partitions and retention.
- :mod:`helpdesk_events.schemas` — JSON Schema and AsyncAPI generation (``make schemas``).
"""

# Importing the event modules registers their types.
from helpdesk_events import (  # noqa: F401
    assignment,
    commands,
    customers,
    directory,
    mail,
    sla,
    sla_policies,
)
from helpdesk_events.envelope import (
    Actor,
    ActorKind,
    EventEnvelope,
    decode_envelope,
    derived_event_id,
    encode_envelope,
    kafka_headers,
)
from helpdesk_events.registry import (
    DomainEvent,
    UnknownEventType,
    event_class,
    parse_event,
    registered_events,
)
from helpdesk_events.tickets import (
    ChildTicketMerged,
    ChildTicketUnmerged,
    MessageAdded,
    PriorityChanged,
    StatusCategory,
    StatusChanged,
    TagsChanged,
    TeamChanged,
    TicketAssigned,
    TicketCreated,
    TicketFieldsChanged,
    TicketMerged,
    TicketUnassigned,
    TicketUnmerged,
    Visibility,
)

__all__ = [
    "Actor",
    "ActorKind",
    "ChildTicketMerged",
    "ChildTicketUnmerged",
    "DomainEvent",
    "EventEnvelope",
    "MessageAdded",
    "PriorityChanged",
    "StatusCategory",
    "StatusChanged",
    "TagsChanged",
    "TeamChanged",
    "TicketAssigned",
    "TicketCreated",
    "TicketFieldsChanged",
    "TicketMerged",
    "TicketUnassigned",
    "TicketUnmerged",
    "UnknownEventType",
    "Visibility",
    "decode_envelope",
    "derived_event_id",
    "encode_envelope",
    "event_class",
    "kafka_headers",
    "parse_event",
    "registered_events",
]
