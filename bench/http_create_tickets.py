"""HTTP create-ticket throughput and latency with the whole local stack running.

    make up                      # PostgreSQL, Kafka, ticket-service, relay
    python bench/http_create_tickets.py [--seconds 30] [--connections 32]

Load comes from wrk (Debian package `wrk`; C, one thread, so it takes little of the CPU the
stack needs). Every request carries a fresh Idempotency-Key (the path a careful client takes).
Afterwards it checks that every created ticket's event was published to Kafka by the relay and
reports how long the relay took to drain.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import asyncpg
from machine import describe

from helpdesk_devstack.tokens import mint_token

REPO = Path(__file__).resolve().parents[1]


async def event_count(database_url: str) -> tuple[int, int]:
    """(TicketCreated events in the log, events the relay has published)."""
    connection = await asyncpg.connect(database_url)
    try:
        created = await connection.fetchval(
            "SELECT count(*) FROM events WHERE event_type = 'TicketCreated'"
        )
        published = await connection.fetchval(
            "SELECT count(*) FROM events e JOIN outbox_checkpoints c ON c.consumer = 'kafka-relay'"
            " WHERE e.event_type = 'TicketCreated'"
            " AND (e.transaction_id, e.position) <= (c.transaction_id, c.position)"
        )
        return int(created), int(published)
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8001")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "HELPDESK_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/helpdesk"
        ),
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    token = mint_token(
        (REPO / ".local/jwt/private.pem").read_bytes(), "agent", "bench-agent", timedelta(hours=1)
    )
    before_created, _ = asyncio.run(event_count(args.database_url))
    print(f"machine: {describe()}")
    run = subprocess.run(
        [
            "wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "--latency",
            "-s", str(REPO / "bench/create_tickets.lua"), args.url,
        ],
        env=os.environ | {"BENCH_TOKEN": token},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    figures = json.loads(run.stdout.split("WRK_JSON ", 1)[1])
    seconds = figures["duration_us"] / 1e6
    errors = {k: v for k, v in figures.items() if k.startswith("errors_") and v}
    print(
        f"creates: {figures['requests']:,} in {seconds:.1f}s"
        f" = {figures['requests'] / seconds:,.0f}/s"
        f" | p50 {figures['p50_us'] / 1000:.1f} ms, p90 {figures['p90_us'] / 1000:.1f} ms,"
        f" p99 {figures['p99_us'] / 1000:.1f} ms, max {figures['max_us'] / 1000:.1f} ms"
        f" | {args.connections} connections | errors: {errors or 'none'}"
    )
    started = time.monotonic()
    while True:
        created, published = asyncio.run(event_count(args.database_url))
        if published >= created:
            break
        if time.monotonic() - started > 120:
            raise SystemExit(f"relay did not drain: {published}/{created} published")
        time.sleep(0.2)
    print(
        f"relay: all {created - before_created:,} new TicketCreated events on Kafka "
        f"{time.monotonic() - started:.1f}s after the load stopped"
    )
    if errors:
        raise SystemExit(f"requests failed: {errors}")


if __name__ == "__main__":
    main()
