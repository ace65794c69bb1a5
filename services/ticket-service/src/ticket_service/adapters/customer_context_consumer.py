"""Consume helpdesk.customers.v1 and helpdesk.tickets.v1 (group
``ticket-service-customer-context``) and let the customer-context follower bring open tickets up
to date (``service_layer/customer_context``): directory changes onto the contact's open tickets,
and each new ticket re-checked once it committed (the race of a ticket opened at the instant of
a change).

Offsets are committed after a batch was handled (at least once); the follower's derived event
ids make a redelivered event append nothing. An unreadable record is logged and skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from aiokafka import ConsumerRecord
from pydantic import ValidationError

from helpdesk_events import EventEnvelope, UnknownEventType, decode_envelope
from helpdesk_events.topics import CUSTOMERS, TICKETS
from ticket_service.adapters.command_consumer import traceparent_of
from ticket_service.adapters.group_consumer import consume_in_group

log = structlog.get_logger()

Follow = Callable[[EventEnvelope, str | None], Awaitable[object]]
GROUP = "ticket-service-customer-context"


class CustomerContextConsumer:
    def __init__(self, follow: Follow, bootstrap: str, *, group_id: str = GROUP) -> None:
        self._follow = follow
        self._bootstrap = bootstrap
        self._group_id = group_id

    async def run(self, stop: asyncio.Event) -> None:
        await consume_in_group(
            stop,
            bootstrap=self._bootstrap,
            topic=(CUSTOMERS, TICKETS),
            group_id=self._group_id,
            handle=self.handle_batch,
            max_records=200,
            name="customer context follower",
        )

    async def handle_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        for record in records:  # in order: a later change of a contact comes after an earlier
            if record.topic == TICKETS and not _created(record):
                continue  # only TicketCreated concerns the follower: skip decoding the rest
            try:
                envelope = decode_envelope(record.value or b"")
            except (ValidationError, UnknownEventType, ValueError) as error:
                log.error(
                    "unreadable directory event skipped",
                    partition=record.partition,
                    offset=record.offset,
                    error=str(error)[:500],
                )
                continue
            await self._follow(envelope, traceparent_of(record))


def _created(record: ConsumerRecord[bytes, bytes]) -> bool:
    """Whether a ticket record is a TicketCreated (by its ``event_type`` header)."""
    for key, value in record.headers:
        if key == "event_type":
            return bytes(value) == b"TicketCreated"
    return True  # no header: decode it and let the follower look
