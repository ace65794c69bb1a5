"""A fix for Faust workers: after a rebalance, rewind partitions that have no committed offset.

The loss it prevents (seen as the assignment worker's ``kill -9`` test failing about one run in
three, every ticket of some partitions never read after the restart):

1. A worker starts, joins the group and is given partitions; aiokafka starts fetching them at
   once, while Faust still holds the stream partitions back for the table recovery. Records that
   arrive in that window are dropped by Faust's ``Consumer.getmany`` (the partition is not
   active), yet aiokafka has already moved its position past them.
2. When the recovery ends, Faust seeks every stream partition back to its committed offset
   (``AIOKafkaConsumer.seek_to_committed``) - but aiokafka seeks only when the committed offset is
   above 0. A partition the group never committed (the previous worker was killed before its
   first commit, or nobody read it yet) keeps the advanced position, and its records are never
   delivered.

The same family of races is reported upstream as faust-streaming/faust#216 (recovery resumes
from Kafka before seeking to committed offsets) and #221 (prefetched events after a rebalance).

:func:`install` replaces Faust's ``AIOKafkaConsumerThread.seek_to_committed`` with one that also
seeks the partitions without a committed offset (or with offset 0) to their beginning - what
``auto_offset_reset="earliest"``, which the workers use, means for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

log = structlog.get_logger("helpdesk_platform.faust_seek")

__all__ = ["install", "seek_to_committed_or_beginning", "start_positions"]

_installed = False


async def seek_to_committed_or_beginning(
    consumer: AIOKafkaConsumer, starts: dict[TopicPartition, int] | None = None
) -> Mapping[TopicPartition, int | None]:
    """Seek each assigned partition to its committed offset, or to its beginning when it has
    none; returns the committed offsets (``None`` or ``-1`` where there is none) as
    ``seek_to_committed`` does. ``starts``, when given, receives the offset each uncommitted
    partition now starts at (its first record's), for :mod:`helpdesk_platform.faust_delivery`."""
    committed: Mapping[TopicPartition, int | None] = await consumer.seek_to_committed()
    uncommitted = [tp for tp, offset in committed.items() if offset is None or offset <= 0]
    if uncommitted:
        # The beginning is asked of Kafka and sought to, not read back with ``position()`` after
        # ``seek_to_beginning``: Faust's fetcher calls ``getmany`` on the same consumer meanwhile,
        # and a fetch it took between the reset and that read would have moved the position on -
        # the records before it would then count as read and never be delivered.
        beginnings = await consumer.beginning_offsets(uncommitted)
        for tp in uncommitted:
            consumer.seek(tp, beginnings[tp])
        log.debug("seeked uncommitted partitions to the beginning", partitions=len(uncommitted))
        if starts is not None:
            starts.update({tp: beginnings[tp] for tp in uncommitted})
    return committed


def start_positions(thread: Any) -> dict[TopicPartition, int]:
    """Where the uncommitted partitions of Faust's consumer thread started at its last seek."""
    starts: dict[TopicPartition, int] = thread.__dict__.setdefault("_helpdesk_starts", {})
    return starts


def install() -> None:
    """Patch Faust's aiokafka driver (idempotent); call before the Faust app starts."""
    global _installed
    if _installed:
        return
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    async def seek_to_committed(self: Any) -> Mapping[TopicPartition, int | None]:
        # Filled aside and swapped in at once: a seek that runs while another is under way must
        # not find the starts half cleared (its partitions would be left without a start).
        found: dict[TopicPartition, int] = {}
        result: Mapping[TopicPartition, int | None] = await self.call_thread(
            seek_to_committed_or_beginning, self._ensure_consumer(), found
        )
        starts = start_positions(self)
        starts.clear()
        starts.update(found)
        return result

    AIOKafkaConsumerThread.seek_to_committed = seek_to_committed  # type: ignore[method-assign,assignment]
    _installed = True
