"""Project the SLA service's events (helpdesk.sla.v1) into ``ticket_sla``, so ticket views can
sort by what is due first and filter what is breached.

The consumer commits its Kafka offsets only after the rows are written (at least once);
applying an event again sets the same values, so a redelivery changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

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

log = structlog.get_logger()

#: The metrics ticket views show; next response is not projected yet.
SHOWN = {SlaMetricName.FIRST_RESPONSE: "first_response", SlaMetricName.RESOLUTION: "resolution"}


async def apply_sla_event(connection: asyncpg.Connection, envelope: EventEnvelope) -> None:
    event = envelope.payload()
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
        backoff = 0.5
        while not stop.is_set():
            consumer = AIOKafkaConsumer(
                SLA,
                bootstrap_servers=self._bootstrap,
                group_id=self._group_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
            )
            try:
                await consumer.start()
                backoff = 0.5
                while not stop.is_set():
                    batches = await consumer.getmany(timeout_ms=500, max_records=500)
                    records = [r for rs in batches.values() for r in rs]
                    if not records:
                        continue
                    async with self._pool.acquire() as connection, connection.transaction():
                        for record in records:
                            await apply_sla_event(connection, decode_envelope(record.value or b""))
                    await consumer.commit()
                    self.applied += len(records)
            except (KafkaError, OSError, asyncpg.PostgresError) as error:
                log.warning("sla projection interrupted; retrying", error=repr(error))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()
