"""End to end: a ticket created over the ticket service's HTTP API, in a team that has members,
is assigned by the team's default rule - the assignment worker sends AssignTicket, the ticket
service's command consumer applies it and TicketAssigned reaches Kafka.

Processes: ticket-service serve, relay and commands, and the assignment worker, on the session's
real Kafka and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpdesk_devstack.tokens import mint_token
from helpdesk_devstack.topic_reader import read_topic
from helpdesk_events import EventEnvelope, decode_envelope
from helpdesk_events.topics import TICKETS
from ticket_service.adapters.migrate import upgrade

from .conftest import ServiceProcess, free_port


def _ticket_service_has_commands() -> bool:
    help_run = subprocess.run(
        [sys.executable, "-m", "ticket_service", "commands", "--help"],
        capture_output=True,
        check=False,
    )
    return help_run.returncode == 0


pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not _ticket_service_has_commands(),
        reason="ticket-service has no `commands` consumer yet (AssignTicket is not applied)",
    ),
]


async def _events_of(bootstrap: str, ticket_id: str, event_type: str) -> list[EventEnvelope]:
    key = ticket_id.encode()

    def mine(records: list[Any]) -> list[EventEnvelope]:
        return [
            envelope
            for r in records
            if r.key == key and r.value
            for envelope in [decode_envelope(r.value)]
            if envelope.event_type in ("TicketCreated", event_type)
        ]

    records = await read_topic(
        bootstrap,
        TICKETS,
        lambda rs: any(e.event_type == event_type for e in mine(rs)),
        max_wait=30,
    )
    return mine(records)


async def test_ticket_created_in_a_staffed_team_is_assigned_by_its_rule(
    make_database: Callable[[str], str],
    kafka_bootstrap: str,
    dev_keys: tuple[Path, Path],
    start_service: Callable[[str, list[str], dict[str, str]], ServiceProcess],
    tmp_path: Path,
) -> None:
    database_url = make_database("e2e_assign")
    await asyncio.to_thread(upgrade, database_url)
    port, assignment_port = free_port(), free_port()
    env = {
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "HELPDESK_JWT_PUBLIC_KEY_FILE": str(dev_keys[1]),
        "HELPDESK_HTTP_PORT": str(port),
        "HELPDESK_RELAY_NAME": f"e2e-assign-{port}",
    }
    api = start_service("ticket-service", ["-m", "ticket_service", "serve"], env)
    start_service("ticket-relay", ["-m", "ticket_service", "relay"], env)
    start_service("ticket-commands", ["-m", "ticket_service", "commands"], env)
    worker = start_service(
        "assignment-service",
        ["-m", "assignment_service", "worker"],
        {
            **env,
            "HELPDESK_ASSIGNMENT_APP_ID": f"assignment-e2e-{uuid.uuid4().hex[:8]}",
            "HELPDESK_ASSIGNMENT_HTTP_PORT": str(assignment_port),
            "HELPDESK_ASSIGNMENT_DATA_DIR": str(tmp_path / "assignment"),
        },
    )
    await asyncio.to_thread(api.wait_http, f"http://127.0.0.1:{port}/readyz")
    await asyncio.to_thread(worker.wait_http, f"http://127.0.0.1:{assignment_port}/readyz", 90)

    private = dev_keys[0].read_bytes()
    manager = mint_token(private, "manager", "manager-e2e", timedelta(minutes=10))
    agent = mint_token(private, "agent", "agent-e2e", timedelta(minutes=10))
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {manager}"},
        timeout=10,
    ) as client:
        agents = []
        for name in ("Sari", "Budi"):
            invited = await client.post(
                "/agents",
                json={
                    "email": f"{name.lower()}-{uuid.uuid4().hex[:6]}@example.com",
                    "name": name,
                    "role": "agent",
                },
            )
            assert invited.status_code == 201, invited.text
            agents.append(invited.json()["id"])
        team = await client.post("/teams", json={"name": f"Billing {uuid.uuid4().hex[:6]}"})
        assert team.status_code == 201, team.text
        team_id = team.json()["id"]
        for agent_id in agents:
            added = await client.put(f"/teams/{team_id}/members/{agent_id}")
            assert added.status_code in (200, 204), added.text

        async def create() -> str:
            response = await client.post(
                "/tickets",
                json={
                    "subject": "Invoice is wrong",
                    "priority": "High",
                    "channel": "email",
                    "team_id": team_id,
                },
                headers={"Authorization": f"Bearer {agent}", "Idempotency-Key": str(uuid.uuid4())},
            )
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        # The first ticket also waits for the directory to reach the worker.
        first = await create()
        await _events_of(kafka_bootstrap, first, "TicketAssigned")
        second = await create()
        events = await _events_of(kafka_bootstrap, second, "TicketAssigned")

        view = (await client.get(f"/tickets/{second}")).json()

        # Team routing (issue #20 item 1): a ticket without a team on a channel whose default
        # team is this one is routed (RouteTicket -> TeamChanged) and then assigned in it. The
        # channel is this test's own: the routing configuration is shared by the session.
        channel = f"e2e-{uuid.uuid4().hex[:8]}"
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{assignment_port}",
            headers={"Authorization": f"Bearer {manager}"},
        ) as assignment:
            version = (await assignment.get("/routing")).headers["ETag"]
            default = await assignment.put(
                f"/routing/channels/{channel}",
                json={"team_id": team_id},
                headers={"If-Match": version},
            )
            assert default.status_code == 200, default.text
        routed_ticket = await client.post(
            "/tickets",
            json={"subject": "Where is my refund?", "channel": channel},
            headers={"Authorization": f"Bearer {agent}", "Idempotency-Key": str(uuid.uuid4())},
        )
        assert routed_ticket.status_code == 201, routed_ticket.text
        routed_id = str(routed_ticket.json()["id"])
        routed_events = await _events_of(kafka_bootstrap, routed_id, "TicketAssigned")
        routed_view = (await client.get(f"/tickets/{routed_id}")).json()
    assert routed_view["team_id"] == team_id
    assert routed_view["assignee_id"] in agents
    assert any(e.event_type == "TicketAssigned" for e in routed_events)

    created = next(e for e in events if e.event_type == "TicketCreated")
    (assigned,) = [e for e in events if e.event_type == "TicketAssigned"]
    assert assigned.data["method"] == "rule"
    assert assigned.data["rule_id"] == f"team-{team_id}"
    assert assigned.data["assignee_id"] in agents
    assert view["assignee_id"] == assigned.data["assignee_id"]
    latency = (assigned.occurred_at - created.occurred_at).total_seconds()
    # How fast is measured by bench/assignment_latency.py (docs/benchmarks.md), not asserted
    # here: on a loaded machine a timed check fails for reasons that are not the product's.
    print(f"created -> assigned: {latency * 1000:.0f} ms")
