"""The event log as the use cases see it: a port (:class:`EventStore`), and the records that
cross it.

The use cases load a stream, decide with the pure domain, and append what they decided with the
version they read; they never see SQL. ``adapters/event_store.py`` is the PostgreSQL adapter
behind this port, ``adapters/memory_event_store.py`` an in-memory one for fast tests of the use
cases; one contract suite (``tests/unit/event_store_contract.py``) runs against both.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from helpdesk_events import EventEnvelope

__all__ = ["DuplicateEvent", "EventStore", "LogPosition", "RecordedEvent", "StreamAppend"]


class DuplicateEvent(Exception):
    """An event with this event_id is already in the log (a retried command)."""


@dataclass(frozen=True, order=True)
class LogPosition:
    """A point in the global order of the log: after every event at or before it."""

    transaction_id: int
    position: int

    @classmethod
    def start(cls) -> LogPosition:
        return cls(0, 0)


@dataclass(frozen=True)
class RecordedEvent:
    """An event as stored: its envelope, where it sits in the log, and its trace context."""

    envelope: EventEnvelope
    log_position: LogPosition
    traceparent: str | None


@dataclass(frozen=True)
class StreamAppend:
    """New events for one stream, to append only if the stream is at ``expected_version``."""

    stream_id: uuid.UUID
    stream_type: str
    expected_version: int | None
    events: Sequence[EventEnvelope]


class EventStore(Protocol):
    """Append with an expected version per stream (atomically across streams), read a stream,
    and number tickets.

    ``append`` raises :class:`~ticket_service.domain.errors.VersionConflict` when a stream is
    not at its ``expected_version`` (``None``: any version) and :class:`DuplicateEvent` when an
    event id is in the log already; nothing of a refused batch is stored.
    """

    async def append(
        self, appends: Sequence[StreamAppend], *, traceparent: str | None = None
    ) -> dict[uuid.UUID, int]: ...

    async def read_stream(
        self, stream_id: uuid.UUID, *, up_to_version: int | None = None
    ) -> list[RecordedEvent]: ...

    def read_ahead(self, *stream_ids: uuid.UUID | None) -> AbstractAsyncContextManager[None]:
        """Within the block, reads of these streams may be served from one earlier read."""
        ...

    async def stream_heads(
        self, stream_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[str, int]]:
        """Each existing stream's type and current version, without reading its events: enough
        to append a record that no rule of the stream decides."""
        ...

    async def next_ticket_number(self) -> int: ...

    async def read_after(self, after: LogPosition, limit: int = 500) -> list[RecordedEvent]:
        """Events after ``after`` in the log's global order (what the relay publishes)."""
        ...
