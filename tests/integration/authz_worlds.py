"""The worlds the authorization matrix (``test_authorization_matrix``) and the fuzzing of every
service (``test_api_fuzz_services``) run in: each service as its real process, the records the
calls name (customer A's ticket, a team, a webhook...) and ways to make fresh ones.

A test module using :data:`WORLDS` imports the gateway stack's fixture too
(``from .gateway_stack import gateway``), so that the API gateway's world can ask for it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from helpdesk_devstack.authz import (
    CALLERS,
    MAIL_CUSTOMER,
    MAIL_GATEWAY,
    STAFF,
    World,
    make_callers,
)
from helpdesk_devstack.greenmail import MailServer
from helpdesk_devstack.kafka_events import publish
from helpdesk_devstack.procs import free_port
from helpdesk_devstack.worker_process import WorkerProcess, worker_env
from helpdesk_events import Actor, ActorKind, StatusCategory, TicketCreated
from helpdesk_events.topics import TICKETS

from .conftest import ServiceProcess
from .gateway_stack import GatewayStack
from .mail_stack import start_mail_stack

Start = Callable[[str, list[str], dict[str, str]], ServiceProcess]


async def ok(response: Awaitable[httpx.Response]) -> dict[str, Any]:
    answer = await response
    assert answer.is_success, f"{answer.request.method} {answer.request.url}: {answer.text}"
    return dict(answer.json())


async def _eventually(probe: Callable[[], Awaitable[bool]], what: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not await probe():
        assert time.monotonic() < deadline, f"never: {what}"
        await asyncio.sleep(0.2)


# --- the ticket service -------------------------------------------------------------------------


async def ticket_service_world(request: pytest.FixtureRequest, private_key: bytes) -> World:
    url = request.getfixturevalue("run_ticket_service")("authz")
    callers = make_callers(private_key)
    headers, emails = callers.headers, callers.emails
    agent, manager = dict(headers["agent"]), dict(headers["manager"])
    ids: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=url, timeout=30) as api:
        # Staff are in the directory (so /agents/me finds them), with a spare member to use.
        for role in STAFF:
            body = {"email": emails[role], "name": role, "role": role}
            await ok(api.post("/agents", json=body, headers=manager))
        member = await ok(
            api.post(
                "/agents",
                json={"email": f"member-{uuid.uuid4().hex}@helpdesk.example", "name": "Member"},
                headers=manager,
            )
        )
        ids["member"] = member["id"]
        l2 = await ok(
            api.post("/teams", json={"name": f"L2 {uuid.uuid4().hex}", "tier": 2}, headers=manager)
        )
        l1 = await ok(
            api.post(
                "/teams",
                json={"name": f"L1 {uuid.uuid4().hex}", "tier": 1, "escalates_to": l2["id"]},
                headers=manager,
            )
        )
        ids["l1_team"] = l1["id"]
        # Customer A's ticket with a public message and attachment; B has a ticket of their own.
        customer_a = dict(headers["customer_a"])
        ticket_a = await ok(api.post("/tickets", json={"subject": "A's"}, headers=customer_a))
        await ok(api.post("/tickets", json={"subject": "B's"}, headers=dict(headers["customer_b"])))
        upload = await api.post(
            "/attachments",
            params={"filename": "a.txt"},
            content=b"a's file",
            headers=customer_a | {"Content-Type": "text/plain"},
        )
        attachment = upload.json()["attachment_id"]
        await ok(
            api.post(
                f"/tickets/{ticket_a['id']}/messages",
                json={"body": "see file", "attachment_ids": [attachment]},
                headers=customer_a,
            )
        )
        company = await ok(api.post("/companies", json={"name": "PT Matrix"}, headers=agent))
        ids |= {
            "ticket_a": ticket_a["id"],
            "customer_a": ticket_a["customer_id"],
            "attachment_a": attachment,
            "customer_a_email": emails["customer_a"],
            "company": company["id"],
            "logo_kind": "logo",
            "favicon_kind": "favicon",
        }

    async def fresh(api: httpx.AsyncClient, name: str) -> dict[str, str]:
        async def ticket(**body: Any) -> str:
            made = await ok(
                api.post(
                    "/tickets",
                    json={"subject": "Fresh", "requester": {"email": emails["customer_a"]}, **body},
                    headers=agent,
                )
            )
            return str(made["id"])

        async def team() -> str:
            made = await ok(
                api.post("/teams", json={"name": f"T {uuid.uuid4().hex}"}, headers=manager)
            )
            return str(made["id"])

        if name in ("fresh_ticket", "fresh_child"):
            return {name: await ticket()}
        if name == "l1_ticket":
            return {name: await ticket(team_id=ids["l1_team"])}
        if name == "merged_pair":
            parent, child = await ticket(), await ticket()
            await ok(
                api.post(f"/tickets/{parent}/merge", json={"children": [child]}, headers=agent)
            )
            return {"merged_parent": parent, "merged_child": child}
        if name == "fresh_agent":
            body = {"email": f"fresh-{uuid.uuid4().hex}@helpdesk.example", "name": "Fresh"}
            made = await ok(api.post("/agents", json=body, headers=manager))
            return {name: str(made["id"])}
        if name == "fresh_team":
            return {name: await team()}
        if name == "team_with_member":
            team_id = await team()
            await ok(api.put(f"/teams/{team_id}/members/{ids['member']}", headers=manager))
            return {name: team_id}
        if name == "unique":
            return {name: f"matrix-{uuid.uuid4().hex}"}
        if name in ("solved_ticket", "open_ticket"):  # customer A's, to rate or resolve
            made = await ticket()
            if name == "solved_ticket":
                solved = {"status": "Solved"}
                await ok(api.post(f"/tickets/{made}/status", json=solved, headers=agent))
            return {name: made}
        raise AssertionError(f"no way to make a fresh {name!r}")

    return World(url, callers, ids, fresh, who=(*CALLERS, MAIL_GATEWAY, MAIL_CUSTOMER))


# --- the SLA and assignment workers ---------------------------------------------------------


def _worker(
    request: pytest.FixtureRequest, package: str, prefix: str, dev_keys: tuple[Path, Path]
) -> WorkerProcess:
    """A Faust worker (``python -m <package>``) of its own on the session's Kafka."""
    base = request.getfixturevalue("tmp_path_factory").mktemp(f"{package}-authz")
    app_id = f"{package.replace('_', '-')}-authz-{uuid.uuid4().hex[:8]}"
    port = free_port()
    kafka = request.getfixturevalue("kafka_bootstrap")
    env = worker_env(prefix, app_id, port, base / app_id, kafka, dev_keys[1])
    process = WorkerProcess(package, env, base / f"{app_id}.log", port)
    process.start()
    request.addfinalizer(process.stop)
    return process


