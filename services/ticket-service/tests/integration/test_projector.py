"""The projector loop on the real PostgreSQL: of several processes running it, one polls the log;
when it stops, another takes over and nothing is missed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from helpdesk_events import Actor, ActorKind, StatusChanged
from ticket_service.adapters.event_store import PostgresEventStore, RecordedEvent, StreamAppend
from ticket_service.adapters.projections import Projector
from ticket_service.service_layer.context import CommandContext, envelope_for

pytestmark = pytest.mark.integration


class Recording:
    """A projection that only remembers which events it was given."""

    name = "recording"
    tables: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.seen: set[uuid.UUID] = set()

    async def apply(self, connection: asyncpg.Connection, event: RecordedEvent) -> None:
        self.seen.add(event.envelope.event_id)


class CountingProjector(Projector):
    polls = 0

    async def catch_up(self) -> int:
        self.polls += 1
        return await super().catch_up()


async def _append_one(store: PostgresEventStore) -> uuid.UUID:
    stream = uuid.uuid4()
    envelope = envelope_for(
        StatusChanged(from_status="Open", to_status="Pending"),
        stream_id=stream,
        stream_version=1,
        context=CommandContext(
            actor=Actor(kind=ActorKind.SYSTEM, id="test"), correlation_id=uuid.uuid4()
        ),
        occurred_at=datetime.now(UTC),
    )
    await store.append([StreamAppend(stream, "ticket", 0, [envelope])])
    return envelope.event_id


async def _until_seen(recording: Recording, event_id: uuid.UUID, within: float) -> None:
    for _ in range(int(within / 0.05)):
        if event_id in recording.seen:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"event {event_id} not projected within {within} s")


async def test_one_process_polls_and_another_takes_over_when_it_stops(
    store: PostgresEventStore, pool: asyncpg.Pool
) -> None:
    name = f"leader-{uuid.uuid4().hex[:8]}"
    recordings = {"first": Recording(), "second": Recording()}
    projectors = {
        key: CountingProjector(store, pool, [recording], name=name, standby_seconds=0.2)
        for key, recording in recordings.items()
    }
    stops = {key: asyncio.Event() for key in projectors}
    first = asyncio.create_task(projectors["first"].run(stops["first"]))
    await asyncio.sleep(0.3)
    second = asyncio.create_task(projectors["second"].run(stops["second"]))
    try:
        await _until_seen(recordings["first"], await _append_one(store), within=5)
        await asyncio.sleep(0.5)
        # It keeps looking while the log is quiet (at least every 100 ms; once the test ran
        # alone, 5 looks in the 0.8 s since its start, against 0 of the standby).
        assert projectors["first"].polls >= 3
        assert projectors["second"].polls == 0, "the standby polled while the first projected"

        stops["first"].set()
        await asyncio.wait_for(first, 10)
        # Appended after the first stopped: the standby takes over and projects it.
        await _until_seen(recordings["second"], await _append_one(store), within=3)
    finally:
        for stop in stops.values():
            stop.set()
        await asyncio.wait_for(asyncio.gather(first, second), 10)
