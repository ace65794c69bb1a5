"""Mail intake: delivery → ticket visible in the ticket API, p50/p99 over N mails, and the
sustained intake rate of a burst (issue #14: p99 ≤ 2 s, ≥ 100 mails/s).

Each mail comes from its own sender over SMTP; "delivered" is when the SMTP server accepted it,
"visible" when the ticket list (``GET /tickets``, the read model agents see) first shows its
ticket. A poller reads the newest tickets every 50 ms.

Against the local stack (``make up``: SMTP 127.0.0.1:3025, support@helpdesk.local, the ticket
service on 8001), or ``--throwaway``: PostgreSQL, Kafka, GreenMail, the ticket service (API +
relay) and the mail gateway started on free ports for this run and stopped after it; it also
prints the CPU each service spent per mail (steadier than latencies on a shared machine: counted
until the trailing acknowledgements are sent), the same less each service's idle CPU over the
run and the ticket service's cost of the watcher's own polls, and ``--profile DIR`` runs each
service under cProfile. ``--archive-folder NAME`` has the support account move handled mail
there (through the gateway's accounts API) instead of leaving it in the inbox, read.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import httpx
from machine import describe

from helpdesk_devstack.tokens import mint_token

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Target:
    smtp: tuple[str, int]
    support: str
    tickets_url: str
    private_key: bytes
    #: service name → pid (the throwaway stack only): CPU seconds per mail are reported, a
    #: number the other load on a shared machine does not change much, unlike the latencies.
    pids: dict[str, int] = field(default_factory=dict)
    #: what shares the machine with them (the throwaway stack only): PostgreSQL, Kafka,
    #: GreenMail and this bench (sender and watcher); their CPU per mail is printed gross, to
    #: show where a 2-core machine's capacity goes besides the helpdesk's own services.
    beside: dict[str, int] = field(default_factory=dict)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (uvicorn workers), from /proc; for
    this bench's own process its own only (the throwaway stack's processes are its children)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pending = [pid]
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                if current != os.getpid():
                    pending.extend(int(c) for c in children)
    return total


def archive_handled_mail(gateway_url: str, private_key: bytes, folder: str) -> None:
    """Set the support account's archive folder through the gateway's API (as a manager would)
    and wait until its inbox is watched again with it."""
    token = mint_token(private_key, "manager", "bench-mail", timedelta(hours=1))
    with httpx.Client(
        base_url=gateway_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        account = next(a for a in client.get("/accounts").json() if "support@" in a["address"])
        account_id = account["account_id"]
        body = {
            k: v for k, v in account.items() if k not in ("account_id", "version", "has_password")
        }
        saved = client.put(
            f"/accounts/{account_id}",
            json=body | {"archive_folder": folder},
            headers={"If-Match": f'"{account["version"]}"'},
        )
        saved.raise_for_status()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = client.get(f"/accounts/{account_id}/status").json()
            if status["connected"] and status["state"] == "idle":
                return
            time.sleep(0.2)
        raise RuntimeError(f"the support inbox is not watched again: {status}")


def wait_http(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"{url} not ready in {timeout}s")


@contextlib.contextmanager
def throwaway_stack(
    profile: Path | None = None, ticket_workers: int = 1, archive_folder: str | None = None
) -> Iterator[Target]:
    from cryptography.fernet import Fernet

    from helpdesk_devstack.greenmail import LocalGreenMail
    from helpdesk_devstack.kafka import LocalKafka, ensure_topics
    from helpdesk_devstack.paths import StackPaths
    from helpdesk_devstack.postgres import LocalPostgres, create_database, database_dsn
    from helpdesk_devstack.procs import free_port
    from helpdesk_devstack.tokens import ensure_dev_keys
    from ticket_service.adapters.migrate import upgrade

    paths = StackPaths.discover()
    with tempfile.TemporaryDirectory(prefix="bench-mail-") as home_dir:
        home = Path(home_dir)
        postgres = LocalPostgres(home / "pg", port=free_port())
        controller = free_port()
        kafka = LocalKafka(
            home / "kafka", free_port(exclude=[controller]), controller, "512m",
            libs=paths.kafka_libs,
        )  # fmt: skip
        smtp, imap = free_port(), free_port()
        mail = LocalGreenMail(
            home / "mail", smtp_port=smtp, imap_port=imap,
            api_port=free_port(exclude=[smtp, imap]), libs=paths.greenmail_libs,
        )  # fmt: skip
        processes: list[subprocess.Popen[bytes]] = []
        try:
            postgres.start()
            kafka.start()
            mail.start()
            ensure_topics(kafka.bootstrap)
            server = postgres.dsn("postgres")
            for name in ("tickets", "gateway"):
                create_database(server, name)
            upgrade(database_dsn(server, "tickets"))
            private, public = ensure_dev_keys(home / "jwt")
            tickets_port, gateway_port = free_port(), free_port()
            common = {
                "HELPDESK_KAFKA_BOOTSTRAP": kafka.bootstrap,
                "HELPDESK_JWT_PUBLIC_KEY_FILE": str(public),
                "HELPDESK_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
            }
            tickets_env = common | {
                "HELPDESK_DATABASE_URL": database_dsn(server, "tickets"),
                "HELPDESK_HTTP_PORT": str(tickets_port),
                "HELPDESK_HTTP_WORKERS": str(ticket_workers),
                "HELPDESK_BLOB_DIR": str(home / "blobs"),
            }
            gateway_env = common | {
                "HELPDESK_MAIL_DATABASE_URL": database_dsn(server, "gateway"),
                "HELPDESK_TICKET_SERVICE_URL": f"http://127.0.0.1:{tickets_port}",
                "HELPDESK_JWT_PRIVATE_KEY_FILE": str(private),
                "HELPDESK_MAIL_SECRET_KEY": Fernet.generate_key().decode(),
                "HELPDESK_MAIL_HTTP_PORT": str(gateway_port),
                "HELPDESK_MAIL_BOOTSTRAP_ADDRESS": "support@helpdesk.local",
                "HELPDESK_MAIL_BOOTSTRAP_PASSWORD": "support",
                "HELPDESK_IMAP_PORT": str(imap),
                "HELPDESK_SMTP_PORT": str(smtp),
            }
            for argv, env in (
                (["-m", "ticket_service", "serve"], tickets_env),
                (["-m", "ticket_service", "relay"], tickets_env),
                (["-m", "mail_gateway", "serve"], gateway_env),
            ):
                if profile is not None:  # cProfile writes its file when the process ends (SIGTERM)
                    name = "-".join(argv[1:])
                    argv = ["-m", "cProfile", "-o", str(profile / f"{name}.prof"), *argv]
                processes.append(
                    subprocess.Popen([sys.executable, *argv], env=os.environ | env, cwd=ROOT)
                )
            wait_http(f"http://127.0.0.1:{tickets_port}/readyz")
            wait_http(f"http://127.0.0.1:{gateway_port}/readyz")
            if archive_folder:
                archive_handled_mail(
                    f"http://127.0.0.1:{gateway_port}", private.read_bytes(), archive_folder
                )
            names = ("ticket-service", "relay", "mail-gateway")
            yield Target(
                ("127.0.0.1", smtp), "support@helpdesk.local",
                f"http://127.0.0.1:{tickets_port}", private.read_bytes(),
                {n: p.pid for n, p in zip(names, processes, strict=True)},
                {
                    name: pid
                    for name, pid in (
                        ("postgresql", postgres.pid), ("kafka", kafka.pid),
                        ("greenmail", mail.pid), ("bench", os.getpid()),
                    )
                    if pid is not None
                },
            )  # fmt: skip
        finally:
            for process in processes:
                # uvicorn re-raises the signal it stopped on; SIGINT (KeyboardInterrupt) lets
                # cProfile write its file, SIGTERM's default action would not.
                process.send_signal(signal.SIGINT if profile else signal.SIGTERM)
            for process in processes:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(15)
            mail.stop()
            kafka.stop()
            postgres.stop()


def send_all(target: Target, run: str, count: int, rate: float | None) -> dict[str, float]:
    """Send ``count`` mails (at ``rate`` per second, or as fast as possible); subject → time."""
    delivered: dict[str, float] = {}
    began = time.monotonic()
    with smtplib.SMTP(*target.smtp, timeout=30) as smtp:
        for n in range(count):
            if rate:
                pause = began + n / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            subject = f"bench {run} {n}"
            message = EmailMessage()
            message["From"] = f"bench-{run}-{n}@customer.example"
            message["To"] = target.support
            message["Subject"] = subject
            message.set_content(f"Mail number {n} of the benchmark.")
            smtp.send_message(message)
            delivered[subject] = time.monotonic()
    return delivered


@dataclass
class Polls:
    """What the watcher asked of the ticket service: its own share of the service's CPU."""

    requests: int = 0
    #: subject → the ticket ids seen with it (more than one: a mail became two tickets)
    tickets: dict[str, set[str]] = field(default_factory=dict)


