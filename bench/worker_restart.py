"""SLA worker restart → ``/readyz`` with N open tickets, data directory wiped and kept (issue #13).

The worker's table is what a restart has to read back, so this fills it directly: on a private
Kafka (or ``--bootstrap``), N ``sla-state`` records - a Low ticket's real state, as the worker's
tracker derives it from a ``TicketCreated``, under N ticket ids - go to the worker's changelog
topic, as a worker that had consumed N tickets would have left it (``bench/sla_timers.py`` makes
the worker consume them, which takes minutes per 100,000 on this machine). Then:

1. the worker starts with an empty data directory: it reads the whole changelog into RocksDB;
2. ``kill -9`` and a start with the directory kept: it reads only the changelog's tail;
3. Urgent tickets back-dated to fall due over ``--window`` seconds from 10 s after that restart
   are produced to ``helpdesk.tickets.v1``; breach lateness is the ``SlaBreached`` read off
   ``helpdesk.sla.v1`` minus its ``due_at``;
4. ``kill -9`` and a start with the directory wiped again.

"Ready" is ``/readyz`` 200 (partitions assigned, tables recovered, policies read, the due index
built from the table); the worker logs ``due index rebuilt`` with the ticket count.

    python bench/worker_restart.py --tickets 100000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe
from sla_timers import CALENDAR, POLICY, SlaReader, created, lateness, produce, urgent_batch
from workers import Worker, free_port, private_kafka, until

from helpdesk_devstack.kafka import LocalKafka, ensure_topics
from helpdesk_platform.kafka_topics import ensure_topics as ensure_own_topics
from sla_service.adapters.faust_app import TABLE_NAME, own_topics, stored
from sla_service.entrypoints.worker import create_worker
from sla_service.settings import SlaSettings


async def fill_changelog(bootstrap: str, settings: SlaSettings, tickets: int) -> tuple[str, float]:
    """N records of one real state under N ticket ids on the worker's changelog topic."""
    await ensure_own_topics(bootstrap, own_topics(settings))
    tracker = create_worker(settings).tracker
    outcome = tracker.apply(None, created(1, "Low", datetime.now(UTC)), 0)
    assert outcome.state is not None
    # As the worker stores it: with its next timer under the policies' digest.
    template = stored(outcome.state, tracker.next_timer(outcome.state), tracker.timer_digest)
    topic = f"{settings.app_id}-{TABLE_NAME}-changelog"
    partitions = list(range(settings.topic_partitions))
    partitioner = DefaultPartitioner()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20,
                                max_batch_size=256 * 1024)  # fmt: skip
    await producer.start()
    began = time.monotonic()
    try:
        pending = []
        for _ in range(tickets):
            ticket_id = str(uuid.uuid4())
            partition = partitioner(ticket_id.encode(), partitions, partitions)
            value = {**template, "ticket_id": ticket_id, "partition": partition}
            pending.append(
                await producer.send(
                    topic, orjson.dumps(value), key=orjson.dumps(ticket_id), partition=partition
                )
            )
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return topic, time.monotonic() - began


def rebuilt_line(worker: Worker, since: int) -> dict[str, Any]:
    """The last ``due index rebuilt`` line logged after ``since`` (empty if none)."""
    with worker.log_path.open("rb") as log:
        log.seek(since)
        found = [orjson.loads(line) for line in log if b"due index rebuilt" in line]
    return found[-1] if found else {}


def index_size(worker: Worker, since: int) -> int:
    """Tickets in the last ``due index rebuilt`` line logged after ``since`` (0 if none)."""
    return int(rebuilt_line(worker, since).get("tickets", 0))


def group_join(worker: Worker, since: int, killed_at: datetime) -> str:
    """How the restarted process got its partitions, from its log after ``since``: seconds from
    the kill to its consumer's subscription (process start, preload, Faust's start) and from
    there to its partitions (the group join: the session-timeout wait for a dynamic member, or
    for a static one whose start outlasted its session), and the generation it joined."""
    subscribed = assigned = None
    generation = "?"
    with worker.log_path.open("rb") as log:
        log.seek(since)
        for raw in log:
            if not raw.startswith(b"{"):
                continue
            line = orjson.loads(raw)
            message = str(line.get("message", ""))
            at = line.get("timestamp")
            if subscribed is None and message.startswith("Subscribed to topic(s)"):
                subscribed = datetime.fromisoformat(at)
            elif generation == "?" and message.startswith("Joined group"):
                generation = message.split("(generation ")[1].split(")")[0]
            elif assigned is None and message.startswith("Setting newly assigned partitions"):
                assigned = datetime.fromisoformat(at)
    if subscribed is None or assigned is None:
        return "group join: not found in the log"
    return (
        f"kill → subscribed {(subscribed - killed_at).total_seconds():.1f} s, subscribed → "
        f"partitions {(assigned - subscribed).total_seconds():.1f} s (generation {generation})"
    )


