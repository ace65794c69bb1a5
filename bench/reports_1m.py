"""Reports over ~1,000,000 events of history (issue #19) and the agent list at 100,000 tickets
(issue #17), on a throwaway stack.

The stack: a private PostgreSQL and Kafka on free ports (``tools/devstack``), the ticket service
(``serve``, 2 uvicorn workers as ``make up`` runs it). Teams (each with its time zone, two of them
with daylight saving time) and agents are made through the service's HTTP API; then the history:

- ticket events (created, assigned, replies, Waiting on Customer and back, solved, some moved to
  another team, CSAT ratings) go through the real append path, ``PostgresEventStore.append``,
  200 tickets per call; the service's own projector catches up from the log as it would after
  an import (``ticket_views``, ``ticket_messages``, ``ticket_ratings``);
- the SLA service's events for them (targets set, first and next response met, resolution met or
  breached, breached then met late) are produced to ``helpdesk.sla.v1``, which the service's SLA
  projector consumes (``ticket_sla``, ``sla_outcomes``).

No projection row is written by this script. Then every request of the admin Reports screen
(``web/src/agent/admin/ReportsAdmin.tsx``: volume in the viewer's time zone, SLA, CSAT, workload)
for several periods, grouped by team and by agent, as a manager and as a team's lead, N requests
each, one at a time → p50/p95/p99; and the agent list (``web/src/agent/TicketList.tsx``): the
requests of the first screen after sign-in, sent together as the browser does, and the list's
request after each of N filter changes. Requests go to the ticket service directly, not through
the API gateway (its overhead is measured in its own section of ``docs/benchmarks.md``).

``--baseline REV``: first measure with the ticket service of git revision REV (its source from
``git archive``, its migrations), then migrate to this checkout's head and measure again: the
same data, the same run.

``--keep DIR`` leaves the data set (PostgreSQL and Kafka data, keys, the teams and agents) in
``DIR``; ``--reuse DIR`` measures it again without the ~20 minutes of building it: with
``--baseline REV`` the baseline's service first (on the schema as the data set has it), then this
checkout's migrations and service; without, this checkout's only.

    python bench/reports_1m.py --tickets 100000 --baseline main
    python bench/reports_1m.py --tickets 100000 --baseline main --keep /tmp/bench-1m
    python bench/reports_1m.py --reuse /tmp/bench-1m --baseline main
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from aiokafka import AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe

from helpdesk_devstack.kafka import LocalKafka, ensure_topics
from helpdesk_devstack.paths import StackPaths
from helpdesk_devstack.postgres import LocalPostgres, create_database, database_dsn
from helpdesk_devstack.procs import free_port
from helpdesk_devstack.tokens import ensure_dev_keys, mint_token
from helpdesk_events import (
    MessageAdded,
    StatusChanged,
    TeamChanged,
    TicketAssigned,
    TicketCreated,
)
from helpdesk_events.envelope import Actor, ActorKind, EventEnvelope
from helpdesk_events.registry import DomainEvent
from helpdesk_events.sla import (
    SlaBreached,
    SlaClockState,
    SlaMet,
    SlaMetricName,
    SlaTarget,
    SlaTargetsSet,
)
from helpdesk_events.tickets import RatingScale, SatisfactionRated, StatusCategory, Visibility
from helpdesk_events.topics import SLA
from ticket_service.adapters.event_store import PostgresEventStore, create_pool
from ticket_service.service_layer.event_store import StreamAppend

ROOT = Path(__file__).resolve().parents[1]
TICKET_SRC = "services/ticket-service/src"
#: Team time zones: two with daylight saving time (a local day is 23 or 25 hours there).
ZONES = (
    "Asia/Jakarta",
    "Asia/Jakarta",
    "Asia/Makassar",
    "Asia/Jayapura",
    "Europe/Amsterdam",
    "America/New_York",
)
AGENTS_PER_TEAM = 5
PRIORITIES = ("Low", "Medium", "High", "Urgent")
#: First response and resolution targets per priority (seconds), as a policy would set them.
TARGETS = {
    "Low": (8 * 3600, 5 * 86400),
    "Medium": (4 * 3600, 3 * 86400),
    "High": (2 * 3600, 86400),
    "Urgent": (1800, 8 * 3600),
}


# --- the history ---------------------------------------------------------------------------


@dataclass
class Directory:
    teams: list[uuid.UUID]
    zones: dict[uuid.UUID, str]
    agents: dict[uuid.UUID, list[uuid.UUID]]
    leads: dict[uuid.UUID, uuid.UUID]
    manager: uuid.UUID


@dataclass
class History:
    """One ticket's events and the SLA service's events about it."""

    ticket: list[tuple[DomainEvent, datetime, Actor]] = field(default_factory=list)
    sla: list[tuple[DomainEvent, datetime]] = field(default_factory=list)


SYSTEM = Actor(kind=ActorKind.SERVICE, id="assignment-service")
SLA_ACTOR = Actor(kind=ActorKind.SERVICE, id="sla-service")


def agent_actor(agent: uuid.UUID) -> Actor:
    return Actor(kind=ActorKind.AGENT, id=str(agent), role="agent")


def customer_actor(email: str) -> Actor:
    return Actor(kind=ActorKind.CUSTOMER, id=email, role="customer")


def message(body: str, visibility: Visibility = Visibility.PUBLIC) -> MessageAdded:
    return MessageAdded(
        message_id=uuid.uuid4(),
        visibility=visibility,
        body_html=f"<p>{body}</p>",
        body_text=body,
        channel="email",
    )


def ticket_history(
    rng: random.Random, number: int, created: datetime, now: datetime, directory: Directory
) -> tuple[uuid.UUID, History]:
    """A ticket's life from ``created``, cut at ``now``: assigned by a rule, answered, waiting on
    the customer, answered again, solved; some escalated to another team, some rated."""
    ticket_id = uuid.uuid4()
    history = History()
    team = rng.choice(directory.teams)
    agent = rng.choice(directory.agents[team])
    priority = rng.choices(PRIORITIES, weights=(30, 40, 20, 10))[0]
    first_target, resolution_target = TARGETS[priority]
    email = f"customer{rng.randrange(20_000)}@example.com"
    customer = customer_actor(email)
    status = "New"

    def add(event: DomainEvent, at: datetime, actor: Actor) -> bool:
        if at > now:
            return False
        history.ticket.append((event, at, actor))
        return True

    def move(to: str, to_category: StatusCategory, at: datetime, actor: Actor) -> bool:
        nonlocal status
        event = StatusChanged(
            from_status=status,
            to_status=to,
            from_category=_CATEGORY[status],
            to_category=to_category,
        )
        if add(event, at, actor):
            status = to
            return True
        return False

    add(
        TicketCreated(
            subject=f"Pesanan #{number} belum sampai",
            description="Halo, pesanan saya belum sampai. Mohon dibantu.",
            requester_email=email,
            requester_name=f"Pelanggan {number}",
            channel="email",
            status="New",
            status_category=StatusCategory.NEW,
            priority=priority,
            number=number,
            team_id=team,
            tags=tuple(rng.sample(("pengiriman", "tagihan", "akun", "retur", "vip"), 2)),
        ),
        created,
        customer,
    )
    history.sla.append(
        (
            SlaTargetsSet(
                ticket_id=ticket_id,
                policy="standard",
                priority=priority,
                targets=(
                    SlaTarget(
                        metric=SlaMetricName.FIRST_RESPONSE,
                        target_seconds=first_target,
                        elapsed_seconds=0,
                        state=SlaClockState.RUNNING,
                        due_at=created + timedelta(seconds=first_target),
                    ),
                    SlaTarget(
                        metric=SlaMetricName.RESOLUTION,
                        target_seconds=resolution_target,
                        elapsed_seconds=0,
                        state=SlaClockState.RUNNING,
                        due_at=created + timedelta(seconds=resolution_target),
                    ),
                ),
            ),
            created,
        )
    )
    at = created + timedelta(seconds=rng.uniform(5, 120))
    add(TicketAssigned(assignee_id=agent, method="rule", rule_id="round-robin"), at, SYSTEM)
    if rng.random() < 0.1:  # escalated to another team before the first reply
        other = rng.choice([t for t in directory.teams if t != team])
        at += timedelta(seconds=rng.uniform(60, 1800))
        if add(TeamChanged(from_team_id=team, to_team_id=other), at, agent_actor(agent)):
            team, previous = other, agent
            agent = rng.choice(directory.agents[team])
            add(
                TicketAssigned(assignee_id=agent, previous_assignee_id=previous, method="rule"),
                at + timedelta(seconds=30),
                SYSTEM,
            )

    def sla_metric(metric: SlaMetricName, started: datetime, met: datetime, target: float) -> None:
        elapsed = (met - started).total_seconds()
        due = started + timedelta(seconds=target)
        if elapsed > target and due <= now:
            breach = SlaBreached(
                ticket_id=ticket_id, metric=metric, due_at=due, target_seconds=target
            )
            history.sla.append((breach, due))
        if met <= now:
            history.sla.append(
                (
                    SlaMet(
                        ticket_id=ticket_id,
                        metric=metric,
                        met_at=met,
                        elapsed_seconds=elapsed,
                        within_target=elapsed <= target,
                    ),
                    met,
                )
            )

    # First reply: usually within the target, sometimes late.
    replied = created + timedelta(seconds=rng.expovariate(1 / (first_target * 0.5)))
    sla_metric(SlaMetricName.FIRST_RESPONSE, created, replied, first_target)
    if not add(message("Terima kasih, kami periksa dulu."), replied, agent_actor(agent)):
        return ticket_id, history
    move("Waiting on Customer", StatusCategory.PAUSED, replied, agent_actor(agent))
    answered = replied + timedelta(seconds=rng.expovariate(1 / 30_000))
    if not add(message("Nomor resi saya 12345."), answered, customer):
        return ticket_id, history
    move("Open", StatusCategory.ACTIVE, answered, customer)
    solved = answered + timedelta(seconds=rng.expovariate(1 / (first_target * 0.7)))
    sla_metric(SlaMetricName.NEXT_RESPONSE, answered, solved, first_target)
    sla_metric(SlaMetricName.RESOLUTION, created, solved, resolution_target)
    if not add(message("Paket sudah dikirim ulang."), solved, agent_actor(agent)):
        return ticket_id, history
    move("Solved", StatusCategory.RESOLVED, solved, agent_actor(agent))
    if rng.random() < 0.3:
        score = rng.choices((1, 2, 3, 4, 5), weights=(5, 5, 10, 30, 50))[0]
        add(
            SatisfactionRated(
                scale=RatingScale.ONE_TO_FIVE,
                score=score,
                satisfied=score >= 4,
                resolution=1,
                team_id=team,
                assignee_id=agent,
            ),
            solved + timedelta(seconds=rng.uniform(600, 86_400)),
            customer,
        )
    if rng.random() < 0.5:
        move("Closed", StatusCategory.CLOSED, solved + timedelta(days=4), SYSTEM)
    return ticket_id, history


_CATEGORY = {
    "New": StatusCategory.NEW,
    "Open": StatusCategory.ACTIVE,
    "Waiting on Customer": StatusCategory.PAUSED,
    "Solved": StatusCategory.RESOLVED,
    "Closed": StatusCategory.CLOSED,
}


def envelope(
    event: DomainEvent, stream_id: uuid.UUID, version: int, at: datetime, actor: Actor
) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=stream_id,
        stream_type=event.stream_type,
        stream_version=version,
        occurred_at=at,
        actor=actor,
        correlation_id=uuid.uuid4(),
        data=event.model_dump(mode="json", exclude_none=True),
    )


async def load_history(
    dsn: str, bootstrap: str, directory: Directory, tickets: int, days: int, seed: int
) -> dict[str, float]:
    """Append every ticket's events (200 tickets per append) and produce the SLA events."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    start = now - timedelta(days=days)
    pool = await create_pool(dsn, min_size=1, max_size=2)
    store = PostgresEventStore(pool)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=256 * 1024, acks=1
    )
    await producer.start()
    first_number = int(await pool.fetchval("SELECT nextval('ticket_numbers')"))
    await pool.execute("SELECT setval('ticket_numbers', $1)", first_number + tickets)
    began = time.monotonic()
    ticket_events = sla_events = outcomes = 0
    try:
        batch: list[StreamAppend] = []
        for i in range(tickets):
            created = start + timedelta(seconds=days * 86_400 * (i + rng.random()) / tickets)
            ticket_id, history = ticket_history(rng, first_number + i, created, now, directory)
            batch.append(
                StreamAppend(
                    ticket_id,
                    "ticket",
                    0,
                    [
                        envelope(event, ticket_id, n, at, actor)
                        for n, (event, at, actor) in enumerate(history.ticket, start=1)
                    ],
                )
            )
            ticket_events += len(history.ticket)
            for n, (event, at) in enumerate(sorted(history.sla, key=lambda e: e[1]), start=1):
                record = envelope(event, ticket_id, n, at, SLA_ACTOR)
                await producer.send(
                    SLA,
                    orjson.dumps(record.model_dump(mode="json")),
                    key=str(ticket_id).encode(),
                )
                sla_events += 1
                outcomes += isinstance(event, SlaMet | SlaBreached)
            if len(batch) == 200:
                await store.append(batch)
                batch = []
            if i % 10_000 == 0 and i:
                rate = (ticket_events + sla_events) / (time.monotonic() - began)
                print(f"  {i:,} tickets, {ticket_events + sla_events:,} events, {rate:,.0f}/s")
        if batch:
            await store.append(batch)
        await producer.flush()
    finally:
        await producer.stop()
        await pool.close()
    return {
        "ticket_events": ticket_events,
        "sla_events": sla_events,
        "outcomes": outcomes,
        "seconds": time.monotonic() - began,
    }


