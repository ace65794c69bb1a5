"""How the command consumer decides a batch: each ticket's commands in order, different tickets'
at the same time (up to the limit), and a failure leaves the batch uncommitted. The deciding
function here only records; on PostgreSQL and Kafka see tests/integration/test_ticket_commands.py.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import ConsumerRecord

from helpdesk_events import (
    Actor,
    ActorKind,
    EventEnvelope,
    decode_envelope,
    encode_envelope,
)
from helpdesk_events.commands import UnassignTicket
from ticket_service.adapters.command_consumer import TicketCommandConsumer
from ticket_service.service_layer.context import CommandContext, envelope_for

SENDER = CommandContext(
    actor=Actor(kind=ActorKind.SERVICE, id="assignment-service"), correlation_id=uuid.uuid4()
)


def record(ticket_id: uuid.UUID, offset: int) -> ConsumerRecord[bytes, bytes]:
    event = UnassignTicket(
        ticket_id=ticket_id,
        assignee_id=uuid.uuid4(),
        expected_version=1,
        rule_id="l1-default",
        reason="left the team",
    )
    envelope = envelope_for(
        event,
        stream_id=ticket_id,
        stream_version=1,
        context=SENDER,
        occurred_at=datetime.now(UTC),
    )
    value = encode_envelope(envelope)
    key = str(ticket_id).encode()
    return ConsumerRecord(
        "helpdesk.ticket-commands.v1", 0, offset, 0, 0, key, value, None, len(key), len(value), []
    )


class SlowDecider:
    """Takes a moment per command; remembers the order per ticket and the most at once."""

    def __init__(self, fail_on: uuid.UUID | None = None) -> None:
        self.order: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.running = 0
        self.most_at_once = 0
        self.fail_on = fail_on

    async def __call__(self, envelope: EventEnvelope, traceparent: str | None) -> object:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(0.01)
            if envelope.stream_id == self.fail_on:
                raise ConnectionResetError("PostgreSQL went away")
            self.order.setdefault(envelope.stream_id, []).append(envelope.event_id)
        finally:
            self.running -= 1
        return None


def interleaved(tickets: list[uuid.UUID], per_ticket: int) -> list[ConsumerRecord[bytes, bytes]]:
    return [
        record(ticket, offset)
        for offset, ticket in enumerate(t for _ in range(per_ticket) for t in tickets)
    ]


async def test_each_tickets_commands_are_decided_in_offset_order() -> None:
    tickets = [uuid.uuid4() for _ in range(5)]
    records = interleaved(tickets, per_ticket=4)
    decide = SlowDecider()
    await TicketCommandConsumer(decide, "unused:9092", concurrency=8).decide_batch(records)
    for ticket in tickets:
        sent = [
            decode_envelope(r.value).event_id
            for r in records
            if r.key == str(ticket).encode() and r.value
        ]
        assert decide.order[ticket] == sent


async def test_different_tickets_are_decided_at_once_up_to_the_limit() -> None:
    records = interleaved([uuid.uuid4() for _ in range(12)], per_ticket=1)
    decide = SlowDecider()
    await TicketCommandConsumer(decide, "unused:9092", concurrency=4).decide_batch(records)
    # Four decided at once, never more (counted, not timed: a timed check failed under load).
    assert decide.most_at_once == 4
    assert sum(len(ids) for ids in decide.order.values()) == 12


async def test_a_failure_is_raised_as_itself_so_the_batch_comes_again() -> None:
    tickets = [uuid.uuid4() for _ in range(3)]
    decide = SlowDecider(fail_on=tickets[1])
    consumer = TicketCommandConsumer(decide, "unused:9092", concurrency=8)
    with pytest.raises(ConnectionResetError):
        await consumer.decide_batch(interleaved(tickets, per_ticket=2))
