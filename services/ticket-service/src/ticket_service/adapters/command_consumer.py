"""Consume helpdesk.ticket-commands.v1 (group ``ticket-service-commands``) and decide each command.

A ticket's commands are decided one after another in partition order (Kafka keys commands by
ticket id); different tickets' commands are decided concurrently, up to ``concurrency`` at a
time, since each decision waits on several PostgreSQL round trips (deciding one at a time,
the consumer fell behind at 200 commands/s). Offsets are committed only after every record of
a batch was decided. On a Kafka or PostgreSQL error the consumer is restarted with backoff and the
uncommitted records come again — deciding a command twice appends nothing the second time.
An unreadable record is logged and skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from aiokafka import ConsumerRecord
from pydantic import ValidationError

from helpdesk_events import EventEnvelope, UnknownEventType, decode_envelope
from helpdesk_events.topics import TICKET_COMMANDS
from ticket_service.adapters.group_consumer import consume_in_group

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
        concurrency: int = 8,
    ) -> None:
        self._decide = decide
        self._concurrency = concurrency
        self._bootstrap = bootstrap
        self._group_id = group_id
        self._topic = topic
        self.decided = 0
        self.skipped = 0

    async def run(self, stop: asyncio.Event) -> None:
        await consume_in_group(
            stop,
            bootstrap=self._bootstrap,
            topic=self._topic,
            group_id=self._group_id,
            handle=self.decide_batch,
            max_records=200,
            name="ticket command consumer",
        )

    async def decide_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        by_ticket: dict[bytes | None, list[ConsumerRecord[bytes, bytes]]] = {}
        for record in records:
            by_ticket.setdefault(record.key, []).append(record)
        slots = asyncio.Semaphore(self._concurrency)

        async def in_order(ticket_records: list[ConsumerRecord[bytes, bytes]]) -> None:
            async with slots:
                for record in ticket_records:
                    await self._one(record)

        try:
            async with asyncio.TaskGroup() as group:
                for ticket_records in by_ticket.values():
                    group.create_task(in_order(ticket_records))
        except BaseExceptionGroup as failed:
            # The batch is not committed and comes again; the consumer loop retries on the
            # first error (Kafka or PostgreSQL down) as it would for one record.
            raise failed.exceptions[0] from None

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