async def caught_up(dsn: str) -> tuple[int, int, int]:
    """(tickets projected, events after the projector's checkpoint, SLA events recorded)."""
    connection = await asyncpg.connect(dsn)
    try:
        projected = await connection.fetchval("SELECT count(*) FROM ticket_views")
        checkpoint = await connection.fetchrow(
            "SELECT transaction_id::text AS transaction_id, position FROM outbox_checkpoints"
            " WHERE consumer = 'projector:projections'"
        )
        behind = await connection.fetchval(
            "SELECT count(*) FROM events WHERE (transaction_id, position) > ($1::text::xid8, $2)",
            checkpoint["transaction_id"] if checkpoint else "0",
            checkpoint["position"] if checkpoint else 0,
        )
        recorded = await connection.fetchval("SELECT count(*) FROM sla_outcome_events")
        return projected, behind, recorded
    finally:
        await connection.close()


# --- the stack -----------------------------------------------------------------------------


@dataclass
class Stack:
    home: Path
    postgres: LocalPostgres
    kafka: LocalKafka
    dsn: str
    private_key: bytes
    public_key: Path
    url: str = ""
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_service(self, source: Path | None) -> None:
        """``ticket-service serve`` and ``sla-projector`` of this checkout, or of the source
        tree ``source``."""
        port = free_port()
        env = os.environ | {
            "HELPDESK_DATABASE_URL": self.dsn,
            "HELPDESK_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
            "HELPDESK_JWT_PUBLIC_KEY_FILE": str(self.public_key),
            "HELPDESK_HTTP_PORT": str(port),
            "HELPDESK_HTTP_WORKERS": "2",
            "HELPDESK_BLOB_DIR": str(self.home / "blobs"),
            "HELPDESK_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        }
        if source is not None:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), env.get("PYTHONPATH")]))
        for command in ("serve", "sla-projector"):
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "ticket_service", command], env=env, cwd=ROOT
                )
            )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        raise SystemExit("the ticket service did not get ready in 180 s")

    def stop_service(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(20)
        self.processes = []

    def migrate(self, source: Path | None) -> None:
        env = os.environ | {"HELPDESK_DATABASE_URL": self.dsn}
        if source is not None:
            env["PYTHONPATH"] = str(source)
        code = "from ticket_service.adapters.migrate import upgrade; import os;" \
            " upgrade(os.environ['HELPDESK_DATABASE_URL'])"  # fmt: skip
        subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)


