"""One contract for every event store behind the ``EventStore`` port, run against each adapter
(as the ``eventsourcing`` library runs one suite against every backend): the in-memory store in
``tests/unit/test_memory_event_store.py``, PostgreSQL in
``tests/integration/test_event_store_contract.py``. A subclass provides the ``event_store``
fixture; every test uses streams of its own, so a shared database does not disturb it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from helpdesk_events import Actor, ActorKind, TagsChanged
from ticket_service.domain.errors import VersionConflict
from ticket_service.service_layer.context import CommandContext, envelope_for
from ticket_service.service_layer.event_store import (
    DuplicateEvent,
    EventStore,
    LogPosition,
    StreamAppend,
)

CONTEXT = CommandContext(
    actor=Actor(kind=ActorKind.AGENT, id="contract", role="agent"), correlation_id=uuid.uuid4()
)
T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def batch(
    stream_id: uuid.UUID, expected: int | None, *tags: str, event_id: uuid.UUID | None = None
) -> StreamAppend:
    """Events adding ``tags`` (one event each) to a ticket stream expected at ``expected``."""
    envelopes = [
        envelope_for(
            TagsChanged(added=(tag,)),
            stream_id=stream_id,
            stream_version=(expected or 0) + offset,
            context=CONTEXT,
            occurred_at=T0,
            event_id=event_id if offset == 1 else None,
        )
        for offset, tag in enumerate(tags, start=1)
    ]
    return StreamAppend(stream_id, "ticket", expected, envelopes)


def added(recorded: list) -> list[str]:  # type: ignore[type-arg]
    return [tag for r in recorded for tag in r.envelope.data["added"]]


class EventStoreContract:
    """What every ``EventStore`` promises; subclasses name the adapter in ``event_store``."""

    @pytest.fixture
    def event_store(self) -> EventStore:
        raise NotImplementedError

    async def test_a_new_stream_counts_its_versions_from_one(self, event_store: EventStore) -> None:
        stream = uuid.uuid4()
        versions = await event_store.append([batch(stream, 0, "a", "b")], traceparent="00-t")
        assert versions == {stream: 2}
        recorded = await event_store.read_stream(stream)
        assert [r.envelope.stream_version for r in recorded] == [1, 2]
        assert added(recorded) == ["a", "b"]
        assert {r.envelope.stream_type for r in recorded} == {"ticket"}
        assert recorded[0].envelope.payload() == TagsChanged(added=("a",))
        assert recorded[0].traceparent == "00-t"
        assert recorded[0].log_position < recorded[1].log_position

    async def test_stream_heads_are_their_types_and_versions(self, event_store: EventStore) -> None:
        stream, other, missing = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        assert await event_store.stream_heads([stream, missing]) == {}
        await event_store.append([batch(stream, 0, "a", "b"), batch(other, 0, "x")])
        await event_store.append([batch(stream, 2, "c")])
        assert await event_store.stream_heads([stream, other, missing]) == {
            stream: ("ticket", 3),
            other: ("ticket", 1),
        }

    async def test_an_append_continues_where_the_stream_is(self, event_store: EventStore) -> None:
        stream = uuid.uuid4()
        await event_store.append([batch(stream, 0, "a")])
        assert await event_store.append([batch(stream, 1, "b")]) == {stream: 2}
        assert await event_store.append([batch(stream, None, "c")]) == {stream: 3}
        assert added(await event_store.read_stream(stream)) == ["a", "b", "c"]

    async def test_a_stale_version_is_a_conflict_and_writes_nothing(
        self, event_store: EventStore
    ) -> None:
        stream, other = uuid.uuid4(), uuid.uuid4()
        await event_store.append([batch(stream, 0, "a")])
        with pytest.raises(VersionConflict) as conflict:
            await event_store.append([batch(other, 0, "x"), batch(stream, 0, "b")])
        assert (conflict.value.expected, conflict.value.actual) == (0, 1)
        assert added(await event_store.read_stream(stream)) == ["a"]
        assert await event_store.read_stream(other) == []  # the whole batch was refused

    async def test_several_streams_append_at_once(self, event_store: EventStore) -> None:
        one, two = uuid.uuid4(), uuid.uuid4()
        versions = await event_store.append([batch(one, 0, "a", "b"), batch(two, 0, "c")])
        assert versions == {one: 2, two: 1}
        assert added(await event_store.read_stream(two)) == ["c"]

    async def test_an_event_id_is_stored_once(self, event_store: EventStore) -> None:
        stream, event_id = uuid.uuid4(), uuid.uuid4()
        await event_store.append([batch(stream, 0, "a", event_id=event_id)])
        with pytest.raises(DuplicateEvent):
            await event_store.append([batch(uuid.uuid4(), 0, "again", event_id=event_id)])
        assert added(await event_store.read_stream(stream)) == ["a"]

    async def test_a_stream_reads_up_to_a_version(self, event_store: EventStore) -> None:
        stream = uuid.uuid4()
        await event_store.append([batch(stream, 0, "a", "b", "c")])
        assert added(await event_store.read_stream(stream, up_to_version=2)) == ["a", "b"]
        assert await event_store.read_stream(uuid.uuid4()) == []

    async def test_read_ahead_serves_the_same_streams(self, event_store: EventStore) -> None:
        one, two = uuid.uuid4(), uuid.uuid4()
        await event_store.append([batch(one, 0, "a"), batch(two, 0, "b", "c")])
        async with event_store.read_ahead(one, two, None):
            assert added(await event_store.read_stream(one)) == ["a"]
            assert added(await event_store.read_stream(two, up_to_version=1)) == ["b"]

    async def test_ticket_numbers_are_fresh(self, event_store: EventStore) -> None:
        first = await event_store.next_ticket_number()
        second = await event_store.next_ticket_number()
        assert first >= 1001 and second > first

    async def test_the_log_is_read_after_a_position_in_order(self, event_store: EventStore) -> None:
        one, two = uuid.uuid4(), uuid.uuid4()
        await event_store.append([batch(one, 0, "a")])
        await event_store.append([batch(two, 0, "b"), batch(one, 1, "c")])
        start = (await event_store.read_stream(one))[0].log_position
        later = await event_store.read_after(start, limit=10_000)
        mine = [r for r in later if r.envelope.stream_id in (one, two)]
        assert added(mine) == ["b", "c"]
        assert all(r.log_position > start for r in later)
        assert start > LogPosition.start()
