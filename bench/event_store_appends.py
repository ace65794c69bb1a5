"""Event appends per second at 1, 8 and 32 concurrent writers: this project's event store
(asyncpg, advisory stream locks, xid-ordered tailing) against the `eventsourcing` library's
PostgreSQL application recorder (its default, gap-free path: LOCK TABLE … IN EXCLUSIVE MODE),
on the same PostgreSQL server in the same run. Each writer appends one event per transaction
to its own aggregate, with the expected version checked. Afterwards a tailing reader reads our
whole log and the run fails if any appended event was not read exactly once.

    python bench/event_store_appends.py [--seconds 10] [--writers 1 8 32]

Uses the PostgreSQL server in HELPDESK_BENCH_POSTGRES (a DSN to a database with CREATE DATABASE
rights) or starts a throwaway local one (helpdesk_devstack.LocalPostgres).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import asyncpg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from machine import describe

from helpdesk_events import Actor, ActorKind, EventEnvelope, StatusChanged, encode_envelope
from ticket_service.adapters.event_store import (
    LogPosition,
    PostgresEventStore,
    StreamAppend,
    create_pool,
)
from ticket_service.adapters.migrate import upgrade
from ticket_service.service_layer.context import CommandContext, envelope_for

ACTOR = Actor(kind=ActorKind.AGENT, id="bench-agent", role="agent")


def envelope(stream_id: uuid.UUID, version: int) -> EventEnvelope:
    return envelope_for(
        StatusChanged(from_status="Open", to_status="Pending", reason="waiting for the vendor"),
        stream_id=stream_id,
        stream_version=version,
        context=CommandContext(actor=ACTOR, correlation_id=uuid.uuid4()),
        occurred_at=datetime.now(UTC),
    )


async def ours(database_url: str, writers: int, seconds: float) -> tuple[int, set[uuid.UUID]]:
    pool = await create_pool(database_url, min_size=writers, max_size=writers)
    store = PostgresEventStore(pool)
    appended: set[uuid.UUID] = set()
    deadline = time.perf_counter() + seconds

    async def writer() -> None:
        stream = uuid.uuid4()
        version = 0
        while time.perf_counter() < deadline:
            event = envelope(stream, version + 1)
            await store.append([StreamAppend(stream, "ticket", version, [event])])
            appended.add(event.event_id)
            version += 1

    await asyncio.gather(*(writer() for _ in range(writers)))
    await pool.close()
    return len(appended), appended


def theirs(recorder: PostgresApplicationRecorder, writers: int, seconds: float) -> int:
    counts = [0] * writers
    deadline = time.perf_counter() + seconds
    state = encode_envelope(envelope(uuid.uuid4(), 1))  # same payload size as ours

    def writer(index: int) -> None:
        aggregate = uuid.uuid4()
        version = 0
        while time.perf_counter() < deadline:
            version += 1
            recorder.insert_events([StoredEvent(aggregate, version, "bench:StatusChanged", state)])
            counts[index] += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts)


async def read_whole_log(database_url: str) -> list[uuid.UUID]:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    store = PostgresEventStore(pool)
    seen: list[uuid.UUID] = []
    position = LogPosition.start()
    while batch := await store.read_after(position, limit=5000):
        seen.extend(r.envelope.event_id for r in batch)
        position = batch[-1].log_position
    await pool.close()
    return seen


async def create_database(server_dsn: str, name: str) -> str:
    connection = await asyncpg.connect(server_dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return urlparse(server_dsn)._replace(path=f"/{name}").geturl()


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    if dsn := os.environ.get("HELPDESK_BENCH_POSTGRES"):
        yield dsn
        return
    from helpdesk_devstack.postgres import LocalPostgres
    from helpdesk_devstack.procs import free_port

    with tempfile.TemporaryDirectory(prefix="bench-pg-") as home:
        server = LocalPostgres(Path(home) / "data", port=free_port())
        server.start()
        try:
            yield server.dsn("postgres")
        finally:
            server.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()
    print(f"machine: {describe()}")
    with postgres_server() as server_dsn:
        ours_url = await create_database(server_dsn, "bench_ours")
        await asyncio.to_thread(upgrade, ours_url)
        theirs_url = urlparse(await create_database(server_dsn, "bench_eventsourcing"))
        datastore = PostgresDatastore(
            dbname=theirs_url.path.lstrip("/"),
            host=theirs_url.hostname or "127.0.0.1",
            port=theirs_url.port or 5432,
            user=theirs_url.username or "postgres",
            password=theirs_url.password or "",
            pool_size=max(args.writers),
            max_overflow=0,
        )
        recorder = PostgresApplicationRecorder(datastore, events_table_name="stored_events")
        recorder.create_table()

        print(f"{'writers':>7} | {'ours appends/s':>14} | {'eventsourcing appends/s':>23} | ratio")
        total: set[uuid.UUID] = set()
        for writers in args.writers:
            count, appended = await ours(ours_url, writers, args.seconds)
            total |= appended
            their_count = await asyncio.to_thread(theirs, recorder, writers, args.seconds)
            ours_rate, their_rate = count / args.seconds, their_count / args.seconds
            print(
                f"{writers:>7} | {ours_rate:>14,.0f} | {their_rate:>23,.0f} | "
                f"{ours_rate / their_rate:.1f}x"
            )
        datastore.close()
        seen = await read_whole_log(ours_url)
        skipped = total - set(seen)
        duplicates = len(seen) - len(set(seen))
        print(
            f"tail check: {len(total):,} appended, {len(seen):,} read, "
            f"{len(skipped)} skipped, {duplicates} read twice"
        )
        if skipped or duplicates:
            raise SystemExit("the tailing reader skipped or repeated events")


if __name__ == "__main__":
    asyncio.run(main())