STATE_FILE = "bench-state.json"


@contextlib.contextmanager
def throwaway_stack(keep: Path | None = None) -> Iterator[Stack]:
    """A private PostgreSQL and Kafka in a temporary directory, or in ``keep`` (left there for
    ``--reuse``; started again on the same ports when ``keep`` already holds a data set)."""
    paths = StackPaths.discover()
    with contextlib.ExitStack() as cleanup:
        if keep is None:
            home = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="bench-reports-")))
        else:
            home = keep.resolve()
            home.mkdir(parents=True, exist_ok=True)
        state = home / STATE_FILE
        saved = orjson.loads(state.read_bytes()) if state.is_file() else {}
        pg_port = saved.get("postgres_port") or free_port()
        controller = saved.get("kafka_controller_port") or free_port(exclude=[pg_port])
        kafka_port = saved.get("kafka_port") or free_port(exclude=[pg_port, controller])
        postgres = LocalPostgres(home / "pg", port=pg_port)
        kafka = LocalKafka(home / "kafka", kafka_port, controller, "512m", libs=paths.kafka_libs)
        stack: Stack | None = None
        try:
            postgres.start()
            kafka.start()
            ensure_topics(kafka.bootstrap)
            server = postgres.dsn("postgres")
            if not saved:
                create_database(server, "tickets")
            private, public = ensure_dev_keys(home / "jwt")
            stack = Stack(
                home, postgres, kafka, database_dsn(server, "tickets"), private.read_bytes(), public
            )
            yield stack
        finally:
            if stack is not None:
                stack.stop_service()
            kafka.stop()
            postgres.stop()