def poller(target: Target) -> httpx.AsyncClient:
    token = mint_token(target.private_key, "agent", "bench-mail", timedelta(hours=1))
    return httpx.AsyncClient(
        base_url=target.tickets_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


async def poll(client: httpx.AsyncClient, page: int = 1) -> list[dict[str, str]]:
    """A page of the newest tickets: what an agent's list shows first. (Not a search for the
    run: that costs PostgreSQL more with every ticket in the table, and would be counted as
    the intake's.)"""
    answer = await client.get(
        "/tickets",
        params={"view": "all", "sort": "-created_at", "page_size": PAGE, "page": page},
    )
    items: list[dict[str, str]] = answer.json()["items"]
    return items


#: Tickets per poll; when a whole page is new, the next page is read too.
PAGE = 200


async def watch(
    target: Target, run: str, count: int, seconds: float, polls: Polls
) -> dict[str, float]:
    """Poll the newest tickets; subject → first time seen."""
    seen: dict[str, float] = {}
    ids: set[str] = set()
    mine = f"bench {run} "
    deadline = time.monotonic() + seconds
    async with poller(target) as client:
        while len(seen) < count and time.monotonic() < deadline:
            page = 1
            while True:
                items = await poll(client, page)
                now = time.monotonic()
                polls.requests += 1
                fresh = [item for item in items if item["id"] not in ids]
                for item in fresh:
                    ids.add(item["id"])
                    if item["subject"].startswith(mine):
                        seen.setdefault(item["subject"], now)
                        polls.tickets.setdefault(item["subject"], set()).add(item["id"])
                if len(fresh) < PAGE or not fresh:
                    break
                page += 1
            await asyncio.sleep(0.05)
    return seen


async def polling_cost(target: Target, polls: Polls, times: int = 40) -> float:
    """The ticket service's CPU seconds for the watcher's polls: a poll measured after the
    run (a full page), times the polls the watcher made."""
    pid = target.pids["ticket-service"]
    async with poller(target) as client:
        before = cpu_seconds(pid)
        for _ in range(times):
            await poll(client)
        per_poll = (cpu_seconds(pid) - before) / times
    return polls.requests * per_poll


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def idle_cpu(target: Target, seconds: float = 5.0) -> dict[str, float]:
    """Each service's CPU seconds per second while no mail comes and nobody polls (the send
    queue's look every 0.2 s, the consumers' fetches, IDLE): a longer run costs more per mail."""
    before = {name: cpu_seconds(pid) for name, pid in target.pids.items()}
    await asyncio.sleep(seconds)
    return {n: (cpu_seconds(p) - before[n]) / seconds for n, p in target.pids.items()}


async def settled(target: Target, name: str, idle: float, within: float = 30.0) -> None:
    """Wait (at most ``within`` seconds) until service ``name`` spends no more than twice its
    idle CPU over a second."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        before = cpu_seconds(target.pids[name])
        await asyncio.sleep(1.0)
        if cpu_seconds(target.pids[name]) - before <= 2 * idle + 0.005:
            return


async def measure(target: Target, count: int, rate: float | None) -> None:
    run = uuid.uuid4().hex[:8]
    idle = await idle_cpu(target) if target.pids else {}
    cpu_before = {name: cpu_seconds(pid) for name, pid in target.pids.items()}
    beside_before = {name: cpu_seconds(pid) for name, pid in target.beside.items()}
    cpu_began = time.monotonic()
    polls = Polls()
    watching = asyncio.create_task(watch(target, run, count, seconds=count / 2 + 120, polls=polls))
    await asyncio.sleep(0.5)
    began = time.monotonic()
    delivered = await asyncio.to_thread(send_all, target, run, count, rate)
    sent_in = time.monotonic() - began
    seen = await watching
    latencies = [seen[s] - t for s, t in delivered.items() if s in seen]
    missing = count - len(latencies)
    last = max(seen.values()) if seen else began
    label = f"{rate:g}/s" if rate else "burst"
    print(
        f"{label:>7} | {count} mails | sent in {sent_in:5.1f}s | "
        f"p50 {statistics.median(latencies):.2f}s | p90 {percentile(latencies, 0.9):.2f}s | "
        f"p99 {percentile(latencies, 0.99):.2f}s | max {max(latencies):.2f}s | "
        f"intake {len(latencies) / (last - began):.1f} mails/s | missing {missing} | "
        f"doubled {sum(len(ids) - 1 for ids in polls.tickets.values())}",
        flush=True,
    )
    if target.pids:
        # The acknowledgements trail the intake: wait until the gateway is back to idle, so
        # the CPU per mail counts each mail's whole work, whatever the rate was.
        await settled(target, "mail-gateway", idle["mail-gateway"])
        used = {n: (cpu_seconds(p) - cpu_before[n]) * 1000 / count for n, p in target.pids.items()}
        beside = {
            n: (cpu_seconds(p) - beside_before[n]) * 1000 / count for n, p in target.beside.items()
        }
        seconds = time.monotonic() - cpu_began
        print(
            "        CPU ms per mail: " + ", ".join(f"{n} {ms:.1f}" for n, ms in used.items()),
            flush=True,
        )
        print(
            "        beside them (gross): "
            + ", ".join(f"{n} {ms:.1f}" for n, ms in beside.items()),
            flush=True,
        )
        # What a longer run costs per mail without doing more for it: each service's idle CPU
        # over the run, and the watcher's GET /tickets every 50 ms (the bench's load, not the
        # intake's; each lists up to 200 tickets).
        watched = await polling_cost(target, polls) * 1000 / count
        net = {n: ms - idle[n] * seconds * 1000 / count for n, ms in used.items()}
        net["ticket-service"] -= watched
        print(
            f"        less idle ({seconds:.0f} s at "
            + ", ".join(f"{idle[n] * 1000:.0f}" for n in used)
            + f" ms/s) and the watcher's {polls.requests} polls (~{watched:.1f} ms per mail): "
            + ", ".join(f"{n} {ms:.1f}" for n, ms in net.items()),
            flush=True,
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=500)
    parser.add_argument("--rates", type=float, nargs="+", default=[10.0, 50.0])
    parser.add_argument("--burst", action="store_true", help="also send all at once")
    parser.add_argument("--throwaway", action="store_true", help="start a stack for this run")
    parser.add_argument(
        "--ticket-workers", type=int, default=1,
        help="with --throwaway: the ticket service's uvicorn workers (`make up` runs 2)",
    )  # fmt: skip
    parser.add_argument(
        "--profile", type=Path, help="with --throwaway: cProfile each service into this folder"
    )
    parser.add_argument(
        "--archive-folder",
        help="with --throwaway: the support account moves handled mail to this folder",
    )
    args = parser.parse_args()
    print(f"machine: {describe()}", flush=True)
    rates: list[float | None] = [*args.rates, *([None] if args.burst else [])]
    if args.throwaway:
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
        with throwaway_stack(args.profile, args.ticket_workers, args.archive_folder) as target:
            for rate in rates:
                await measure(target, args.mails, rate)
        return
    target = Target(
        ("127.0.0.1", 3025), "support@helpdesk.local", "http://127.0.0.1:8001",
        (ROOT / ".local/jwt/private.pem").read_bytes(),
    )  # fmt: skip
    for rate in rates:
        await measure(target, args.mails, rate)


if __name__ == "__main__":
    asyncio.run(main())
