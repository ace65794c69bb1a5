"""Created -> assigned latency of the assignment service at a steady rate, on the local stack.

    make up
    python bench/assignment_latency.py [--rate 200] [--seconds 20] [--agents 5] [--direct]

Makes a team with ``--agents`` members through the ticket service's API, then creates tickets in
that team at about ``--rate`` per second for ``--seconds`` with wrk (``--connections``
connections, each pausing between requests; the achieved rate is printed).

With ``--direct`` the tickets are created by the ticket service's own application layer
(``TicketApplication.create_ticket``: options, team check, ticket number, one append to the
event store in PostgreSQL) from this process, on a fixed schedule (open loop: a slow create does
not delay the next one), without HTTP. Everything after the append is the stack's own path:
relay, assignment worker, ``ticket-service commands``. Use it where the machine cannot serve the
rate over HTTP and run the stack at the same time. It follows
``helpdesk.tickets.v1`` and ``helpdesk.ticket-commands.v1`` and reports, per ticket, from the
``TicketCreated`` event's ``occurred_at`` to

* decided: the ``AssignTicket`` command the assignment worker sent (its ``occurred_at``), and
* assigned: the ``TicketAssigned`` event the ticket service appended on applying it (only when
  ``ticket-service commands`` runs).

All timestamps come from processes on this machine (one clock).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from machine import describe

from helpdesk_devstack.tokens import mint_token
from helpdesk_devstack.topic_reader import follow_topic
from helpdesk_events import Actor, ActorKind, decode_envelope
from helpdesk_events.topics import TICKET_COMMANDS, TICKETS
from ticket_service import bootstrap
from ticket_service.adapters.event_store import create_pool
from ticket_service.domain.ticket import NewTicket
from ticket_service.service_layer.context import CommandContext
from ticket_service.settings import Settings as TicketSettings

REPO = Path(__file__).resolve().parents[1]


class Watch:
    """Instants seen on Kafka for the benchmark's tickets."""

    def __init__(self) -> None:
        self.created: dict[uuid.UUID, datetime] = {}
        self.team: dict[uuid.UUID, str | None] = {}
        self.published: dict[uuid.UUID, datetime] = {}
        self.decided: dict[uuid.UUID, datetime] = {}
        self.assigned: dict[uuid.UUID, datetime] = {}
        self.decisions: dict[uuid.UUID, set[uuid.UUID]] = {}

    async def follow(self, bootstrap: str, topic: str) -> None:
        async for record in follow_topic(bootstrap, topic, from_beginning=False):
            if not record.value:
                continue
            envelope = decode_envelope(record.value)
            ticket = envelope.stream_id
            if envelope.event_type == "TicketCreated":
                self.created[ticket] = envelope.occurred_at
                self.team[ticket] = envelope.data.get("team_id")
                # The record's timestamp: when the relay produced it to Kafka.
                self.published[ticket] = datetime.fromtimestamp(record.timestamp / 1000, UTC)
            elif envelope.event_type == "TicketAssigned":
                self.assigned.setdefault(ticket, envelope.occurred_at)
            elif envelope.event_type == "AssignTicket":
                self.decided.setdefault(ticket, envelope.occurred_at)
                self.decisions.setdefault(ticket, set()).add(envelope.event_id)


def percentiles(name: str, created: dict[uuid.UUID, datetime], done: dict[uuid.UUID, datetime],
                tickets: list[uuid.UUID]) -> str:  # fmt: skip
    latencies = sorted(
        (done[t] - created[t]).total_seconds() * 1000 for t in tickets if t in done and t in created
    )
    if not latencies:
        return f"{name}: none of {len(tickets)} tickets"
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return (
        f"{name}: {len(latencies)}/{len(tickets)} tickets; p50 {cuts[49]:.0f} ms, "
        f"p90 {cuts[89]:.0f} ms, p99 {cuts[98]:.0f} ms, max {latencies[-1]:.0f} ms"
    )


def write_csv(path: Path, watch: Watch, tickets: list[uuid.UUID]) -> None:
    """One row per ticket, in creation order: when it was created and the milliseconds to each
    later step (empty when not seen)."""
    rows = ["created_at,published_ms,decided_ms,assigned_ms"]
    for ticket in tickets:
        created = watch.created[ticket]
        after = [
            f"{(seen[ticket] - created).total_seconds() * 1000:.1f}" if ticket in seen else ""
            for seen in (watch.published, watch.decided, watch.assigned)
        ]
        rows.append(f"{created.isoformat()},{','.join(after)}")
    path.write_text("\n".join(rows) + "\n")