def save_state(stack: Stack, directory: Directory, loaded: dict[str, float]) -> None:
    """What ``--reuse`` needs of a kept data set: the ports its Kafka was formatted with, the
    directory (teams, zones, agents, leads) and the size of the history."""
    state = {
        "postgres_port": stack.postgres.port,
        "kafka_port": stack.kafka.port,
        "kafka_controller_port": stack.kafka.controller_port,
        "directory": {
            "teams": [str(t) for t in directory.teams],
            "zones": {str(t): z for t, z in directory.zones.items()},
            "agents": {str(t): [str(a) for a in m] for t, m in directory.agents.items()},
            "leads": {str(t): str(a) for t, a in directory.leads.items()},
            "manager": str(directory.manager),
        },
        "loaded": loaded,
    }
    (stack.home / STATE_FILE).write_bytes(orjson.dumps(state, option=orjson.OPT_INDENT_2))


def load_state(home: Path) -> tuple[Directory, dict[str, float]]:
    state = orjson.loads((home / STATE_FILE).read_bytes())
    d = state["directory"]
    directory = Directory(
        teams=[uuid.UUID(t) for t in d["teams"]],
        zones={uuid.UUID(t): z for t, z in d["zones"].items()},
        agents={uuid.UUID(t): [uuid.UUID(a) for a in m] for t, m in d["agents"].items()},
        leads={uuid.UUID(t): uuid.UUID(a) for t, a in d["leads"].items()},
        manager=uuid.UUID(d["manager"]),
    )
    return directory, state["loaded"]


