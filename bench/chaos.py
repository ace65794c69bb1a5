"""Chaos on the local stack: kill -9 a process while tickets are worked, then check every effect.

    make up
    python bench/chaos.py [--rounds 20] [--rate 25] [--seconds 20] [--down-for 8]
                          [--victims kafka,postgres,ticket-relay,...] [--all-at-once]

Once per run it makes a team of ``--agents`` agents and an SLA policy for that team only (24/7,
first response due 30/45/60/75 s after creation for Urgent/High/Medium/Low, resolution 2 h), so
that breaches fall due while the run watches. Each round then creates tickets at ``--rate`` per
second for ``--seconds`` (open loop, over HTTP, with an ``Idempotency-Key`` a retry keeps) and
works them as agents do: a quarter get their priority changed, a third a public reply (within
25 s, before any target), a sixth go to "Waiting on Customer" and back. At a random instant of
the first half of the round it ``kill -9``s one victim, dealt from a shuffled deck so that each
is killed equally often (``--all-at-once``: every victim): an app process of the stack,
Kafka, or PostgreSQL (an immediate shutdown, so crash recovery at the next start).
``--down-for`` seconds later it starts whatever is not running (``python -m helpdesk_devstack
up``). When every first-response target of the round has fallen due, it checks the effects
against the log (``helpdesk.tickets.v1`` and ``helpdesk.sla.v1``, read from the start of the
run):

* **lost**: a ticket the API created has no ``TicketCreated``; a version of its stream is missing
  on Kafka, or arrived after a later one (``out of order``);
* **assignment**: each ticket assigned exactly once (distinct ``TicketAssigned`` events);
* **SLA**: each ticket has its targets; the first-response due time is created + the target of
  its last priority (24/7: exact to the second; a priority change after that instant makes it
  fall due at the change) for every ticket never paused; a breach is emitted exactly once for
  every ticket whose first response was not given by its due time, and never for one answered
  in time - judged by what had reached Kafka when the breach was emitted (a reply or priority
  change an outage held back cannot stop a breach; that breach is then the ticket's one);
* **views**: the ticket service's read model (``GET /tickets/{id}``) has the log's version,
  priority, status, assignee and first-response due time.

It prints a line per round and exits 1 if any round found a lost, doubled or wrong effect.
Requests whose outcome is unknown (the connection broke after sending) are not retried and
their ticket is left out of the checks they could change; the round says how many. Only for a
stack on this machine (loopback); requests and rounds are bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from helpdesk_devstack.paths import StackPaths
from helpdesk_devstack.procs import live_pid
from helpdesk_devstack.settings import StackSettings
from helpdesk_devstack.stack import Stack
from helpdesk_devstack.tokens import mint_token
from helpdesk_events import decode_envelope
from helpdesk_events.topics import SLA, TICKETS

REPO = Path(__file__).resolve().parents[1]
APPS = (
    "ticket-service",
    "ticket-relay",
    "ticket-commands",
    "ticket-sla-projector",
    "sla-service",
    "assignment-service",
    "notification-service",
    "mail-gateway",
)
VICTIMS = ("kafka", "postgres", *APPS)
#: First-response targets (seconds) of the run's policy; resolution is 2 h for every priority.
FIRST_RESPONSE = {"Urgent": 30, "High": 45, "Medium": 60, "Low": 75}
RESOLUTION = 2 * 3600
WAITING = "Waiting on Customer"
#: A breach or view may trail its due instant by this much before it counts as missing.
GRACE = timedelta(seconds=15)
#: An event on Kafka counts as known to the SLA service this long after it arrived (its lag).
LAG = timedelta(seconds=5)


# --- what Kafka holds --------------------------------------------------------------------------


@dataclass
class Stream:
    """One ticket's records on the two topics, in arrival order."""

    versions: list[int] = field(default_factory=list)  # first arrival of each version
    seen: set[uuid.UUID] = field(default_factory=set)  # event ids
    redelivered: int = 0  # the same event again (at-least-once: harmless, counted)
    created_at: datetime | None = None
    priority: str | None = None
    changes: list[tuple[datetime, datetime]] = field(default_factory=list)  # (at, arrived)
    status: str | None = None
    paused: bool = False
    assigned: set[uuid.UUID] = field(default_factory=set)
    assignee: str | None = None
    first_reply: datetime | None = None
    reply_arrived: datetime | None = None  # when the first reply reached Kafka
    targets: list[dict[str, Any]] = field(default_factory=list)  # SlaTargetsSet data, in order
    # First-response SlaBreached: (event id, due at, when it reached Kafka).
    breaches: list[tuple[uuid.UUID, datetime, datetime]] = field(default_factory=list)
    running_due: datetime | None = None  # the first-response due the SLA events leave running
    sla_ids: set[uuid.UUID] = field(default_factory=set)


