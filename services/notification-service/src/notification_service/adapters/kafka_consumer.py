"""The event consumer: one aiokafka consumer group over the ticket, SLA and directory topics.

Each fetched batch goes to :class:`EventProcessor` on one pooled connection; it commits the
batch together with the consumer's position in PostgreSQL. Kafka's committed offsets follow
(after the database commit, at most every ``commit_every`` seconds), so they are never ahead of
what is stored. When Kafka or PostgreSQL fails, the consumer is closed and started again after a
pause that doubles up to ``max_backoff`` seconds (the house style of the ticket service).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from helpdesk_events.topics import DIRECTORY, SLA, TICKETS
from notification_service.service_layer.events import BatchResult, EventProcessor, Record

log = structlog.get_logger("notification_service.consumer")

TOPICS = (DIRECTORY, TICKETS, SLA)
RETRIED_ERRORS = (KafkaError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


async def consume(
    stop: asyncio.Event,
    *,
    pool: asyncpg.Pool,
    bootstrap: str,
    group_id: str,
    processor: EventProcessor,
    max_records: int = 500,
    commit_every: float = 1.0,
    max_backoff: float = 10.0,
    on_batch: Callable[[BatchResult], None] | None = None,
) -> None:
    """Run until ``stop`` is set."""
    backoff = 0.5
    while not stop.is_set():
        consumer = AIOKafkaConsumer(
            *TOPICS,
            bootstrap_servers=bootstrap,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # A notification should reach its reader fast: fetches return after 20 ms at most.
            fetch_max_wait_ms=20,
        )
        loop = asyncio.get_running_loop()
        pending: dict[TopicPartition, int] = {}
        try:
            await consumer.start()
            log.info("event consumer started", group=group_id, topics=TOPICS)
            backoff = 0.5
            committed_at = loop.time()
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500, max_records=max_records)
                records = [
                    Record(r.topic, r.partition, r.offset, r.value)
                    for batch in batches.values()
                    for r in batch
                ]
                if records:
                    async with pool.acquire() as connection:
                        result = await processor.handle(connection, records)
                    for (topic, partition), offset in result.next_offsets.items():
                        pending[TopicPartition(topic, partition)] = offset
                    if on_batch is not None:
                        on_batch(result)
                if pending and loop.time() - committed_at >= commit_every:
                    await consumer.commit(pending)
                    pending, committed_at = {}, loop.time()
            if pending:
                await consumer.commit(pending)
        except RETRIED_ERRORS as error:
            log.warning("event consumer interrupted; retrying", error=repr(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2, max_backoff)
        except Exception:
            # A fault of ours (the batch rolled back, its position did not move): say it loudly
            # and try again after the longest pause rather than stop notifying for good.
            log.exception("event consumer failed on a batch; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max_backoff)
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()
