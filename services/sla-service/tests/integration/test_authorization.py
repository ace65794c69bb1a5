"""Who may call what on the SLA worker (security issue #11): an authorization matrix.

Every route of the worker's ``/openapi.json`` is called as no token, a forged token (signed by
another key), customer A (whose ticket it is), customer B, a technician, an agent and a manager,
and the status is compared with :data:`EXPECTED`. A route the OpenAPI document lists without an
entry here fails the test, so a new route cannot go out without its row. The same worker is
checked for what else #11 found: Faust's own views (``/table``, ``/router``, ...) are not served,
the ``Server`` header names no software, and ``within`` has an upper bound (a 422, not a 500).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from helpdesk_devstack.authz import Expected, caller_headers, check_matrix
from helpdesk_devstack.kafka_events import publish
from helpdesk_devstack.procs import free_port
from helpdesk_devstack.worker_process import WorkerProcess
from helpdesk_events import Actor, ActorKind, StatusCategory, TicketCreated
from helpdesk_events.topics import TICKETS

pytestmark = pytest.mark.integration

CUSTOMER_A, CUSTOMER_B = uuid.uuid4(), uuid.uuid4()

# (method, OpenAPI path) -> status per caller: none, forged, customer A, customer B,
# technician, agent, manager (helpdesk_devstack.authz.CALLERS).
EXPECTED: Expected = {
    ("GET", "/healthz"): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/readyz"): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/openapi.json"): (200, 200, 200, 200, 200, 200, 200),
    # Customer A's ticket: B gets the same 404 as for a ticket that does not exist.
    ("GET", "/tickets/{ticket_id}/sla"): (401, 401, 200, 404, 200, 200, 200),
    ("GET", "/sla/breaching-soon"): (401, 401, 403, 403, 200, 200, 200),
    ("GET", "/policies"): (401, 401, 403, 403, 403, 403, 200),
    ("GET", "/policies/{policy_id}"): (401, 401, 403, 403, 403, 403, 200),
    # Writes without If-Match: a manager gets past the role check to the 428 (nothing written).
    ("PUT", "/policies/{policy_id}"): (401, 401, 403, 403, 403, 403, 428),
    ("DELETE", "/policies/{policy_id}"): (401, 401, 403, 403, 403, 403, 428),
    # Holiday lists, calendars, teams' calendars: managers only, like the policies.
    ("GET", "/holiday-lists"): (401, 401, 403, 403, 403, 403, 200),
    ("GET", "/holiday-lists/{holiday_list_id}"): (401, 401, 403, 403, 403, 403, 404),
    ("PUT", "/holiday-lists/{holiday_list_id}"): (401, 401, 403, 403, 403, 403, 428),
    ("DELETE", "/holiday-lists/{holiday_list_id}"): (401, 401, 403, 403, 403, 403, 428),
    ("GET", "/calendars"): (401, 401, 403, 403, 403, 403, 200),
    ("GET", "/calendars/{calendar_id}"): (401, 401, 403, 403, 403, 403, 404),
    ("PUT", "/calendars/{calendar_id}"): (401, 401, 403, 403, 403, 403, 428),
    ("DELETE", "/calendars/{calendar_id}"): (401, 401, 403, 403, 403, 403, 428),
    ("GET", "/sla/teams/{team_id}/calendar"): (401, 401, 403, 403, 403, 403, 200),
    ("PUT", "/sla/teams/{team_id}/calendar"): (401, 401, 403, 403, 403, 403, 428),
}

# Faust's built-in views: served to nobody.
FAUST_VIEWS = ("/", "/table/", "/table/sla-state/{ticket_id}/", "/router/", "/stats/", "/graph/")


@pytest.fixture(scope="module")
def headers(dev_keys: tuple[Path, Path]) -> dict[str, dict[str, str]]:
    return caller_headers(dev_keys[0].read_bytes(), str(CUSTOMER_A), str(CUSTOMER_B))


@pytest.fixture(scope="module")
async def worker(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory, dev_keys: tuple[Path, Path]
) -> AsyncIterator[WorkerProcess]:
    base = tmp_path_factory.mktemp("sla-authz")
    app_id = f"sla-authz-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "HELPDESK_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "HELPDESK_SLA_APP_ID": app_id,
        "HELPDESK_SLA_HTTP_PORT": str(port := free_port()),
        "HELPDESK_SLA_DATA_DIR": str(base),
        "HELPDESK_SLA_SESSION_TIMEOUT": "6",
        "HELPDESK_JWT_PUBLIC_KEY_FILE": str(dev_keys[1]),
    }
    process = WorkerProcess("sla_service", env, base / f"{app_id}-{time.monotonic_ns()}.log", port)
    process.start()
    await process.wait_ready()
    yield process
    process.stop()


@pytest.fixture(scope="module")
async def ticket_of_a(
    worker: WorkerProcess, kafka_bootstrap: str, headers: dict[str, dict[str, str]]
) -> uuid.UUID:
    """A ticket of customer A, once the worker tracks it."""
    ticket_id = uuid.uuid4()
    created = TicketCreated(
        subject="Cannot log in",
        channel="email",
        status="New",
        status_category=StatusCategory.NEW,
        priority="High",
        customer_id=CUSTOMER_A,
        tags=("login",),
    )
    actor = Actor(kind=ActorKind.CUSTOMER, id=str(CUSTOMER_A))
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
    return (
        path.replace("{ticket_id}", str(ticket_id))
        .replace("{policy_id}", "default")
        .replace("{holiday_list_id}", "none-such")
        .replace("{calendar_id}", "none-such")
        .replace("{team_id}", str(uuid.UUID(int=0)))
    )


async def test_every_route_answers_each_caller_as_the_matrix_says(
    worker: WorkerProcess, ticket_of_a: uuid.UUID, headers: dict[str, dict[str, str]]
) -> None:
    async with httpx.AsyncClient(base_url=worker.url) as client:
        await check_matrix(
            client,
            EXPECTED,
            headers,
            lambda path: _concrete(path, ticket_of_a),
            lambda method, path: {"name": "authz"} if method == "PUT" else None,
        )


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
            for caller in ("none", "manager"):
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
