"""Batches of a Faust stream: take what has arrived, write the tables' changes at once.

Faust's ``Stream.take_events(max, within)`` stops filling its buffer while the caller works on
a batch, then waits up to ``within`` for the next one. A worker that waits for Kafka to
acknowledge each batch's messages therefore gets only what trickles in during those few
milliseconds: at 200 tickets/s on a busy machine the assignment worker's batches held about ten
events, it spent most of its time waiting for acknowledgements, and fell seconds behind while
using a third of a core.

:func:`greedy_batches` reads the stream in a task of its own into a bounded queue, so events
keep arriving while a batch is being handled. Each batch is every event already queued (at
least one, at most ``max_events``): one event handled at once when traffic is light, large
batches when the worker is behind. Events are acknowledged to Faust only after the caller has
finished with their batch (the generator resumes), so no offset is committed before the
batch's effects are written, as with ``take_events``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Iterable
from typing import Any, cast


async def greedy_batches(stream: Any, max_events: int) -> AsyncIterator[list[Any]]:
    """Yield lists of Faust events from ``stream``; acknowledge each list once the caller asks
    for the next one. The queue holds at most ``2 * max_events`` events (back-pressure)."""
    stream.enable_acks = False  # acknowledged below, after the batch is handled
    inbox: asyncio.Queue[Any] = asyncio.Queue(maxsize=2 * max_events)

    async def read() -> None:
        async for event in stream.events():
            await inbox.put(event)

    reader = asyncio.ensure_future(read())
    try:
        while True:
            if inbox.empty():
                waiting = asyncio.ensure_future(inbox.get())
                await asyncio.wait({waiting, reader}, return_when=asyncio.FIRST_COMPLETED)
                if not waiting.done():
                    waiting.cancel()
                    reader.result()  # the stream ended or failed: raise its error here
                    return
                batch = [waiting.result()]
            else:
                batch = [inbox.get_nowait()]
            while len(batch) < max_events and not inbox.empty():
                batch.append(inbox.get_nowait())
            yield batch
            for event in batch:
                await stream.ack(event)
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def write_tables(
    app: Any, writes: Iterable[tuple[Any, Any, Any, Any]]
) -> list[Awaitable[Any]]:
    """Apply a batch's table writes, ``(event, table, key, value)`` in order (value ``None``
    deletes the key), and send their changelog records to the partition of the event that
    caused each; returns the sends' futures.

    ``table[key] = value`` would do the same through Faust's producer buffer, which sends one
    record at a time through the topic machinery and, past 100 waiting records, holds back
    every stream of the worker until it has drained ("producer buffer full"): a batch of
    decisions writes dozens of records at once, and that buffer set the assignment worker's
    pace. Here each record is serialized with the changelog topic's schema and handed to the
    producer as bytes, in order (a partition's records keep their order). Faust flushes the
    producer before it commits offsets, so no offset is committed before the changelog has
    the batch's writes.
    """
    sent: list[Awaitable[Any]] = []
    for event, table, key, value in writes:
        topic = table.changelog_topic
        if value is None:
            if table.data.pop(key, None) is None:
                continue  # nothing to delete
            raw_value = None
        else:
            table.data[key] = value
            raw_value, _ = topic.prepare_value(value, table.value_serializer)
        raw_key, _ = topic.prepare_key(key, table.key_serializer)
        sent.append(await send_bytes(app, topic.get_topic_name(), raw_key, raw_value,
                                     partition=event.message.partition))  # fmt: skip
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
