"""The outbox relay on the real Kafka and PostgreSQL: delivery, order, outages, crashes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from helpdesk_events import EventEnvelope
from helpdesk_events.topics import TICKETS
from helpdesk_platform.telemetry import setup_telemetry
from ticket_service.adapters.event_store import PostgresEventStore, StreamAppend
from ticket_service.adapters.kafka_relay import OutboxRelay
from ticket_service.settings import Settings

from .conftest import bearer, consume_until, wait_for
from .test_event_store import event

pytestmark = pytest.mark.integration

Message = tuple[EventEnvelope, dict[str, bytes], bytes | None]


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    setup_telemetry("ticket-service-tests", extra_processors=(SimpleSpanProcessor(exporter),))
    return exporter


async def run_relay(
    store: PostgresEventStore, pool: asyncpg.Pool, bootstrap: str, name: str
) -> tuple[OutboxRelay, asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    relay = OutboxRelay(store, pool, bootstrap, name=name, max_backoff_seconds=1.0)
    return relay, stop, asyncio.create_task(relay.run(stop))


@pytest.fixture
async def relay(
    store: PostgresEventStore, pool: asyncpg.Pool, kafka_bootstrap: str
) -> AsyncIterator[OutboxRelay]:
    relay, stop, task = await run_relay(store, pool, kafka_bootstrap, "kafka-relay")
    yield relay
    stop.set()
    await asyncio.wait_for(task, 30)


def first_occurrences(messages: list[Message]) -> dict[uuid.UUID, list[int]]:
    """Per stream, the versions in the order they first arrived (duplicates dropped by id)."""
    seen: set[uuid.UUID] = set()
    versions: dict[uuid.UUID, list[int]] = defaultdict(list)
    for envelope, _headers, _key in messages:
        if envelope.event_id not in seen:
            seen.add(envelope.event_id)
            versions[envelope.stream_id].append(envelope.stream_version)
    return versions


def assert_complete_and_ordered(messages: list[Message], expected: dict[uuid.UUID, int]) -> None:
    versions = first_occurrences(messages)
    for stream, count in expected.items():
        assert versions[stream] == list(range(1, count + 1)), f"stream {stream}: {versions[stream]}"


async def test_created_ticket_reaches_kafka_with_key_headers_and_trace(
    api: httpx.AsyncClient,
    token: Callable[..., str],
    relay: OutboxRelay,
    kafka_bootstrap: str,
    spans: InMemorySpanExporter,
) -> None:
    created = await api.post(
        "/tickets",
        json={"subject": "Invoice shows the wrong tax", "priority": "Urgent"},
        headers=bearer(token("agent", subject="agent-7")),
    )
    assert created.status_code == 201
    ticket_id = uuid.UUID(created.json()["id"])

    messages = await consume_until(
        kafka_bootstrap, TICKETS, lambda seen: any(e.stream_id == ticket_id for e, _, _ in seen)
    )
    envelope, headers, key = next(m for m in messages if m[0].stream_id == ticket_id)
    assert key == str(ticket_id).encode()
    assert (envelope.event_type, envelope.stream_version, envelope.stream_type) == (
        "TicketCreated",
        1,
        "ticket",
    )
    assert envelope.actor.id == "agent-7" and envelope.actor.role == "agent"
    assert envelope.data["subject"] == "Invoice shows the wrong tax"
    assert headers["event_type"] == b"TicketCreated"
    assert headers["event_id"] == str(envelope.event_id).encode()
    # The Kafka message continues the trace of the HTTP request that created the ticket.
    trace_id = headers["traceparent"].decode().split("-")[1]
    request_spans = [
        s
        for s in spans.get_finished_spans()
        if s.attributes and s.attributes.get("http.route") == "/tickets"
    ]
    assert trace_id in {format(s.context.trace_id, "032x") for s in request_spans}
    publish = [
        s
        for s in spans.get_finished_spans()
        if s.name == f"publish {TICKETS}" and format(s.context.trace_id, "032x") == trace_id
    ]
    assert publish and publish[0].parent is not None


async def test_kafka_down_under_writes_then_back_delivers_everything_in_order(
    make_database: Callable[[str], str],
    private_kafka_factory: Callable[[], Any],
) -> None:
    """Kafka is killed while tickets keep changing; once it is back, all events arrive."""
    from ticket_service.adapters.event_store import create_pool
    from ticket_service.adapters.migrate import upgrade

    kafka = private_kafka_factory()
    url = make_database("outage")
    await asyncio.to_thread(upgrade, url)
    pool = await create_pool(url, max_size=10)
    store = PostgresEventStore(pool)
    relay, stop, task = await run_relay(store, pool, kafka.bootstrap, "outage-relay")
    streams = [uuid.uuid4() for _ in range(20)]
    counts: dict[uuid.UUID, int] = defaultdict(int)

    async def write(rounds: int) -> None:
        for _ in range(rounds):
            for s in streams:
                await store.append(
                    [StreamAppend(s, "ticket", counts[s], [event(s, counts[s] + 1)])]
                )
                counts[s] += 1

    try:
        await write(3)
        await wait_for(lambda: _published(relay, 60), 30)
        await asyncio.to_thread(kafka.kill)
        await write(5)  # commands keep being accepted while Kafka is down
        assert relay.published == 60
        await asyncio.to_thread(kafka.start)
        await write(2)
        await wait_for(lambda: _published(relay, 200), 90)
        messages = await consume_until(
            kafka.bootstrap,
            TICKETS,
            lambda seen: len({e.event_id for e, _, _ in seen}) >= 200,
            timeout=60,
        )
        assert len({e.event_id for e, _, _ in messages}) == 200
        assert_complete_and_ordered(messages, counts)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await pool.close()


async def _published(relay: OutboxRelay, at_least: int) -> bool:
    return relay.published >= at_least


async def test_relay_killed_mid_batch_loses_nothing(
    make_database: Callable[[str], str],
    private_kafka_factory: Callable[[], Any],
    settings: Settings,
) -> None:
    """A relay process is killed with SIGKILL while publishing a backlog; the next one
    resumes from the checkpoint and every event reaches Kafka, in order per ticket.

    On a Kafka of its own: on the session's, its 10,000 events would sit ahead of every later
    test's in the ticket topic, and each service those tests start reads that topic."""
    kafka_bootstrap = private_kafka_factory().bootstrap
    from ticket_service.adapters.event_store import create_pool
    from ticket_service.adapters.migrate import upgrade

    url = make_database("relaycrash")
    await asyncio.to_thread(upgrade, url)
    pool = await create_pool(url, max_size=10)
    store = PostgresEventStore(pool)
    streams = [uuid.uuid4() for _ in range(200)]
    per_stream = 50  # 10,000 events of backlog
    for s in streams:
        await store.append(
            [StreamAppend(s, "ticket", 0, [event(s, v) for v in range(1, per_stream + 1)])]
        )
    env = os.environ | {
        "HELPDESK_DATABASE_URL": url,
        "HELPDESK_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "HELPDESK_RELAY_BATCH_SIZE": "500",
        "HELPDESK_RELAY_NAME": "crash-relay",
    }

    def start_relay() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "ticket_service", "relay"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def checkpoint() -> int:
        row = await pool.fetchval(
            "SELECT count(*) FROM events e, outbox_checkpoints c WHERE c.consumer = 'crash-relay'"
            " AND (e.transaction_id, e.position) <= (c.transaction_id, c.position)"
        )
        return int(row)

    try:
        first = start_relay()
        await wait_for(lambda: _above(checkpoint, 0), 60)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        published_before_kill = await checkpoint()
        assert 0 < published_before_kill < len(streams) * per_stream, "kill was not mid-backlog"

        second = start_relay()
        try:
            await wait_for(lambda: _above(checkpoint, len(streams) * per_stream - 1), 120)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)
        wanted = set(streams)
        messages = await consume_until(
            kafka_bootstrap,
            TICKETS,
            lambda seen: (
                len({e.event_id for e, _, _ in seen if e.stream_id in wanted})
                >= len(streams) * per_stream
            ),
            timeout=120,
        )
        mine = [m for m in messages if m[0].stream_id in wanted]
        assert len({e.event_id for e, _, _ in mine}) == len(streams) * per_stream
        assert_complete_and_ordered(mine, dict.fromkeys(streams, per_stream))
    finally:
        await pool.close()


async def _above(counter: Callable[[], Any], threshold: int) -> bool:
    return bool(await counter() > threshold)
