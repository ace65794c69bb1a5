"""Read a topic from the beginning without a consumer group: for tests and `tail`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def topic_partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (description,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if description.get("error_code"):
        raise LookupError(f"topic {topic} is not available (error {description['error_code']})")
    return [TopicPartition(topic, p["partition"]) for p in description["partitions"]]


async def follow_topic(
    bootstrap: str, topic: str, *, from_beginning: bool = True
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` (all partitions), as it arrives; runs until cancelled."""
    partitions = await topic_partitions(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        if from_beginning:
            await consumer.seek_to_beginning(*partitions)
        else:
            await consumer.seek_to_end(*partitions)
        while True:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    yield record
    finally:
        await consumer.stop()


async def read_topic(
    bootstrap: str,
    topic: str,
    until: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
    *,
    max_wait: float = 30.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Records of ``topic`` from the beginning until ``until(records)`` holds or time is up."""
    records: list[ConsumerRecord[bytes, bytes]] = []
    if until(records):
        return records
    try:
        async with asyncio.timeout(max_wait):
            async for record in follow_topic(bootstrap, topic):
                records.append(record)
                if until(records):
                    break
    except TimeoutError:
        pass
    return records
