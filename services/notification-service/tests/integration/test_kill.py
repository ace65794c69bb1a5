"""``kill -9`` of the service in the middle of a burst: after a restart no notification is lost
and none is doubled, and every webhook delivery reaches the receiver (receivers dedupe by
``webhook-id``, as the Standard Webhooks specification asks: a delivery under way when the
process died is sent again)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from helpdesk_events import TicketAssigned
from notification_service.adapters.migrate import upgrade

from .conftest import Harness, Receiver, ServiceProcess, bearer, eventually, service_env

BURST = 600
RATE = 200  # events per second


async def test_kill_9_mid_burst_loses_and_doubles_nothing(
    make_database: Callable[[str], str],
    kafka_bootstrap: str,
    dev_keys: tuple[Path, Path],
    harness: Harness,
    receiver: Receiver,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    database_url = make_database("notifications_kill")
    upgrade(database_url)
    process = ServiceProcess(
        service_env(database_url, kafka_bootstrap, dev_keys, None),
        tmp_path_factory.mktemp("kill") / "service.log",
    )
    process.start()
    try:
        await process.wait_ready()
        local = Harness(harness.producer, database_url, harness.private_key)
        agents = [await local.agent(f"Burst {i}") for i in range(4)]
        async with httpx.AsyncClient(base_url=process.url, timeout=30) as api:
            manager = local.token("burst-manager", "manager")
            made = await api.post(
                "/webhooks",
                headers=bearer(manager),
                json={"url": receiver.url, "event_types": ["TicketAssigned"]},
            )
            assert made.status_code == 201

        async def count() -> int:
            value = await local.fetchval(
                "SELECT count(*) FROM notifications WHERE recipient_id = ANY($1::text[])",
                [a.id for a in agents],
            )
            return int(value)

        last: dict[int, int] = {}

        async def burst() -> None:
            for i in range(BURST):
                agent = agents[i % len(agents)]
                envelope = local.envelope(
                    TicketAssigned(assignee_id=uuid.UUID(agent.id)), uuid.uuid4()
                )
                _, partition, offset = await local.send(envelope)
                last[partition] = max(last.get(partition, -1), offset)
                await asyncio.sleep(1 / RATE)

        producing = asyncio.create_task(burst())

        async def some_stored() -> bool:
            return await count() > 20

        await eventually(some_stored)
        process.kill()  # kill -9 in the middle of it
        stored_at_kill = await count()
        assert stored_at_kill < BURST
        process.start()
        await producing
        await process.wait_ready()
        for partition, offset in last.items():
            await local.consumed("helpdesk.tickets.v1", partition, offset, within=120)

        assert await count() == BURST
        distinct = await local.fetchval(
            "SELECT count(DISTINCT event_id) FROM notifications "
            "WHERE recipient_id = ANY($1::text[])",
            [a.id for a in agents],
        )
        assert distinct == BURST
        async with httpx.AsyncClient(base_url=process.url, timeout=30) as api:
            for agent in agents:
                page = (await api.get("/notifications?limit=200", headers=bearer(agent))).json()
                assert len(page["items"]) == BURST // len(agents)
                assert page["unread_count"] == BURST // len(agents)

        assert await local.fetchval("SELECT count(*) FROM webhook_deliveries") == BURST

        async def all_received() -> bool:
            return len({h["webhook-id"] for h, _ in receiver.accepted}) >= BURST

        await eventually(all_received, within=120)
        assert len({h["webhook-id"] for h, _ in receiver.accepted}) == BURST
    finally:
        process.stop()