class Log:
    def __init__(self) -> None:
        self.streams: dict[uuid.UUID, Stream] = defaultdict(Stream)

    async def follow(self, bootstrap: str, topic: str) -> None:
        """Read ``topic`` from the end it has now, through broker restarts."""
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="latest",
            group_id=None,
            retry_backoff_ms=500,
        )
        await consumer.start()
        try:
            async for record in consumer:
                if record.value:
                    arrived = datetime.fromtimestamp(record.timestamp / 1000, UTC)
                    self.take(decode_envelope(record.value), arrived)
        finally:
            await consumer.stop()

    def take(self, event: Any, arrived: datetime) -> None:
        stream = self.streams[event.stream_id]
        if event.stream_type == "ticket":
            if event.event_id in stream.seen:
                stream.redelivered += 1
                return
            stream.seen.add(event.event_id)
            stream.versions.append(event.stream_version)
            self._ticket(stream, event, arrived)
        elif event.event_id in stream.sla_ids:
            stream.redelivered += 1
        else:
            stream.sla_ids.add(event.event_id)
            self._sla(stream, event, arrived)

    @staticmethod
    def _sla(stream: Stream, event: Any, arrived: datetime) -> None:
        kind, data = event.event_type, event.data
        if kind == "SlaTargetsSet":
            stream.targets.append(data)
            stream.running_due = first_response_due(stream)
        elif data.get("metric") != "first_response":
            return
        elif kind == "SlaBreached":
            due = datetime.fromisoformat(data["due_at"])
            stream.breaches.append((event.event_id, due, arrived))
        elif kind in ("SlaPaused", "SlaMet"):
            stream.running_due = None
        elif kind == "SlaResumed":
            stream.running_due = datetime.fromisoformat(data["due_at"])

    @staticmethod
    def _ticket(stream: Stream, event: Any, arrived: datetime) -> None:
        kind, data = event.event_type, event.data
        if kind == "TicketCreated":
            stream.created_at = event.occurred_at
            stream.priority, stream.status = data["priority"], data["status"]
        elif kind == "PriorityChanged":
            stream.priority = data["to_priority"]
            stream.changes.append((event.occurred_at, arrived))
        elif kind == "StatusChanged":
            stream.status = data["to_status"]
            stream.paused = stream.paused or stream.status == WAITING
        elif kind == "TicketAssigned":
            stream.assigned.add(event.event_id)
            stream.assignee = str(data["assignee_id"])
        elif kind == "TicketUnassigned":
            stream.assignee = None
        elif (
            kind == "MessageAdded"
            and data["visibility"] == "public"
            and not data.get("automated")
            and event.actor.kind == "agent"
            and stream.first_reply is None
        ):
            stream.first_reply, stream.reply_arrived = event.occurred_at, arrived


# --- the stack ---------------------------------------------------------------------------------