def source_of(revision: str, into: Path) -> Path:
    """The ticket service's source at ``revision`` (git archive), for a baseline server."""
    archive = subprocess.run(
        ["git", "archive", revision, TICKET_SRC], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / TICKET_SRC


# --- the directory, through the API ---------------------------------------------------------


def token(stack: Stack, role: str, subject: str) -> str:
    return mint_token(stack.private_key, role, subject, timedelta(hours=12))


def make_directory(stack: Stack) -> Directory:
    admin = {"Authorization": f"Bearer {token(stack, 'manager', 'bench-admin')}"}
    with httpx.Client(base_url=stack.url, headers=admin, timeout=30) as client:

        def invite(email: str, name: str, role: str = "agent") -> uuid.UUID:
            response = client.post("/agents", json={"email": email, "name": name, "role": role})
            response.raise_for_status()
            return uuid.UUID(response.json()["id"])

        manager = invite("manager@bench.example", "Manajer", "manager")
        teams: list[uuid.UUID] = []
        zones: dict[uuid.UUID, str] = {}
        agents: dict[uuid.UUID, list[uuid.UUID]] = {}
        leads: dict[uuid.UUID, uuid.UUID] = {}
        for t, zone in enumerate(ZONES):
            members = [
                invite(f"agent{t}-{a}@bench.example", f"Agen {t}-{a}")
                for a in range(AGENTS_PER_TEAM)
            ]
            response = client.post(
                "/teams",
                json={"name": f"Tim {t + 1}", "member_ids": [str(m) for m in members],
                      "lead_id": str(members[0]), "time_zone": zone},
            )  # fmt: skip
            response.raise_for_status()
            team = uuid.UUID(response.json()["id"])
            teams.append(team)
            zones[team] = zone
            agents[team] = members
            leads[team] = members[0]
    return Directory(teams, zones, agents, leads, manager)


# --- the measurements ------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Row:
    name: str
    timings: list[float]
    load: str
    size: int = 0

    def line(self) -> str:
        ms = [t * 1000 for t in self.timings]
        return (
            f"| {self.name} | {len(ms)} | {percentile(ms, 0.5):,.0f} | {percentile(ms, 0.95):,.0f}"
            f" | {percentile(ms, 0.99):,.0f} | {self.size:,} | {self.load} |"
        )


async def timed_get(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], headers: dict[str, str]
) -> tuple[float, int]:
    began = time.perf_counter()
    response = await client.get(path, params=params, headers=headers)
    elapsed = time.perf_counter() - began
    if response.status_code != 200:
        raise SystemExit(f"GET {path} {params}: {response.status_code} {response.text[:300]}")
    return elapsed, len(response.content)


