"""Read a topic from the beginning (or from given offsets) without a consumer group: for tests
and `tail`."""

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


async def end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    """Each partition's next offset now: a test reads from there to see only what it caused
    (``read_topic(..., start=...)``), not what the session's earlier tests left on the topic."""
    partitions = await topic_partitions(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def follow_batches(
    bootstrap: str,
    topic: str,
    *,
    from_beginning: bool = True,
    start: dict[TopicPartition, int] | None = None,
) -> AsyncIterator[list[ConsumerRecord[bytes, bytes]]]:
    """The records of ``topic`` (all partitions) in the batches they arrive in (an empty one when
    nothing came for half a second), from ``start`` (offsets of :func:`end_offsets`) if given;
    runs until cancelled."""
    partitions = await topic_partitions(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        if start is not None:
            for partition in partitions:
                consumer.seek(partition, start.get(partition, 0))
        elif from_beginning:
            await consumer.seek_to_beginning(*partitions)
        else:
            await consumer.seek_to_end(*partitions)
        while True:
            fetched = await consumer.getmany(timeout_ms=500)
            yield [record for records in fetched.values() for record in records]
    finally:
        await consumer.stop()


async def follow_topic(
    bootstrap: str, topic: str, *, from_beginning: bool = True
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` (all partitions), as it arrives; runs until cancelled."""
    async for batch in follow_batches(bootstrap, topic, from_beginning=from_beginning):
        for record in batch:
            yield record


async def read_topic(
    bootstrap: str,
    topic: str,
    until: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
    *,
    max_wait: float = 30.0,
    start: dict[TopicPartition, int] | None = None,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Records of ``topic`` from the beginning (or from ``start``, offsets of
    :func:`end_offsets`) until ``until(records)`` holds or time is up.

    ``until`` is asked once per fetched batch, not per record: callers scan the whole list, and
    late in a test session the shared topics hold tens of thousands of records (asked per record,
    the scans grew with the square of that and outlasted ``max_wait``)."""
    records: list[ConsumerRecord[bytes, bytes]] = []
    if until(records):
        return records
    try:
        async with asyncio.timeout(max_wait):
            async for batch in follow_batches(bootstrap, topic, start=start):
                records.extend(batch)
                if batch and until(records):
                    break
    except TimeoutError:
        pass
    return records
