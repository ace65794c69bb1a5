"""Created -> decided latency of the assignment worker alone, at a steady rate on Kafka.

    python bench/assignment_worker.py [--rate 200] [--seconds 30] [--agents 5] [--teams 1]

The whole stack of ``make up`` cannot create 200 tickets/s on a 2-core machine (see
``assignment_latency.py``), so this one measures the worker itself: it starts a private Kafka
and ``python -m assignment_service worker``, makes ``--teams`` teams of ``--agents`` members on
``helpdesk.directory.v1``, then produces ``TicketCreated`` envelopes to ``helpdesk.tickets.v1``
paced at ``--rate`` per second for ``--seconds``, spread over the teams. It follows
``helpdesk.ticket-commands.v1`` and reports, per ticket, the time from the envelope's
``occurred_at`` (stamped when it is produced) to the moment the worker's ``AssignTicket`` was read
off Kafka, and the spread of tickets over each team's agents. One clock: everything runs here.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer
from machine import describe
from workers import Worker, free_port, private_kafka, until

from helpdesk_devstack.kafka import ensure_topics
from helpdesk_devstack.topic_reader import follow_topic
from helpdesk_events import (
    Actor,
    ActorKind,
    DomainEvent,
    EventEnvelope,
    StatusCategory,
    TicketCreated,
    decode_envelope,
    encode_envelope,
    kafka_headers,
)
from helpdesk_events.directory import AgentInvited, AgentRole, TeamCreated, TeamMemberAdded
from helpdesk_events.topics import DIRECTORY, TICKET_COMMANDS, TICKETS

ACTOR = Actor(kind=ActorKind.CUSTOMER, id="bench")


def envelope(
    stream_type: str, stream_id: uuid.UUID, version: int, event: DomainEvent
) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=stream_id,
        stream_type=stream_type,
        stream_version=version,
        occurred_at=datetime.now(UTC),
        actor=ACTOR,
        correlation_id=uuid.uuid4(),
        data=event.model_dump(mode="json"),
    )


async def send(
    producer: AIOKafkaProducer, topic: str, item: EventEnvelope
) -> asyncio.Future[object]:
    return await producer.send(
        topic, encode_envelope(item), key=str(item.stream_id).encode(),
        headers=kafka_headers(item, None),
    )  # fmt: skip


async def make_team(producer: AIOKafkaProducer, agents: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    team_id = uuid.uuid4()
    version = 1
    await send(producer, DIRECTORY, envelope("team", team_id, version, TeamCreated(name="Bench")))
    members = [uuid.uuid4() for _ in range(agents)]
    for agent_id in members:
        invited = AgentInvited(
            email=f"a{agent_id.hex[:8]}@example.com", name="A", role=AgentRole.AGENT
        )
        await send(producer, DIRECTORY, envelope("agent", agent_id, 1, invited))
        version += 1
        added = TeamMemberAdded(agent_id=agent_id)
        await send(producer, DIRECTORY, envelope("team", team_id, version, added))
    await producer.flush()
    return team_id, members


def created(team_id: uuid.UUID) -> EventEnvelope:
    return envelope(
        "ticket",
        uuid.uuid4(),
        1,
        TicketCreated(
            subject="VPN down since this morning",
            channel="email",
            status="Open",
            status_category=StatusCategory.NEW,
            priority="Medium",
            team_id=team_id,
            tags=("vpn",),
        ),
    )


class Commands:
    """Follows helpdesk.ticket-commands.v1: when each AssignTicket arrived, and for whom."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.arrived: dict[uuid.UUID, float] = {}
        self.decisions: Counter[uuid.UUID] = Counter()
        self.agent: dict[uuid.UUID, uuid.UUID] = {}

    async def run(self) -> None:
        seen: set[uuid.UUID] = set()
        # The private Kafka's command topic starts empty: read it from the beginning.
        async for record in follow_topic(self.bootstrap, TICKET_COMMANDS):
            now = time.time()
            command = decode_envelope(record.value or b"")
            if command.event_type != "AssignTicket" or command.event_id in seen:
                continue
            seen.add(command.event_id)
            ticket = command.stream_id
            self.arrived.setdefault(ticket, now)
            self.decisions[ticket] += 1
            self.agent[ticket] = uuid.UUID(command.data["agent_id"])


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    cut = (
        statistics.quantiles(ordered, n=100, method="inclusive")
        if len(ordered) > 1
        else ordered * 99
    )
    return f"p50 {cut[49]:.0f} ms, p99 {cut[98]:.0f} ms, max {ordered[-1]:.0f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=200, help="tickets per second")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--agents", type=int, default=5, help="members per team")
    parser.add_argument("--teams", type=int, default=1)
    parser.add_argument("--heap", default="1g", help="heap of the private Kafka")
    args = parser.parse_args()
    print(describe())

    home = Path(tempfile.mkdtemp(prefix="assignment-bench-"))
    kafka = private_kafka(home, args.heap)
    ensure_topics(kafka.bootstrap)
    port = free_port()
    env = os.environ | {
        "HELPDESK_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "HELPDESK_ASSIGNMENT_APP_ID": f"assignment-bench-{uuid.uuid4().hex[:6]}",
        "HELPDESK_ASSIGNMENT_HTTP_PORT": str(port),
        "HELPDESK_ASSIGNMENT_DATA_DIR": str(home / "worker"),
    }
    worker = Worker("assignment_service", env, home / "worker.log", port)
    commands = Commands(kafka.bootstrap)
    reading = asyncio.create_task(commands.run())
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", linger_ms=0)
    await producer.start()
    try:
        print(f"kafka {kafka.bootstrap}; worker port {port}; logs {home}")
        worker.start()
        await until(worker.ready, 180, "worker ready")
        teams = [await make_team(producer, args.agents) for _ in range(args.teams)]
        await asyncio.sleep(2)  # the directory reaches the team stage
        sent: dict[uuid.UUID, tuple[float, uuid.UUID]] = {}
        total = args.rate * args.seconds
        cpu0 = worker.cpu_seconds()
        began = time.monotonic()
        pending = []
        for index in range(total):
            # Paced: ticket i leaves at began + i / rate.
            delay = began + index / args.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            team_id = teams[index % len(teams)][0]
            ticket = created(team_id)
            sent[ticket.stream_id] = (ticket.occurred_at.timestamp(), team_id)
            pending.append(await send(producer, TICKETS, ticket))
        await asyncio.gather(*pending)
        achieved = total / (time.monotonic() - began)
        await until(lambda: len(set(sent) & set(commands.arrived)) >= total, 120, "all decided")
        cpu = worker.cpu_seconds() - cpu0
        latencies = [(commands.arrived[t] - at) * 1000 for t, (at, _) in sent.items()]
        print(f"{total:,} tickets at {achieved:.0f}/s over {args.teams} team(s) of {args.agents}")
        print(f"created -> AssignTicket on Kafka: {percentiles(latencies)}")
        twice = sum(1 for t in sent if commands.decisions[t] > 1)
        print(f"tickets with more than one decision: {twice}")
        for team_id, members in teams:
            spread = Counter(commands.agent[t] for t, (_, team) in sent.items() if team == team_id)
            counts = [spread[m] for m in members]
            gap = max(counts) - min(counts)
            print(f"team {str(team_id)[:8]}: per agent {counts} (max - min {gap})")
        print(f"worker CPU {cpu:.1f} s ({cpu / total * 1000:.2f} ms per ticket); "
              f"RSS {worker.rss_mib():.0f} MiB")  # fmt: skip
    finally:
        reading.cancel()
        await producer.stop()
        worker.stop()
        kafka.stop()


if __name__ == "__main__":
    asyncio.run(main())
