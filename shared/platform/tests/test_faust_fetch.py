"""Faust's worker consumers wait at most 50 ms for a fetch; on the real Kafka, why it matters: a
fetch for quiet partitions holds back a busy partition's new records for the whole wait."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import faust
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from helpdesk_platform import faust_fetch
from helpdesk_platform.kafka_topics import TopicSpec, ensure_topics


async def test_faust_worker_consumers_wait_at_most_the_installed_time() -> None:
    faust_fetch.install()
    app = faust.App(f"fetch-{uuid.uuid4().hex[:6]}", broker="kafka://127.0.0.1:1")
    consumer = app.consumer._thread._create_worker_consumer(app.transport)
    try:
        assert consumer._fetch_max_wait_ms == faust_fetch.DEFAULT_MAX_WAIT_MS
    finally:
        consumer._closed = True  # never started: nothing to stop


def test_the_wait_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        faust_fetch.install(0)


async def _seconds_to_a_new_busy_record(bootstrap: str, fetch_max_wait_ms: int) -> float:
    """How long a record sent to a busy partition takes to arrive while the consumer still holds
    earlier records of it (taken slowly) and its other partition is quiet."""
    topic = f"faust-fetch-{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [TopicSpec(topic, partitions=2)])
    busy = TopicPartition(topic, 0)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, fetch_max_wait_ms=fetch_max_wait_ms)
    await producer.start()
    await consumer.start()
    try:
        consumer.assign([busy, TopicPartition(topic, 1)])
        await consumer.seek_to_beginning()
        for index in range(3):
            await producer.send_and_wait(topic, b"old %d" % index, partition=0)
        seen: list[Any] = []
        # The first record, then a pause past aiokafka's 100 ms prefetch backoff: the fetcher
        # asks for the quiet partition alone, and the broker holds that fetch.
        while not seen:
            seen += (await consumer.getmany(busy, timeout_ms=1000, max_records=1)).get(busy, [])
        await asyncio.sleep(0.3)
        await producer.send_and_wait(topic, b"new", partition=0)
        sent = time.monotonic()
        while not any(record.value == b"new" for record in seen):
            seen += (await consumer.getmany(busy, timeout_ms=3000)).get(busy, [])
        return time.monotonic() - sent
    finally:
        await consumer.stop()
        await producer.stop()


@pytest.mark.integration
async def test_a_short_fetch_wait_does_not_hold_back_a_busy_partition(
    kafka_bootstrap: str,
) -> None:
    held = await _seconds_to_a_new_busy_record(kafka_bootstrap, 1500)
    bounded = await _seconds_to_a_new_busy_record(kafka_bootstrap, faust_fetch.DEFAULT_MAX_WAIT_MS)
    assert held > 0.8, f"Faust's 1.5 s wait held the record back only {held:.2f} s"
    assert bounded < 0.3, f"with a 50 ms wait the record took {bounded:.2f} s"
