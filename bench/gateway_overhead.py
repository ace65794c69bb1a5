"""What the API gateway adds: the same request straight to the ticket service and through the
gateway, side by side in one run (issue #15).

    python bench/gateway_overhead.py [--seconds 15] [--connections 32] [--rounds 2] [--profile DIR]

Starts its own PostgreSQL (free port, temporary directory), the ticket service (one uvicorn
worker) and the gateway (one worker) as real processes, creates one ticket, then alternates
wrk runs of ``GET /tickets/{id}`` (direct) and ``GET /api/tickets/{id}`` (gateway):
- one connection, requests one after another: the latency each path has on an idle machine;
  the gateway's added latency is the difference of the percentiles;
- ``--connections`` connections: the most requests per second each path serves (the ratio is the
  gateway's throughput cost on this machine, where the gateway, the service, PostgreSQL and wrk
  share the same cores).
``--profile DIR`` runs the gateway under cProfile and writes ``DIR/api-gateway.prof`` when it
stops (``python -m pstats``). Needs wrk (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
from machine import describe

from api_gateway.adapters.migrate import upgrade as upgrade_gateway
from helpdesk_devstack.postgres import LocalPostgres, create_database, database_dsn
from helpdesk_devstack.procs import free_port
from helpdesk_devstack.tokens import ensure_dev_keys, mint_token
from ticket_service.adapters.migrate import upgrade as upgrade_tickets

REPO = Path(__file__).resolve().parents[1]


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} not ready:\n{log.read_text()[-3000:]}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process (and its reaped children) has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk(base: str, path: str, token: str, connections: int, seconds: int) -> dict[str, float]:
    run = subprocess.run(
        [
            "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
            "-s", str(REPO / "bench/get.lua"), base,
        ],
        env=os.environ | {"BENCH_TOKEN": token, "BENCH_PATH": path},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    figures: dict[str, float] = json.loads(run.stdout.split("WRK_JSON ", 1)[1])
    errors = {k: v for k, v in figures.items() if k.startswith("errors_") and v}
    if errors:
        print(f"  errors on {base}{path} with {connections} connections: {errors}")
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", type=Path, help="write the gateway's cProfile here")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    print(f"machine: {describe()}")
    home = Path(tempfile.mkdtemp(prefix="helpdesk-bench-gw-"))
    home.chmod(0o755)
    postgres = LocalPostgres(home / "pg", free_port())
    postgres.start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        database = database_dsn(postgres.dsn(), "bench")
        create_database(postgres.dsn(), "bench")
        upgrade_tickets(database)
        upgrade_gateway(database)
        private, public = ensure_dev_keys(home / "jwt")
        ticket_port, gateway_port = free_port(), free_port(exclude=[postgres.port])
        env = os.environ | {
            "HELPDESK_DATABASE_URL": database,
            "HELPDESK_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",  # none: not on this path
            "HELPDESK_JWT_PUBLIC_KEY_FILE": str(public),
            "HELPDESK_JWT_PRIVATE_KEY_FILE": str(private),
            "HELPDESK_BLOB_DIR": str(home / "blobs"),
            "HELPDESK_HTTP_WORKERS": "1",
            "HELPDESK_GATEWAY_UPSTREAMS": json.dumps(
                {"ticket-service": f"http://127.0.0.1:{ticket_port}"}
            ),
            "HELPDESK_GATEWAY_RATE_LIMIT": "1000000/minute",
            "HELPDESK_GATEWAY_SUBJECT_RATE_LIMIT": "1000000/minute",
        }
        for name, module, port in (
            ("ticket-service", "ticket_service", ticket_port),
            ("api-gateway", "api_gateway", gateway_port),
        ):
            log = home / f"{name}.log"
            profiled: list[str] = []
            if args.profile and name == "api-gateway":
                args.profile.mkdir(parents=True, exist_ok=True)
                profiled = ["-m", "cProfile", "-o", str(args.profile / f"{name}.prof")]
            processes.append(
                subprocess.Popen(
                    [sys.executable, *profiled, "-m", module, "serve"],
                    env=env | {"HELPDESK_HTTP_PORT": str(port)},
                    stdout=log.open("wb"),
                    stderr=subprocess.STDOUT,
                )
            )
            wait_ready(f"http://127.0.0.1:{port}/readyz", processes[-1], log)
        token = mint_token(private.read_bytes(), "agent", "bench-agent", timedelta(hours=1))
        created = httpx.post(
            f"http://127.0.0.1:{ticket_port}/tickets",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
            json={"subject": "Bench", "requester": {"email": "bench@example.com"}},
            timeout=10,
        )
        created.raise_for_status()
        ticket = created.json()["id"]
        paths = {
            "direct": (f"http://127.0.0.1:{ticket_port}", f"/tickets/{ticket}"),
            "gateway": (f"http://127.0.0.1:{gateway_port}", f"/api/tickets/{ticket}"),
        }
        for base, path in paths.values():  # warm up both (connections, caches)
            wrk(base, path, token, 4, 3)
        results: dict[str, dict[str, list[float]]] = {
            name: {
                "p50": [],
                "p99": [],
                "serial_rps": [],
                "rps": [],
                "load_p50": [],
                "load_p99": [],
            }
            for name in paths
        }
        ticket_pid, gateway_pid = processes[0].pid, processes[1].pid
        cpu = {"service": 0.0, "gateway": 0.0, "requests": 0.0}
        for round_number in range(1, args.rounds + 1):
            for name, (base, path) in paths.items():
                serial = wrk(base, path, token, 1, args.seconds)
                before = cpu_seconds(ticket_pid), cpu_seconds(gateway_pid)
                loaded = wrk(base, path, token, args.connections, args.seconds)
                if name == "gateway":
                    cpu["service"] += cpu_seconds(ticket_pid) - before[0]
                    cpu["gateway"] += cpu_seconds(gateway_pid) - before[1]
                    cpu["requests"] += loaded["requests"]
                mine = results[name]
                mine["p50"].append(serial["p50_us"] / 1000)
                mine["p99"].append(serial["p99_us"] / 1000)
                mine["serial_rps"].append(serial["rps"])
                mine["rps"].append(loaded["rps"])
                mine["load_p50"].append(loaded["p50_us"] / 1000)
                mine["load_p99"].append(loaded["p99_us"] / 1000)
                print(
                    f"round {round_number} {name:8}: 1 connection p50 {serial['p50_us'] / 1000:.2f}"
                    f" ms, p99 {serial['p99_us'] / 1000:.2f} ms, {serial['rps']:,.0f}/s | "
                    f"{args.connections} connections {loaded['rps']:,.0f}/s, p50 "
                    f"{loaded['p50_us'] / 1000:.1f} ms, p99 {loaded['p99_us'] / 1000:.1f} ms"
                )
        median = {n: {k: statistics.median(v) for k, v in r.items()} for n, r in results.items()}
        direct, through = median["direct"], median["gateway"]
        print(
            f"added by the gateway (medians of {args.rounds} rounds): "
            f"p50 {through['p50'] - direct['p50']:+.2f} ms, "
            f"p99 {through['p99'] - direct['p99']:+.2f} ms on one connection; "
            f"throughput {through['rps']:,.0f}/s vs {direct['rps']:,.0f}/s direct "
            f"= {through['rps'] / direct['rps']:.0%}"
        )
        service_ms = cpu["service"] / cpu["requests"] * 1000
        gateway_ms = cpu["gateway"] / cpu["requests"] * 1000
        print(
            f"CPU per request through the gateway: ticket service {service_ms:.2f} ms, gateway "
            f"{gateway_ms:.2f} ms (when they share the cores, the gateway can pass at most "
            f"{service_ms / (service_ms + gateway_ms):.0%} of what the service alone serves)"
        )
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)  # a clean stop: cProfile writes its file
            process.wait(15)
        postgres.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
