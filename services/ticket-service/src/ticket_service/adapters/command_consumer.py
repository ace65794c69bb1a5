"""Consume helpdesk.ticket-commands.v1 (group ``ticket-service-commands``) and decide each command.

Records are decided one by one in partition order (Kafka keys commands by ticket id, so a
ticket's commands stay in order); offsets are committed only after every record of a batch was
decided. On a Kafka or PostgreSQL error the consumer is restarted with backoff and the
uncommitted records come again — deciding a command twice appends nothing the second time.
An unreadable record is logged and skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from helpdesk_events import EventEnvelope, UnknownEventType, decode_envelope
from helpdesk_events.topics import TICKET_COMMANDS

log = structlog.get_logger()

Decide = Callable[[EventEnvelope, str | None], Awaitable[object]]


def traceparent_of(record: ConsumerRecord[bytes, bytes]) -> str | None:
    for key, value in record.headers or ():
        if key == "traceparent" and value:
            return bytes(value).decode("ascii", "replace")
    return None


class TicketCommandConsumer:
    def __init__(
        self,
        decide: Decide,
        bootstrap: str,
        *,
        group_id: str = "ticket-service-commands",
        topic: str = TICKET_COMMANDS,
    ) -> None:
        self._decide = decide
        self._bootstrap = bootstrap
        self._group_id = group_id
        self._topic = topic
        self.decided = 0
        self.skipped = 0

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            consumer = AIOKafkaConsumer(
                self._topic,
                bootstrap_servers=self._bootstrap,
                group_id=self._group_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
            )
            try:
                await consumer.start()
                log.info("ticket command consumer started", group=self._group_id)
                backoff = 0.5
                while not stop.is_set():
                    batches = await consumer.getmany(timeout_ms=500, max_records=200)
                    if not batches:
                        continue
                    for records in batches.values():
                        for record in records:
                            await self._one(record)
                    await consumer.commit()
            except (KafkaError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("ticket command consumer interrupted; retrying", error=repr(error))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()

    async def _one(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            envelope = decode_envelope(record.value or b"")
            envelope.payload()
        except (ValidationError, UnknownEventType, ValueError) as error:
            self.skipped += 1
            log.error(
                "unreadable ticket command skipped",
                partition=record.partition,
                offset=record.offset,
                error=str(error)[:500],
            )
            return
        await self._decide(envelope, traceparent_of(record))
        self.decided += 1