async def create_with_wrk(args: argparse.Namespace, token: str, team_id: str) -> bool:
    """Load from wrk (C, little CPU): `connections` connections, each pausing so that together
    they send about `rate` requests per second. True if any request failed."""
    delay_ms = max(0, int(1000 * args.connections / args.rate) - args.expected_latency_ms)
    run = await asyncio.to_thread(
        subprocess.run,
        ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s",
         "-s", str(REPO / "bench/create_team_tickets.lua"), args.url],
        env=os.environ | {"BENCH_TOKEN": token, "BENCH_TEAM": team_id,
                          "BENCH_DELAY_MS": str(delay_ms)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return "Non-2xx" in run.stdout or "Socket errors" in run.stdout


async def create_directly(team_id: uuid.UUID, rate: int, seconds: int) -> bool:
    """Create ``rate * seconds`` tickets through the ticket service's application layer, the
    i-th at start + i / rate. True if any create failed (each failure is printed)."""
    settings = TicketSettings()
    pool = await create_pool(settings.database_url, min_size=4, max_size=16)
    tickets = bootstrap.build(pool, settings).tickets  # wired as the service wires it
    context = CommandContext(
        actor=Actor(kind=ActorKind.AGENT, id="bench-agent", role="agent"),
        correlation_id=uuid.uuid4(),
    )
    failures: list[BaseException] = []

    async def create(number: int) -> None:
        new = NewTicket(
            subject=f"Invoice {number} is wrong", priority="Medium", channel="email",
            team_id=team_id,
        )  # fmt: skip
        try:
            await tickets.create_ticket(new, context)
        except Exception as error:  # counted and printed; the load goes on
            failures.append(error)

    try:
        loop = asyncio.get_running_loop()
        start = loop.time()
        running: set[asyncio.Task[None]] = set()
        for number in range(rate * seconds):
            delay = start + number / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(create(number))
            running.add(task)
            task.add_done_callback(running.discard)
        await asyncio.gather(*running)
    finally:
        await pool.close()
    for error in failures[:5]:
        print(f"create failed: {error!r}")
    return bool(failures)


async def run(args: argparse.Namespace) -> None:
    if not args.direct and shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    private = (REPO / ".local/jwt/private.pem").read_bytes()
    manager = mint_token(private, "manager", "bench-manager", timedelta(hours=1))
    agent = mint_token(private, "agent", "bench-agent", timedelta(hours=1))
    watch = Watch()
    followers = [
        asyncio.create_task(watch.follow(args.kafka, topic)) for topic in (TICKETS, TICKET_COMMANDS)
    ]
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=args.url, timeout=30, limits=limits) as client:
        as_manager = {"Authorization": f"Bearer {manager}"}
        suffix = uuid.uuid4().hex[:6]
        team = await client.post("/teams", json={"name": f"Bench {suffix}"}, headers=as_manager)
        team.raise_for_status()
        team_id = team.json()["id"]
        for index in range(args.agents):
            invited = await client.post(
                "/agents",
                json={"email": f"bench-{suffix}-{index}@example.com", "name": f"Bench {index}",
                      "role": "agent"},
                headers=as_manager,
            )  # fmt: skip
            invited.raise_for_status()
            added = await client.put(
                f"/teams/{team_id}/members/{invited.json()['id']}", headers=as_manager
            )
            added.raise_for_status()
        await asyncio.sleep(2.0)  # the directory reaches the worker before the load starts

    started = time.monotonic()
    if args.direct:
        errors = await create_directly(uuid.UUID(team_id), args.rate, args.seconds)
    else:
        errors = await create_with_wrk(args, agent, team_id)
    sent_in = time.monotonic() - started
    await asyncio.sleep(1.0)  # the last TicketCreated events reach Kafka
    tickets = [t for t, team in watch.team.items() if team == team_id]

    deadline = time.monotonic() + args.drain
    while time.monotonic() < deadline:
        needed = watch.assigned if args.wait_for_assigned else watch.decided
        if all(t in needed for t in tickets):
            break
        await asyncio.sleep(0.2)
    for task in followers:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    print(f"machine: {describe()}")
    print(
        f"created {len(tickets)} tickets in {sent_in:.1f}s "
        f"({len(tickets) / sent_in:.0f}/s, target {args.rate}/s, "
        f"{'application layer' if args.direct else 'HTTP with wrk'}); errors: {errors}"
    )
    print(percentiles("created -> on Kafka (relay)", watch.created, watch.published, tickets))
    print(percentiles("on Kafka -> decided", watch.published, watch.decided, tickets))
    print(percentiles("created -> decided (AssignTicket)", watch.created, watch.decided, tickets))
    print(percentiles("created -> assigned (TicketAssigned)", watch.created, watch.assigned,
                      tickets))  # fmt: skip
    in_order = sorted(tickets, key=lambda t: watch.created[t])
    quarter = max(1, len(in_order) // 4)
    for label, part in (("first", in_order[:quarter]), ("last", in_order[-quarter:])):
        print(percentiles(f"  {label} quarter, created -> decided", watch.created, watch.decided,
                          part))  # fmt: skip
    if args.csv:
        write_csv(Path(args.csv), watch, in_order)
    doubles = sum(1 for t in tickets if len(watch.decisions.get(t, ())) > 1)
    print(f"tickets with more than one distinct decision: {doubles}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8001")
    parser.add_argument(
        "--kafka", default=os.environ.get("HELPDESK_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    )
    parser.add_argument("--rate", type=int, default=200, help="tickets per second")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--expected-latency-ms",
        type=int,
        default=5,
        help="create latency subtracted from each connection's pause when pacing",
    )
    parser.add_argument(
        "--direct",
        action="store_true",
        help="create through the ticket service's application layer, without HTTP",
    )
    parser.add_argument("--csv", help="write each ticket's latencies to this file")
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait afterwards")
    parser.add_argument(
        "--wait-for-assigned",
        action="store_true",
        help="wait for TicketAssigned (needs `ticket-service commands`), not only AssignTicket",
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