def kill(stack: Stack, victims: list[str]) -> None:
    for name in victims:
        if name == "postgres":
            stack.postgres.crash()
            continue
        pid = stack.kafka.pid if name == "kafka" else live_pid(stack.paths.pid_file(name))
        if pid is None:
            print(f"  {name} is not running", file=sys.stderr)
            continue
        # The whole process group, as a crashed container takes its processes with it: killing
        # only the ticket service's supervisor left its uvicorn workers serving the port.
        os.killpg(pid, signal.SIGKILL)


async def bring_up() -> None:
    await asyncio.to_thread(restart)


def restart() -> None:
    subprocess.run(
        [sys.executable, "-m", "helpdesk_devstack", "up"],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )


class Client:
    """The ticket service's API as one agent and the manager, retrying only what is safe."""

    def __init__(self, http: httpx.AsyncClient, manager: str, agent: str) -> None:
        self.http = http
        self.manager = {"Authorization": f"Bearer {manager}"}
        self.agent = {"Authorization": f"Bearer {agent}"}
        self.unknown = 0  # requests whose outcome is unknown

    async def send(self, method: str, path: str, body: dict[str, Any], *, safe: bool) -> bool:
        """True once answered 2xx. ``safe`` requests (idempotent) are retried on any failure;
        the others only when they were never sent (connection refused)."""
        for _ in range(60):
            try:
                response = await self.http.request(method, path, json=body, headers=self.agent)
            except httpx.ConnectError:
                await asyncio.sleep(0.5)
                continue
            except httpx.HTTPError:
                if safe:
                    await asyncio.sleep(0.5)
                    continue
                self.unknown += 1
                return False
            if response.is_success:
                return True
            if response.status_code < 500 and response.status_code != 429:
                raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
            if not safe:
                self.unknown += 1
                return False
            await asyncio.sleep(0.5)
        self.unknown += 1
        return False


async def make_team(http: httpx.AsyncClient, manager: dict[str, str], agents: int) -> list[str]:
    """A team of ``agents`` agents: [team id, agent id, ...]."""
    suffix = uuid.uuid4().hex[:6]
    team = await http.post("/teams", json={"name": f"Chaos {suffix}"}, headers=manager)
    team.raise_for_status()
    made = [team.json()["id"]]
    for index in range(agents):
        body = {"email": f"chaos-{suffix}-{index}@example.com", "name": "C", "role": "agent"}
        invited = await http.post("/agents", json=body, headers=manager)
        invited.raise_for_status()
        added = await http.put(f"/teams/{made[0]}/members/{invited.json()['id']}", headers=manager)
        added.raise_for_status()
        made.append(invited.json()["id"])
    return made


async def save_policy(url: str, manager: dict[str, str], team_id: str) -> str:
    """The run's SLA policy for its team, first of all policies."""
    policy_id = f"chaos-{team_id[:8]}"
    body = {
        "name": f"Chaos {team_id[:8]}",
        "position": -1000,
        "condition": f'team_id == "{team_id}"',
        "calendar": {"time_zone": "UTC", "always_open": True},
        "targets": {
            priority: {"first_response": f"PT{seconds}S", "resolution": f"PT{RESOLUTION}S"}
            for priority, seconds in FIRST_RESPONSE.items()
        },
        "default_priority": "Medium",
    }
    async with httpx.AsyncClient(base_url=url, headers=manager, timeout=30) as sla:
        for _ in range(60):
            listed = await sla.get("/policies")
            if listed.status_code == 200:
                version = listed.headers["ETag"]
                saved = await sla.put(
                    f"/policies/{policy_id}", json=body, headers={"If-Match": version}
                )
                if saved.status_code == 200:
                    return policy_id
                if saved.status_code != 409:
                    raise RuntimeError(f"policy: {saved.status_code} {saved.text}")
            await asyncio.sleep(1.0)
    raise RuntimeError("the SLA service did not take the policy")


# --- a round -----------------------------------------------------------------------------------


@dataclass
class Round:
    tickets: list[uuid.UUID] = field(default_factory=list)
    uncertain: set[uuid.UUID] = field(default_factory=set)  # an edit's outcome is unknown


