"""Breach lateness on a running stack: each ``SlaBreached`` on ``helpdesk.sla.v1`` in a window,
its record's timestamp (when the SLA worker sent it) minus its ``due_at`` (issue #13: p99 ≤ 1 s
once the worker is ready). Read after a ``bench/chaos.py`` run, it shows what the kills cost.

    python bench/breach_lateness.py --since 2026-12-07T15:25 [--until …] [--kafka 127.0.0.1:9092]

Prints p50/p90/p99/max over the window, the count of early breaches (must be 0), and the same
per minute of ``due_at``, so that a round's victim can be told by its minute.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe

from helpdesk_events.envelope import decode_envelope

SLA_TOPIC = "helpdesk.sla.v1"


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(lateness: list[float]) -> str:
    if not lateness:
        return "no breaches"
    return (
        f"{len(lateness)} breaches: p50 {statistics.median(lateness):.2f} s, "
        f"p90 {quantile(lateness, 0.9):.2f} s, p99 {quantile(lateness, 0.99):.2f} s, "
        f"max {max(lateness):.2f} s, early {sum(1 for v in lateness if v < 0)}"
    )


async def read_breaches(
    kafka: str, since: datetime, until: datetime
) -> list[tuple[datetime, float]]:
    """(due_at, lateness in seconds) of every SlaBreached sent in the window."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(SLA_TOPIC, p) for p in await _partitions(consumer)]
        consumer.assign(partitions)
        starts = await consumer.offsets_for_times(
            {tp: int(since.timestamp() * 1000) for tp in partitions}
        )
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            found = starts.get(tp)
            consumer.seek(tp, found.offset if found is not None else ends[tp])
        left = {tp for tp in partitions if (await consumer.position(tp)) < ends[tp]}
        found_breaches: list[tuple[datetime, float]] = []
        while left:
            batch = await consumer.getmany(*left, timeout_ms=1000)
            for tp, records in batch.items():
                for record in records:
                    if record.offset + 1 >= ends[tp]:
                        left.discard(tp)
                    sent = datetime.fromtimestamp(record.timestamp / 1000, UTC)
                    if not record.value or sent > until:
                        continue
                    event = decode_envelope(record.value)
                    if event.event_type != "SlaBreached":
                        continue
                    due = datetime.fromisoformat(event.data["due_at"])
                    found_breaches.append((due, (sent - due).total_seconds()))
        return found_breaches
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer) -> list[int]:
    await consumer._client.force_metadata_update()  # no public call without a subscription
    return sorted(consumer._client.cluster.partitions_for_topic(SLA_TOPIC) or [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--since", type=datetime.fromisoformat, required=True)
    parser.add_argument("--until", type=datetime.fromisoformat, default=None)
    parser.add_argument("--kafka", default="127.0.0.1:9092")
    args = parser.parse_args()
    since = args.since if args.since.tzinfo else args.since.replace(tzinfo=UTC)
    until = args.until or datetime.now(UTC)
    until = until if until.tzinfo else until.replace(tzinfo=UTC)
    print(describe())
    breaches = asyncio.run(read_breaches(args.kafka, since, until))
    print(f"window {since:%H:%M:%S} to {until:%H:%M:%S} UTC:", summary([v for _, v in breaches]))
    by_minute: dict[str, list[float]] = defaultdict(list)
    for due, late in breaches:
        by_minute[f"{due:%H:%M}"].append(late)
    for minute in sorted(by_minute):
        print(f"  due {minute}: {summary(by_minute[minute])}")


if __name__ == "__main__":
    main()
