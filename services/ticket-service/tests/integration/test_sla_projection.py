"""SLA events published by the SLA service reach ticket views: sort by due, filter breached."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from helpdesk_events import Actor, ActorKind, EventEnvelope, encode_envelope, kafka_headers
from helpdesk_events.registry import DomainEvent
from helpdesk_events.sla import (
    SlaBreached,
    SlaClockState,
    SlaMet,
    SlaMetricName,
    SlaTarget,
    SlaTargetsSet,
)
from helpdesk_events.topics import SLA
from ticket_service.adapters.sla_projection import SlaProjector

from .conftest import bearer, wait_for

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)


def sla_envelope(ticket_id: uuid.UUID, event: DomainEvent) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=ticket_id,
        stream_type="sla",
        stream_version=1,
        occurred_at=NOW,
        actor=Actor(kind=ActorKind.SERVICE, id="sla-service"),
        correlation_id=uuid.uuid4(),
        data=event.model_dump(mode="json"),
    )


def targets(ticket_id: uuid.UUID, resolution_in: timedelta) -> SlaTargetsSet:
    return SlaTargetsSet(
        ticket_id=ticket_id,
        policy="Default",
        priority="High",
        targets=(
            SlaTarget(
                metric=SlaMetricName.FIRST_RESPONSE,
                target_seconds=3600,
                elapsed_seconds=0,
                state=SlaClockState.RUNNING,
                due_at=NOW + timedelta(hours=1),
            ),
            SlaTarget(
                metric=SlaMetricName.RESOLUTION,
                target_seconds=resolution_in.total_seconds(),
                elapsed_seconds=0,
                state=SlaClockState.RUNNING,
                due_at=NOW + resolution_in,
            ),
        ),
    )


async def test_views_sort_by_due_and_filter_breached(
    api: httpx.AsyncClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    kafka_bootstrap: str,
    caught_up: Callable[[], object],
) -> None:
    agent = bearer(token("agent"))
    marker = uuid.uuid4().hex[:8]
    ids = []
    for name in ("later", "sooner", "none"):
        made = await api.post("/tickets", json={"subject": f"{marker} {name}"}, headers=agent)
        ids.append(uuid.UUID(made.json()["id"]))
    later, sooner, untracked = ids
    events = [
        sla_envelope(later, targets(later, timedelta(hours=8))),
        sla_envelope(sooner, targets(sooner, timedelta(hours=2))),
        sla_envelope(
            sooner,
            SlaBreached(
                ticket_id=sooner,
                metric=SlaMetricName.FIRST_RESPONSE,
                due_at=NOW,
                target_seconds=3600,
            ),
        ),
        sla_envelope(
            later,
            SlaMet(
                ticket_id=later,
                metric=SlaMetricName.FIRST_RESPONSE,
                met_at=NOW,
                elapsed_seconds=60,
                within_target=True,
            ),
        ),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for _ in range(2):  # delivered twice: applying again changes nothing
            for envelope in events:
                await producer.send_and_wait(
                    SLA,
                    encode_envelope(envelope),
                    key=str(envelope.stream_id).encode(),
                    headers=kafka_headers(envelope, None),
                )
    finally:
        await producer.stop()

    projector = SlaProjector(pool, kafka_bootstrap, group_id=f"test-{uuid.uuid4()}")
    stop = asyncio.Event()
    running = asyncio.create_task(projector.run(stop))

    async def mine_applied() -> bool:
        rows = await pool.fetch(
            "SELECT ticket_id FROM ticket_sla WHERE ticket_id = ANY($1::uuid[])"
            " AND resolution_due IS NOT NULL",
            [later, sooner],
        )
        return len(rows) == 2 and projector.applied >= len(events) * 2

    try:
        await wait_for(mine_applied, 60)
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    await caught_up()  # type: ignore[misc]

    by_due = await api.get(
        "/tickets", params={"q": marker, "sort": "resolution_due"}, headers=agent
    )
    assert [item["id"] for item in by_due.json()["items"]] == [
        str(sooner),
        str(later),
        str(untracked),
    ]
    first = by_due.json()["items"][0]
    assert datetime.fromisoformat(first["resolution_due"]) == NOW + timedelta(hours=2)
    breached = await api.get("/tickets", params={"q": marker, "breached": "true"}, headers=agent)
    assert [item["id"] for item in breached.json()["items"]] == [str(sooner)]
    row = await pool.fetchrow("SELECT * FROM ticket_sla WHERE ticket_id = $1", later)
    assert (row["first_response_due"], row["first_response_state"]) == (None, "met")
    assert row["breached_metrics"] == []
