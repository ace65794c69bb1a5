"""A fix for Faust workers: every record of a source partition is delivered, in offset order.

The loss it prevents (reliability issue #13): after a restart, the SLA and the assignment worker
both skipped records of ``helpdesk.tickets.v1`` that arrived while they were starting - the same
records in both consumer groups, never processed and yet committed. Three pieces of Faust
(faust-streaming 0.15.3 on aiokafka 0.14) make it, each harmless alone:

1. **Records are taken from aiokafka and dropped.** Faust hands its own *mutable* set of active
   partitions to aiokafka's ``fetched_records``, which waits up to a second for records. When
   Faust pauses every partition meanwhile (the end of a changelog recovery pauses the changelog
   partitions, a rebalance pauses all), the set becomes empty - and aiokafka reads an empty set
   as "every assigned partition": it drains the paused source partitions too and moves their
   positions on. Faust's ``getmany`` then drops those records (their partition is not active).
   A rebalance (``consumer_generation_id`` changing) or ``flow_active`` turning false in the
   middle of a batch drops the rest of the batch the same way.
2. **A jump forward counts as processed.** Faust tracks the last offset it read per partition;
   a record further on than the next one is taken for a gap in the log (a compacted topic,
   transaction markers) and the offsets in between are *acked* (``Consumer._add_gap``), so the
   next commit moves past them. Records dropped in (1) are such a "gap" (upstream: robinhood/faust
   #401, faust-streaming/faust #312 and #606 for the gap arithmetic).
3. **Stale records after the seek back.** When the recovery ends, Faust resumes the source
   partitions and only then seeks them to their committed offsets (``perform_seek``,
   faust-streaming/faust #216). Records fetched before that seek - from the position (1) left -
   are still delivered after it: the first one jumps past the committed offset (2), and it also
   moves Faust's read offset past the records the seek is about to fetch again, which Faust then
   drops as already read ("DROPPED MESSAGE ROFF", robinhood/faust #115; faust-streaming #221 for
   the prefetched records). For a partition that had no committed offset yet (a worker killed
   before its first commit), nothing checks the first offset at all.

So records that reach a source topic while a worker restarts, or while a rebalance or recovery
is under way, could be skipped for good. The workers lost 2-5 assignments and 41-118 SLA clocks
per run in ``tests/integration/test_chaos_stack.py`` (docs/benchmarks.md, "Chaos").

:func:`install` makes delivery of source (non-changelog) partitions contiguous:

* every seek Faust makes to the committed offsets (:func:`helpdesk_platform.faust_seek`: or to
  the beginning where there is none) sets the partition's *next offset*; a record before it is
  skipped as read, a record after it means records were taken and not delivered: the partition
  is sought back to the next offset and the rest of its records in that batch are dropped;
* only when the record read right after such a seek back is again past the next offset is the
  jump real (a compacted or transactional source): it is then delivered, and Faust acks the gap;
* records of a source partition Faust has not sought yet (between an assignment and the end of
  its recovery) are not delivered: the seek at the end of the recovery reads them again;
* Faust's read offset is set before each delivery, so a stale record processed across a seek
  cannot make Faust drop the records read again;
* aiokafka gets a copy of the active partitions, so a pause during its wait can no longer drain
  the paused partitions.

Changelog partitions are left as Faust reads them (compacted: gaps are normal there).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import structlog
from aiokafka import TopicPartition

from helpdesk_platform import faust_seek

log = structlog.get_logger("helpdesk_platform.faust_delivery")

__all__ = ["install", "next_offsets", "resume_offsets"]

_installed = False


def next_offsets(consumer: Any) -> dict[Any, int]:
    """The next offset to deliver per source partition of a Faust consumer (set by its seeks)."""
    nexts: dict[Any, int] | None = consumer.__dict__.get("_helpdesk_next_offsets")
    if nexts is None:
        nexts = consumer.__dict__["_helpdesk_next_offsets"] = {}
    return nexts


def resume_offsets(consumer: Any) -> dict[Any, int]:
    """Where each source partition of a Faust consumer resumed at its last seek (its committed
    offset, or its beginning): every record before it was processed by the group. The SLA
    worker's tick gate starts from it (reliability issue #13, "breach not due")."""
    resumed: dict[Any, int] | None = consumer.__dict__.get("_helpdesk_resume_offsets")
    if resumed is None:
        resumed = consumer.__dict__["_helpdesk_resume_offsets"] = {}
    return resumed


def _sought_back(consumer: Any) -> dict[Any, int]:
    """Partitions sought back to an offset after a jump, waiting for their next record."""
    retried: dict[Any, int] | None = consumer.__dict__.get("_helpdesk_sought_back")
    if retried is None:
        retried = consumer.__dict__["_helpdesk_sought_back"] = {}
    return retried


