"""End to end: the ticket service and its relay run as processes; a ticket created over HTTP
with a bearer token shows up on Kafka as an envelope keyed by the ticket id."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
import pytest

from helpdesk_devstack.tokens import mint_token
from helpdesk_devstack.topic_reader import read_topic
from helpdesk_events import decode_envelope
from helpdesk_events.topics import TICKETS
from ticket_service.adapters.migrate import upgrade

from .conftest import ServiceProcess, free_port

pytestmark = pytest.mark.integration


async def test_ticket_created_over_http_appears_on_kafka(
    make_database: Callable[[str], str],
    kafka_bootstrap: str,
    dev_keys: tuple[Path, Path],
    start_service: Callable[[str, list[str], dict[str, str]], ServiceProcess],
) -> None:
    database_url = make_database("e2e")
    await asyncio.to_thread(upgrade, database_url)
    port = free_port()
    env = {
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "HELPDESK_JWT_PUBLIC_KEY_FILE": str(dev_keys[1]),
        "HELPDESK_HTTP_PORT": str(port),
        "HELPDESK_RELAY_NAME": f"e2e-{port}",
    }
    api = start_service("ticket-service", ["-m", "ticket_service", "serve"], env)
    start_service("ticket-relay", ["-m", "ticket_service", "relay"], env)
    await asyncio.to_thread(api.wait_http, f"http://127.0.0.1:{port}/readyz")

    token = mint_token(dev_keys[0].read_bytes(), "agent", "agent-e2e", timedelta(minutes=5))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        response = await client.post(
            "/tickets",
            json={"subject": "Laptop will not boot", "priority": "High", "channel": "phone"},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
        )
    assert response.status_code == 201, response.text
    ticket_id = response.json()["id"]

    key = ticket_id.encode()
    records = await read_topic(
        kafka_bootstrap, TICKETS, lambda seen: any(r.key == key for r in seen), max_wait=30
    )
    found = next((r for r in records if r.key == key), None)
    assert found is not None and found.value is not None, "the ticket's event never reached Kafka"
    envelope = decode_envelope(found.value)
    assert str(envelope.stream_id) == ticket_id
    assert envelope.event_type == "TicketCreated"
    assert orjson.loads(found.value)["data"]["channel"] == "phone"
    assert dict(found.headers)["event_type"] == b"TicketCreated"
    assert dict(found.headers)["traceparent"].startswith(b"00-")
