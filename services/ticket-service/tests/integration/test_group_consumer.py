"""The group consumer loop on the real Kafka: offsets are committed at most every
``commit_every`` seconds, and what was handled is committed when the consumer stops."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from helpdesk_platform.kafka_topics import TopicSpec, ensure_topics
from ticket_service.adapters.group_consumer import consume_in_group


async def _committed(bootstrap: str, group_id: str, topic: str) -> int | None:
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id)
    await reader.start()
    try:
        return await reader.committed(TopicPartition(topic, 0))
    finally:
        await reader.stop()


async def _five_records(bootstrap: str) -> str:
    topic = f"group-consumer-{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [TopicSpec(topic, partitions=1)])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for index in range(5):
            await producer.send_and_wait(topic, b"%d" % index)
    finally:
        await producer.stop()
    return topic


async def _consume_until_handled(
    bootstrap: str, topic: str, group_id: str, commit_every: float
) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    handled: list[ConsumerRecord[bytes, bytes]] = []
    all_handled = asyncio.Event()

    async def handle(records: list[ConsumerRecord[bytes, bytes]]) -> None:
        handled.extend(records)
        if len(handled) == 5:
            all_handled.set()

    running = asyncio.create_task(
        consume_in_group(
            stop,
            bootstrap=bootstrap,
            topic=topic,
            group_id=group_id,
            handle=handle,
            max_records=2,
            name="test consumer",
            commit_every=commit_every,
        )
    )
    await asyncio.wait_for(all_handled.wait(), 30)
    return stop, running


async def test_offsets_wait_for_the_commit_interval_and_are_committed_on_stop(
    kafka_bootstrap: str,
) -> None:
    topic = await _five_records(kafka_bootstrap)
    group_id = f"test-{uuid.uuid4()}"
    stop, running = await _consume_until_handled(kafka_bootstrap, topic, group_id, 3600)
    # Handled in batches of two, none committed yet: the interval has not passed.
    assert await _committed(kafka_bootstrap, group_id, topic) is None
    stop.set()
    await asyncio.wait_for(running, 30)
    assert await _committed(kafka_bootstrap, group_id, topic) == 5


async def test_offsets_are_committed_once_the_interval_has_passed(kafka_bootstrap: str) -> None:
    topic = await _five_records(kafka_bootstrap)
    group_id = f"test-{uuid.uuid4()}"
    stop, running = await _consume_until_handled(kafka_bootstrap, topic, group_id, 0.2)
    try:
        for _ in range(100):
            if await _committed(kafka_bootstrap, group_id, topic) == 5:
                break
            await asyncio.sleep(0.1)
        assert await _committed(kafka_bootstrap, group_id, topic) == 5
        assert not running.done(), "committed while still running"
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
