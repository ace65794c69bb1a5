"""Project the SLA service's events (helpdesk.sla.v1) into ``ticket_sla``, so ticket views can
sort by what is due first and filter what is breached, and into ``sla_outcomes`` (how each metric
ended or broke, for reports; see migration 0007 for the rows).

The consumer commits its Kafka offsets only after the rows are written (at least once);
applying an event again sets the same values, so a redelivery changes nothing. Outcomes are
recorded once per event id (``sla_outcome_events``), in the caller's transaction.
"""

from __future__ import annotations

import asyncio

import asyncpg
import structlog
from aiokafka import ConsumerRecord

from helpdesk_events import EventEnvelope, decode_envelope
from helpdesk_events.sla import (
    SlaBreached,
    SlaMet,
    SlaMetricName,
    SlaPaused,
    SlaResumed,
    SlaTargetsSet,
)
from helpdesk_events.topics import SLA
from ticket_service.adapters.group_consumer import consume_in_group

log = structlog.get_logger()

#: The metrics the ticket views and the ticket detail show (columns ``<name>_due``/``_state``).
SHOWN = {
    SlaMetricName.FIRST_RESPONSE: "first_response",
    SlaMetricName.NEXT_RESPONSE: "next_response",
    SlaMetricName.RESOLUTION: "resolution",
}


async def apply_sla_event(connection: asyncpg.Connection, envelope: EventEnvelope) -> None:
    event = envelope.payload()
    if isinstance(event, SlaMet | SlaBreached):
        await _record_outcome(connection, envelope, event)
    if isinstance(event, SlaTargetsSet):
        values: dict[str, object] = {"policy": event.policy}
        for target in event.targets:
            if target.metric in SHOWN:
                column = SHOWN[target.metric]
                values[f"{column}_due"] = target.due_at
                values[f"{column}_state"] = target.state.value
        await _upsert(connection, event.ticket_id, values)
    elif isinstance(event, SlaPaused | SlaMet) and event.metric in SHOWN:
        state = "paused" if isinstance(event, SlaPaused) else "met"
        column = SHOWN[event.metric]
        await _upsert(
            connection, event.ticket_id, {f"{column}_due": None, f"{column}_state": state}
        )
    elif isinstance(event, SlaResumed) and event.metric in SHOWN:
        column = SHOWN[event.metric]
        await _upsert(
            connection,
            event.ticket_id,
            {f"{column}_due": event.due_at, f"{column}_state": "running"},
        )
    elif isinstance(event, SlaBreached):
        await connection.execute(
            "INSERT INTO ticket_sla (ticket_id, breached_metrics) VALUES ($1, ARRAY[$2])"
            " ON CONFLICT (ticket_id) DO UPDATE SET breached_metrics = ARRAY(SELECT DISTINCT m"
            " FROM unnest(ticket_sla.breached_metrics || ARRAY[$2]) AS m ORDER BY m),"
            " sla_updated_at = now()",
            event.ticket_id,
            event.metric.value,
        )


async def _upsert(
    connection: asyncpg.Connection, ticket_id: object, values: dict[str, object]
) -> None:
    columns = list(values)
    placeholders = ", ".join(f"${i}" for i in range(2, len(columns) + 2))
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    await connection.execute(
        f"INSERT INTO ticket_sla (ticket_id, {', '.join(columns)}) VALUES ($1, {placeholders})"  # noqa: S608 - our column names
        f" ON CONFLICT (ticket_id) DO UPDATE SET {updates}, sla_updated_at = now()",
        ticket_id,
        *values.values(),
    )


async def _record_outcome(
    connection: asyncpg.Connection, envelope: EventEnvelope, event: SlaMet | SlaBreached
) -> None:
    """Record a met or breached metric in ``sla_outcomes``, once per event id.

    The event updates the ticket's latest row for the metric unless that row is a next-response
    exchange already met: then (or when there is no row) it starts a row, the next exchange.
    A breach makes the row breached and open; a met row is met within its target only if it was
    never breached (a breached metric met later is one outcome, met late).
    """
    first = await connection.fetchval(
        "INSERT INTO sla_outcome_events (event_id, ticket_id) VALUES ($1, $2)"
        " ON CONFLICT (event_id) DO NOTHING RETURNING true",
        envelope.event_id,
        event.ticket_id,
    )
    if not first:
        return
    latest = await connection.fetchrow(
        "SELECT exchange, met, breached_at FROM sla_outcomes WHERE ticket_id = $1 AND metric = $2"
        " ORDER BY exchange DESC LIMIT 1 FOR UPDATE",
        event.ticket_id,
        event.metric.value,
    )
    if latest is None:
        exchange = 1
    elif event.metric is SlaMetricName.NEXT_RESPONSE and latest["met"]:
        exchange = latest["exchange"] + 1
    else:
        exchange = latest["exchange"]
    if isinstance(event, SlaMet):
        # within: the SLA service says so, and no breach was recorded for this outcome.
        await connection.execute(
            "INSERT INTO sla_outcomes AS o (ticket_id, metric, exchange, at, met, within_target,"
            " elapsed_seconds, met_at, last_event_id) VALUES ($1, $2, $3, $4, true, $5, $6, $4, $7)"
            " ON CONFLICT (ticket_id, metric, exchange) DO UPDATE SET at = excluded.at,"
            " met = true, within_target = excluded.within_target AND o.breached_at IS NULL,"
            " elapsed_seconds = excluded.elapsed_seconds, met_at = excluded.met_at,"
            " last_event_id = excluded.last_event_id, updated_at = now()",
            event.ticket_id,
            event.metric.value,
            exchange,
            event.met_at,
            event.within_target,
            event.elapsed_seconds,
            envelope.event_id,
        )
    else:
        await connection.execute(
            "INSERT INTO sla_outcomes (ticket_id, metric, exchange, at, met, within_target,"
            " due_at, breached_at, last_event_id) VALUES ($1, $2, $3, $4, false, false, $4, $5, $6)"
            " ON CONFLICT (ticket_id, metric, exchange) DO UPDATE SET at = excluded.at,"
            " met = false, within_target = false, elapsed_seconds = NULL, met_at = NULL,"
            " due_at = excluded.due_at, breached_at = excluded.breached_at,"
            " last_event_id = excluded.last_event_id, updated_at = now()",
            event.ticket_id,
            event.metric.value,
            exchange,
            event.due_at,
            envelope.occurred_at,
            envelope.event_id,
        )


class SlaProjector:
    """Consumes helpdesk.sla.v1 in a consumer group and keeps ``ticket_sla`` current."""

    def __init__(
        self, pool: asyncpg.Pool, bootstrap: str, *, group_id: str = "ticket-service-sla"
    ) -> None:
        self._pool = pool
        self._bootstrap = bootstrap
        self._group_id = group_id
        self.applied = 0

    async def run(self, stop: asyncio.Event) -> None:
        await consume_in_group(
            stop,
            bootstrap=self._bootstrap,
            topic=SLA,
            group_id=self._group_id,
            handle=self._batch,
            max_records=500,
            name="sla projection",
            max_backoff=5.0,
            # A read model shown to people: 100 ms late is not noticed, and Kafka answers a tenth
            # as many fetches as with a fetch per record.
            fetch_min_bytes=64 * 1024,
            fetch_max_wait_ms=100,
        )

    async def _batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            for record in records:
                await apply_sla_event(connection, decode_envelope(record.value or b""))
        self.applied += len(records)