async def work(client: Client, team_id: str, number: int, index: int, done: Round) -> None:
    """Create one ticket and work it as an agent would."""
    priority = random.choice(list(FIRST_RESPONSE))
    body = {
        "subject": f"Chaos {number}.{index}",
        "description": "chaos",
        "requester": {"email": f"chaos-{index % 50}@example.com", "name": "C"},
        "channel": "email",
        "priority": priority,
        "team_id": team_id,
    }
    key = {"Idempotency-Key": str(uuid.uuid4())}
    for _ in range(60):
        try:
            response = await client.http.post("/tickets", json=body, headers=client.agent | key)
        except httpx.HTTPError:
            await asyncio.sleep(0.5)
            continue
        if response.status_code == 201:
            break
        await asyncio.sleep(0.5)
    else:
        client.unknown += 1
        return
    ticket = uuid.UUID(response.json()["id"])
    done.tickets.append(ticket)
    path = f"/tickets/{ticket}"
    steps: list[tuple[float, str, str, dict[str, Any], bool]] = []
    if random.random() < 0.25:
        other = random.choice([p for p in FIRST_RESPONSE if p != priority])
        steps.append((random.uniform(1, 8), "PATCH", path, {"priority": other}, True))
    if random.random() < 0.33:
        reply = {"body": "<p>On it.</p>", "visibility": "public"}
        steps.append((random.uniform(2, 25), "POST", f"{path}/messages", reply, False))
    if random.random() < 0.17:
        at = random.uniform(3, 10)
        steps.append((at, "POST", f"{path}/status", {"status": WAITING}, True))
        steps.append(
            (at + random.uniform(3, 8), "POST", f"{path}/status", {"status": "Open"}, True)
        )
    began = time.monotonic()
    for at, method, step_path, step_body, safe in sorted(steps, key=lambda step: step[0]):
        await asyncio.sleep(max(0.0, began + at - time.monotonic()))
        if not await client.send(method, step_path, step_body, safe=safe):
            done.uncertain.add(ticket)


def verdicts(log: Log, done: Round, now: datetime) -> dict[str, list[uuid.UUID]]:
    """What the log says went wrong for the round's tickets (see the module docstring)."""
    found: dict[str, list[uuid.UUID]] = defaultdict(list)
    for ticket in done.tickets:
        stream = log.streams.get(ticket)
        if stream is None or stream.created_at is None:
            found["lost"].append(ticket)
            continue
        if stream.versions != sorted(stream.versions):
            found["out of order"].append(ticket)
        if sorted(stream.versions) != list(range(1, len(stream.versions) + 1)):
            found["lost"].append(ticket)
        if not stream.assigned:
            found["unassigned"].append(ticket)
        elif len(stream.assigned) > 1:
            found["assigned twice"].append(ticket)
        if not stream.targets:
            found["no SLA"].append(ticket)
            continue
        due = first_response_due(stream)
        if ticket in done.uncertain or stream.paused:
            continue
        assert stream.priority is not None
        expected = stream.created_at + timedelta(seconds=FIRST_RESPONSE[stream.priority])
        if stream.changes:  # a target already used up when it is set falls due at once
            expected = max(expected, stream.changes[-1][0])
        if due is not None and abs((due - expected).total_seconds()) > 1:
            found["wrong due"].append(ticket)
        if expected + GRACE > now:
            continue  # not yet due long enough to judge its breach
        for name in judge_breaches(stream, expected):
            found[name].append(ticket)
    return found