async def sla_service_world(request: pytest.FixtureRequest, private_key: bytes) -> World:
    worker = _worker(request, "sla_service", "SLA", request.getfixturevalue("dev_keys"))
    await worker.wait_ready()
    callers = make_callers(private_key)
    customer_a = uuid.UUID(callers.subjects["customer_a"])
    ticket_id = uuid.uuid4()
    created = TicketCreated(
        subject="Cannot log in",
        channel="email",
        status="New",
        status_category=StatusCategory.NEW,
        priority="High",
        customer_id=customer_a,
        tags=("login",),
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=request.getfixturevalue("kafka_bootstrap"), acks="all"
    )
    await producer.start()
    try:
        actor = Actor(kind=ActorKind.CUSTOMER, id=str(customer_a))
        await publish(producer, TICKETS, "ticket", ticket_id, created, version=1, actor=actor)
    finally:
        await producer.stop()
    async with httpx.AsyncClient(base_url=worker.url, headers=callers.headers["manager"]) as api:

        async def tracked() -> bool:
            return (await api.get(f"/tickets/{ticket_id}/sla")).status_code == 200

        await _eventually(tracked, f"the SLA worker tracks {ticket_id}")
    ids = {
        "ticket_a": str(ticket_id),
        "policy": "default",
        "missing": "none-such",
        "team": str(uuid.UUID(int=0)),
    }
    return World(worker.url, callers, ids)


async def assignment_service_world(request: pytest.FixtureRequest, private_key: bytes) -> World:
    dev_keys = request.getfixturevalue("dev_keys")
    worker = _worker(request, "assignment_service", "ASSIGNMENT", dev_keys)
    await worker.wait_ready()
    ids = {"rule": f"authz-{uuid.uuid4().hex[:8]}", "channel": "authz-channel"}
    return World(worker.url, make_callers(private_key), ids)


# --- the mail gateway ---------------------------------------------------------------------------