async def measure_reports(stack: Stack, directory: Directory, n: int) -> list[Row]:
    manager = {"Authorization": f"Bearer {token(stack, 'manager', str(directory.manager))}"}
    lead_team = directory.teams[4]  # Europe/Amsterdam: its days are 23 or 25 hours at DST
    lead = {"Authorization": f"Bearer {token(stack, 'agent', str(directory.leads[lead_team]))}"}
    today = datetime.now(UTC).date()
    periods = {
        "7 days": (today - timedelta(days=6), today),
        "30 days": (today - timedelta(days=29), today),
        "90 days": (today - timedelta(days=89), today),
    }
    cases: list[tuple[str, str, dict[str, Any], dict[str, str]]] = []
    for label, (first, last) in periods.items():
        for group_by in ("team", "assignee"):
            period = {"from": first.isoformat(), "to": last.isoformat(), "group_by": group_by}
            tz = {"time_zone": "Asia/Jakarta"}
            cases += [
                (f"volume, {label}, by {group_by}", "/reports/volume", period | tz, manager),
                (f"SLA, {label}, by {group_by}", "/reports/sla", period, manager),
                (f"CSAT, {label}, by {group_by}", "/reports/csat", period, manager),
            ]
    first, last = periods["30 days"]
    period = {"from": first.isoformat(), "to": last.isoformat(), "group_by": "assignee"}
    cases += [
        (
            "volume, 30 days, one team's lead, Europe/Amsterdam",
            "/reports/volume",
            period | {"time_zone": "Europe/Amsterdam"},
            lead,
        ),
        ("SLA, 30 days, one team's lead", "/reports/sla", period, lead),
        ("workload (open tickets now)", "/reports/workload", {}, manager),
        ("workload, one team's lead", "/reports/workload", {}, lead),
    ]
    rows = []
    async with httpx.AsyncClient(base_url=stack.url, timeout=60) as client:
        for name, path, params, headers in cases:
            await timed_get(client, path, params, headers)  # a first request warms the caches
            timings, size = [], 0
            for _ in range(n):
                elapsed, size = await timed_get(client, path, params, headers)
                timings.append(elapsed)
            rows.append(Row(name, timings, loadavg(), size))
            print(rows[-1].line(), flush=True)
    return rows


