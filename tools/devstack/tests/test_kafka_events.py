"""A consumer group that follows topics "from now" (``kafka_events.follow_from_now``), on the
session's real Kafka: tests that start a service late in the session rely on it to skip what
earlier tests wrote, on every partition (issue: only partition 0 was skipped)."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from helpdesk_devstack.kafka_events import follow_from_now, topic_ends

PARTITIONS = 6


async def _topic_with_one_record_per_partition(bootstrap: str) -> str:
    """A topic of this test's own (no other test writes there), one ``before`` on each partition."""
    topic = f"test.follow-from-now.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for partition in range(PARTITIONS):
            await producer.send_and_wait(topic, b"before", partition=partition)
    finally:
        await producer.stop()
    return topic


async def test_topic_ends_covers_every_partition(kafka_bootstrap: str) -> None:
    topic = await _topic_with_one_record_per_partition(kafka_bootstrap)
    ends = await topic_ends(kafka_bootstrap, (topic,))
    assert ends == {TopicPartition(topic, p): 1 for p in range(PARTITIONS)}


async def test_a_group_following_from_now_reads_only_what_comes_after(
    kafka_bootstrap: str,
) -> None:
    topic = await _topic_with_one_record_per_partition(kafka_bootstrap)
    group = f"follow-{uuid.uuid4().hex[:8]}"
    await follow_from_now(kafka_bootstrap, group, (topic,))
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"after", partition=PARTITIONS - 1)
    finally:
        await producer.stop()

    # As a late service reads: its group, and the earliest offset where nothing is committed.
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        read: list[bytes] = []
        async with asyncio.timeout(60):
            while b"after" not in read:
                batches = await consumer.getmany(timeout_ms=500)
                read += [r.value or b"" for records in batches.values() for r in records]
        positions = {tp.partition: await consumer.position(tp) for tp in consumer.assignment()}
    finally:
        await consumer.stop()
    assert read == [b"after"]
    assert positions == {p: 2 if p == PARTITIONS - 1 else 1 for p in range(PARTITIONS)}
