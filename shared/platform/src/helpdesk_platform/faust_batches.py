"""Writing a Faust worker's batch: its tables' changes and its messages, straight to the producer.

The workers decide a batch of events, send the messages it leads to, wait for Kafka's
acknowledgement and then write their tables. Faust's own paths for both are made for one record
at a time: ``Topic.send`` wraps each record in a message future and runs it through the channel
layer, and ``table[key] = value`` queues its changelog record in a buffer that sends them one by
one and, past 100 waiting records, holds back every stream of the worker until it has drained
("producer buffer full" in the log). At 200 tickets/s the assignment worker's batches wrote
dozens of records at once, and that buffer set its pace.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping
from typing import Any, cast

import structlog

from helpdesk_platform import faust_tables

log = structlog.get_logger("helpdesk_platform.faust_batches")


async def write_tables(
    app: Any, writes: Iterable[tuple[Any, Any, Any, Any]]
) -> list[Awaitable[Any]]:
    """Apply a batch's table writes, ``(event, table, key, value)`` in order (value ``None``
    deletes the key), and send their changelog records to the partition of the event that
    caused each; returns the sends' futures.

    Each record is serialized with the changelog topic's schema and handed to the producer as
    bytes, in order (a partition's records keep their order). Faust flushes the producer before
    it commits offsets, so no offset is committed before the changelog has the batch's writes.
    A RocksDB table (:mod:`helpdesk_platform.faust_tables`) gets the same bytes in the event's
    partition and records the changelog offset once Kafka has it.
    """
    sent: list[Awaitable[Any]] = []
    for event, table, key, value in writes:
        topic = table.changelog_topic
        partition = event.message.partition
        raw_key, _ = topic.prepare_key(key, table.key_serializer)
        if value is None:
            if table.data.pop(key, None) is None:
                continue  # nothing to delete
            raw_value = None
        else:
            raw_value, _ = topic.prepare_value(value, table.value_serializer)
            if not faust_tables.put_raw(table.data, partition, raw_key, raw_value):
                table.data[key] = value
        future = await send_bytes(app, topic.get_topic_name(), raw_key, raw_value,
                                  partition=partition)  # fmt: skip
        faust_tables.track_persisted(table.data, future)
        sent.append(future)
    return sent


async def send_bytes(
    app: Any,
    topic: str,
    key: bytes | None,
    value: bytes | None,
    *,
    partition: int | None = None,
    headers: Any = None,
) -> Awaitable[Any]:
    """Hand one record to the app's Kafka producer; returns the future of its acknowledgement.

    The records these workers send are bytes already, so they skip Faust's topic and channel
    layer (a message future, serializer look-ups and sensors per record). Without
    ``partition`` the producer's partitioner hashes the key, as for ``Topic.send``.
    """
    return cast(
        Awaitable[Any],
        await app.producer.send(topic, key, value, partition, None, headers),
    )


def skip_unreadable(message: Any, error: Exception) -> None:
    """Log a record a worker cannot read and leaves behind: it stays in its topic for repair,
    found by topic, partition and offset."""
    log.error(
        "skipping unreadable message",
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        error=str(error),
    )


def header(headers: Any, name: str) -> bytes | None:
    """The value of the header ``name`` of a record (the first of that name), or None; Faust gives
    a record's headers as a list of pairs or as a mapping.

    Lets a worker pass over records it has no use for by their ``event_type`` header, without
    decoding the envelope."""
    if not headers:
        return None
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in pairs:
        if key == name and value is not None:
            return value if isinstance(value, bytes) else str(value).encode()
    return None
