"""SLA timers at scale: the SLA worker (``python -m sla_service worker``) with N active timers.

On a private Kafka (started here; or ``--bootstrap`` for one that runs), it produces N
``TicketCreated`` envelopes straight to ``helpdesk.tickets.v1`` (priority Low: targets of days,
so every one is an active timer that is not due), and measures:

* the time until the worker has consumed them all (an ``SlaTargetsSet`` each on helpdesk.sla.v1);
* the worker's RSS (``/proc/<pid>/status``) with N tickets tracked;
* breach lateness (``SlaBreached`` read off helpdesk.sla.v1 minus its ``due_at``) for a batch of
  Urgent tickets (first response 1 h, back-dated so that they fall due evenly in a window)
  while the N timers are active;
* recovery after ``kill -9``: until ``/readyz`` answers 200 and the worker logs
  ``due index rebuilt`` with every ticket - with the data directory (its RocksDB tables) kept,
  then once more with it wiped (the whole changelog read; ``--no-wipe`` skips it); a batch
  falling due while the worker is down is breached after the restart, and one more batch
  measures lateness after it;
* every breach once: by event id and by (ticket, metric).

    python bench/sla_timers.py --tickets 100000 --batch 2000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe
from workers import Worker, free_port, private_kafka, until

from helpdesk_devstack.kafka import LocalKafka, ensure_topics
from helpdesk_events import (
    Actor,
    ActorKind,
    EventEnvelope,
    TicketCreated,
    encode_envelope,
    kafka_headers,
)
from helpdesk_events.topics import SLA, TICKETS

DAY = 86_400
POLICY = {
    "name": "Bench",
    "targets": {
        "Low": {"first_response": 10 * DAY, "resolution": 30 * DAY},
        "Urgent": {"first_response": 3600, "resolution": 30 * DAY},
    },
    "default_priority": "Low",
}
CALENDAR = {"time_zone": "UTC", "always_open": True}
ACTOR = Actor(kind=ActorKind.CUSTOMER, id="bench")


def created(number: int, priority: str, occurred_at: datetime) -> EventEnvelope:
    ticket_id = uuid.uuid4()
    event = TicketCreated(
        subject=f"Cannot log in to the portal ({number})",
        description="Since this morning the portal says my password is wrong.",
        requester_email=f"customer{number}@example.co.id",
        requester_name=f"Customer {number}",
        channel="email",
        status="New",
        status_category="new",  # type: ignore[arg-type]
        priority=priority,
        tags=("login", "portal"),
        number=number,
        type="Checking Issue",
        category="ISSUE",
    )
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=ticket_id,
        stream_type=event.stream_type,
        stream_version=1,
        occurred_at=occurred_at,
        actor=ACTOR,
        correlation_id=uuid.uuid4(),
        data=event.model_dump(mode="json"),
    )


async def produce(producer: AIOKafkaProducer, envelopes: list[EventEnvelope]) -> None:
    pending = []
    for envelope in envelopes:
        pending.append(
            await producer.send(
                TICKETS,
                encode_envelope(envelope),
                key=str(envelope.stream_id).encode(),
                headers=kafka_headers(envelope, None),
            )
        )
        if len(pending) >= 5000:
            await asyncio.gather(*pending)
            pending.clear()
    await asyncio.gather(*pending)


@dataclass
class SlaReader:
    """Follows helpdesk.sla.v1 from the start: counts SlaTargetsSet, keeps every SlaBreached."""

    bootstrap: str
    targets_set: int = 0
    breaches: list[tuple[str, str, str, datetime, float]] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [TopicPartition(SLA, p) for p in consumer.partitions_for_topic(SLA) or ()]
            while not partitions:
                await consumer.topics()
                partitions = [
                    TopicPartition(SLA, p) for p in consumer.partitions_for_topic(SLA) or ()
                ]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=100, max_records=5000)
                for records in batches.values():
                    for record in records:
                        kind = dict(record.headers).get("event_type", b"")
                        if kind == b"SlaTargetsSet":
                            self.targets_set += 1
                        elif kind == b"SlaBreached":
                            body = orjson.loads(record.value or b"{}")
                            data = body["data"]
                            due = datetime.fromisoformat(data["due_at"])
                            self.breaches.append(
                                # When the worker produced it (Kafka's CreateTime), not when
                                # this reader - starved on a loaded machine - got to it.
                                (
                                    body["event_id"],
                                    data["ticket_id"],
                                    data["metric"],
                                    due,
                                    record.timestamp / 1000,
                                )
                            )
        finally:
            await consumer.stop()


def rebuilt_with(worker: Worker, since: int) -> int | None:
    """Tickets in the last ``due index rebuilt`` line the worker logged after ``since``."""
    with worker.log_path.open("rb") as log:
        log.seek(since)
        lines = [line for line in log.read().splitlines() if b"due index rebuilt" in line]
    found = re.findall(rb'"tickets": (\d+)', lines[-1]) if lines else []
    return int(found[-1]) if found else None


def lateness(breaches: list[tuple[str, str, str, datetime, float]], tickets: set[str]) -> str:
    late = sorted(
        (read - due.timestamp()) * 1000 for _, t, _, due, read in breaches if t in tickets
    )
    if not late:
        return "none read"
    p = statistics.quantiles(late, n=100, method="inclusive") if len(late) > 1 else late * 99
    return f"{len(late)} breaches: p50 {p[49]:.0f} ms, p99 {p[98]:.0f} ms, max {late[-1]:.0f} ms"


def by_ticket_metric(breaches: list[tuple[str, str, str, datetime, float]]) -> Counter[object]:
    """Distinct breach ids per (ticket, metric): more than one would be a duplicate breach."""
    return Counter((ticket, metric) for _, ticket, metric in {b[:3] for b in breaches})


def urgent_batch(start: int, count: int, first_due: datetime, window: float) -> list[EventEnvelope]:
    """Urgent tickets (first response 1 h) back-dated so they fall due evenly in the window."""
    return [
        created(
            start + i,
            "Urgent",
            first_due + timedelta(seconds=window * i / count) - timedelta(hours=1),
        )
        for i in range(count)
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000, help="active timers (Low)")
    parser.add_argument("--batch", type=int, default=2000, help="breaches per measured window")
    parser.add_argument("--window", type=float, default=20.0, help="seconds a batch falls due over")
    parser.add_argument("--bootstrap", help="a running Kafka (default: start a private one)")
    parser.add_argument("--heap", default="1g", help="heap of the private Kafka")
    parser.add_argument(
        "--no-wipe", action="store_true", help="skip the restart with the data directory wiped"
    )
    args = parser.parse_args()
    print(describe())

    kafka: LocalKafka | None = None
    home = Path(tempfile.mkdtemp(prefix="sla-bench-"))
    bootstrap = args.bootstrap
    if bootstrap is None:
        kafka = private_kafka(home, args.heap)
        bootstrap = kafka.bootstrap
    ensure_topics(bootstrap)
    port = free_port()
    data_dir = home / "worker"  # the worker's RocksDB tables
    env = os.environ | {
        "HELPDESK_KAFKA_BOOTSTRAP": bootstrap,
        "HELPDESK_SLA_APP_ID": f"sla-bench-{uuid.uuid4().hex[:6]}",
        "HELPDESK_SLA_HTTP_PORT": str(port),
        "HELPDESK_SLA_DATA_DIR": str(data_dir),
        "HELPDESK_SLA_POLICY": orjson.dumps(POLICY).decode(),
        "HELPDESK_SLA_CALENDAR": orjson.dumps(CALENDAR).decode(),
    }
    worker = Worker("sla_service", env, home / "worker.log", port)
    reader = SlaReader(bootstrap)
    stop = asyncio.Event()
    reading = asyncio.create_task(reader.run(stop))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20,
                                max_batch_size=256 * 1024)  # fmt: skip
    await producer.start()
    try:
        print(f"kafka {bootstrap}; worker port {port}; logs {home}")
        worker.start()
        await until(worker.ready, 180, "worker ready")
        rss_empty = worker.rss_mib()
        now = datetime.now(UTC)
        background = [created(i + 1, "Low", now) for i in range(args.tickets)]
        began = time.monotonic()
        await produce(producer, background)
        produced = time.monotonic() - began
        cpu0 = worker.cpu_seconds()
        consumed = await until(lambda: reader.targets_set >= args.tickets, 3600, "consume")
        consumed += produced
        cpu = worker.cpu_seconds() - cpu0
        await asyncio.sleep(2)
        rss_full = worker.rss_mib()
        print(f"produced {args.tickets:,} TicketCreated in {produced:.1f} s")
        print(
            f"worker: {args.tickets:,} consumed (SlaTargetsSet each) {consumed:.1f} s after the "
            f"first was sent ({args.tickets / consumed:,.0f}/s)"
        )
        print(f"worker RSS: {rss_empty:.0f} MiB empty, {rss_full:.0f} MiB with "
              f"{args.tickets:,} tickets tracked")  # fmt: skip

        total = args.tickets
        # A: falls due while N timers are active.
        first_due = datetime.now(UTC) + timedelta(seconds=10)
        batch_a = urgent_batch(total + 1, args.batch, first_due, args.window)
        total += len(batch_a)
        await produce(producer, batch_a)
        a_ids = {str(e.stream_id) for e in batch_a}
        await until(lambda: sum(1 for b in reader.breaches if b[1] in a_ids) >= len(a_ids),
                    args.window + 120, "batch A breached")  # fmt: skip
        print(f"A (before restart): {lateness(reader.breaches, a_ids)}")

        # B: falls due while the worker is down and recovering.
        first_due = datetime.now(UTC) + timedelta(seconds=8)
        batch_b = urgent_batch(total + 1, args.batch // 2, first_due, 5.0)
        total += len(batch_b)
        await produce(producer, batch_b)
        b_ids = {str(e.stream_id) for e in batch_b}
        await until(lambda: reader.targets_set >= total, 120, "batch B tracked")
        log_mark = worker.log_path.stat().st_size
        worker.kill()
        killed = time.monotonic()
        worker.start()
        ready = (
            await until(worker.ready, 900, "ready after kill -9") + (time.monotonic() - killed) * 0
        )
        ready = time.monotonic() - killed
        await until(lambda: (rebuilt_with(worker, log_mark) or 0) >= total, 900, "index rebuilt")
        rebuilt = time.monotonic() - killed
        print(
            f"recovery after kill -9 (restart at once, data directory kept): /readyz 200 after "
            f"{ready:.1f} s, due index rebuilt with {rebuilt_with(worker, log_mark):,} tickets "
            f"after {rebuilt:.1f} s"
        )
        await until(lambda: sum(1 for b in reader.breaches if b[1] in b_ids) >= len(b_ids),
                    120, "batch B breached")  # fmt: skip
        print(f"B (due while down): {lateness(reader.breaches, b_ids)}")

        # W: kill -9 again and wipe the data directory (a new volume): the whole changelog.
        if not args.no_wipe:
            await asyncio.sleep(3)
            log_mark = worker.log_path.stat().st_size
            worker.kill()
            shutil.rmtree(data_dir, ignore_errors=True)
            killed = time.monotonic()
            worker.start()
            await until(worker.ready, 1800, "ready after kill -9 with the data directory wiped")
            ready = time.monotonic() - killed
            await until(lambda: (rebuilt_with(worker, log_mark) or 0) >= total, 900,
                        "index rebuilt after the wipe")  # fmt: skip
            rebuilt = time.monotonic() - killed
            print(
                f"recovery after kill -9 with the data directory wiped: /readyz 200 after "
                f"{ready:.1f} s, due index rebuilt with {rebuilt_with(worker, log_mark):,} "
                f"tickets after {rebuilt:.1f} s"
            )

        # C: falls due after the restart.
        first_due = datetime.now(UTC) + timedelta(seconds=10)
        batch_c = urgent_batch(total + 1, args.batch, first_due, args.window)
        total += len(batch_c)
        await produce(producer, batch_c)
        c_ids = {str(e.stream_id) for e in batch_c}
        await until(lambda: sum(1 for b in reader.breaches if b[1] in c_ids) >= len(c_ids),
                    args.window + 120, "batch C breached")  # fmt: skip
        await asyncio.sleep(3)
        print(f"C (after restart): {lateness(reader.breaches, c_ids)}")
        print(f"worker RSS after recovery with {total:,} tickets: {worker.rss_mib():.0f} MiB")

        by_id = Counter(b[0] for b in reader.breaches)
        read_twice = sum(1 for n in by_id.values() if n > 1)
        two_ids = sum(1 for n in by_ticket_metric(reader.breaches).values() if n > 1)
        wanted = a_ids | b_ids | c_ids
        missing = wanted - {b[1] for b in reader.breaches}
        unexpected = {b[1] for b in reader.breaches} - wanted
        print(
            f"breaches read {len(reader.breaches):,}; distinct event ids {len(by_id):,}; "
            f"same event id read twice {read_twice}; "
            f"(ticket, metric) breached under two different ids {two_ids}; "
            f"lost {len(missing)}; unexpected {len(unexpected)}"
        )
        print(
            f"worker CPU for the {args.tickets:,}: {cpu:.1f} s "
            f"({cpu / args.tickets * 1000:.2f} ms each)"
        )
    finally:
        worker.stop()
        stop.set()
        await reading
        await producer.stop()
        if kafka is not None:
            kafka.kill()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
