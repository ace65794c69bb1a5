"""End to end: a ticket assigned over the ticket service's HTTP API reaches the agent's open
SSE stream, and a webhook registered by a manager receives signed, verifiable deliveries.

Processes: ticket-service serve and relay, notification-service serve (its own database), on
the session's real Kafka and PostgreSQL; the webhook receiver is a real HTTP server in the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
import pytest
import uvicorn
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from helpdesk_devstack.kafka_events import follow_from_now
from helpdesk_devstack.tokens import mint_token
from helpdesk_events.topics import DIRECTORY, SLA, TICKETS
from notification_service.adapters.migrate import upgrade as upgrade_notifications
from ticket_service.adapters.migrate import upgrade as upgrade_tickets

from .conftest import ServiceProcess, free_port

pytestmark = pytest.mark.integration


async def _next_data(lines: object, within: float) -> dict[str, object]:
    async def read() -> dict[str, object]:
        async for line in lines:  # type: ignore[attr-defined]
            if line.startswith("data:"):
                data: dict[str, object] = orjson.loads(line[5:])
                return data
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(read(), within)


async def test_assignment_reaches_the_agents_stream_and_a_signed_webhook(
    make_database: Callable[[str], str],
    kafka_bootstrap: str,
    dev_keys: tuple[Path, Path],
    start_service: Callable[[str, list[str], dict[str, str]], ServiceProcess],
) -> None:
    tickets_db, notify_db = make_database("e2e_notify_tickets"), make_database("e2e_notify")
    await asyncio.to_thread(upgrade_tickets, tickets_db)
    await asyncio.to_thread(upgrade_notifications, notify_db)
    ticket_port, notify_port = free_port(), free_port()
    common = {
        "HELPDESK_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "HELPDESK_JWT_PUBLIC_KEY_FILE": str(dev_keys[1]),
    }
    tickets_env = common | {
        "HELPDESK_DATABASE_URL": tickets_db,
        "HELPDESK_HTTP_PORT": str(ticket_port),
        "HELPDESK_RELAY_NAME": f"e2e-notify-{ticket_port}",
    }
    api = start_service("ticket-service", ["-m", "ticket_service", "serve"], tickets_env)
    start_service("ticket-relay", ["-m", "ticket_service", "relay"], tickets_env)
    group = f"e2e-notify-{uuid.uuid4().hex[:8]}"
    await follow_from_now(kafka_bootstrap, group, (DIRECTORY, TICKETS, SLA))
    notify = start_service(
        "notification-service",
        ["-m", "notification_service", "serve"],
        common
        | {
            "HELPDESK_DATABASE_URL": notify_db,
            "HELPDESK_HTTP_PORT": str(notify_port),
            "HELPDESK_CONSUMER_GROUP": group,
            "HELPDESK_WEBHOOKS_ALLOW_PRIVATE": "true",
        },
    )
    await asyncio.to_thread(api.wait_http, f"http://127.0.0.1:{ticket_port}/readyz")
    await asyncio.to_thread(notify.wait_http, f"http://127.0.0.1:{notify_port}/readyz")

    # The session's Kafka carries other tests' tickets too; the service follows from now on, but a
    # test running alongside may still write: count only the deliveries of this test's ticket.
    received: list[tuple[dict[str, str], bytes]] = []
    ours: dict[str, str] = {}
    both_received = asyncio.Event()

    async def hook(request: Request) -> Response:
        body = await request.body()
        received.append((dict(request.headers), body))
        if "ticket_id" in ours:
            mine = [b for _, b in received if orjson.loads(b).get("stream_id") == ours["ticket_id"]]
            if len(mine) >= 2:
                both_received.set()
        return Response(status_code=204)

    receiver_port = free_port()
    receiver = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/hook", hook, methods=["POST"])]),
            host="127.0.0.1",
            port=receiver_port,
            log_level="warning",
            lifespan="off",
        )
    )
    serving = asyncio.create_task(receiver.serve())

    private = dev_keys[0].read_bytes()
    manager = mint_token(private, "manager", "manager-e2e-notify", timedelta(minutes=10))
    try:
        async with (
            httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{ticket_port}",
                headers={"Authorization": f"Bearer {manager}"},
                timeout=30,
            ) as tickets,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{notify_port}", timeout=30) as notes,
        ):
            invited = await tickets.post(
                "/agents",
                json={
                    "email": f"sari-{uuid.uuid4().hex[:6]}@example.com",
                    "name": "Sari",
                    "role": "agent",
                },
            )
            assert invited.status_code == 201, invited.text
            sari_id = invited.json()["id"]
            sari = mint_token(private, "agent", sari_id, timedelta(minutes=10))

            made = await notes.post(
                "/webhooks",
                headers={"Authorization": f"Bearer {manager}"},
                json={
                    "url": f"http://127.0.0.1:{receiver_port}/hook",
                    "event_types": ["TicketCreated", "TicketAssigned"],
                },
            )
            assert made.status_code == 201, made.text
            secret = made.json()["secret"]

            async with notes.stream(
                "GET",
                "/notifications/stream",
                headers={"Authorization": f"Bearer {sari}"},
                timeout=None,
            ) as stream:
                assert stream.status_code == 200
                lines = stream.aiter_lines()
                created = await tickets.post(
                    "/tickets",
                    json={"subject": "Printer on fire", "priority": "High", "channel": "email"},
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )
                assert created.status_code == 201, created.text
                ticket = created.json()
                ours["ticket_id"] = ticket["id"]
                assigned_at = time.monotonic()
                patched = await tickets.patch(
                    f"/tickets/{ticket['id']}", json={"assignee_id": sari_id}
                )
                assert patched.status_code == 200, patched.text
                notification = await _next_data(lines, within=60)
                took = time.monotonic() - assigned_at
            assert notification["kind"] == "assigned"
            assert notification["ticket_id"] == ticket["id"]
            assert notification["title"] == (
                f"#{ticket['number']} Printer on fire was assigned to you"
            )
            print(f"assigned → SSE in {took * 1000:.0f} ms")

            await asyncio.wait_for(both_received.wait(), 60)
            envelopes = [Webhook(secret).verify(body, headers) for headers, body in received]
            envelopes = [e for e in envelopes if e["stream_id"] == ticket["id"]]
            assert [e["event_type"] for e in envelopes] == ["TicketCreated", "TicketAssigned"]
            assert {e["stream_id"] for e in envelopes} == {ticket["id"]}
    finally:
        # The notification service may hold a delivery connection open: a graceful shutdown would
        # wait for it (CI saw the 10 s below run out), and nothing more is to be received.
        receiver.should_exit = receiver.force_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(serving, 10)