async def mail_gateway_world(request: pytest.FixtureRequest, private_key: bytes) -> World:
    mail_server: MailServer = request.getfixturevalue("mail_server")
    stack = start_mail_stack(
        make_database=request.getfixturevalue("make_database"),
        kafka_bootstrap=request.getfixturevalue("kafka_bootstrap"),
        mail_server=mail_server,
        dev_keys=request.getfixturevalue("dev_keys"),
        start_service=request.getfixturevalue("start_service"),
        support=f"authz-{uuid.uuid4().hex[:8]}@helpdesk.local",
    )
    callers = make_callers(private_key)
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as api:
        accounts = (await api.get("/accounts", headers=callers.headers["manager"])).json()
    ids = {
        "account": accounts[0]["account_id"],
        "unknown": str(uuid.uuid4()),
        "imap_host": mail_server.host,
        "imap_port": str(mail_server.imap_port),
        "smtp_host": mail_server.host,
        "smtp_port": str(mail_server.smtp_port),
    }

    async def fresh(api: httpx.AsyncClient, name: str) -> dict[str, str]:
        assert name == "unique", name
        return {name: f"authz-{uuid.uuid4().hex[:12]}"}

    return World(stack.gateway_url, callers, ids, fresh)


# --- the notification service -------------------------------------------------------------------


async def notification_service_world(request: pytest.FixtureRequest, private_key: bytes) -> World:
    from notification_service.adapters.migrate import upgrade

    database_url = request.getfixturevalue("make_database")("notify_authz")
    await asyncio.to_thread(upgrade, database_url)
    port = free_port()
    env = {
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_KAFKA_BOOTSTRAP": request.getfixturevalue("kafka_bootstrap"),
        "HELPDESK_JWT_PUBLIC_KEY_FILE": str(request.getfixturevalue("dev_keys")[1]),
        "HELPDESK_HTTP_PORT": str(port),
        "HELPDESK_CONSUMER_GROUP": f"notification-authz-{uuid.uuid4().hex[:8]}",
        "HELPDESK_WEBHOOKS_ALLOW_PRIVATE": "true",
    }
    start: Start = request.getfixturevalue("start_service")
    service = start("notification-service", ["-m", "notification_service", "serve"], env)
    url = f"http://127.0.0.1:{port}"
    await asyncio.to_thread(service.wait_http, f"{url}/readyz", 90)
    callers = make_callers(private_key)
    manager = dict(callers.headers["manager"])
    async with httpx.AsyncClient(base_url=url, timeout=30) as api:
        hook = await ok(
            api.post(
                "/webhooks",
                json={"url": "http://127.0.0.1:9/hook", "event_types": ["*"]},
                headers=manager,
            )
        )
    ids = {"webhook": hook["id"], "ticket": str(uuid.uuid4()), "unknown": str(uuid.uuid4())}

    async def fresh(api: httpx.AsyncClient, name: str) -> dict[str, str]:
        if name == "fresh_webhook":
            body = {"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}
            made = await ok(api.post("/webhooks", json=body, headers=manager))
            return {name: str(made["id"])}
        if name == "followed":
            ticket = str(uuid.uuid4())
            for caller in STAFF:  # whoever unfollows follows it first
                await api.put(
                    f"/notifications/follows/{ticket}", headers=dict(callers.headers[caller])
                )
            return {name: ticket}
        raise AssertionError(f"no way to make a fresh {name!r}")

    return World(url, callers, ids, fresh)


# --- the API gateway ----------------------------------------------------------------------------


async def api_gateway_world(request: pytest.FixtureRequest, private_key: bytes) -> World:
    stack: GatewayStack = request.getfixturevalue("gateway")
    callers = make_callers(private_key)
    ids = {
        "customer_email": callers.emails["customer_a"],
        "unknown": uuid.uuid4().hex,
        "unknown_link": "x" * 43,
    }

    async def fresh(api: httpx.AsyncClient, name: str) -> dict[str, str]:
        assert name == "unique", name
        return {name: uuid.uuid4().hex}

    return World(stack.url, callers, ids, fresh, openapi="/api/gateway-openapi.json")


WORLDS: dict[str, Callable[[pytest.FixtureRequest, bytes], Awaitable[World]]] = {
    "ticket-service": ticket_service_world,
    "sla-service": sla_service_world,
    "assignment-service": assignment_service_world,
    "mail-gateway": mail_gateway_world,
    "notification-service": notification_service_world,
    "api-gateway": api_gateway_world,
}
