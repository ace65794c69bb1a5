"""Seeking back after a rebalance on the real Kafka: committed partitions to their offset,
partitions without a commit to their beginning (aiokafka alone leaves those where they are)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import OffsetAndMetadata

from helpdesk_platform.faust_seek import seek_to_committed_or_beginning

pytestmark = pytest.mark.integration


async def topic_with_records(bootstrap: str, name: str, partitions: int, records: int) -> str:
    """A new topic ``<name>-<random>`` with ``records`` records on each of its partitions."""
    topic = f"{name}-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic, num_partitions=partitions, replication_factor=1)]
        )
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for partition in range(partitions):
            for index in range(records):
                await producer.send(topic, f"{index}".encode(), partition=partition)
        await producer.flush()
    finally:
        await producer.stop()
    return topic


def group_consumer(bootstrap: str, topic: str) -> AIOKafkaConsumer:
    """A consumer of ``topic`` in a group of its own, committing nothing by itself."""
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"group-{topic}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


async def test_uncommitted_partitions_go_back_to_the_beginning(kafka_bootstrap: str) -> None:
    topic = await topic_with_records(kafka_bootstrap, "faust-seek", partitions=2, records=5)
    committed_tp, uncommitted_tp = TopicPartition(topic, 0), TopicPartition(topic, 1)
    consumer = group_consumer(kafka_bootstrap, topic)
    await consumer.start()
    try:
        while len(consumer.assignment()) < 2:
            await consumer.getmany(timeout_ms=200)
        await consumer.commit({committed_tp: OffsetAndMetadata(3, "")})
        # Read everything (the prefetch a rebalance leaves behind), then seek back.
        while [await consumer.position(tp) for tp in (committed_tp, uncommitted_tp)] != [5, 5]:
            await consumer.getmany(timeout_ms=200)
        committed = await seek_to_committed_or_beginning(consumer)
        assert committed[committed_tp] == 3
        assert committed[uncommitted_tp] in (None, -1)
        assert await consumer.position(committed_tp) == 3
        assert await consumer.position(uncommitted_tp) == 0
    finally:
        await consumer.stop()


async def test_the_start_of_an_uncommitted_partition_is_its_beginning_on_a_busy_loop(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Faust's fetcher calls ``getmany`` on the same consumer while the seek runs, and on a loaded
    machine other tasks run between any two steps of it (modelled here: every ``position()``
    lets the loop run for a while first). The start given for a partition without a commit is
    its first offset all the same - not a position a fetch taken meanwhile moved on, which made
    :mod:`helpdesk_platform.faust_delivery` pass over every record before it (issue #13)."""
    topic = await topic_with_records(kafka_bootstrap, "faust-seek-busy", partitions=3, records=20)
    tps = [TopicPartition(topic, partition) for partition in range(3)]
    consumer = group_consumer(kafka_bootstrap, topic)
    await consumer.start()
    position = consumer.position

    async def position_on_a_busy_loop(partition: TopicPartition) -> Any:
        await asyncio.sleep(0.5)
        return await position(partition)

    monkeypatch.setattr(consumer, "position", position_on_a_busy_loop)

    async def take_records() -> None:  # Faust's fetcher
        while True:
            await consumer.getmany(timeout_ms=100)

    taking = asyncio.create_task(take_records())
    try:
        for _ in range(400):  # the group joined and the partitions assigned
            if len(consumer.assignment()) == 3:
                break
            await asyncio.sleep(0.05)
        starts: dict[TopicPartition, int] = {}
        await seek_to_committed_or_beginning(consumer, starts)
        assert starts == dict.fromkeys(tps, 0)
    finally:
        taking.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await taking
        await consumer.stop()
