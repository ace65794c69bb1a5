"""Security issue #11 on the assignment worker. Who may call which route is the assignment
service's table of the authorization matrix (``tests/integration/authz_tables.py``); here the
rest #11 found: Faust's own views (``/table/ticket-facts/<id>``, ``/router``, ...) are not
served, the ``Server`` header names no software, a rule naming a team or agent that does not
exist is a 422, a condition too costly to evaluate is a 422, and the rule body has a real schema.
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

from helpdesk_devstack.authz import make_callers
from helpdesk_devstack.kafka_events import publish
from helpdesk_devstack.procs import free_port
from helpdesk_devstack.worker_process import WorkerProcess, worker_env
from helpdesk_events import DomainEvent
from helpdesk_events.directory import AgentInvited, AgentRole, TeamCreated, TeamMemberAdded
from helpdesk_events.topics import DIRECTORY

pytestmark = pytest.mark.integration

# A rule that names no team or agent (so it passes the reference check) for the write rows.
FIELD_RULE = {"name": "authz", "method": "based_on_field", "assignee_field": "assignee_id"}


FAUST_VIEWS = (
    "/",
    "/table/",
    "/table/ticket-facts/{ticket_id}/",
    "/table/directory/agent:{agent_id}/",
    "/router/",
    "/stats/",
    "/graph/",
)


@pytest.fixture(scope="module")
def headers(dev_keys: tuple[Path, Path]) -> dict[str, dict[str, str]]:
    callers = make_callers(dev_keys[0].read_bytes())
    return {caller: dict(header) for caller, header in callers.headers.items()}


@pytest.fixture(scope="module")
async def worker(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory, dev_keys: tuple[Path, Path]
) -> AsyncIterator[WorkerProcess]:
    base = tmp_path_factory.mktemp("assignment-authz")
    app_id = f"assignment-authz-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = worker_env("ASSIGNMENT", app_id, port, base / app_id, kafka_bootstrap, dev_keys[1])
    process = WorkerProcess(
        "assignment_service", env, base / f"{app_id}-{time.monotonic_ns()}.log", port
    )
    process.start()
    await process.wait_ready()
    yield process
    process.stop()


async def _emit(
    producer: AIOKafkaProducer, stream_type: str, stream_id: uuid.UUID, event: DomainEvent
) -> None:
    await publish(producer, DIRECTORY, stream_type, stream_id, event, version=1)


@pytest.fixture(scope="module")
async def team(
    worker: WorkerProcess, kafka_bootstrap: str, headers: dict[str, dict[str, str]]
) -> tuple[uuid.UUID, uuid.UUID]:
    """A team with one agent, once the worker knows them (its default rule is listed)."""
    team_id, agent_id = uuid.uuid4(), uuid.uuid4()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await _emit(producer, "team", team_id, TeamCreated(name="Authz"))
        invited = AgentInvited(email="authz@example.com", name="A", role=AgentRole.AGENT)
        await _emit(producer, "agent", agent_id, invited)
        await _emit(producer, "team", team_id, TeamMemberAdded(agent_id=agent_id))
    finally:
        await producer.stop()
    async with httpx.AsyncClient(base_url=worker.url, headers=headers["manager"]) as client:
        deadline = time.monotonic() + 30
        while f"team-{team_id}" not in str((await client.get("/rules")).json()):
            assert time.monotonic() < deadline, "the worker never read the team"
            await asyncio.sleep(0.2)
    return team_id, agent_id


def _concrete(path: str, team: tuple[uuid.UUID, uuid.UUID]) -> str:
    return (
        path.replace("{rule_id}", f"authz-{uuid.uuid4().hex[:8]}")
        .replace("{ticket_id}", str(uuid.uuid4()))
        .replace("{agent_id}", str(team[1]))
    )


async def test_faust_views_are_not_served_and_the_server_header_names_no_software(
    worker: WorkerProcess, team: tuple[uuid.UUID, uuid.UUID], headers: dict[str, dict[str, str]]
) -> None:
    async with httpx.AsyncClient(base_url=worker.url) as client:
        for path in FAUST_VIEWS:
            for caller in ("anonymous", "manager"):
                response = await client.get(_concrete(path, team), headers=headers[caller])
                assert response.status_code == 404, (path, caller)
                assert "authz@example.com" not in response.text
        for path in ("/healthz", "/table/", "/nowhere"):
            server = (await client.get(path)).headers.get("Server", "")
            assert "aiohttp" not in server.lower()
            assert "python" not in server.lower()


async def test_rules_naming_unknown_teams_or_agents_or_costly_conditions_are_422(
    worker: WorkerProcess, team: tuple[uuid.UUID, uuid.UUID], headers: dict[str, dict[str, str]]
) -> None:
    team_id, agent_id = team
    stranger = uuid.uuid4()
    async with httpx.AsyncClient(base_url=worker.url, headers=headers["manager"]) as client:
        version = (await client.get("/rules")).headers["ETag"]
        # Only this team's tickets (the rules topic is shared with the other tests' workers).
        rule = {
            "name": "Known",
            "method": "round_robin",
            "teams": [str(team_id)],
            "assign_condition": f'team_id == "{team_id}"',
        }

        async def put(body: dict[str, object]) -> httpx.Response:
            rule_id = f"authz-{uuid.uuid4().hex[:8]}"
            return await client.put(f"/rules/{rule_id}", json=body, headers={"If-Match": version})

        unknown_team = await put({**rule, "teams": [str(stranger)]})
        assert unknown_team.status_code == 422
        assert f"unknown teams: {stranger}" in unknown_team.json()["detail"]
        unknown_agent = await put({**rule, "agents": [str(agent_id), str(stranger)]})
        assert unknown_agent.status_code == 422
        assert f"unknown agents: {stranger}" in unknown_agent.json()["detail"]
        costly = await put(
            {
                **rule,
                "assign_condition": (
                    'tags.all(a, tags.all(b, tags.all(c, tags.all(d, a != "zz"))))'
                ),
            }
        )
        assert costly.status_code == 422
        assert "nested" in costly.json()["detail"]
        # The same rule with known references is taken (and deleted again).
        rule_id = f"authz-{uuid.uuid4().hex[:8]}"
        saved = await client.put(
            f"/rules/{rule_id}",
            json={**rule, "agents": [str(agent_id)]},
            headers={"If-Match": version},
        )
        assert saved.status_code == 200, saved.text
        deleted = await client.delete(
            f"/rules/{rule_id}", headers={"If-Match": saved.headers["ETag"]}
        )
        assert deleted.status_code == 200, deleted.text


async def test_the_rule_body_has_a_schema(worker: WorkerProcess) -> None:
    async with httpx.AsyncClient(base_url=worker.url) as client:
        document = (await client.get("/openapi.json")).json()
    body = document["paths"]["/rules/{rule_id}"]["put"]["requestBody"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/AssignmentRule"}
    schema = document["components"]["schemas"]["AssignmentRule"]
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["name"]
    assert {"teams", "agents", "method", "assign_condition"} <= schema["properties"].keys()