def _report(
    method: Callable[..., Any], message: str, tp: Any, offset: int, expected: int | None
) -> None:
    """Log a record of a source partition that is not delivered as it came (issue #13)."""
    method(message, topic=tp.topic, partition=tp.partition, offset=offset, expected=expected)


def install() -> None:
    """Patch Faust's consumer (idempotent); call before the Faust app starts. Installs
    :mod:`helpdesk_platform.faust_seek` too, which gives uncommitted partitions their start."""
    global _installed
    if _installed:
        return
    faust_seek.install()
    from faust.transport.consumer import Consumer
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
    from faust.types import TP

    original_getmany = Consumer.getmany
    original_revoked = Consumer.on_partitions_revoked
    original_thread_getmany = AIOKafkaConsumerThread.getmany

    async def perform_seek(self: Any) -> None:
        """Faust's ``perform_seek``, which also records where each partition starts again."""
        committed: Mapping[Any, int | None] = await self.seek_to_committed()
        starts = faust_seek.start_positions(self._thread)
        nexts, retried = next_offsets(self), _sought_back(self)
        resumed = resume_offsets(self)
        for tp, offset in committed.items():
            key = TP(tp.topic, tp.partition)
            start = offset if offset is not None and offset > 0 else starts.get(key)
            self._read_offset[key] = offset if offset is not None and offset >= 0 else None
            self._committed_offset[key] = offset if offset is not None and offset > 0 else None
            retried.pop(key, None)
            if start is None or self._is_changelog_tp(key):
                nexts.pop(key, None)
                resumed.pop(key, None)
            else:
                nexts[key] = resumed[key] = start

    async def getmany(self: Any, timeout: float) -> AsyncIterator[tuple[Any, Any]]:  # noqa: ASYNC109
        nexts, retried = next_offsets(self), _sought_back(self)
        dropped: set[Any] = set()
        passed_over: set[Any] = set()
        async for tp, message in original_getmany(self, timeout):
            if tp in dropped:
                continue
            if self._is_changelog_tp(tp):
                yield tp, message
                continue
            expected = nexts.get(tp)
            offset = message.offset
            if expected is None:
                # Not sought since its assignment: the seek at the end of the recovery reads
                # it again from the committed offset.
                _report(log.info, "records of a partition not sought yet; left for the seek",
                        tp, offset, None)  # fmt: skip
                dropped.add(tp)
                continue
            if offset < expected:
                if tp not in passed_over:
                    passed_over.add(tp)
                    _report(log.info, "records before the next offset passed over",
                            tp, offset, expected)  # fmt: skip
                continue  # read before a seek back
            if offset > expected and retried.get(tp) != expected:
                dropped.add(tp)
                retried[tp] = expected
                _report(log.warning, "records taken but not delivered; seeking back",
                        tp, offset, expected)  # fmt: skip
                try:
                    await self.seek_wait({tp: expected})
                except Exception as error:  # revoked meanwhile: the next assignment seeks it
                    log.info("seek back failed", topic=tp.topic, error=repr(error))
                continue
            if offset > expected:
                _report(log.warning, "a jump past the next offset again after a seek back: "
                        "the offsets in between count as a gap", tp, offset, expected)  # fmt: skip
            retried.pop(tp, None)
            nexts[tp] = offset + 1
            # Faust's read offset as if the record before it was the last one read: no stale
            # record read across a seek can make Faust drop this one, and a real gap (accepted
            # above after one seek back) is acked by Faust as such.
            previous = expected - 1
            self._read_offset[tp] = previous if previous > 0 else None
            yield tp, message

    async def on_partitions_revoked(self: Any, revoked: set[Any]) -> None:
        nexts, retried = next_offsets(self), _sought_back(self)
        resumed = resume_offsets(self)
        for tp in revoked:
            nexts.pop(tp, None)
            resumed.pop(tp, None)
            retried.pop(tp, None)
        await original_revoked(self, revoked)

    async def thread_getmany(
        self: Any,
        active_partitions: set[TopicPartition] | None,
        timeout: float,  # noqa: ASYNC109 (Faust's signature)
    ) -> Any:
        # A copy: Faust changes its set while aiokafka waits, and an empty one means "all".
        snapshot = None if active_partitions is None else set(active_partitions)
        return await original_thread_getmany(self, snapshot, timeout)

    Consumer.perform_seek = perform_seek  # type: ignore[method-assign]
    Consumer.getmany = getmany  # type: ignore[method-assign]
    Consumer.on_partitions_revoked = on_partitions_revoked  # type: ignore[method-assign]
    AIOKafkaConsumerThread.getmany = thread_getmany  # type: ignore[method-assign]
    _installed = True
