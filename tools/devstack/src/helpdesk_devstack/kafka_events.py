"""Domain events written to Kafka as the outbox relay writes them, for tests and benchmarks that
stand in for the ticket service (the workers' integration tests), and a way for a service started
late in a test session to follow topics from now on."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from helpdesk_events import (
    Actor,
    ActorKind,
    DomainEvent,
    EventEnvelope,
    encode_envelope,
    kafka_headers,
)

__all__ = ["commit_offsets", "follow_from_now", "publish", "topic_ends"]


async def publish(
    producer: AIOKafkaProducer,
    topic: str,
    stream_type: str,
    stream_id: uuid.UUID,
    event: DomainEvent,
    *,
    version: int,
    occurred_at: datetime | None = None,
    actor: Actor | None = None,
) -> EventEnvelope:
    """Send one event, keyed by its stream id, with the relay's headers; waits for Kafka."""
    envelope = EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=stream_id,
        stream_type=stream_type,
        stream_version=version,
        occurred_at=occurred_at or datetime.now(UTC),
        actor=actor or Actor(kind=ActorKind.AGENT, id="test"),
        correlation_id=uuid.uuid4(),
        data=event.model_dump(mode="json"),
    )
    await producer.send_and_wait(
        topic,
        encode_envelope(envelope),
        key=str(stream_id).encode(),
        headers=kafka_headers(envelope, None),
    )
    return envelope


async def topic_ends(bootstrap: str, topics: tuple[str, ...]) -> dict[TopicPartition, int]:
    """The next offset of every partition of ``topics``: where an event written now will go.

    The consumer subscribes to ``topics`` (no group: nothing is joined or committed) so that its
    start waits for their metadata. Without it the client knew no topic yet, every topic seemed
    to have partition 0 only, and a group following "from now" read partitions 1-5 of the
    ticket topic from their beginning: every earlier test's events.
    """
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions: list[TopicPartition] = []
        for topic in topics:
            known = consumer.partitions_for_topic(topic)
            if not known:
                raise LookupError(f"Kafka at {bootstrap} has no topic {topic!r}")
            partitions += [TopicPartition(topic, partition) for partition in sorted(known)]
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def commit_offsets(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    """Commit ``offsets`` for the consumer group ``group``: a service started under that group
    reads on from there."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def follow_from_now(bootstrap: str, group: str, topics: tuple[str, ...]) -> None:
    """Commit each topic's end for the new consumer group ``group``.

    Tests share one Kafka per session: a service started late under a fresh group would otherwise
    first work through every event earlier tests wrote (thousands of tickets, hundreds of
    invitations), queued ahead of the test's own — minutes on a loaded machine.
    """
    await commit_offsets(bootstrap, group, await topic_ends(bootstrap, topics))