async def measure_list(stack: Stack, directory: Directory, n: int, seed: int) -> list[Row]:
    """The agent list: its first screen's requests together, then the list after filter
    changes (the filters of TicketList.tsx, in random combinations)."""
    rng = random.Random(seed)
    me = directory.agents[directory.teams[0]][1]
    agent = {"Authorization": f"Bearer {token(stack, 'agent', str(me))}"}
    first_screen: list[tuple[str, dict[str, Any]]] = [
        ("/tickets", {"view": "unsolved", "page_size": 25, "page": 1}),
        ("/ticket-options", {}),
        ("/agents", {"page_size": 200}),
        ("/teams", {"page_size": 200}),
        ("/agents/me", {}),
    ]
    first_timings: list[float] = []
    async with httpx.AsyncClient(base_url=stack.url, timeout=60) as client:
        for _ in range(n):
            began = time.perf_counter()
            await asyncio.gather(*(timed_get(client, p, q, agent) for p, q in first_screen))
            first_timings.append(time.perf_counter() - began)
        changes: list[float] = []
        kinds: dict[str, list[float]] = {}
        for _ in range(n):
            query: dict[str, Any] = {"view": "unsolved", "page_size": 25, "page": 1}
            kind = rng.choice(
                ("status", "priority", "team", "assignee", "tag", "sort", "breached", "q", "view")
            )
            if kind == "status":
                query |= {"view": "all", "status": rng.choice(list(_CATEGORY))}
            elif kind == "priority":
                query["priority"] = rng.choice(PRIORITIES)
            elif kind == "team":
                query["team_id"] = str(rng.choice(directory.teams))
            elif kind == "assignee":
                query["assignee"] = rng.choice(["me", "none", str(me)])
            elif kind == "tag":
                query["tag"] = rng.choice(("pengiriman", "tagihan", "vip"))
            elif kind == "sort":
                query["sort"] = rng.choice(("resolution_due", "-priority", "-created_at"))
            elif kind == "breached":
                query["breached"] = "true"
            elif kind == "q":
                query["q"] = rng.choice(("pesanan", "resi", "#1234"))
            else:
                query["view"] = rng.choice(("new", "all"))
            if rng.random() < 0.3:
                query["page"] = rng.randint(2, 20)
            elapsed, _ = await timed_get(client, "/tickets", query, agent)
            changes.append(elapsed)
            kinds.setdefault(kind, []).append(elapsed)
    load = loadavg()
    rows = [
        Row("list: first screen (5 requests together)", first_timings, load),
        Row("list: filter change → list", changes, load),
    ]
    slowest = max(kinds.items(), key=lambda item: percentile(item[1], 0.95))
    rows.append(Row(f"list: slowest filter kind ({slowest[0]})", slowest[1], load))
    for row in rows:
        print(row.line(), flush=True)
    return rows


HEADER = "| request | N | p50 ms | p95 ms | p99 ms | bytes | load average (1, 5, 15 min) |\n" \
    "|---|---:|---:|---:|---:|---:|---|"  # fmt: skip


