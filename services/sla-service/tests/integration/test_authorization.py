"""Security issue #11 on the SLA worker. Who may call which route is the SLA service's table of
the authorization matrix (``tests/integration/authz_tables.py``); here the rest #11 found:
a customer sees their own ticket's SLA only, Faust's own views (``/table``, ``/router``, ...)
are not served, the ``Server`` header names no software, and ``within`` has an upper bound (a
422, not a 500).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from helpdesk_devstack.authz import Callers, make_callers
from helpdesk_devstack.kafka_events import publish
from helpdesk_devstack.procs import free_port
from helpdesk_devstack.worker_process import WorkerProcess, worker_env
from helpdesk_events import Actor, ActorKind, StatusCategory, TicketCreated
from helpdesk_events.topics import TICKETS

pytestmark = pytest.mark.integration


# Faust's built-in views: served to nobody.
FAUST_VIEWS = ("/", "/table/", "/table/sla-state/{ticket_id}/", "/router/", "/stats/", "/graph/")


@pytest.fixture(scope="module")
def callers(dev_keys: tuple[Path, Path]) -> Callers:
    return make_callers(dev_keys[0].read_bytes())


@pytest.fixture(scope="module")
def headers(callers: Callers) -> dict[str, dict[str, str]]:
    return {caller: dict(header) for caller, header in callers.headers.items()}


@pytest.fixture(scope="module")
async def worker(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory, dev_keys: tuple[Path, Path]
) -> AsyncIterator[WorkerProcess]:
    base = tmp_path_factory.mktemp("sla-authz")
    app_id = f"sla-authz-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = worker_env("SLA", app_id, port, base, kafka_bootstrap, dev_keys[1])
    process = WorkerProcess("sla_service", env, base / f"{app_id}-{time.monotonic_ns()}.log", port)
    process.start()
    await process.wait_ready()
    yield process
    process.stop()


@pytest.fixture(scope="module")
async def ticket_of_a(
    worker: WorkerProcess,
    kafka_bootstrap: str,
    callers: Callers,
    headers: dict[str, dict[str, str]],
) -> uuid.UUID:
    """A ticket of customer A, once the worker tracks it."""
    ticket_id = uuid.uuid4()
    customer_a = uuid.UUID(callers.subjects["customer_a"])
    created = TicketCreated(
        subject="Cannot log in",
        channel="email",
        status="New",
        status_category=StatusCategory.NEW,
        priority="High",
        customer_id=customer_a,
        tags=("login",),
    )
    actor = Actor(kind=ActorKind.CUSTOMER, id=str(customer_a))
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await publish(producer, TICKETS, "ticket", ticket_id, created, version=1, actor=actor)
    finally:
        await producer.stop()
    url = f"{worker.url}/tickets/{ticket_id}/sla"
    async with httpx.AsyncClient(headers=headers["manager"]) as client:
        deadline = time.monotonic() + 30
        while (await client.get(url)).status_code != 200:
            assert time.monotonic() < deadline, f"the worker never tracked {ticket_id}"
            await asyncio.sleep(0.2)
    return ticket_id


def _concrete(path: str, ticket_id: uuid.UUID) -> str:
    return path.replace("{ticket_id}", str(ticket_id)).replace("{policy_id}", "default")


async def test_a_customer_sees_only_their_own_tickets_sla(
    worker: WorkerProcess, ticket_of_a: uuid.UUID, headers: dict[str, dict[str, str]]
) -> None:
    async with httpx.AsyncClient(base_url=worker.url) as client:
        mine = await client.get(f"/tickets/{ticket_of_a}/sla", headers=headers["customer_a"])
        assert mine.json()["ticket_id"] == str(ticket_of_a)
        theirs = await client.get(f"/tickets/{ticket_of_a}/sla", headers=headers["customer_b"])
        unknown = await client.get(f"/tickets/{uuid.uuid4()}/sla", headers=headers["customer_b"])
        assert theirs.json() == unknown.json()  # nothing tells B the ticket exists


async def test_faust_views_are_not_served_and_the_server_header_names_no_software(
    worker: WorkerProcess, ticket_of_a: uuid.UUID, headers: dict[str, dict[str, str]]
) -> None:
    async with httpx.AsyncClient(base_url=worker.url) as client:
        for path in FAUST_VIEWS:
            for caller in ("anonymous", "manager"):
                response = await client.get(_concrete(path, ticket_of_a), headers=headers[caller])
                assert response.status_code == 404, (path, caller)
                assert "Cannot log in" not in response.text
        for path in ("/healthz", "/table/", "/nowhere"):
            server = (await client.get(path)).headers.get("Server", "")
            assert "aiohttp" not in server.lower()
            assert "python" not in server.lower()


@pytest.mark.parametrize("within", ["P3000000D", "P99999999999999999999D", "P367D"])
async def test_a_window_longer_than_a_year_is_a_422(
    worker: WorkerProcess, headers: dict[str, dict[str, str]], within: str
) -> None:
    async with httpx.AsyncClient(base_url=worker.url, headers=headers["agent"]) as client:
        response = await client.get("/sla/breaching-soon", params={"within": within})
    assert response.status_code == 422
    assert "P366D" in response.json()["detail"]


async def test_a_policy_with_a_too_costly_condition_is_a_422(
    worker: WorkerProcess, headers: dict[str, dict[str, str]]
) -> None:
    """Security issue #11, item 5: four nested macros over 50 tags took minutes a ticket."""
    async with httpx.AsyncClient(base_url=worker.url, headers=headers["manager"]) as client:
        listing = await client.get("/policies")
        version = listing.headers["ETag"]
        policy = {
            "name": "Costly",
            "condition": 'tags.all(a, tags.all(b, tags.all(c, tags.all(d, a != "zz"))))',
            "targets": {"High": {"first_response": 60, "resolution": 600}},
        }
        response = await client.put("/policies/costly", json=policy, headers={"If-Match": version})
    assert response.status_code == 422
    assert "nested" in response.json()["detail"]
