"""Agents answering by email: what the mail gateway's directory costs (issue #14 item 4).

Every mail asks the gateway's store whether its sender is an active agent, and a new gateway
(a new consumer group) folds the whole directory topic once. This measures both on a throwaway
PostgreSQL with the gateway's own code (``AgentDirectory``): the gateway process's CPU and the
wall time per lookup (agents and non-agents alike), and the rate at which directory events are
folded.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from machine import describe

from helpdesk_events import Actor, ActorKind, EventEnvelope
from mail_gateway.adapters.directory import AgentDirectory
from mail_gateway.adapters.store import create_pool


def envelope(agent_id: uuid.UUID, event_type: str, version: int, **data: str) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event_type,
        schema_version=1,
        stream_id=agent_id,
        stream_type="agent",
        stream_version=version,
        occurred_at=datetime.now(UTC),
        actor=Actor(kind=ActorKind.AGENT, id="bench", role="manager"),
        correlation_id=uuid.uuid4(),
        data=data,
    )


async def measure(dsn: str, agents: int, lookups: int) -> None:
    pool = await create_pool(dsn, max_size=4)
    directory = AgentDirectory(pool)
    ids = [uuid.uuid4() for _ in range(agents)]
    events = [
        envelope(i, "AgentInvited", 1, email=f"agent{n}@staff.example", name=f"A{n}", role="agent")
        for n, i in enumerate(ids)
    ] + [envelope(i, "AgentDeactivated", 2) for i in ids[: agents // 10]]
    started, cpu = time.perf_counter(), time.process_time()
    for event in events:
        await directory.on_event(event)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"fold: {len(events)} directory events in {wall:.2f}s ({len(events) / wall:.0f}/s), "
        f"{cpu / len(events) * 1000:.3f} ms CPU each"
    )
    senders = [f"agent{n % agents}@staff.example" for n in range(lookups // 2)] + [
        f"customer{n}@customer.example" for n in range(lookups // 2)
    ]
    times: list[float] = []
    found = 0
    cpu = time.process_time()
    for sender in senders:
        started = time.perf_counter()
        found += await directory.active_agent(sender) is not None
        times.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu
    times.sort()
    p50, p99 = statistics.median(times) * 1000, times[int(len(times) * 0.99)] * 1000
    print(
        f"lookup: {len(senders)} senders ({found} active agents): "
        f"{cpu / len(senders) * 1000:.3f} ms CPU each; wall p50 {p50:.2f} ms, p99 {p99:.2f} ms"
    )
    await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--lookups", type=int, default=4000)
    args = parser.parse_args()

    from helpdesk_devstack.postgres import LocalPostgres, create_database, database_dsn
    from helpdesk_devstack.procs import free_port

    print("machine:", describe())
    with tempfile.TemporaryDirectory(prefix="bench-agents-") as home:
        postgres = LocalPostgres(Path(home) / "pg", port=free_port())
        postgres.start()
        try:
            server = postgres.dsn("postgres")
            create_database(server, "gateway")
            asyncio.run(measure(database_dsn(server, "gateway"), args.agents, args.lookups))
        finally:
            postgres.stop()


if __name__ == "__main__":
    main()