async def measure(stack: Stack, directory: Directory, n: int, seed: int, title: str) -> None:
    print(f"\n### {title}\n\n{HEADER}", flush=True)
    await measure_reports(stack, directory, n)
    await measure_list(stack, directory, n, seed)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--requests", type=int, default=50, help="per report and list case")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument(
        "--baseline", help="git revision to measure first (e.g. main), on the same data"
    )
    parser.add_argument(
        "--wait-for",
        type=Path,
        help="with --baseline: after the baseline, wait until this file exists before migrating"
        " (to work on the change against the loaded database, whose URL is printed)",
    )
    reuse = parser.add_mutually_exclusive_group()
    reuse.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="build the data set in DIR and leave it there (PostgreSQL and Kafka data, keys,"
        " the directory of teams and agents) for --reuse",
    )
    reuse.add_argument(
        "--reuse",
        type=Path,
        metavar="DIR",
        help="measure a data set kept with --keep instead of building one (~20 min); with"
        " --baseline the baseline's service runs on the schema as it is, then this checkout's"
        " migrations run",
    )
    args = parser.parse_args()
    if args.reuse is not None and not (args.reuse / STATE_FILE).is_file():
        parser.error(f"{args.reuse} holds no data set kept with --keep")
    print(describe(), f"load average {loadavg()}", flush=True)
    with (
        throwaway_stack(args.keep or args.reuse) as stack,
        tempfile.TemporaryDirectory() as sources,
    ):
        baseline = source_of(args.baseline, Path(sources)) if args.baseline else None
        if args.reuse is not None:
            directory, loaded = load_state(stack.home)
            if baseline is not None:
                stack.start_service(baseline)
        else:
            stack.migrate(baseline)
            stack.start_service(baseline)
            directory = make_directory(stack)
            loaded = await build(stack, directory, args)
        events = loaded["ticket_events"] + loaded["sla_events"]
        print(f"history: {events:,.0f} events", flush=True)
        label = f"ticket service of {args.baseline}" if args.baseline else "this checkout"
        if args.reuse is None or baseline is not None:
            await measure(stack, directory, args.requests, args.seed, label)
        if baseline is not None or args.reuse is not None:
            if args.wait_for is not None:
                print(f"\ndatabase: {stack.dsn}\nwaiting for {args.wait_for} ...", flush=True)
                while not args.wait_for.exists():  # noqa: ASYNC110 - a file a person makes
                    await asyncio.sleep(2)
            stack.stop_service()
            began = time.monotonic()
            stack.migrate(None)
            print(f"\nmigrated to this checkout's head in {time.monotonic() - began:.1f} s")
            stack.start_service(None)
            await measure(stack, directory, args.requests, args.seed, "this checkout")


async def build(stack: Stack, directory: Directory, args: argparse.Namespace) -> dict[str, float]:
    """Load the history and wait for the projectors to catch up; kept for ``--reuse``."""
    print(f"loading {args.tickets:,} tickets over {args.days} days ...", flush=True)
    loaded = await load_history(
        stack.dsn, stack.kafka.bootstrap, directory, args.tickets, args.days, args.seed
    )
    events = loaded["ticket_events"] + loaded["sla_events"]
    print(
        f"appended {loaded['ticket_events']:,.0f} ticket events and produced"
        f" {loaded['sla_events']:,.0f} SLA events ({events:,.0f}) in {loaded['seconds']:.0f} s",
        flush=True,
    )
    began = time.monotonic()
    while True:
        projected, behind, recorded = await caught_up(stack.dsn)
        print(f"  {projected:,} tickets projected, {behind:,} events behind,"
              f" {recorded:,} SLA outcomes recorded", flush=True)  # fmt: skip
        if projected >= args.tickets and behind == 0 and recorded >= loaded["outcomes"]:
            break
        if time.monotonic() - began > 3600:
            raise SystemExit("the projectors did not catch up in an hour")
        await asyncio.sleep(15)
    print(
        f"projected in {time.monotonic() - began:.0f} s after the load (load average {loadavg()})",
        flush=True,
    )
    if args.keep is not None:
        save_state(stack, directory, loaded)
        print(f"kept in {stack.home}: measure it again with --reuse {stack.home}", flush=True)
    return loaded


def _exit_on_term(signum: int, _frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # unwinds: the stack is stopped


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _exit_on_term)
    asyncio.run(main())