def judge_breaches(stream: Stream, expected: datetime) -> list[str]:
    """What is wrong with the ticket's first-response breaches, judged by what the SLA service
    could know: the events that had reached Kafka when it emitted each breach.

    A first response is breached at most once. The target in force at the end falls due at
    ``expected``; unless the first reply came by then, exactly one breach. A breach is wrong
    when the SLA service already knew better: the reply before its due time, or a priority
    change before it that set another target, had reached Kafka (``LAG`` earlier) when it was
    emitted. So a breach of an earlier target stands when the change came after that due time
    or an outage held the change back; it then is the ticket's one breach.
    """
    wrong = []
    for _, due, arrived in stream.breaches:
        answered_before = (
            stream.first_reply is not None
            and stream.first_reply <= due
            and stream.reply_arrived is not None
            and stream.reply_arrived + LAG <= arrived
        )
        superseded_before = any(at <= due and seen + LAG <= arrived for at, seen in stream.changes)
        final = abs((due - expected).total_seconds()) <= 1
        if answered_before or (not final and superseded_before):
            wrong.append("breach not due")
            break
    answered = stream.first_reply is not None and stream.first_reply <= expected
    if not answered and not stream.breaches:
        wrong.append("breach missing")
    if len(stream.breaches) > 1:
        wrong.append("breached twice")
    return wrong


def first_response_due(stream: Stream) -> datetime | None:
    """The first-response due instant the last targets set gives (None: not running)."""
    for target in stream.targets[-1]["targets"]:
        if target["metric"] == "first_response" and target.get("due_at"):
            return datetime.fromisoformat(target["due_at"])
    return None


def view_differences(view: dict[str, Any], stream: Stream) -> dict[str, tuple[Any, Any]]:
    """``field: (read model, log)`` for each field where the two disagree."""
    shown = view.get("first_response_due")
    pairs = {
        "version": (view["version"], max(stream.versions)),
        "priority": (view["priority"], stream.priority),
        "status": (view["status"], stream.status),
        "assignee_id": (view.get("assignee_id"), stream.assignee),
        "first_response_due": (
            shown and datetime.fromisoformat(shown),
            stream.running_due,
        ),
    }
    return {name: pair for name, pair in pairs.items() if pair[0] != pair[1]}


async def stale_views(
    http: httpx.AsyncClient, manager: dict[str, str], log: Log, done: Round
) -> list[uuid.UUID]:
    """Tickets whose read model disagrees with the log (after it had time to catch up)."""
    stale = []
    for ticket in done.tickets:
        stream = log.streams.get(ticket)
        if stream is None or not stream.versions:
            continue
        response = await http.get(f"/tickets/{ticket}", headers=manager)
        if response.status_code != 200:
            stale.append(ticket)
            continue
        view = response.json()
        differs = view_differences(view, stream)
        if differs:
            stale.append(ticket)
            if len(stale) <= 3:
                print(f"         view of {ticket}: {differs}", flush=True)
    return stale


def deal(victims: list[str]) -> Iterator[str]:
    """Victims in random order, each once per ``len(victims)`` rounds: every one is killed as
    often as the others (20 rounds of 10 victims: each twice), at random instants."""
    while True:
        yield from random.sample(victims, len(victims))


