"""The event log on the real PostgreSQL: appends, conflicts, and gap-free tailing."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime

import asyncpg
import pytest

from helpdesk_events import Actor, ActorKind, EventEnvelope, StatusChanged
from ticket_service.adapters.event_store import (
    DuplicateEvent,
    LogPosition,
    PostgresEventStore,
    RecordedEvent,
    StreamAppend,
)
from ticket_service.domain.errors import VersionConflict
from ticket_service.service_layer.context import CommandContext, envelope_for

pytestmark = pytest.mark.integration

ACTOR = Actor(kind=ActorKind.SYSTEM, id="test")


def event(stream_id: uuid.UUID, version: int, note: str = "") -> EventEnvelope:
    return envelope_for(
        StatusChanged(from_status="Open", to_status="Pending", reason=note or None),
        stream_id=stream_id,
        stream_version=version,
        context=CommandContext(actor=ACTOR, correlation_id=uuid.uuid4()),
        occurred_at=datetime.now(UTC),
    )


async def test_append_and_read_back(store: PostgresEventStore) -> None:
    stream = uuid.uuid4()
    first, second = event(stream, 1), event(stream, 2)
    versions = await store.append(
        [StreamAppend(stream, "ticket", 0, [first, second])], traceparent="00-abc-def-01"
    )
    assert versions == {stream: 2}
    recorded = await store.read_stream(stream)
    assert [r.envelope for r in recorded] == [first, second]
    assert [r.traceparent for r in recorded] == ["00-abc-def-01"] * 2
    assert [
        r.envelope.stream_version for r in await store.read_stream(stream, up_to_version=1)
    ] == [1]


async def test_read_ahead_serves_its_streams_as_they_were_in_its_block_and_task(
    store: PostgresEventStore,
) -> None:
    ticket, agent, unknown = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await store.append(
        [
            StreamAppend(ticket, "ticket", 0, [event(ticket, 1), event(ticket, 2)]),
            StreamAppend(agent, "agent", 0, [event(agent, 1)]),
        ]
    )
    go = asyncio.Event()
    elsewhere: list[int] = []

    async def read_when_told() -> None:
        await go.wait()
        elsewhere.append(len(await store.read_stream(ticket)))

    other_decision = asyncio.create_task(read_when_told())  # started before the block
    async with store.read_ahead(ticket, agent, None, unknown):
        # Appended after the read ahead: the block keeps what it read (the append of a
        # decision made on it still checks the version it saw).
        await store.append([StreamAppend(ticket, "ticket", 2, [event(ticket, 3)])])
        assert [r.envelope.stream_version for r in await store.read_stream(ticket)] == [1, 2]
        assert len(await store.read_stream(ticket, up_to_version=1)) == 1
        assert len(await store.read_stream(agent)) == 1
        assert await store.read_stream(unknown) == []
        go.set()
        await other_decision
        assert elsewhere == [3]  # another task reads the log as it is now
        with pytest.raises(VersionConflict):
            await store.append([StreamAppend(ticket, "ticket", 2, [event(ticket, 3)])])
    assert len(await store.read_stream(ticket)) == 3


async def test_stale_expected_version_is_a_conflict_and_writes_nothing(
    store: PostgresEventStore,
) -> None:
    stream = uuid.uuid4()
    await store.append([StreamAppend(stream, "ticket", 0, [event(stream, 1)])])
    with pytest.raises(VersionConflict) as conflict:
        await store.append([StreamAppend(stream, "ticket", 0, [event(stream, 1)])])
    assert (conflict.value.expected, conflict.value.actual) == (0, 1)
    assert len(await store.read_stream(stream)) == 1


async def test_multi_stream_append_is_all_or_nothing(store: PostgresEventStore) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    await store.append([StreamAppend(b, "ticket", 0, [event(b, 1)])])
    with pytest.raises(VersionConflict):
        await store.append(
            [
                StreamAppend(a, "ticket", 0, [event(a, 1)]),
                StreamAppend(b, "ticket", 0, [event(b, 1)]),  # stale: b is at 1
            ]
        )
    assert await store.read_stream(a) == []
    assert await store.append(
        [StreamAppend(a, "ticket", 0, [event(a, 1)]), StreamAppend(b, "ticket", 1, [event(b, 2)])]
    ) == {a: 1, b: 2}


async def test_a_retried_event_id_is_recognised(store: PostgresEventStore) -> None:
    stream = uuid.uuid4()
    once = event(stream, 1)
    await store.append([StreamAppend(stream, "ticket", None, [once])])
    with pytest.raises(DuplicateEvent):
        await store.append([StreamAppend(stream, "ticket", None, [once])])


async def test_append_must_be_the_first_write_of_its_transaction(
    pool: asyncpg.Pool, store: PostgresEventStore
) -> None:
    stream = uuid.uuid4()
    async with pool.acquire() as connection:
        with pytest.raises(asyncpg.PostgresError, match="first write of its transaction"):
            async with connection.transaction():
                await connection.execute(
                    "INSERT INTO outbox_checkpoints VALUES ($1, '1', 1)", str(stream)
                )
                await store.append(
                    [StreamAppend(stream, "ticket", 0, [event(stream, 1)])], connection=connection
                )


async def test_checkpoints_round_trip(store: PostgresEventStore) -> None:
    name = f"test-{uuid.uuid4()}"
    assert await store.load_checkpoint(name) == LogPosition.start()
    await store.save_checkpoint(name, LogPosition(2**40, 17))
    assert await store.load_checkpoint(name) == LogPosition(2**40, 17)


async def test_tailing_reader_never_skips_late_commits_and_keeps_stream_order(
    pool: asyncpg.Pool, store: PostgresEventStore
) -> None:
    """12 concurrent writers on 24 shared streams, some holding their transaction open after
    appending (so later positions commit first), some appending to several streams at once;
    a reader tails the log meanwhile in small batches. It must see every committed event
    exactly once, each stream in version order."""
    streams = [uuid.uuid4() for _ in range(24)]
    writers, appends_per_writer = 12, 40
    committed: list[uuid.UUID] = []
    start = await _log_end(pool)
    writers_done = asyncio.Event()

    async def writer(seed: int) -> None:
        rnd = random.Random(seed)
        for _ in range(appends_per_writer):
            chosen = rnd.sample(streams, k=rnd.choice((1, 1, 1, 2, 3)))
            while True:
                versions = await _versions(pool, chosen)
                batch = [
                    StreamAppend(
                        s,
                        "ticket",
                        versions[s],
                        [event(s, versions[s] + i + 1) for i in range(rnd.randint(1, 3))],
                    )
                    for s in chosen
                ]
                try:
                    async with pool.acquire() as connection, connection.transaction():
                        await store.append(batch, connection=connection)
                        if rnd.random() < 0.3:  # commit late, after others that started later
                            await asyncio.sleep(rnd.uniform(0.001, 0.03))
                except VersionConflict:
                    continue
                committed.extend(e.event_id for a in batch for e in a.events)
                break

    async def reader() -> list[RecordedEvent]:
        seen: list[RecordedEvent] = []
        position = start
        quiet_reads = 0
        while quiet_reads < 3:
            batch = await store.read_after(position, limit=7)
            if batch:
                seen.extend(batch)
                position = batch[-1].log_position
                continue
            quiet_reads = quiet_reads + 1 if writers_done.is_set() else 0
            await asyncio.sleep(0.002)
        return seen

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(writer(seed) for seed in range(writers)))
    writers_done.set()
    seen = await reading

    seen_ids = [r.envelope.event_id for r in seen]
    assert len(seen_ids) == len(set(seen_ids)), "an event was read twice"
    assert set(seen_ids) == set(committed), "the reader skipped committed events"
    assert len(committed) >= writers * appends_per_writer
    positions = [r.log_position for r in seen]
    assert positions == sorted(positions)
    versions_seen: dict[uuid.UUID, list[int]] = defaultdict(list)
    for r in seen:
        versions_seen[r.envelope.stream_id].append(r.envelope.stream_version)
    for stream, versions in versions_seen.items():
        assert versions == list(range(1, len(versions) + 1)), f"stream {stream} out of order"


async def _versions(pool: asyncpg.Pool, streams: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = await pool.fetch(
        "SELECT s AS stream_id, coalesce(max(e.stream_version), 0) AS version"
        " FROM unnest($1::uuid[]) AS s LEFT JOIN events e ON e.stream_id = s GROUP BY s",
        streams,
    )
    return {row["stream_id"]: row["version"] for row in rows}


async def _log_end(pool: asyncpg.Pool) -> LogPosition:
    row = await pool.fetchrow(
        "SELECT transaction_id, position FROM events ORDER BY transaction_id DESC, position DESC"
        " LIMIT 1"
    )
    return LogPosition(row["transaction_id"], row["position"]) if row else LogPosition.start()