async def restart(worker: Worker, data_dir: Path, *, wipe: bool, tickets: int) -> str:
    """``kill -9`` (if running), optionally wipe the data directory, start; the times to
    ``/readyz`` 200 and to the index holding every ticket."""
    mark = worker.log_path.stat().st_size if worker.log_path.exists() else 0
    killed_at = datetime.now(UTC)
    if worker.proc is not None:
        worker.kill()
    if wipe:
        shutil.rmtree(data_dir, ignore_errors=True)
    began = time.monotonic()
    worker.start()
    ready = await until(worker.ready, 3600, "ready")
    await until(lambda: index_size(worker, mark) >= tickets, 600, "index rebuilt")
    rebuilt = time.monotonic() - began
    kind = "wiped (whole changelog)" if wipe else "kept (changelog tail)"
    line = rebuilt_line(worker, mark)
    return (
        f"data directory {kind}: /readyz 200 after {ready:.1f} s, due index with "
        f"{index_size(worker, mark):,} tickets after {rebuilt:.1f} s (built in "
        f"{line.get('seconds')} s, {line.get('worked_out')} worked out again); "
        f"RSS {worker.rss_mib():.0f} MiB; load average {os.getloadavg()[0]:.1f}; "
        f"{group_join(worker, mark, killed_at)}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000, help="open tickets in the table")
    parser.add_argument("--batch", type=int, default=1000, help="breaches after the restart")
    parser.add_argument("--window", type=float, default=20.0, help="seconds they fall due over")
    parser.add_argument("--bootstrap", help="a running Kafka (default: start a private one)")
    parser.add_argument("--heap", default="1g", help="heap of the private Kafka")
    parser.add_argument("--keep-log", type=Path, help="copy the worker's log here at the end")
    parser.add_argument(
        "--static",
        action="store_true",
        help="as a Kafka static member (HELPDESK_SLA_GROUP_INSTANCE_ID, as deployed: the pod's "
        "name); without it a restart after kill -9 waits out the session timeout",
    )
    args = parser.parse_args()
    print(describe())
    print(f"load average before: {os.getloadavg()}")

    kafka: LocalKafka | None = None
    home = Path(tempfile.mkdtemp(prefix="sla-restart-bench-"))
    bootstrap = args.bootstrap
    if bootstrap is None:
        kafka = private_kafka(home, args.heap)
        bootstrap = kafka.bootstrap
    ensure_topics(bootstrap)
    port = free_port()
    data_dir = home / "worker"
    env = {
        "HELPDESK_KAFKA_BOOTSTRAP": bootstrap,
        "HELPDESK_SLA_APP_ID": f"sla-restart-{uuid.uuid4().hex[:6]}",
        "HELPDESK_SLA_HTTP_PORT": str(port),
        "HELPDESK_SLA_DATA_DIR": str(data_dir),
        "HELPDESK_SLA_POLICY": orjson.dumps(POLICY).decode(),
        "HELPDESK_SLA_CALENDAR": orjson.dumps(CALENDAR).decode(),
    }
    if args.static:  # static membership, as a StatefulSet pod would have it (its name)
        env["HELPDESK_SLA_GROUP_INSTANCE_ID"] = "sla-restart-bench-0"
    os.environ.update(env)  # the settings below read the same
    settings = SlaSettings()
    topic, took = await fill_changelog(bootstrap, settings, args.tickets)
    print(f"{args.tickets:,} states on {topic} in {took:.1f} s")
    worker = Worker("sla_service", os.environ | env, home / "worker.log", port)
    reader = SlaReader(bootstrap)
    stop = asyncio.Event()
    reading = asyncio.create_task(reader.run(stop))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        print(await restart(worker, data_dir, wipe=True, tickets=args.tickets), flush=True)
        await asyncio.sleep(5)  # the table written since lands in RocksDB and its offsets
        print(await restart(worker, data_dir, wipe=False, tickets=args.tickets), flush=True)
        first_due = datetime.now(UTC) + timedelta(seconds=10)
        batch = urgent_batch(10_000_000, args.batch, first_due, args.window)
        await produce(producer, batch)
        ids = {str(e.stream_id) for e in batch}
        await until(lambda: sum(1 for b in reader.breaches if b[1] in ids) >= len(ids),
                    args.window + 300, "breached")  # fmt: skip
        await asyncio.sleep(2)
        print(f"breaches due after the restart (data kept): {lateness(reader.breaches, ids)}")
        total = args.tickets + len(ids)
        print(await restart(worker, data_dir, wipe=True, tickets=total), flush=True)
        print(f"load average after: {os.getloadavg()}")
    finally:
        worker.stop()
        stop.set()
        await reading
        await producer.stop()
        if kafka is not None:
            kafka.kill()
        if args.keep_log:
            shutil.copy(home / "worker.log", args.keep_log)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