async def one_round(
    args: argparse.Namespace,
    stack: Stack,
    number: int,
    log: Log,
    client: Client,
    team: str,
    victim: str,
) -> int:
    victims = list(args.victims) if args.all_at_once else [victim]
    kill_at = random.uniform(1, args.seconds / 2)
    done = Round()
    client.unknown = 0
    started = time.monotonic()
    tasks: list[asyncio.Task[None]] = []
    killed = False
    for index in range(int(args.rate * args.seconds)):
        if not killed and time.monotonic() - started >= kill_at:
            kill(stack, victims)
            killed = True
            asyncio.get_running_loop().call_later(
                args.down_for,
                lambda: tasks.append(asyncio.ensure_future(asyncio.to_thread(restart))),
            )
        await asyncio.sleep(max(0.0, started + index / args.rate - time.monotonic()))
        tasks.append(asyncio.create_task(work(client, team, number, index, done)))
    while any(not task.done() for task in tasks):
        await asyncio.gather(*tasks)
    await asyncio.to_thread(restart)  # whatever a crash took down with it (e.g. a lost DB)

    # Every first response of the round has fallen due (+ grace) or the settle time is up.
    deadline = time.monotonic() + args.settle
    last_due = started + args.seconds + max(FIRST_RESPONSE.values()) + GRACE.total_seconds()
    while time.monotonic() < max(last_due, deadline):
        found = verdicts(log, done, datetime.now(UTC))
        if time.monotonic() >= last_due and not found:
            break
        await asyncio.sleep(2.0)
    found = verdicts(log, done, datetime.now(UTC))
    stale = await stale_views(client.http, client.manager, log, done)
    if stale:  # a projection may lag the log by a few seconds: look once more
        await asyncio.sleep(10)
        stale = await stale_views(client.http, client.manager, log, Round(tickets=stale))
    if stale:
        found["view disagrees"] = stale
    redelivered = sum(log.streams[t].redelivered for t in done.tickets if t in log.streams)
    wrong = sum(len(tickets) for tickets in found.values())
    summary = ", ".join(f"{name} {len(tickets)}" for name, tickets in found.items()) or "none"
    print(
        f"{number:>5}  {','.join(victims):<22} {kill_at:>5.1f}s {len(done.tickets):>7} "
        f"{len(done.uncertain):>9} {redelivered:>11}  {summary}",
        flush=True,
    )
    for name, tickets in found.items():
        for ticket in tickets[:3]:
            print(f"         {name}: {ticket}", flush=True)
    return wrong


async def run(args: argparse.Namespace) -> int:
    stack = Stack(StackPaths.discover(), StackSettings(), out=lambda line: None)
    private = (REPO / ".local/jwt/private.pem").read_bytes()
    manager_token = mint_token(private, "manager", "chaos-manager", timedelta(hours=4))
    manager = {"Authorization": f"Bearer {manager_token}"}
    log = Log()
    followers = [asyncio.create_task(log.follow(args.kafka, topic)) for topic in (TICKETS, SLA)]
    await asyncio.sleep(2.0)  # the followers are at the end of their topics
    async with httpx.AsyncClient(base_url=args.url, timeout=30) as http:
        team, *agents = await make_team(http, manager, args.agents)
        await save_policy(args.sla_url, manager, team)
        await asyncio.sleep(3.0)  # the directory and the policy reach the workers
        agent_token = mint_token(private, "agent", agents[0], timedelta(hours=4))
        client = Client(http, manager_token, agent_token)
        print(f"team {team}; victims {', '.join(args.victims)}")
        print("round  killed                    at  tickets  uncertain  redelivered  wrong")
        wrong = 0
        deck = deal(args.victims)
        try:
            for number in range(1, args.rounds + 1):
                victim = next(deck)
                wrong += await one_round(args, stack, number, log, client, team, victim)
        finally:
            for follower in followers:
                follower.cancel()
    print(
        f"{'no lost, doubled or wrong effects' if not wrong else f'{wrong} wrong'} "
        f"in {args.rounds} rounds"
    )
    return 1 if wrong else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8001", help="the ticket service")
    parser.add_argument("--sla-url", default="http://127.0.0.1:8002", help="the SLA service")
    parser.add_argument("--kafka", default="127.0.0.1:9092")
    parser.add_argument("--rate", type=float, default=25.0, help="tickets per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="of creating, per round")
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--victims", type=lambda s: s.split(","), default=list(VICTIMS))
    parser.add_argument("--all-at-once", action="store_true", help="kill every victim each round")
    parser.add_argument("--down-for", type=float, default=8.0)
    parser.add_argument("--settle", type=float, default=120.0, help="most seconds to wait")
    args = parser.parse_args()
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # its retries while Kafka is down
    if unknown := set(args.victims) - set(VICTIMS):
        raise SystemExit(f"unknown victims {sorted(unknown)}; choose from {', '.join(VICTIMS)}")
    if args.rounds > 50 or args.rate * args.seconds > 20_000:
        raise SystemExit("at most 50 rounds and 20,000 tickets a round")
    raise SystemExit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
