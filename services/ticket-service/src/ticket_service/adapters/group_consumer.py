"""Consuming a Kafka topic in a consumer group, a batch at a time, until told to stop.

The ticket service's Kafka consumers (the SLA projector, the ticket command consumer) share
this loop: a batch is handled, then its offsets are committed - at most every
``commit_every`` seconds and when the consumer stops - so a crash re-delivers what was handled
since the last commit, and handlers are idempotent. (A commit per batch was a request to Kafka
and a write to its offsets log per one or two records at 200 tickets/s.) When Kafka or
PostgreSQL fails, the consumer is closed and started again after a pause that doubles up to
``max_backoff`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import KafkaError

log = structlog.get_logger("ticket_service.group_consumer")

__all__ = ["BatchHandler", "consume_in_group"]

BatchHandler = Callable[[list[ConsumerRecord[bytes, bytes]]], Awaitable[None]]

RETRIED_ERRORS = (KafkaError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


async def consume_in_group(
    stop: asyncio.Event,
    *,
    bootstrap: str,
    topic: str | tuple[str, ...],
    group_id: str,
    handle: BatchHandler,
    max_records: int,
    name: str,
    max_backoff: float = 10.0,
    commit_every: float = 0.5,
    fetch_min_bytes: int = 1,
    fetch_max_wait_ms: int = 500,
) -> None:
    """Run until ``stop`` is set; ``name`` says which consumer in the logs.

    ``fetch_min_bytes`` and ``fetch_max_wait_ms`` go to Kafka: a consumer that is in no hurry
    lets the broker gather records for up to that long, so it fetches (and commits) less often.
    """
    backoff = 0.5
    while not stop.is_set():
        consumer = AIOKafkaConsumer(
            *((topic,) if isinstance(topic, str) else topic),
            bootstrap_servers=bootstrap,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_min_bytes=fetch_min_bytes,
            fetch_max_wait_ms=fetch_max_wait_ms,
        )
        loop = asyncio.get_running_loop()
        uncommitted = False
        try:
            await consumer.start()
            log.info(f"{name} started", group=group_id)
            backoff = 0.5
            committed_at = loop.time()
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500, max_records=max_records)
                records = [record for batch in batches.values() for record in batch]
                if records:
                    await handle(records)
                    uncommitted = True
                if uncommitted and loop.time() - committed_at >= commit_every:
                    await consumer.commit()
                    uncommitted, committed_at = False, loop.time()
            if uncommitted:
                await consumer.commit()  # stopping: what was handled is not handled again
        except RETRIED_ERRORS as error:
            log.warning(f"{name} interrupted; retrying", error=repr(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2, max_backoff)
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()
