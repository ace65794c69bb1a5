"""Commands on the ticket-commands topic, decided by the ticket service on the real Kafka and
PostgreSQL: assigned, applied once, stale ones refused and recorded, escalation, and a consumer
killed mid-backlog and restarted losing and doubling nothing."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from helpdesk_devstack.kafka import ensure_topics_async
from helpdesk_events import (
    Actor,
    ActorKind,
    EventEnvelope,
    TeamChanged,
    TicketAssigned,
    TicketUnassigned,
    derived_event_id,
    encode_envelope,
    kafka_headers,
)
from helpdesk_events.commands import (
    AssignTicket,
    EscalateTicket,
    EscalationReason,
    RouteTicket,
    UnassignTicket,
)
from helpdesk_events.registry import DomainEvent
from helpdesk_events.topics import TopicSpec
from ticket_service.adapters.command_consumer import TicketCommandConsumer
from ticket_service.adapters.command_outcomes import CommandOutcomes
from ticket_service.domain.directory import AgentRole
from ticket_service.domain.ticket import NewTicket
from ticket_service.service_layer.context import CommandContext
from ticket_service.service_layer.directory import DirectoryApplication, NewAgent, NewTeam
from ticket_service.service_layer.tickets import TicketApplication, TicketChanges

from .conftest import bearer, wait_for

pytestmark = pytest.mark.integration

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
PERSON = CommandContext(
    actor=Actor(kind=ActorKind.AGENT, id="test-manager", role="manager"),
    correlation_id=uuid.uuid4(),
)


@dataclass
class Staffing:
    l1: uuid.UUID
    l2: uuid.UUID
    ana: uuid.UUID  # in L1
    budi: uuid.UUID  # in L1
    citra: uuid.UUID  # in L2


def command(event: DomainEvent, ticket_id: uuid.UUID, cause: str = "") -> EventEnvelope:
    return EventEnvelope(
        event_id=derived_event_id(event.event_type, ticket_id, cause or uuid.uuid4()),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=ticket_id,
        stream_type=event.stream_type,
        stream_version=1,
        occurred_at=datetime.now(UTC),
        actor=Actor(kind=ActorKind.SERVICE, id="assignment-service"),
        correlation_id=uuid.uuid4(),
        data=event.model_dump(mode="json"),
    )


@pytest.fixture(scope="module")
async def topic(kafka_bootstrap: str) -> str:
    name = f"test.ticket-commands.{uuid.uuid4().hex[:8]}"
    await ensure_topics_async(kafka_bootstrap, [TopicSpec(name, 3, 3_600_000, key="ticket id")])
    return name


@pytest.fixture(scope="module")
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


async def send(
    producer: AIOKafkaProducer, topic: str, envelope: EventEnvelope, raw: bytes | None = None
) -> None:
    await producer.send_and_wait(
        topic,
        raw if raw is not None else encode_envelope(envelope),
        key=str(envelope.stream_id).encode(),
        headers=kafka_headers(envelope, TRACEPARENT),
    )


@pytest.fixture(scope="module")
async def consumer(
    app: Any, kafka_bootstrap: str, topic: str
) -> AsyncIterator[TicketCommandConsumer]:
    handler = app.state.commands  # the handler bootstrap built with the app
    consumer = TicketCommandConsumer(
        handler.handle, kafka_bootstrap, group_id=f"test-{uuid.uuid4().hex[:8]}", topic=topic
    )
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    yield consumer
    stop.set()
    await asyncio.wait_for(running, 30)


@pytest.fixture(scope="module")
async def staffing(app: Any) -> Staffing:
    directory: DirectoryApplication = app.state.directory_application

    async def agent(name: str) -> uuid.UUID:
        new = NewAgent(
            email=f"{name}-{uuid.uuid4().hex[:6]}@example.co.id", name=name, role=AgentRole.AGENT
        )
        return (await directory.invite_agent(new, PERSON)).id

    ana, budi, citra = await agent("ana"), await agent("budi"), await agent("citra")
    suffix = uuid.uuid4().hex[:6]
    l2 = await directory.create_team(
        NewTeam(name=f"L2 {suffix}", tier=2, member_ids=(citra,)), PERSON
    )
    l1 = await directory.create_team(
        NewTeam(name=f"L1 {suffix}", tier=1, escalates_to=l2.id, member_ids=(ana, budi)), PERSON
    )
    return Staffing(l1.id, l2.id, ana, budi, citra)


async def new_ticket(app: Any, team_id: uuid.UUID | None) -> uuid.UUID:
    tickets: TicketApplication = app.state.tickets
    ticket, _ = await tickets.create_ticket(NewTicket(subject="VPN drops", team_id=team_id), PERSON)
    return ticket.id


async def outcome(pool: asyncpg.Pool, command_id: uuid.UUID) -> asyncpg.Record | None:
    return await pool.fetchrow(
        "SELECT outcome, reason, trace_id FROM command_outcomes WHERE command_id = $1", command_id
    )


async def decided(pool: asyncpg.Pool, command_id: uuid.UUID) -> asyncpg.Record:
    await wait_for(lambda: _has(pool, command_id), 30)
    row = await outcome(pool, command_id)
    assert row is not None
    return row


async def _has(pool: asyncpg.Pool, command_id: uuid.UUID) -> bool:
    return await outcome(pool, command_id) is not None


def assign_command(
    ticket_id: uuid.UUID, agent: uuid.UUID, team: uuid.UUID | None, version: int = 1
) -> EventEnvelope:
    return command(
        AssignTicket(
            ticket_id=ticket_id,
            agent_id=agent,
            team_id=team,
            expected_version=version,
            rule_id="l1-default",
            method="round_robin",
        ),
        ticket_id,
    )


async def test_an_assign_command_appends_a_rule_assignment_once(
    app: Any,
    producer: AIOKafkaProducer,
    topic: str,
    consumer: TicketCommandConsumer,
    staffing: Staffing,
) -> None:
    ticket_id = await new_ticket(app, staffing.l1)
    assign = assign_command(ticket_id, staffing.ana, staffing.l1)
    await send(producer, topic, assign)
    await send(producer, topic, assign)  # a retry of the sender: same id
    row = await decided(app.state.pool, assign.event_id)
    assert (row["outcome"], row["trace_id"]) == ("applied", TRACEPARENT.split("-")[1])
    marker = command(
        UnassignTicket(
            ticket_id=uuid.uuid4(),
            assignee_id=staffing.ana,
            expected_version=1,
            rule_id="r",
            reason="x",
        ),
        uuid.uuid4(),
    )
    await send(producer, topic, marker)  # decided after the duplicate (same consumer, in order)
    await decided(app.state.pool, marker.event_id)
    await asyncio.sleep(0.5)
    recorded = await app.state.tickets.timeline(ticket_id)
    assigned = [r.envelope for r in recorded if r.envelope.event_type == "TicketAssigned"]
    assert len(assigned) == 1
    event = assigned[0].payload()
    assert isinstance(event, TicketAssigned)
    assert (event.assignee_id, event.method, event.rule_id) == (staffing.ana, "rule", "l1-default")
    envelope = assigned[0]
    assert (envelope.actor.kind, envelope.actor.id) == (ActorKind.SERVICE, "assignment-service")
    assert (envelope.correlation_id, envelope.causation_id) == (
        assign.correlation_id,
        assign.event_id,
    )
    traceparents = [r.traceparent for r in recorded if r.envelope.event_type == "TicketAssigned"]
    assert traceparents == [TRACEPARENT]


async def test_stale_commands_are_refused_and_recorded(
    app: Any,
    producer: AIOKafkaProducer,
    topic: str,
    consumer: TicketCommandConsumer,
    staffing: Staffing,
) -> None:
    tickets: TicketApplication = app.state.tickets
    directory: DirectoryApplication = app.state.directory_application
    # Assigned by hand meanwhile.
    by_hand = await new_ticket(app, staffing.l1)
    await tickets.update_ticket(
        by_hand, TicketChanges(fields={}, assignee_id=staffing.budi), PERSON
    )
    # Moved to another team meanwhile.
    moved = await new_ticket(app, staffing.l1)
    await tickets.update_ticket(moved, TicketChanges(fields={}, team_id=staffing.l2), PERSON)
    # The chosen agent left the team meanwhile.
    left = await new_ticket(app, staffing.l1)
    suffix = uuid.uuid4().hex[:6]
    leaver = (
        await directory.invite_agent(
            NewAgent(email=f"dewi-{suffix}@example.co.id", name="Dewi", role=AgentRole.AGENT),
            PERSON,
        )
    ).id
    team = await directory.create_team(
        NewTeam(name=f"Small {suffix}", member_ids=(leaver,)), PERSON
    )
    left = await new_ticket(app, team.id)
    await directory.remove_member(team.id, leaver, PERSON)
    # A manual assignment a rule tries to undo.
    undo = await new_ticket(app, staffing.l1)
    await tickets.update_ticket(undo, TicketChanges(fields={}, assignee_id=staffing.ana), PERSON)

    cases = {
        "already assigned by hand": assign_command(by_hand, staffing.ana, staffing.l1),
        "not .* the choice was made for": assign_command(moved, staffing.ana, staffing.l1),
        "not a member of team": assign_command(left, leaver, team.id),
        "assigned by hand; a rule does not undo": command(
            UnassignTicket(
                ticket_id=undo,
                assignee_id=staffing.ana,
                expected_version=2,
                rule_id="r",
                reason="priority dropped",
            ),
            undo,
        ),
        "no ticket": assign_command(uuid.uuid4(), staffing.ana, staffing.l1),
    }
    for envelope in cases.values():
        await send(producer, topic, envelope)
    for pattern, envelope in cases.items():
        row = await decided(app.state.pool, envelope.event_id)
        assert row["outcome"] == "refused"
        assert re.search(pattern, row["reason"]), (pattern, row["reason"])
    assert (await tickets.get_ticket(by_hand)).assignee_id == staffing.budi
    assert (await tickets.get_ticket(undo)).assignee_id == staffing.ana
    listed = await CommandOutcomes(app.state.pool).for_ticket(by_hand)
    assert [(o.command_type, o.outcome) for o in listed] == [("AssignTicket", "refused")]


async def test_unreadable_messages_are_skipped_and_the_loop_goes_on(
    app: Any,
    producer: AIOKafkaProducer,
    topic: str,
    consumer: TicketCommandConsumer,
    staffing: Staffing,
) -> None:
    ticket_id = await new_ticket(app, staffing.l1)
    assign = assign_command(ticket_id, staffing.budi, staffing.l1)
    skipped = consumer.skipped
    await send(producer, topic, assign, raw=b"{not json")
    await send(producer, topic, assign, raw=b'{"event_id": "nope"}')
    await send(producer, topic, assign)
    assert (await decided(app.state.pool, assign.event_id))["outcome"] == "applied"
    assert consumer.skipped == skipped + 2


async def test_rule_unassign_and_escalation(
    app: Any,
    producer: AIOKafkaProducer,
    topic: str,
    consumer: TicketCommandConsumer,
    staffing: Staffing,
) -> None:
    tickets: TicketApplication = app.state.tickets
    ticket_id = await new_ticket(app, staffing.l1)
    assign = assign_command(ticket_id, staffing.ana, staffing.l1)
    await send(producer, topic, assign)
    await decided(app.state.pool, assign.event_id)
    escalate = command(
        EscalateTicket(
            ticket_id=ticket_id,
            from_team_id=staffing.l1,
            expected_version=2,
            reason=EscalationReason.SLA_BREACH,
            rule_id="breach",
        ),
        ticket_id,
    )
    await send(producer, topic, escalate)
    assert (await decided(app.state.pool, escalate.event_id))["outcome"] == "applied"
    recorded = await tickets.timeline(ticket_id)
    tail = [r.envelope.payload() for r in recorded[-2:]]
    assert tail == [
        TeamChanged(from_team_id=staffing.l1, to_team_id=staffing.l2),
        TicketUnassigned(
            previous_assignee_id=staffing.ana, reason="the assignee is not a member of the new team"
        ),
    ]
    again = command(
        EscalateTicket(
            ticket_id=ticket_id,
            from_team_id=staffing.l2,
            expected_version=4,
            reason=EscalationReason.MANUAL,
        ),
        ticket_id,
    )
    await send(producer, topic, again)
    row = await decided(app.state.pool, again.event_id)
    assert (row["outcome"], row["reason"]) == (
        "refused",
        f"team {staffing.l2} has no next tier (escalates_to is not set)",
    )
    # A rule's own assignment can be taken back by the rule.
    assign_l2 = assign_command(ticket_id, staffing.citra, staffing.l2, version=4)
    unassign = command(
        UnassignTicket(
            ticket_id=ticket_id,
            assignee_id=staffing.citra,
            expected_version=5,
            rule_id="l2",
            reason="priority dropped",
        ),
        ticket_id,
    )
    await send(producer, topic, assign_l2)
    await send(producer, topic, unassign)
    assert (await decided(app.state.pool, unassign.event_id))["outcome"] == "applied"
    state = await tickets.get_ticket(ticket_id)
    assert (state.team_id, state.assignee_id) == (staffing.l2, None)


async def test_a_routing_command_sets_the_team_of_a_ticket_without_one_once(
    app: Any,
    producer: AIOKafkaProducer,
    topic: str,
    consumer: TicketCommandConsumer,
    staffing: Staffing,
) -> None:
    """RouteTicket (issue #20 item 1): the team is set; a second routing is refused (the ticket
    has a team now), and so is a team that does not exist."""
    tickets: TicketApplication = app.state.tickets
    ticket_id = await new_ticket(app, None)

    def route(team: uuid.UUID, rule: str) -> EventEnvelope:
        routing = RouteTicket(ticket_id=ticket_id, team_id=team, expected_version=1, rule_id=rule)
        return command(routing, ticket_id)

    nowhere = route(uuid.uuid4(), "typo")
    await send(producer, topic, nowhere)
    row = await decided(app.state.pool, nowhere.event_id)
    assert row["outcome"] == "refused" and "there is no team" in row["reason"]
    first, second = route(staffing.l1, "enterprise"), route(staffing.l2, "channel:Email")
    await send(producer, topic, first)
    await send(producer, topic, second)
    assert (await decided(app.state.pool, first.event_id))["outcome"] == "applied"
    row = await decided(app.state.pool, second.event_id)
    assert row["outcome"] == "refused" and "already in team" in row["reason"]
    state = await tickets.get_ticket(ticket_id)
    assert state.team_id == staffing.l1
    recorded = await tickets.timeline(ticket_id)
    assert recorded[-1].envelope.payload() == TeamChanged(from_team_id=None, to_team_id=staffing.l1)
    assert recorded[-1].envelope.actor.id == "assignment-service"


async def test_escalate_over_http(
    app: Any, api: httpx.AsyncClient, token: Callable[..., str], staffing: Staffing
) -> None:
    agent = bearer(token("agent"))
    ticket_id = await new_ticket(app, staffing.l1)
    response = await api.post(
        f"/tickets/{ticket_id}/escalate", json={"reason": "needs L2"}, headers=agent
    )
    assert response.status_code == 200, response.text
    assert response.json()["team_id"] == str(staffing.l2)
    refused = await api.post(f"/tickets/{ticket_id}/escalate", headers=agent)
    assert refused.status_code == 409
    assert "has no next tier" in refused.json()["detail"]
    no_team = await new_ticket(app, None)
    refused = await api.post(f"/tickets/{no_team}/escalate", headers=agent)
    assert refused.status_code == 409
    assert "has no team to escalate from" in refused.json()["detail"]
    technician = bearer(token("technician"))
    assert (await api.post(f"/tickets/{ticket_id}/escalate", headers=technician)).status_code == 403


async def test_consumer_killed_mid_backlog_and_restarted_loses_and_doubles_nothing(
    app: Any,
    database_url: str,
    kafka_bootstrap: str,
    producer: AIOKafkaProducer,
    staffing: Staffing,
) -> None:
    crash_topic = f"test.ticket-commands.crash.{uuid.uuid4().hex[:8]}"
    await ensure_topics_async(
        kafka_bootstrap, [TopicSpec(crash_topic, 3, 3_600_000, key="ticket id")]
    )
    ticket_ids = [await new_ticket(app, staffing.l1) for _ in range(150)]
    commands = [
        assign_command(t, (staffing.ana, staffing.budi)[i % 2], staffing.l1)
        for i, t in enumerate(ticket_ids)
    ]
    for envelope in commands + commands[:50]:  # a third of them sent twice
        await send(producer, crash_topic, envelope)
    pool: asyncpg.Pool = app.state.pool
    ids = [c.event_id for c in commands]

    async def count() -> int:
        return int(
            await pool.fetchval(
                "SELECT count(*) FROM command_outcomes WHERE command_id = ANY($1::uuid[])", ids
            )
        )

    env = os.environ | {
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "HELPDESK_COMMANDS_TOPIC": crash_topic,
        "HELPDESK_COMMANDS_GROUP": f"crash-{uuid.uuid4().hex[:8]}",
    }

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "ticket_service", "commands"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    first = start()
    try:
        await wait_for(lambda: _above(count, 5), 60)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    before = await count()
    assert before < len(commands), "the kill was not mid-backlog"
    second = start()
    try:
        await wait_for(lambda: _above(count, len(commands) - 1), 120)
        await asyncio.sleep(1.0)  # let the redelivered duplicates be decided too
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    rows = await pool.fetch(
        "SELECT stream_id, count(*) AS n, array_agg(event_id) AS ids FROM events"
        " WHERE stream_id = ANY($1::uuid[]) AND event_type = 'TicketAssigned' GROUP BY stream_id",
        ticket_ids,
    )
    assert {r["stream_id"] for r in rows} == set(ticket_ids)
    assert all(r["n"] == 1 for r in rows)
    outcomes = await pool.fetch(
        "SELECT outcome FROM command_outcomes WHERE command_id = ANY($1::uuid[])", ids
    )
    assert [r["outcome"] for r in outcomes] == ["applied"] * len(commands)


async def _above(counter: Callable[[], Any], threshold: int) -> bool:
    return bool(await counter() > threshold)
