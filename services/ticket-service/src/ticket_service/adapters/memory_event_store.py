"""The event log in memory: the same contract as the PostgreSQL store (``event_store.py``),
for tests of the use cases that run in milliseconds without a database.

It keeps what the contract promises and nothing more: appends are atomic across streams and
checked against each stream's expected version, event ids are unique, versions count from 1,
and the global order is the order of the appends. One process, one event loop: no locks needed.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence

from helpdesk_events import EventEnvelope
from ticket_service.domain.errors import VersionConflict
from ticket_service.service_layer.claims import Claim, ClaimKind, ClaimTaken
from ticket_service.service_layer.event_store import (
    DuplicateEvent,
    LogPosition,
    RecordedEvent,
    StreamAppend,
)
from ticket_service.service_layer.idempotency import IdempotencyKeyReused, StoredResponse

__all__ = [
    "FIRST_TICKET_NUMBER",
    "InMemoryClaims",
    "InMemoryCommandOutcomes",
    "InMemoryEventStore",
    "InMemoryIdempotency",
]

#: Ticket numbers start here, as the PostgreSQL sequence ``ticket_numbers`` does.
FIRST_TICKET_NUMBER = 1001


class InMemoryEventStore:
    def __init__(self) -> None:
        self._streams: dict[uuid.UUID, list[RecordedEvent]] = {}
        self._log: list[RecordedEvent] = []
        self._event_ids: set[uuid.UUID] = set()
        self._batches = 0
        self._next_number = FIRST_TICKET_NUMBER

    async def append(
        self, appends: Sequence[StreamAppend], *, traceparent: str | None = None
    ) -> dict[uuid.UUID, int]:
        """Append atomically to one or more streams; returns each stream's new version."""
        versions = {a.stream_id: len(self._streams.get(a.stream_id, ())) for a in appends}
        seen: set[uuid.UUID] = set()
        for append in appends:  # check everything before writing anything
            actual = versions[append.stream_id]
            if append.expected_version is not None and append.expected_version != actual:
                raise VersionConflict(str(append.stream_id), append.expected_version, actual)
            for envelope in append.events:
                if envelope.event_id in self._event_ids or envelope.event_id in seen:
                    raise DuplicateEvent(f"event {envelope.event_id} is in the log already")
                seen.add(envelope.event_id)
            versions[append.stream_id] = actual + len(append.events)
        self._batches += 1
        for append in appends:
            stream = self._streams.setdefault(append.stream_id, [])
            for envelope in append.events:
                recorded = RecordedEvent(
                    envelope=envelope.model_copy(
                        update={
                            "stream_id": append.stream_id,
                            "stream_type": append.stream_type,
                            "stream_version": len(stream) + 1,
                        }
                    ),
                    log_position=LogPosition(self._batches, len(self._log) + 1),
                    traceparent=traceparent,
                )
                stream.append(recorded)
                self._log.append(recorded)
                self._event_ids.add(envelope.event_id)
        return {a.stream_id: len(self._streams.get(a.stream_id, ())) for a in appends}

    async def read_stream(
        self, stream_id: uuid.UUID, *, up_to_version: int | None = None
    ) -> list[RecordedEvent]:
        return [
            r
            for r in self._streams.get(stream_id, ())
            if up_to_version is None or r.envelope.stream_version <= up_to_version
        ]

    async def stream_heads(
        self, stream_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[str, int]]:
        return {
            stream_id: (stream[-1].envelope.stream_type, len(stream))
            for stream_id in stream_ids
            if (stream := self._streams.get(stream_id))
        }

    @contextlib.asynccontextmanager
    async def read_ahead(self, *stream_ids: uuid.UUID | None) -> AsyncIterator[None]:
        """Nothing to save: every read is already in memory."""
        yield

    async def next_ticket_number(self) -> int:
        number = self._next_number
        self._next_number += 1
        return number

    async def read_after(self, after: LogPosition, limit: int = 500) -> list[RecordedEvent]:
        return [r for r in self._log if r.log_position > after][:limit]


class InMemoryIdempotency:
    """Idempotency keys in memory, written with their append as one step."""

    def __init__(self, store: InMemoryEventStore) -> None:
        self._store = store
        self._keys: dict[tuple[str, str], tuple[str, StoredResponse]] = {}

    async def lookup(self, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
        found = self._keys.get((scope, key))
        if found is None:
            return None
        if found[0] != fingerprint:
            raise IdempotencyKeyReused.of(key)
        return found[1]

    async def append(
        self,
        append: StreamAppend,
        *,
        scope: str,
        key: str,
        fingerprint: str,
        response: StoredResponse,
        traceparent: str | None,
    ) -> StoredResponse:
        stored = await self.lookup(scope, key, fingerprint)
        if stored is not None:
            return stored
        await self._store.append([append], traceparent=traceparent)
        self._keys[(scope, key)] = (fingerprint, response)
        return response


class InMemoryClaims:
    """Unique keys in memory: the claim is checked before the append, so a taken key writes
    nothing (as the PostgreSQL claims roll their transaction back)."""

    def __init__(self, store: InMemoryEventStore) -> None:
        self._store = store
        self._owners: dict[tuple[str, str], uuid.UUID] = {}

    async def owner(self, kind: ClaimKind, key: str) -> uuid.UUID | None:
        return self._owners.get((kind, key))

    async def append(
        self,
        append: StreamAppend,
        *,
        claim: Claim | None = None,
        release: Claim | None = None,
        traceparent: str | None = None,
    ) -> None:
        if claim is not None:
            existing = self._owners.get((claim.kind, claim.key))
            if existing is not None and existing != claim.owner_id:
                raise ClaimTaken(claim, existing)
        await self._store.append([append], traceparent=traceparent)
        if (
            release is not None
            and self._owners.get((release.kind, release.key)) == release.owner_id
        ):
            del self._owners[(release.kind, release.key)]
        if claim is not None:
            self._owners[(claim.kind, claim.key)] = claim.owner_id


class InMemoryCommandOutcomes:
    """The decided commands in memory: an applied command's events and its outcome together."""

    def __init__(self, store: InMemoryEventStore) -> None:
        self._store = store
        self.outcomes: dict[uuid.UUID, tuple[str, str | None]] = {}

    async def seen(self, command_id: uuid.UUID) -> bool:
        return command_id in self.outcomes

    async def record(
        self, envelope: EventEnvelope, outcome: str, reason: str | None, trace_id: str | None
    ) -> None:
        self.outcomes.setdefault(envelope.event_id, (outcome, reason))

    async def append_applied(
        self,
        append: StreamAppend,
        envelope: EventEnvelope,
        trace_id: str | None,
        traceparent: str | None,
    ) -> None:
        await self._store.append([append], traceparent=traceparent)
        await self.record(envelope, "applied", None, trace_id)
