"""Chaos on the local stack: kill -9 processes while tickets come in, then check the event log.

    make up
    python bench/chaos.py [--rate 50] [--seconds 30] [--agents 3] [--rounds 3]
                          [--kill sla-service,assignment-service,ticket-commands,ticket-relay]
                          [--random] [--down-for 10] [--settle 90]

Each round makes a team of ``--agents`` agents through the ticket service's API and creates
tickets in it at ``--rate`` per second for ``--seconds`` (open loop, over HTTP). At a random
instant of the first half (or ``--kill-at`` seconds) it ``kill -9``s the processes named by
``--kill`` (with ``--random``: one of them, chosen at random), and after ``--down-for`` seconds
starts them again (``python -m helpdesk_devstack up`` starts whatever is not running). Then it
waits up to ``--settle`` seconds and checks, from Kafka:

* every ticket the API created has its ``TicketCreated`` on ``helpdesk.tickets.v1``;
* every one is assigned exactly once (one distinct ``TicketAssigned`` event);
* every one has its SLA clocks (``SlaTargetsSet`` on ``helpdesk.sla.v1``).

It prints a table of the rounds and their losses, and exits 1 if any round lost anything.
Only for a stack on this machine (loopback); the requests and rounds are bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer

from helpdesk_devstack.paths import StackPaths
from helpdesk_devstack.procs import live_pid
from helpdesk_devstack.tokens import mint_token
from helpdesk_events import decode_envelope
from helpdesk_events.topics import SLA, TICKETS

REPO = Path(__file__).resolve().parents[1]
PROCESSES = ("sla-service", "assignment-service", "ticket-commands", "ticket-relay")


class Log:
    """What Kafka holds per ticket: TicketCreated, distinct TicketAssigned ids, SlaTargetsSet."""

    def __init__(self) -> None:
        self.created: set[uuid.UUID] = set()
        self.assigned: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
        self.sla: set[uuid.UUID] = set()

    async def follow(self, bootstrap: str, topic: str) -> None:
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, auto_offset_reset="latest", group_id=None
        )
        await consumer.start()
        try:
            async for record in consumer:
                if not record.value:
                    continue
                event = decode_envelope(record.value)
                if event.event_type == "TicketCreated":
                    self.created.add(event.stream_id)
                elif event.event_type == "TicketAssigned":
                    self.assigned[event.stream_id].add(event.event_id)
                elif event.event_type == "SlaTargetsSet":
                    self.sla.add(event.stream_id)
        finally:
            await consumer.stop()


def kill(names: list[str]) -> None:
    paths = StackPaths(REPO)
    for name in names:
        pid = live_pid(paths.pid_file(name))
        if pid is None:
            print(f"  {name} is not running", file=sys.stderr)
            continue
        os.kill(pid, signal.SIGKILL)


def restart() -> None:
    subprocess.run(
        [sys.executable, "-m", "helpdesk_devstack", "up"],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )


async def make_team(client: httpx.AsyncClient, agents: int, manager: dict[str, str]) -> str:
    suffix = uuid.uuid4().hex[:6]
    team = await client.post("/teams", json={"name": f"Chaos {suffix}"}, headers=manager)
    team.raise_for_status()
    team_id: str = team.json()["id"]
    for index in range(agents):
        body = {"email": f"chaos-{suffix}-{index}@example.com", "name": "C", "role": "agent"}
        invited = await client.post("/agents", json=body, headers=manager)
        invited.raise_for_status()
        added = await client.put(
            f"/teams/{team_id}/members/{invited.json()['id']}", headers=manager
        )
        added.raise_for_status()
    return team_id


async def one_round(
    args: argparse.Namespace, number: int, log: Log, tokens: dict[str, str]
) -> list[str]:
    victims = [random.choice(args.kill)] if args.random else list(args.kill)
    kill_at = args.kill_at if args.kill_at is not None else random.uniform(1, args.seconds / 2)
    manager = {"Authorization": f"Bearer {tokens['manager']}"}
    agent = {"Authorization": f"Bearer {tokens['agent']}"}
    ids: list[uuid.UUID] = []
    async with httpx.AsyncClient(base_url=args.url, timeout=30) as client:
        team_id = await make_team(client, args.agents, manager)
        await asyncio.sleep(2.0)  # the directory reaches the assignment worker first

        async def create(index: int) -> None:
            body = {
                "subject": f"Chaos {number}.{index}",
                "description": "chaos",
                "requester": {"email": f"chaos-{index % 50}@example.com", "name": "C"},
                "channel": "email",
                "priority": "Medium",
                "team_id": team_id,
            }
            key = {"Idempotency-Key": str(uuid.uuid4())}
            for _ in range(20):  # the ticket service itself stays up; retry a refused create
                try:
                    response = await client.post("/tickets", json=body, headers=agent | key)
                except httpx.HTTPError:
                    await asyncio.sleep(0.5)
                    continue
                if response.status_code == 201:
                    ids.append(uuid.UUID(response.json()["id"]))
                    return
                await asyncio.sleep(0.5)

        started = time.monotonic()
        total = int(args.rate * args.seconds)
        tasks, killed = [], False
        for index in range(total):
            due = started + index / args.rate
            if not killed and time.monotonic() - started >= kill_at:
                kill(victims)
                killed = True
                loop = asyncio.get_running_loop()
                loop.call_later(args.down_for, lambda: asyncio.ensure_future(
                    asyncio.to_thread(restart)))  # fmt: skip
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            tasks.append(asyncio.create_task(create(index)))
        await asyncio.gather(*tasks)
        if not killed:
            kill(victims)
            await asyncio.sleep(args.down_for)
        await asyncio.sleep(max(0.0, started + kill_at + args.down_for + 1 - time.monotonic()))
        await asyncio.to_thread(restart)

    deadline = time.monotonic() + args.settle
    while time.monotonic() < deadline:
        if all(len(log.assigned[t]) >= 1 and t in log.sla for t in ids):
            break
        await asyncio.sleep(1.0)
    missing = [t for t in ids if t not in log.created]
    unassigned = [t for t in ids if not log.assigned[t]]
    twice = [t for t in ids if len(log.assigned[t]) > 1]
    no_sla = [t for t in ids if t not in log.sla]
    print(
        f"{number:>5}  {','.join(victims):<58} {kill_at:>6.1f}s {len(ids):>7} "
        f"{len(missing):>8} {len(unassigned):>10} {len(twice):>6} {len(no_sla):>6}",
        flush=True,
    )
    for name, found in (("unassigned", unassigned), ("no SLA", no_sla), ("twice", twice)):
        for ticket in found[:5]:
            print(f"         {name}: {ticket}", flush=True)
    return [str(t) for t in missing + unassigned + twice + no_sla]


async def run(args: argparse.Namespace) -> int:
    private = (REPO / ".local/jwt/private.pem").read_bytes()
    tokens = {
        role: mint_token(private, role, f"chaos-{role}", timedelta(hours=2))
        for role in ("manager", "agent")
    }
    log = Log()
    followers = [asyncio.create_task(log.follow(args.kafka, topic)) for topic in (TICKETS, SLA)]
    await asyncio.sleep(2.0)  # the followers are at the end of their topics
    print("round  killed" + " " * 53 + "at    tickets  missing  unassigned  twice  no SLA")
    lost = 0
    try:
        for number in range(1, args.rounds + 1):
            lost += len(await one_round(args, number, log, tokens))
    finally:
        for follower in followers:
            follower.cancel()
    print(f"{'no losses' if not lost else f'{lost} losses'} in {args.rounds} rounds")
    return 1 if lost else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8001")
    parser.add_argument("--kafka", default="127.0.0.1:9092")
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kill", type=lambda s: s.split(","), default=list(PROCESSES))
    parser.add_argument("--random", action="store_true", help="kill one of --kill per round")
    parser.add_argument("--kill-at", type=float, default=None, help="seconds into the round")
    parser.add_argument("--down-for", type=float, default=10.0)
    parser.add_argument("--settle", type=float, default=90.0)
    args = parser.parse_args()
    if args.rounds > 50 or args.rate * args.seconds > 20_000:
        raise SystemExit("at most 50 rounds and 20,000 tickets a round")
    raise SystemExit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
