"""Who may call what on the assignment worker (security issue #11): an authorization matrix.

Every route of the worker's ``/openapi.json`` is called as no token, a forged token (signed by
another key), customer A, customer B, a technician, an agent and a manager, and the status is
compared with :data:`EXPECTED`. A route the OpenAPI document lists without an entry here fails
the test, so a new route cannot go out without its row. The same worker is checked for what else
#11 found: Faust's own views (``/table/ticket-facts/<id>``, ``/router``, ...) are not served, the
``Server`` header names no software, a rule naming a team or agent that does not exist is a 422,
a condition too costly to evaluate is a 422, and the rule body has a real schema.
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
from helpdesk_events import DomainEvent
from helpdesk_events.directory import AgentInvited, AgentRole, TeamCreated, TeamMemberAdded
from helpdesk_events.topics import DIRECTORY

pytestmark = pytest.mark.integration

# A rule that names no team or agent (so it passes the reference check) for the write rows.
FIELD_RULE = {"name": "authz", "method": "based_on_field", "assignee_field": "assignee_id"}

# (method, OpenAPI path) -> status per caller: none, forged, customer A, customer B,
# technician, agent, manager (helpdesk_devstack.authz.CALLERS).
EXPECTED: Expected = {
    ("GET", "/healthz"): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/readyz"): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/openapi.json"): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/rules"): (401, 401, 403, 403, 403, 403, 200),
    # Without If-Match: a manager gets past the role check to the 428 (nothing written).
    ("PUT", "/rules/{rule_id}"): (401, 401, 403, 403, 403, 403, 428),
    # A rule that was never saved: a manager gets past the role check to the 404.
    ("DELETE", "/rules/{rule_id}"): (401, 401, 403, 403, 403, 403, 404),
    ("GET", "/routing"): (401, 401, 403, 403, 403, 403, 200),
    ("PUT", "/routing/rules/{rule_id}"): (401, 401, 403, 403, 403, 403, 428),
    ("DELETE", "/routing/rules/{rule_id}"): (401, 401, 403, 403, 403, 403, 404),
    ("PUT", "/routing/channels/{channel}"): (401, 401, 403, 403, 403, 403, 428),
    # Staff see the tickets nobody can take.
    ("GET", "/unassignable"): (401, 401, 403, 403, 200, 200, 200),
}

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
    private = dev_keys[0].read_bytes()
    return caller_headers(private, str(uuid.uuid4()), str(uuid.uuid4()))


@pytest.fixture(scope="module")
async def worker(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory, dev_keys: tuple[Path, Path]
) -> AsyncIterator[WorkerProcess]:
    base = tmp_path_factory.mktemp("assignment-authz")
    app_id = f"assignment-authz-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "HELPDESK_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "HELPDESK_ASSIGNMENT_APP_ID": app_id,
        "HELPDESK_ASSIGNMENT_HTTP_PORT": str(port := free_port()),
        "HELPDESK_ASSIGNMENT_DATA_DIR": str(base / app_id),
        "HELPDESK_ASSIGNMENT_SESSION_TIMEOUT": "6",
        "HELPDESK_JWT_PUBLIC_KEY_FILE": str(dev_keys[1]),
    }
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
        .replace("{channel}", "Email")
    )


def _body(method: str, path: str, team: tuple[uuid.UUID, uuid.UUID]) -> object:
    """A valid body for the write rows (so a manager gets to the If-Match check)."""
    if method != "PUT":
        return None
    if path.startswith("/routing/rules/"):
        return {"name": "authz", "team_id": str(team[0])}
    if path.startswith("/routing/channels/"):
        return {"team_id": None}
    return FIELD_RULE


async def test_every_route_answers_each_caller_as_the_matrix_says(
    worker: WorkerProcess, team: tuple[uuid.UUID, uuid.UUID], headers: dict[str, dict[str, str]]
) -> None:
    async with httpx.AsyncClient(base_url=worker.url) as client:
        await check_matrix(
            client,
            EXPECTED,
            headers,
            lambda path: _concrete(path, team),
            lambda method, path: _body(method, path, team),
        )


async def test_faust_views_are_not_served_and_the_server_header_names_no_software(
    worker: WorkerProcess, team: tuple[uuid.UUID, uuid.UUID], headers: dict[str, dict[str, str]]
) -> None:
    async with httpx.AsyncClient(base_url=worker.url) as client:
        for path in FAUST_VIEWS:
            for caller in ("none", "manager"):
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
