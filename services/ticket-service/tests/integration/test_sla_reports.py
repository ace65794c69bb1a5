"""SLA outcomes for reports: recorded from SlaMet / SlaBreached once per event id, one outcome per
metric (per exchange for next response), and the reports over them by team and by assignee."""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from helpdesk_events import Actor, ActorKind, EventEnvelope
from helpdesk_events.sla import SlaBreached, SlaMet, SlaMetricName
from ticket_service.adapters.sla_projection import apply_sla_event

pytestmark = pytest.mark.integration

FIRST = SlaMetricName.FIRST_RESPONSE
NEXT = SlaMetricName.NEXT_RESPONSE
RESOLUTION = SlaMetricName.RESOLUTION


def envelope(event: SlaMet | SlaBreached, at: datetime) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=event.ticket_id,
        stream_type="sla",
        stream_version=1,
        occurred_at=at,
        actor=Actor(kind=ActorKind.SERVICE, id="sla-service"),
        correlation_id=uuid.uuid4(),
        data=event.model_dump(mode="json"),
    )


def met(
    ticket_id: uuid.UUID, metric: SlaMetricName, at: datetime, seconds: float, *, within: bool
) -> EventEnvelope:
    event = SlaMet(
        ticket_id=ticket_id, metric=metric, met_at=at, elapsed_seconds=seconds, within_target=within
    )
    return envelope(event, at)


def breached(ticket_id: uuid.UUID, metric: SlaMetricName, due: datetime) -> EventEnvelope:
    event = SlaBreached(ticket_id=ticket_id, metric=metric, due_at=due, target_seconds=3600)
    return envelope(event, due)


async def apply(pool: asyncpg.Pool, *envelopes: EventEnvelope) -> None:
    async with pool.acquire() as connection, connection.transaction():
        for item in envelopes:
            await apply_sla_event(connection, item)


async def outcomes(pool: asyncpg.Pool, ticket_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT metric, exchange, at, met, within_target, elapsed_seconds, due_at"
        " FROM sla_outcomes WHERE ticket_id = $1 ORDER BY metric, exchange",
        ticket_id,
    )
    return [dict(row) for row in rows]


_DAYS = itertools.count(random.randrange(100_000))


def a_quiet_day() -> datetime:
    """A day in the future no other test (nor run) reports on: a report counts only its own."""
    return datetime(2100, 1, 1, tzinfo=UTC) + timedelta(days=next(_DAYS))


async def test_outcomes_once_per_event_and_per_exchange(pool: asyncpg.Pool) -> None:
    ticket = uuid.uuid4()
    t0 = a_quiet_day()
    events = [
        met(ticket, FIRST, t0 + timedelta(minutes=30), 1800, within=True),
        # next response: exchange 1 met in time; exchange 2 breached, then met late
        met(ticket, NEXT, t0 + timedelta(hours=1), 600, within=True),
        breached(ticket, NEXT, t0 + timedelta(hours=3)),
        met(ticket, NEXT, t0 + timedelta(hours=4), 5400, within=False),
        # exchange 3 breached and still open
        breached(ticket, NEXT, t0 + timedelta(hours=6)),
        # resolution breached, then met (late, although the event says within)
        breached(ticket, RESOLUTION, t0 + timedelta(hours=8)),
        met(ticket, RESOLUTION, t0 + timedelta(hours=9), 30000, within=True),
    ]
    await apply(pool, *events)
    await apply(pool, *events)  # a redelivery changes nothing
    await apply(pool, events[1], events[3])  # nor does a late duplicate of an older event

    rows = await outcomes(pool, ticket)
    summary = [
        (r["metric"], r["exchange"], r["met"], r["within_target"], r["elapsed_seconds"])
        for r in rows
    ]
    assert summary == [
        ("first_response", 1, True, True, 1800),
        ("next_response", 1, True, True, 600),
        ("next_response", 2, True, False, 5400),
        ("next_response", 3, False, False, None),
        ("resolution", 1, True, False, 30000),
    ]
    assert rows[2]["at"] == t0 + timedelta(hours=4)  # ended when met
    assert rows[2]["due_at"] == t0 + timedelta(hours=3)  # the breach is kept
    assert rows[3]["at"] == rows[3]["due_at"] == t0 + timedelta(hours=6)  # broke, still open
    recorded = await pool.fetchval(
        "SELECT count(*) FROM sla_outcome_events WHERE ticket_id = $1", ticket
    )
    assert recorded == len(events)


async def test_resolution_met_again_after_reopen_is_one_outcome(pool: asyncpg.Pool) -> None:
    ticket = uuid.uuid4()
    t0 = a_quiet_day()
    await apply(pool, met(ticket, RESOLUTION, t0, 3000, within=True))
    await apply(pool, breached(ticket, RESOLUTION, t0 + timedelta(hours=2)))  # reopened, overdue
    assert [(r["met"], r["within_target"]) for r in await outcomes(pool, ticket)] == [
        (False, False)
    ]
    await apply(pool, met(ticket, RESOLUTION, t0 + timedelta(hours=3), 9000, within=False))
    rows = await outcomes(pool, ticket)
    assert [(r["exchange"], r["met"], r["within_target"], r["at"]) for r in rows] == [
        (1, True, False, t0 + timedelta(hours=3))
    ]
