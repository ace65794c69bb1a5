"""No instant of a crash loses an assignment (reliability issue #13), on the real Kafka.

The worker is started with a crash point (setting ``crash_at``): it ends itself like ``kill -9``
in the middle of a burst, before a batch's messages are sent, after Kafka acknowledged them, or
after its table writes went to the producer - in the facts stage and in the team stage. It is
restarted without one, and every ticket of the burst must get exactly one decision (one
``AssignTicket`` command id; a re-send of the same id is harmless). A last test shows the
reconciliation: a decision that can no longer apply (the ticket changed before it landed, and no
answer came) is made again.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner

from helpdesk_devstack.kafka_events import publish
from helpdesk_devstack.procs import free_port
from helpdesk_devstack.topic_reader import end_offsets, read_topic
from helpdesk_devstack.worker_process import WorkerProcess
from helpdesk_events import (
    DomainEvent,
    StatusCategory,
    TagsChanged,
    TicketCreated,
    decode_envelope,
)
from helpdesk_events.directory import AgentInvited, AgentRole, TeamCreated, TeamMemberAdded
from helpdesk_events.topics import ASSIGNMENT, DIRECTORY, TICKET_COMMANDS, TICKETS

pytestmark = pytest.mark.integration

BURST = 40


@pytest.fixture(scope="module")
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
def start_worker(
    kafka_bootstrap: str, tmp_path: Path, dev_keys: tuple[Path, Path]
) -> AsyncIterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []
    app_id = f"assignment-chaos-{uuid.uuid4().hex[:8]}"

    def start(crash_at: str | None = None, instance_id: str | None = None) -> WorkerProcess:
        env = {
            **os.environ,
            "HELPDESK_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "HELPDESK_ASSIGNMENT_APP_ID": app_id,
            "HELPDESK_ASSIGNMENT_HTTP_PORT": str(port := free_port()),
            "HELPDESK_ASSIGNMENT_DATA_DIR": str(tmp_path / app_id),
            "HELPDESK_ASSIGNMENT_SESSION_TIMEOUT": "6",
            "HELPDESK_ASSIGNMENT_RECONCILE_INTERVAL": "2",
            "HELPDESK_JWT_PUBLIC_KEY_FILE": str(dev_keys[1]),
        }
        if crash_at:
            env["HELPDESK_ASSIGNMENT_CRASH_AT"] = crash_at
        if instance_id:
            # Restarted long before its session ends: it rejoins without a rebalance.
            env["HELPDESK_ASSIGNMENT_GROUP_INSTANCE_ID"] = instance_id
            env["HELPDESK_ASSIGNMENT_SESSION_TIMEOUT"] = "45"
        process = WorkerProcess("assignment_service", env, tmp_path / f"{app_id}.log", port)
        process.start()
        started.append(process)
        return process

    yield start  # type: ignore[misc]
    for process in started:
        process.stop()


_versions: Counter[uuid.UUID] = Counter()


async def emit(
    producer: AIOKafkaProducer,
    topic: str,
    stream_type: str,
    stream_id: uuid.UUID,
    event: DomainEvent,
) -> None:
    _versions[stream_id] += 1
    await publish(producer, topic, stream_type, stream_id, event, version=_versions[stream_id])


async def make_team(producer: AIOKafkaProducer, agents: int) -> uuid.UUID:
    team_id = uuid.uuid4()
    await emit(producer, DIRECTORY, "team", team_id, TeamCreated(name=f"Chaos {team_id.hex[:6]}"))
    for _ in range(agents):
        agent_id = uuid.uuid4()
        invited = AgentInvited(
            email=f"c{agent_id.hex[:8]}@example.com", name="C", role=AgentRole.AGENT
        )
        await emit(producer, DIRECTORY, "agent", agent_id, invited)
        await emit(producer, DIRECTORY, "team", team_id, TeamMemberAdded(agent_id=agent_id))
    return team_id


async def create_ticket(producer: AIOKafkaProducer, team_id: uuid.UUID) -> uuid.UUID:
    ticket_id = uuid.uuid4()
    created = TicketCreated(
        subject="Chaos",
        channel="email",
        status="Open",
        status_category=StatusCategory.NEW,
        priority="Medium",
        team_id=team_id,
    )
    await emit(producer, TICKETS, "ticket", ticket_id, created)
    return ticket_id


async def decisions(
    bootstrap: str,
    tickets: set[uuid.UUID],
    until: Callable[[dict[uuid.UUID, set[Any]]], bool],
    start: dict[TopicPartition, int],
) -> dict[uuid.UUID, set[Any]]:
    """ticket -> the distinct AssignTicket commands (event id, expected version) sent for it,
    read from ``start`` (the commands topic's end when the test began: every worker of the
    session re-sends its unanswered decisions, so the topic's beginning is ever more to read)."""
    keys = {str(ticket).encode() for ticket in tickets}

    def mine(records: list[Any]) -> dict[uuid.UUID, set[Any]]:
        found: dict[uuid.UUID, set[Any]] = {}
        for record in records:
            if record.key in keys and record.value:
                command = decode_envelope(record.value)
                if command.event_type == "AssignTicket":
                    found.setdefault(command.stream_id, set()).add(
                        (command.event_id, command.data["expected_version"])
                    )
        return found

    records = await read_topic(
        bootstrap, TICKET_COMMANDS, lambda rs: until(mine(rs)), max_wait=60, start=start
    )
    return mine(records)


@pytest.mark.parametrize("membership", ["dynamic", "static"])
@pytest.mark.parametrize(
    "crash_at",
    [
        "ticket-facts:after-send:3",
        "ticket-facts:after-write:3",
        "team-state:before-send:3",
        "team-state:after-send:3",
        "team-state:after-write:3",
    ],
)
async def test_a_crash_at_any_point_of_a_stage_loses_no_assignment(
    start_worker: Callable[..., WorkerProcess],
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    crash_at: str,
    membership: str,
) -> None:
    # A static member (the same instance id in both incarnations) is restarted well within its
    # session timeout: Kafka gives it its previous assignment back without a rebalance.
    instance_id = "assignment-0" if membership == "static" else None
    start = await end_offsets(kafka_bootstrap, TICKET_COMMANDS)
    team_id = await make_team(producer, 3)
    first = start_worker(crash_at, instance_id)
    # The worker may reach the crash point while it catches up with the earlier tests' tickets
    # (a new consumer group reads the shared topic from the start), before /readyz was polled:
    # then the restarted worker decides every ticket below, which is checked all the same.
    try:
        await first.wait_ready()
    except AssertionError:
        assert first.proc is not None and first.proc.poll() == 137, first.log_tail()
    burst_start = await end_offsets(kafka_bootstrap, TICKETS)
    blocked_start = await end_offsets(kafka_bootstrap, ASSIGNMENT)
    tickets: list[uuid.UUID] = []
    for _ in range(BURST):  # a steady 50 tickets/s
        tickets.append(await create_ticket(producer, team_id))
        await asyncio.sleep(0.02)
    deadline = time.monotonic() + 30
    while first.proc is not None and first.proc.poll() is None:
        assert time.monotonic() < deadline, f"never reached {crash_at}\n{first.log_tail()}"
        await asyncio.sleep(0.1)
    assert first.proc is not None and first.proc.returncode == 137, first.log_tail()

    second = start_worker(instance_id=instance_id)
    await second.wait_ready()
    wanted = set(tickets)
    found = await decisions(kafka_bootstrap, wanted, lambda d: set(d) >= wanted, start)
    missing = wanted - set(found)
    if missing:
        where = await _where_missing(kafka_bootstrap, second, missing, burst_start, blocked_start)
        raise AssertionError(f"{len(missing)} tickets never decided; {where}\n{second.log_tail()}")
    twice = {ticket: ids for ticket, ids in found.items() if len(ids) != 1}
    assert not twice, f"tickets with two different decisions: {twice}"


async def _where_missing(
    bootstrap: str,
    worker: WorkerProcess,
    missing: set[uuid.UUID],
    burst_start: dict[Any, int],
    blocked_start: dict[TopicPartition, int],
) -> str:
    """Where the undecided tickets are: per tickets partition, how many, where the burst began
    and where the worker's group has committed to - past the burst's start means records
    committed unprocessed, at or before it means never read (a stalled partition) - and why the
    team stage held back those it has seen (``AssignmentBlocked``)."""
    events = await read_topic(
        bootstrap, ASSIGNMENT, lambda records: False, max_wait=5, start=blocked_start
    )
    blocked = Counter(
        str(envelope.data.get("reason"))
        for envelope in (decode_envelope(record.value) for record in events if record.value)
        if envelope.event_type == "AssignmentBlocked" and envelope.stream_id in missing
    )
    partitions = sorted(tp.partition for tp in burst_start)
    partition_of = DefaultPartitioner()
    count = Counter(
        partition_of(str(ticket).encode(), partitions, partitions) for ticket in missing
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(worker.env["HELPDESK_ASSIGNMENT_APP_ID"])
    except KafkaError as error:  # no commit anywhere yet: no group coordinator to ask
        offsets = {}
        unread = f"committed offsets not read: {error!r}; "
    else:
        unread = ""
    finally:
        await admin.close()
    committed = {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == TICKETS}
    begun = {tp.partition: offset for tp, offset in burst_start.items()}
    where = ", ".join(
        f"partition {p}: {n} missing, burst from {begun.get(p)}, committed {committed.get(p)}"
        for p, n in sorted(count.items())
    )
    return f"{unread}{where}; blocked: {dict(blocked)}"


async def test_a_decision_that_can_no_longer_apply_is_made_again(
    start_worker: Callable[..., WorkerProcess], producer: AIOKafkaProducer, kafka_bootstrap: str
) -> None:
    """The AssignTicket for version 1 was sent; the ticket changed (version 2) before it landed,
    so the ticket service refuses it, and no answer comes. Reconciliation decides again, for
    version 2, once the grace period is over."""
    start = await end_offsets(kafka_bootstrap, TICKET_COMMANDS)
    team_id = await make_team(producer, 2)
    worker = start_worker()
    await worker.wait_ready()
    ticket = await create_ticket(producer, team_id)
    await decisions(kafka_bootstrap, {ticket}, lambda d: ticket in d, start)
    await emit(producer, TICKETS, "ticket", ticket, TagsChanged(added=("vip",)))
    found = await decisions(
        kafka_bootstrap, {ticket}, lambda d: {v for _, v in d.get(ticket, set())} == {1, 2}, start
    )
    assert {version for _, version in found[ticket]} == {1, 2}
