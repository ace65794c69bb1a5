"""Writing a stream, as every use case does it: read the stream, decide with the pure domain,
append with the version read; a command whose caller pinned no version is decided again when a
concurrent write won (:func:`pinned_or_retried`), a pinned one gets the conflict at once.

There is one retry rule for all of them (:data:`RETRY`, a :class:`ConflictRetry`): the
tickets', customers', directory's and portal's use cases, the mail intake and the command
consumer decide again after a lost race, up to the same number of times, with the same pause.

Used by the customer, directory and ticket use cases alike (it lived in ``customers.py``).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from helpdesk_events import DomainEvent
from ticket_service.domain.errors import VersionConflict
from ticket_service.service_layer.claims import Claim, ClaimStore
from ticket_service.service_layer.context import CommandContext, envelope_for
from ticket_service.service_layer.event_store import EventStore, RecordedEvent, StreamAppend

__all__ = [
    "RETRY",
    "ConflictRetry",
    "StreamWriter",
    "decided_append",
    "folded",
    "pinned_or_retried",
    "refuse_stale",
]

T = TypeVar("T")


@dataclass(frozen=True)
class ConflictRetry:
    """Decide again when a concurrent write won the race (:class:`VersionConflict`).

    Each lost race means another writer's change went in, so ``attempts`` bounds how many
    concurrent writers to one stream a change outlasts (a busy ticket has dozens: replies, the
    SLA projector, the assignment worker's commands); a short random pause, growing with each
    lost race, spreads the retries of a crowd apart. The last conflict is raised.
    """

    attempts: int = 40
    pause_seconds: float = 0.002

    async def run(self, attempt: Callable[[], Awaitable[T]]) -> T:
        for lost in range(1, self.attempts + 1):
            try:
                return await attempt()
            except VersionConflict:
                if lost == self.attempts:
                    raise
                await asyncio.sleep(random.uniform(0, self.pause_seconds * lost))
        raise AssertionError("unreachable")


#: The one retry rule of every use case's writes.
RETRY = ConflictRetry()


class StreamWriter:
    """Reads streams of one type and appends decided events (with claims when asked)."""

    def __init__(
        self,
        store: EventStore,
        claims: ClaimStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.claims = claims
        self.clock = clock

    async def read(self, stream_id: uuid.UUID, stream_type: str) -> list[RecordedEvent]:
        """The stream's events, or [] when it does not exist or is of another type."""
        recorded = await self.store.read_stream(stream_id)
        if recorded and recorded[0].envelope.stream_type != stream_type:
            return []  # an id of another kind (an agent's id given as a customer's)
        return recorded

    async def append(
        self,
        stream_id: uuid.UUID,
        stream_type: str,
        version: int,
        events: Sequence[DomainEvent],
        context: CommandContext,
        *,
        claim: Claim | None = None,
        release: Claim | None = None,
    ) -> datetime:
        """Append ``events`` after ``version``; returns the time they are recorded as."""
        now = self.clock()
        append = decided_append(stream_id, stream_type, version, events, context, now)
        if claim is None and release is None:
            await self.store.append([append], traceparent=context.traceparent)
        else:
            await self.claims.append(
                append, claim=claim, release=release, traceparent=context.traceparent
            )
        return now


def decided_append(
    stream_id: uuid.UUID,
    stream_type: str,
    version: int,
    events: Sequence[DomainEvent],
    context: CommandContext,
    occurred_at: datetime,
    *,
    event_id: Callable[[int], uuid.UUID] | None = None,
) -> StreamAppend:
    """The append of ``events`` decided on the stream at ``version``: numbered after it, dated
    ``occurred_at``, and expecting the stream still at ``version``. ``event_id(n)`` names the
    n-th event's id when it must be derived (a command's events), else ids are fresh."""
    envelopes = [
        envelope_for(
            event,
            stream_id=stream_id,
            stream_version=version + offset,
            context=context,
            occurred_at=occurred_at,
            event_id=event_id(offset) if event_id else None,
        )
        for offset, event in enumerate(events, start=1)
    ]
    return StreamAppend(stream_id, stream_type, version, envelopes)


async def pinned_or_retried(expected_version: int | None, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run ``attempt``; when the caller pinned no version, by the :data:`RETRY` rule. Only a
    caller who named a version gets the conflict at once (a stale ``If-Match``)."""
    if expected_version is not None:
        return await attempt()
    return await RETRY.run(attempt)


def refuse_stale(stream_id: uuid.UUID, expected_version: int | None, actual: int) -> None:
    if expected_version is not None and expected_version != actual:
        raise VersionConflict(stream_id, expected_version, actual)


def folded(recorded: list[RecordedEvent]) -> list[tuple[DomainEvent, datetime]]:
    return [(r.envelope.payload(), r.envelope.occurred_at) for r in recorded]
