"""The assignment worker on the real Kafka, run as a subprocess (``python -m assignment_service
worker``).

Each test makes its own team and agents on ``helpdesk.directory.v1``, writes ticket envelopes to
``helpdesk.tickets.v1`` (and ``SlaBreached`` to ``helpdesk.sla.v1``) and reads the commands the
worker sends on ``helpdesk.ticket-commands.v1``, keeping only its own tickets' (other tests share
the topics).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from helpdesk_devstack.procs import free_port
from helpdesk_devstack.tokens import mint_token
from helpdesk_devstack.topic_reader import read_topic
from helpdesk_devstack.worker_process import WorkerProcess
from helpdesk_events import (
    Actor,
    ActorKind,
    DomainEvent,
    EventEnvelope,
    StatusCategory,
    TagsChanged,
    TicketAssigned,
    TicketCreated,
    decode_envelope,
    encode_envelope,
    kafka_headers,
)
from helpdesk_events.directory import (
    AgentAvailabilityChanged,
    AgentInvited,
    AgentRole,
    Availability,
    TeamCreated,
    TeamDetailsChanged,
    TeamMemberAdded,
)
from helpdesk_events.sla import SlaBreached, SlaMetricName
from helpdesk_events.topics import DIRECTORY, SLA, TICKET_COMMANDS, TICKETS

pytestmark = pytest.mark.integration


def worker_process(bootstrap: str, app_id: str, data_dir: Path, public_key: Path) -> WorkerProcess:
    """``python -m assignment_service worker`` on a free port, configured for these tests."""
    port = free_port()
    env = {
        **os.environ,
        "HELPDESK_KAFKA_BOOTSTRAP": bootstrap,
        "HELPDESK_ASSIGNMENT_APP_ID": app_id,
        "HELPDESK_ASSIGNMENT_HTTP_PORT": str(port),
        "HELPDESK_ASSIGNMENT_DATA_DIR": str(data_dir / app_id),
        "HELPDESK_ASSIGNMENT_SESSION_TIMEOUT": "6",
        "HELPDESK_JWT_PUBLIC_KEY_FILE": str(public_key),
    }
    return WorkerProcess(
        "assignment_service", env, data_dir / f"worker-{app_id}-{time.monotonic_ns()}.log", port
    )


@pytest.fixture(scope="module")
def worker_factory(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory, dev_keys: tuple[Path, Path]
) -> Iterator[Callable[[str], WorkerProcess]]:
    started: list[WorkerProcess] = []
    base = tmp_path_factory.mktemp("assignment-worker")

    def make(app_id: str) -> WorkerProcess:
        worker = worker_process(kafka_bootstrap, app_id, base, dev_keys[1])
        started.append(worker)
        return worker

    yield make
    for worker in started:
        worker.stop()


@pytest.fixture(scope="module")
async def worker(worker_factory: Callable[[str], WorkerProcess]) -> AsyncIterator[WorkerProcess]:
    process = worker_factory(f"assignment-test-{uuid.uuid4().hex[:8]}")
    process.start()
    await process.wait_ready()
    yield process
    process.stop()


@pytest.fixture(scope="module")
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture(scope="module")
def manager_headers(dev_keys: tuple[Path, Path]) -> dict[str, str]:
    token = mint_token(dev_keys[0].read_bytes(), "manager", "manager-1", timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


_versions: Counter[uuid.UUID] = Counter()


async def emit(
    producer: AIOKafkaProducer,
    topic: str,
    stream_type: str,
    stream_id: uuid.UUID,
    event: DomainEvent,
    version: int | None = None,
) -> EventEnvelope:
    _versions[stream_id] += 1
    envelope = EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=stream_id,
        stream_type=stream_type,
        stream_version=version or _versions[stream_id],
        occurred_at=datetime.now(UTC),
        actor=Actor(kind=ActorKind.AGENT, id="test"),
        correlation_id=uuid.uuid4(),
        data=event.model_dump(mode="json"),
    )
    await producer.send_and_wait(
        topic,
        encode_envelope(envelope),
        key=str(stream_id).encode(),
        headers=kafka_headers(envelope, None),
    )
    return envelope


async def make_team(
    producer: AIOKafkaProducer,
    agents: int,
    *,
    escalates_to: uuid.UUID | None = None,
    availability: list[Availability] | None = None,
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    team_id = uuid.uuid4()
    await emit(
        producer,
        DIRECTORY,
        "team",
        team_id,
        TeamCreated(name=f"Team {team_id.hex[:6]}", escalates_to=escalates_to),
    )
    members = sorted(uuid.uuid4() for _ in range(agents))
    for index, agent_id in enumerate(members):
        await emit(
            producer,
            DIRECTORY,
            "agent",
            agent_id,
            AgentInvited(email=f"a{agent_id.hex[:8]}@example.com", name="A", role=AgentRole.AGENT),
        )
        wanted = (availability or [])[index : index + 1]
        if wanted and wanted[0] is not Availability.ACTIVE:
            await emit(
                producer,
                DIRECTORY,
                "agent",
                agent_id,
                AgentAvailabilityChanged(
                    from_availability=Availability.ACTIVE, to_availability=wanted[0]
                ),
            )
        await emit(producer, DIRECTORY, "team", team_id, TeamMemberAdded(agent_id=agent_id))
    return team_id, members


async def members_known(
    process: WorkerProcess,
    producer: AIOKafkaProducer,
    team_id: uuid.UUID,
    headers: dict[str, str],
) -> None:
    """Wait until the worker has read the team's directory events so far.

    The directory and the tickets reach the team stage by different paths; a burst created
    right after the members were added can be decided before all of them are known (then the
    first turns go round fewer agents, as they would in production). A rename, read after the
    members on the directory's one partition, shows in ``GET /rules`` once they are through.
    """
    marker = f"ready {uuid.uuid4().hex[:8]}"
    await emit(producer, DIRECTORY, "team", team_id, TeamDetailsChanged(name=marker))
    async with httpx.AsyncClient(base_url=process.url, headers=headers) as client:
        for _ in range(150):
            if marker in (await client.get("/rules")).text:
                return
            await asyncio.sleep(0.1)
    raise AssertionError(
        f"the worker did not read the team's directory events\n{process.log_tail()}"
    )


async def create_ticket(
    producer: AIOKafkaProducer,
    team_id: uuid.UUID | None,
    *,
    assignee_id: uuid.UUID | None = None,
    priority: str = "Medium",
    **fields: Any,
) -> uuid.UUID:
    ticket_id = uuid.uuid4()
    await emit(
        producer,
        TICKETS,
        "ticket",
        ticket_id,
        TicketCreated(
            subject="VPN down",
            channel="email",
            status="Open",
            status_category=StatusCategory.NEW,
            priority=priority,
            team_id=team_id,
            assignee_id=assignee_id,
            **fields,
        ),
    )
    return ticket_id


async def commands_for(
    bootstrap: str,
    tickets: set[uuid.UUID],
    until: Callable[[list[EventEnvelope]], bool],
    max_wait: float = 30.0,
) -> list[EventEnvelope]:
    keys = {str(ticket).encode() for ticket in tickets}

    def mine(records: list[Any]) -> list[EventEnvelope]:
        return [decode_envelope(r.value) for r in records if r.key in keys and r.value]

    records = await read_topic(
        bootstrap, TICKET_COMMANDS, lambda rs: until(mine(rs)), max_wait=max_wait
    )
    return mine(records)


def assigned_agents(commands: list[EventEnvelope]) -> dict[uuid.UUID, uuid.UUID]:
    """ticket -> agent of each distinct AssignTicket (by event id)."""
    unique = {c.event_id: c for c in commands if c.event_type == "AssignTicket"}
    return {c.stream_id: uuid.UUID(c.data["agent_id"]) for c in unique.values()}


def each_assigned(tickets: set[uuid.UUID]) -> Callable[[list[EventEnvelope]], bool]:
    return lambda commands: set(assigned_agents(commands)) >= tickets


async def test_round_robin_spreads_a_burst_evenly(
    worker: WorkerProcess,
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    manager_headers: dict[str, str],
) -> None:
    team_id, members = await make_team(producer, 3)
    await members_known(worker, producer, team_id, manager_headers)
    tickets = [await create_ticket(producer, team_id) for _ in range(10)]

    commands = await commands_for(kafka_bootstrap, set(tickets), each_assigned(set(tickets)))

    chosen = assigned_agents(commands)
    per_agent = Counter(chosen[ticket] for ticket in tickets)
    assert set(per_agent) == set(members)
    assert max(per_agent.values()) - min(per_agent.values()) <= 1
    command = next(c for c in commands if c.stream_id == tickets[0])
    assert command.stream_type == "ticket-command"
    assert command.data["team_id"] == str(team_id)
    assert command.data["expected_version"] == 1
    assert command.data["rule_id"] == f"team-{team_id}"


async def test_unavailable_never_away_only_when_nobody_is_active(
    worker: WorkerProcess, producer: AIOKafkaProducer, kafka_bootstrap: str
) -> None:
    team_id, members = await make_team(
        producer, 3, availability=[Availability.ACTIVE, Availability.AWAY, Availability.UNAVAILABLE]
    )
    tickets = [await create_ticket(producer, team_id) for _ in range(4)]
    commands = await commands_for(kafka_bootstrap, set(tickets), each_assigned(set(tickets)))
    assert set(assigned_agents(commands).values()) == {members[0]}

    # The Active agent goes away too: the Away one is preferred over nobody, never Unavailable.
    await emit(
        producer,
        DIRECTORY,
        "agent",
        members[0],
        AgentAvailabilityChanged(
            from_availability=Availability.ACTIVE, to_availability=Availability.UNAVAILABLE
        ),
    )
    # Directory and tickets are different topics, read in no common order: let the change land.
    await asyncio.sleep(1.0)
    later = [await create_ticket(producer, team_id) for _ in range(3)]
    commands = await commands_for(kafka_bootstrap, set(later), each_assigned(set(later)))
    assert set(assigned_agents(commands).values()) == {members[1]}


async def test_waiting_ticket_is_assigned_when_an_agent_joins(
    worker: WorkerProcess, producer: AIOKafkaProducer, kafka_bootstrap: str
) -> None:
    team_id, _ = await make_team(producer, 0)
    ticket = await create_ticket(producer, team_id)
    agent_id = uuid.uuid4()
    await asyncio.sleep(1.0)  # the ticket reaches the worker and waits: nobody is in the team
    await emit(
        producer,
        DIRECTORY,
        "agent",
        agent_id,
        AgentInvited(email="late@example.com", name="Late", role=AgentRole.AGENT),
    )
    await emit(producer, DIRECTORY, "team", team_id, TeamMemberAdded(agent_id=agent_id))
    commands = await commands_for(kafka_bootstrap, {ticket}, each_assigned({ticket}))
    assert assigned_agents(commands) == {ticket: agent_id}


async def test_manual_assignment_is_never_overridden(
    worker: WorkerProcess, producer: AIOKafkaProducer, kafka_bootstrap: str
) -> None:
    team_id, members = await make_team(producer, 2)
    by_hand = await create_ticket(producer, team_id, assignee_id=members[1])
    # A second ticket, unassigned, proves the worker has read past the manual one.
    marker = await create_ticket(producer, team_id)
    commands = await commands_for(kafka_bootstrap, {by_hand, marker}, each_assigned({marker}))
    assert by_hand not in assigned_agents(commands)
    # The manual ticket counts in the load of its agent (load is per team, so round robin
    # still starts from the first agent in order).
    assert assigned_agents(commands)[marker] == members[0]


async def test_rules_api_round_trip_and_load_balancing(
    worker: WorkerProcess,
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    manager_headers: dict[str, str],
) -> None:
    team_id, members = await make_team(producer, 2)
    # The team's default rule is written when the worker reads TeamCreated; wait for it, or the
    # listing below can come before it (seen once in CI).
    await members_known(worker, producer, team_id, manager_headers)
    # Two tickets held by the first agent (assigned by hand) make them the most loaded.
    for _ in range(2):
        await create_ticket(producer, team_id, assignee_id=members[0])
    async with httpx.AsyncClient(base_url=worker.url, headers=manager_headers) as client:
        listed = await client.get("/rules")
        assert listed.status_code == 200, listed.text
        version = int(listed.headers["ETag"].strip('"'))
        rule = {
            "name": "Least loaded for urgent",
            "order": 1,
            "method": "load_balancing",
            "teams": [str(team_id)],
            "assign_condition": f'team_id == "{team_id}" && priority == "Urgent"',
        }
        rule_id = f"lb-{team_id.hex[:8]}"
        missing = await client.put(f"/rules/{rule_id}", json=rule)
        assert missing.status_code == 428
        # The admin form's check as the manager types: the same 422s, nothing written.
        checked = await client.post(f"/rules/{rule_id}/check", json=rule)
        assert checked.status_code == 200, checked.text
        assert checked.json()["rule"]["method"] == "load_balancing"
        assert checked.json()["rule"]["schedule"]["end"] == "24:00"
        assert checked.json()["warnings"] == []
        typo = await client.post(
            f"/rules/{rule_id}/check", json={**rule, "assign_condition": 'prority == "High"'}
        )
        assert typo.status_code == 422
        assert "did you mean 'priority'?" in typo.json()["detail"]
        stranger = await client.post(
            f"/rules/{rule_id}/check", json={**rule, "agents": [str(uuid.uuid4())]}
        )
        assert stranger.status_code == 422, stranger.text
        anonymous = await client.post(
            f"/rules/{rule_id}/check", json=rule, headers={"Authorization": ""}
        )
        assert anonymous.status_code == 401
        assert int((await client.get("/rules")).headers["ETag"].strip('"')) == version
        bad = await client.put(
            f"/rules/{rule_id}",
            json={**rule, "assign_condition": "priority =="},
            headers={"If-Match": f'"{version}"'},
        )
        assert bad.status_code == 422, bad.text
        saved = await client.put(
            f"/rules/{rule_id}", json=rule, headers={"If-Match": f'"{version}"'}
        )
        assert saved.status_code == 200, saved.text
        assert saved.headers["ETag"] == f'"{version + 1}"'
        stale = await client.put(
            f"/rules/{rule_id}", json=rule, headers={"If-Match": f'"{version}"'}
        )
        assert stale.status_code == 409
        listed = (await client.get("/rules")).json()
        ids = [r["rule_id"] for r in listed["rules"]]
        assert ids.index(rule_id) < ids.index(f"team-{team_id}")
        unauthorised = await client.get("/rules", headers={"Authorization": ""})
        assert unauthorised.status_code == 401

    urgent = [await create_ticket(producer, team_id, priority="Urgent") for _ in range(3)]
    commands = await commands_for(kafka_bootstrap, set(urgent), each_assigned(set(urgent)))
    chosen = assigned_agents(commands)
    # Loads 2 and 0: the second agent takes two tickets before the first gets one more (tickets
    # on different partitions may reach the team in any order, so count them).
    assert Counter(chosen[t] for t in urgent) == {members[1]: 2, members[0]: 1}
    assert {c.data["rule_id"] for c in commands} == {rule_id}


async def test_sla_breach_escalates_by_the_rule(
    worker: WorkerProcess,
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    manager_headers: dict[str, str],
) -> None:
    level2, (second_line,) = await make_team(producer, 1)
    level1, _ = await make_team(producer, 1, escalates_to=level2)
    # Both teams' default rules bump the rule set's version; read it after they are written.
    await members_known(worker, producer, level2, manager_headers)
    await members_known(worker, producer, level1, manager_headers)
    async with httpx.AsyncClient(base_url=worker.url, headers=manager_headers) as client:
        version = (await client.get("/rules")).headers["ETag"]
        rule = {
            "name": "L1 escalates on breach",
            "method": "round_robin",
            "teams": [str(level1)],
            "assign_condition": f'team_id == "{level1}"',
            "escalate_on_breach": True,
        }
        saved = await client.put(
            f"/rules/esc-{level1.hex[:8]}", json=rule, headers={"If-Match": version}
        )
        assert saved.status_code == 200, saved.text
    ticket = await create_ticket(producer, level1)
    await commands_for(kafka_bootstrap, {ticket}, each_assigned({ticket}))
    now = datetime.now(UTC)
    breach = await emit(
        producer,
        SLA,
        "sla",
        ticket,
        SlaBreached(
            ticket_id=ticket,
            metric=SlaMetricName.FIRST_RESPONSE,
            due_at=now,
            target_seconds=60,
        ),
        version=1,
    )
    commands = await commands_for(
        kafka_bootstrap,
        {ticket},
        lambda cs: any(c.event_type == "EscalateTicket" for c in cs),
    )
    (escalation,) = {c.event_id: c for c in commands if c.event_type == "EscalateTicket"}.values()
    assert escalation.data["from_team_id"] == str(level1)
    assert escalation.data["reason"] == "sla_breach"
    assert escalation.causation_id == breach.event_id

    # Issue #20 item 3: the ticket service applies it (TeamChanged to L2); L2's default rule
    # assigns it there - it does not stay unassigned in the next tier.
    from helpdesk_events.tickets import TeamChanged

    moved = TeamChanged(from_team_id=level1, to_team_id=level2)
    await emit(producer, TICKETS, "ticket", ticket, moved)

    def in_level2(commands: list[EventEnvelope]) -> bool:
        return any(
            c.event_type == "AssignTicket" and c.data["agent_id"] == str(second_line)
            for c in commands
        )

    assert in_level2(await commands_for(kafka_bootstrap, {ticket}, in_level2))


async def test_waiting_tickets_are_assigned_when_a_rule_change_lets_them(
    worker: WorkerProcess,
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    manager_headers: dict[str, str],
) -> None:
    team_id, members = await make_team(producer, 2)
    await members_known(worker, producer, team_id, manager_headers)
    default = f"team-{team_id}"
    async with httpx.AsyncClient(base_url=worker.url, headers=manager_headers) as client:
        # The team's default replaced by a disabled rule: its tickets wait.
        version = (await client.get("/rules")).headers["ETag"]
        off = {"name": "off", "teams": [str(team_id)], "enabled": False}
        saved = await client.put(f"/rules/{default}", json=off, headers={"If-Match": version})
        assert saved.status_code == 200, saved.text
        ticket = await create_ticket(producer, team_id)
        await asyncio.sleep(1.5)
        waiting = await commands_for(kafka_bootstrap, {ticket}, lambda cs: False, max_wait=0.5)
        assert assigned_agents(waiting) == {}
        deleted = await client.delete(
            f"/rules/{default}", headers={"If-Match": saved.headers["ETag"]}
        )
        assert deleted.status_code == 200, deleted.text
    commands = await commands_for(kafka_bootstrap, {ticket}, each_assigned({ticket}))
    assert assigned_agents(commands)[ticket] in members


async def test_unassign_condition_sends_unassign_for_rule_assignments_only(
    worker: WorkerProcess,
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    manager_headers: dict[str, str],
) -> None:
    team_id, members = await make_team(producer, 1)
    await members_known(worker, producer, team_id, manager_headers)
    rule_id = f"spam-{team_id.hex[:8]}"
    async with httpx.AsyncClient(base_url=worker.url, headers=manager_headers) as client:
        version = (await client.get("/rules")).headers["ETag"]
        rule = {
            "name": "not for spam",
            "order": 1,
            "teams": [str(team_id)],
            "assign_condition": f'team_id == "{team_id}"',
            "unassign_condition": '"spam" in tags',
        }
        saved = await client.put(f"/rules/{rule_id}", json=rule, headers={"If-Match": version})
        assert saved.status_code == 200, saved.text
    by_rule = await create_ticket(producer, team_id)
    by_hand = await create_ticket(producer, team_id, assignee_id=members[0])
    await commands_for(kafka_bootstrap, {by_rule}, each_assigned({by_rule}))
    # The ticket service would append these; the test plays its part.
    await emit(producer, TICKETS, "ticket", by_rule,
               TicketAssigned(assignee_id=members[0], method="rule", rule_id=rule_id))  # fmt: skip
    for ticket in (by_rule, by_hand):
        await emit(producer, TICKETS, "ticket", ticket, TagsChanged(added=("spam",)))
    commands = await commands_for(
        kafka_bootstrap,
        {by_rule, by_hand},
        lambda cs: any(c.event_type == "UnassignTicket" for c in cs),
    )
    unassigns = {c.stream_id for c in commands if c.event_type == "UnassignTicket"}
    assert unassigns == {by_rule}


# --- team routing, unassignable tickets, based-on-field (issue #20 items 1-5) ---------------


async def put_config(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], read_from: str
) -> httpx.Response:
    """PUT under the current version (read again when another test's write came first)."""
    for _ in range(5):
        version = (await client.get(read_from)).headers["ETag"]
        response = await client.put(path, json=body, headers={"If-Match": version})
        if response.status_code != 409:
            return response
    raise AssertionError(f"{path} kept conflicting")


async def test_a_ticket_without_a_team_is_routed_by_company_tier_then_assigned_in_the_team(
    worker: WorkerProcess,
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    manager_headers: dict[str, str],
) -> None:
    """Seeds 000/001: tickets routed to a team by criteria (the customer's company tier), where
    the team's rules assign a member."""
    from helpdesk_events.tickets import CustomerContext, TeamChanged

    team_id, members = await make_team(producer, 2)
    await members_known(worker, producer, team_id, manager_headers)
    marker = f"m{uuid.uuid4().hex[:8]}"
    rule = {
        "name": "Enterprise customers",
        "condition": f'company_tier == "Enterprise" && "{marker}" in company_tags',
        "team_id": str(team_id),
    }
    async with httpx.AsyncClient(base_url=worker.url, headers=manager_headers) as client:
        unknown = await put_config(
            client,
            f"/routing/rules/{marker}",
            {**rule, "team_id": str(uuid.uuid4())},
            "/routing",
        )
        assert unknown.status_code == 422 and "unknown teams" in unknown.text
        # The admin console's draft check: the same refusals, nothing written.
        typo = {**rule, "condition": 'prority == "High"'}
        checked = await client.post(f"/routing/rules/{marker}/check", json=typo)
        assert checked.status_code == 422 and "did you mean 'priority'" in checked.text
        checked = await client.post(f"/routing/rules/{marker}/check", json=rule)
        assert checked.status_code == 200, checked.text
        assert checked.json()["rule"]["team_id"] == str(team_id)
        assert marker not in {r["rule_id"] for r in (await client.get("/routing")).json()["rules"]}
        saved = await put_config(client, f"/routing/rules/{marker}", rule, "/routing")
        assert saved.status_code == 200, saved.text
        assert marker in {r["rule_id"] for r in saved.json()["rules"]}
    ticket = uuid.uuid4()
    context = CustomerContext(company_tier="Enterprise", company_tags=(marker,))
    created = TicketCreated(
        subject="Tagihan ganda",
        channel="Email",
        status="Open",
        status_category=StatusCategory.NEW,
        priority="High",
        customer_context=context,
    )
    await emit(producer, TICKETS, "ticket", ticket, created)
    commands = await commands_for(
        kafka_bootstrap, {ticket}, lambda cs: any(c.event_type == "RouteTicket" for c in cs)
    )
    (route,) = {c.event_id: c for c in commands if c.event_type == "RouteTicket"}.values()
    assert route.data["team_id"] == str(team_id) and route.data["rule_id"] == marker
    # The ticket service's answer: the team is set; the team's default rule assigns a member.
    await emit(
        producer, TICKETS, "ticket", ticket, TeamChanged(from_team_id=None, to_team_id=team_id)
    )
    commands = await commands_for(kafka_bootstrap, {ticket}, lambda cs: bool(assigned_agents(cs)))
    assert assigned_agents(commands)[ticket] in members
    async with httpx.AsyncClient(base_url=worker.url, headers=manager_headers) as client:
        version = (await client.get("/routing")).headers["ETag"]
        deleted = await client.delete(f"/routing/rules/{marker}", headers={"If-Match": version})
        assert deleted.status_code == 200, deleted.text


async def test_a_ticket_is_routed_to_the_team_that_speaks_its_customers_language(
    worker: WorkerProcess,
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    manager_headers: dict[str, str],
) -> None:
    """Seed 001 (regional teams across languages), #20 item 11: a by_language routing rule
    sends a ticket to the team whose languages include its contact's."""
    from helpdesk_events.directory import TeamRegionChanged
    from helpdesk_events.tickets import CustomerContext

    speaks = {"hi": await make_team(producer, 1), "id": await make_team(producer, 1)}
    for language, (team_id, _) in speaks.items():
        region = TeamRegionChanged(time_zone="Asia/Kolkata", languages=("en", language))
        await emit(producer, DIRECTORY, "team", team_id, region)
        await members_known(worker, producer, team_id, manager_headers)
    marker = f"m{uuid.uuid4().hex[:8]}"
    rule = {
        "name": "By language",
        "condition": f'"{marker}" in company_tags',
        "by_language": True,
        "teams": [str(speaks["id"][0]), str(speaks["hi"][0])],
    }
    async with httpx.AsyncClient(base_url=worker.url, headers=manager_headers) as client:
        india = str(speaks["hi"][0])
        both = await put_config(
            client, f"/routing/rules/{marker}", {**rule, "team_id": india}, "/routing"
        )
        assert both.status_code == 422 and "either a team_id or by_language" in both.text
        saved = await put_config(client, f"/routing/rules/{marker}", rule, "/routing")
        assert saved.status_code == 200, saved.text
    tickets = {}
    for language in ("hi", "id"):
        context = CustomerContext(company_tags=(marker,), customer_language=language)
        ticket = await create_ticket(producer, None, customer_context=context)
        tickets[ticket] = speaks[language][0]
    commands = await commands_for(
        kafka_bootstrap,
        set(tickets),
        lambda cs: {c.stream_id for c in cs if c.event_type == "RouteTicket"} >= set(tickets),
    )
    routed = {c.stream_id: c.data["team_id"] for c in commands if c.event_type == "RouteTicket"}
    assert routed == {ticket: str(team) for ticket, team in tickets.items()}
    async with httpx.AsyncClient(base_url=worker.url, headers=manager_headers) as client:
        version = (await client.get("/routing")).headers["ETag"]
        deleted = await client.delete(f"/routing/rules/{marker}", headers={"If-Match": version})
        assert deleted.status_code == 200, deleted.text


async def test_a_ticket_nobody_in_its_team_can_take_is_told_and_listed(
    worker: WorkerProcess,
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    manager_headers: dict[str, str],
) -> None:
    """Issue #20 item 3: a rule naming agents of another team leaves the ticket unassigned; it
    is an AssignmentBlocked event with a reason and a row of GET /unassignable. And item 4:
    based-on-field on a custom field holding an agent's email."""
    from helpdesk_events.topics import ASSIGNMENT

    team_id, members = await make_team(producer, 1)
    other_team, outsiders = await make_team(producer, 1)
    loner = uuid.uuid4()
    invited = AgentInvited(email=f"l{loner.hex[:8]}@example.com", name="L", role=AgentRole.AGENT)
    await emit(producer, DIRECTORY, "agent", loner, invited)
    await members_known(worker, producer, team_id, manager_headers)
    await members_known(worker, producer, other_team, manager_headers)
    marker = f"m{uuid.uuid4().hex[:8]}"
    outsider_rule = {
        "name": "Outsiders",
        "order": -2,
        "assign_condition": f'"{marker}" in tags',
        "agents": [str(outsiders[0])],
    }
    by_field = {
        "name": "Account manager",
        "order": -1,
        "assign_condition": f'custom.case == "{marker}"',
        "method": "based_on_field",
        "assignee_field": "custom.account_manager",
        "teams": [str(team_id)],
    }
    async with httpx.AsyncClient(base_url=worker.url, headers=manager_headers) as client:
        never = await put_config(
            client, f"/rules/{marker}-x", {"name": "Loner", "agents": [str(loner)]}, "/rules"
        )
        assert never.status_code == 422 and "could never assign" in never.text
        # Agents of another team named for this team's tickets: refused when saved, naming them.
        for wrong in (
            {"name": "Other team", "teams": [str(team_id)], "agents": [str(outsiders[0])]},
            {
                "name": "Other team by condition",
                "assign_condition": f'team_id == "{team_id}"',
                "agents": [str(members[0]), str(outsiders[0])],
            },
        ):
            refused = await put_config(client, f"/rules/{marker}-y", wrong, "/rules")
            assert refused.status_code == 422, refused.text
            detail = refused.json()["detail"]
            assert str(outsiders[0]) in detail and str(team_id) in detail
            assert str(members[0]) not in detail.split("are not members")[0]
        for suffix, rule in (("out", outsider_rule), ("field", by_field)):
            saved = await put_config(client, f"/rules/{marker}-{suffix}", rule, "/rules")
            assert saved.status_code == 200, saved.text
    blocked = uuid.uuid4()
    tagged = TicketCreated(
        subject="Tidak bisa login",
        channel="Email",
        status="Open",
        status_category=StatusCategory.NEW,
        priority="Medium",
        team_id=team_id,
        tags=(marker,),
    )
    await emit(producer, TICKETS, "ticket", blocked, tagged)
    named = uuid.uuid4()
    email = f"a{members[0].hex[:8]}@example.com"
    account = tagged.model_copy(
        update={"tags": (), "custom_fields": {"case": marker, "account_manager": email}}
    )
    await emit(producer, TICKETS, "ticket", named, account)

    key = str(blocked).encode()
    records = await read_topic(
        kafka_bootstrap, ASSIGNMENT, lambda rs: any(r.key == key for r in rs), max_wait=30
    )
    (event,) = {
        e.event_id: e for r in records if r.key == key and (e := decode_envelope(r.value))
    }.values()
    assert event.event_type == "AssignmentBlocked"
    assert event.data["reason"] == "no_candidates"
    assert event.data["rule_id"] == f"{marker}-out"
    async with httpx.AsyncClient(base_url=worker.url, headers=manager_headers) as client:
        listed = (await client.get("/unassignable")).json()["tickets"]
    row = next(item for item in listed if item["ticket_id"] == str(blocked))
    assert row["team_id"] == str(team_id) and row["reason"] == "no_candidates"

    commands = await commands_for(kafka_bootstrap, {named}, lambda cs: bool(assigned_agents(cs)))
    assert assigned_agents(commands)[named] == members[0]
    assert {c.data["rule_id"] for c in commands} == {f"{marker}-field"}
    async with httpx.AsyncClient(base_url=worker.url, headers=manager_headers) as client:
        for suffix in ("out", "field"):
            version = (await client.get("/rules")).headers["ETag"]
            await client.delete(f"/rules/{marker}-{suffix}", headers={"If-Match": version})


# Last in the module: it stops the module's worker, which would otherwise decide the same
# tickets by its own turns (same command ids, other agents) while this test counts the turns.
async def test_kill_minus_nine_in_a_burst_assigns_each_ticket_once(
    worker: WorkerProcess,
    worker_factory: Callable[[str], WorkerProcess],
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    manager_headers: dict[str, str],
) -> None:
    worker.stop()
    process = worker_factory(f"assignment-kill-{uuid.uuid4().hex[:8]}")
    process.start()
    await process.wait_ready()
    team_id, members = await make_team(producer, 4)
    await members_known(process, producer, team_id, manager_headers)
    tickets = [await create_ticket(producer, team_id) for _ in range(60)]
    # Kill as soon as the first decisions are out, while the rest of the burst is in flight.
    await commands_for(kafka_bootstrap, set(tickets), lambda cs: len(assigned_agents(cs)) >= 5)
    process.kill()
    tickets += [await create_ticket(producer, team_id) for _ in range(40)]
    process.start()
    await process.wait_ready()

    commands = await commands_for(
        kafka_bootstrap, set(tickets), each_assigned(set(tickets)), max_wait=60
    )
    decisions = {c.event_id: c for c in commands if c.event_type == "AssignTicket"}
    per_ticket = Counter(c.stream_id for c in decisions.values())
    missing = set(tickets) - set(per_ticket)
    assert not missing, f"{len(missing)} tickets never decided\n{process.log_tail()}"
    assert set(per_ticket.values()) == {1}, "a ticket got two different decisions"
    per_agent = Counter(uuid.UUID(c.data["agent_id"]) for c in decisions.values())
    assert set(per_agent) == set(members)
    assert max(per_agent.values()) - min(per_agent.values()) <= 1
    process.stop()
