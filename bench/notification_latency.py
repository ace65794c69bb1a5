"""Notification service: event on Kafka → SSE client receives it, and webhook deliveries/s.

Starts a private Kafka and PostgreSQL (or uses ``--bootstrap`` / ``--database-url``) and the
service as a process (``python -m notification_service worker``), invites ``--agents`` agents
(directory events), opens one SSE stream per agent, then produces ``TicketAssigned`` envelopes
to ``helpdesk.tickets.v1`` at ``--rate`` events/s for ``--seconds`` seconds, each to another
agent. Latency is from just before the producer's send to the SSE event's arrival at the
client (so it includes Kafka's write, the consumer's fetch, the database transaction and the
stream's read). Then a webhook subscription to a local receiver and a burst of ``--webhooks``
events on distinct tickets measure deliveries per second (first to last accepted).

    python bench/notification_latency.py --rate 100 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import uvicorn
from aiokafka import AIOKafkaProducer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe
from workers import Worker, free_port, private_kafka, until

from helpdesk_devstack.kafka import ensure_topics
from helpdesk_devstack.postgres import LocalPostgres, create_database, database_dsn
from helpdesk_devstack.tokens import ensure_dev_keys, mint_token
from helpdesk_events import (
    Actor,
    ActorKind,
    EventEnvelope,
    TicketAssigned,
    encode_envelope,
    kafka_headers,
)
from helpdesk_events.directory import AgentInvited, AgentRole
from helpdesk_events.registry import DomainEvent
from helpdesk_events.topics import TOPIC_BY_STREAM_TYPE
from notification_service.adapters.migrate import upgrade


def envelope(event: DomainEvent, stream_id: uuid.UUID, version: int = 1) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=stream_id,
        stream_type=event.stream_type,
        stream_version=version,
        occurred_at=datetime.now(UTC),
        actor=Actor(kind=ActorKind.SYSTEM, id="bench"),
        correlation_id=uuid.uuid4(),
        data=event.model_dump(mode="json"),
    )


async def send(producer: AIOKafkaProducer, env: EventEnvelope) -> None:
    await producer.send(
        TOPIC_BY_STREAM_TYPE[env.stream_type],
        encode_envelope(env),
        key=str(env.stream_id).encode(),
        headers=kafka_headers(env, None),
    )


async def read_stream(
    client: httpx.AsyncClient, url: str, token: str, arrived: dict[str, float], ready: asyncio.Event
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with client.stream("GET", url, headers=headers, timeout=None) as response:
        ready.set()
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                data = orjson.loads(line[5:])
                arrived[data["event_id"]] = time.monotonic()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def main(args: argparse.Namespace) -> None:
    print(describe(), flush=True)
    home = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    kafka = postgres = None
    worker: Worker | None = None
    try:
        bootstrap = args.bootstrap
        if not bootstrap:
            kafka = private_kafka(home, "512m")
            bootstrap = kafka.bootstrap
        ensure_topics(bootstrap)
        database_url = args.database_url
        if not database_url:
            postgres = LocalPostgres(home / "pg" / "data", free_port())
            postgres.start()
            server = postgres.dsn()
            create_database(server, "notifications")
            database_url = database_dsn(server, "notifications")
        upgrade(database_url)
        private_pem, public_pem = ensure_dev_keys(home / "jwt")
        port = free_port()
        env = os.environ | {
            "HELPDESK_DATABASE_URL": database_url,
            "HELPDESK_KAFKA_BOOTSTRAP": bootstrap,
            "HELPDESK_JWT_PUBLIC_KEY_FILE": str(public_pem),
            "HELPDESK_HTTP_PORT": str(port),
            "HELPDESK_CONSUMER_GROUP": f"bench-{uuid.uuid4().hex[:8]}",
            "HELPDESK_WEBHOOKS_ALLOW_PRIVATE": "true",
        }
        env.pop("HELPDESK_SMTP_HOST", None)
        worker = Worker("notification_service", env, home / "service.log", port)
        worker.start()
        await until(worker.ready, 120, "service ready")

        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
        await producer.start()
        agents = [uuid.uuid4() for _ in range(args.agents)]
        for i, agent in enumerate(agents):
            await send(
                producer,
                envelope(
                    AgentInvited(email=f"a{i}@example.com", name=f"A {i}", role=AgentRole.AGENT),
                    agent,
                ),
            )
        await producer.flush()
        private_key = private_pem.read_bytes()
        arrived: dict[str, float] = {}
        async with httpx.AsyncClient(
            base_url=worker.url, limits=httpx.Limits(max_connections=args.agents + 10)
        ) as client:
            streams = []
            for agent in agents:
                ready = asyncio.Event()
                token = mint_token(private_key, "agent", str(agent), timedelta(hours=2))
                streams.append(
                    asyncio.create_task(
                        read_stream(client, "/notifications/stream", token, arrived, ready)
                    )
                )
                await ready.wait()

            # Warm up (the consumer joins its group, the directory is read), not measured.
            warm = envelope(TicketAssigned(assignee_id=agents[0]), uuid.uuid4())
            await send(producer, warm)
            await until(lambda: str(warm.event_id) in arrived, 120, "warm-up notification")

            sent_at: dict[str, float] = {}
            total = int(args.rate * args.seconds)
            began = time.monotonic()
            cpu_before = worker.cpu_seconds()
            for i in range(total):
                due = began + i / args.rate
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                env_i = envelope(TicketAssigned(assignee_id=agents[i % len(agents)]), uuid.uuid4())
                sent_at[str(env_i.event_id)] = time.monotonic()
                await send(producer, env_i)
            with contextlib.suppress(TimeoutError):
                await until(lambda: all(k in arrived for k in sent_at), 60, "all received")
            elapsed = time.monotonic() - began
            cpu = worker.cpu_seconds() - cpu_before
            latencies = [(arrived[k] - t) * 1000 for k, t in sent_at.items() if k in arrived]
            lost = total - len(latencies)
            print(
                f"SSE: {total} events at {args.rate}/s to {args.agents} agents' streams; "
                f"received {len(latencies)}, missing {lost}",
                flush=True,
            )
            print(
                f"  latency ms p50 {statistics.median(latencies):.1f}  "
                f"p90 {percentile(latencies, 90):.1f}  p99 {percentile(latencies, 99):.1f}  "
                f"max {max(latencies):.1f}; service CPU {cpu:.1f} s in {elapsed:.1f} s "
                f"({cpu / total * 1000:.2f} ms per event)",
                flush=True,
            )
            for task in streams:
                task.cancel()

            # Webhook deliveries per second to a local receiver.
            accepted: list[float] = []

            async def hook(request: Request) -> Response:
                await request.body()
                accepted.append(time.monotonic())
                return Response(status_code=204)

            receiver_port = free_port()
            server = uvicorn.Server(
                uvicorn.Config(
                    Starlette(routes=[Route("/hook", hook, methods=["POST"])]),
                    host="127.0.0.1",
                    port=receiver_port,
                    log_level="warning",
                    lifespan="off",
                )
            )
            serving = asyncio.create_task(server.serve())
            await until(lambda: server.started, 30, "receiver")
            manager = mint_token(private_key, "manager", "bench-manager", timedelta(hours=1))
            made = await client.post(
                "/webhooks",
                headers={"Authorization": f"Bearer {manager}"},
                json={
                    "url": f"http://127.0.0.1:{receiver_port}/hook",
                    "event_types": ["TicketAssigned"],
                },
            )
            made.raise_for_status()
            cpu_before = worker.cpu_seconds()
            for i in range(args.webhooks):
                await send(
                    producer,
                    envelope(TicketAssigned(assignee_id=agents[i % len(agents)]), uuid.uuid4()),
                )
            await producer.flush()
            await until(lambda: len(accepted) >= args.webhooks, 300, "webhooks delivered")
            span = accepted[-1] - accepted[0]
            cpu = worker.cpu_seconds() - cpu_before
            print(
                f"Webhooks: {args.webhooks} deliveries (distinct tickets) in {span:.1f} s from "
                f"first to last = {args.webhooks / span:.0f}/s; service CPU {cpu:.1f} s "
                f"({cpu / args.webhooks * 1000:.2f} ms per delivery incl. consuming the event)",
                flush=True,
            )
            server.should_exit = True
            await serving
        await producer.stop()
    finally:
        if worker is not None:
            worker.stop()
        if postgres is not None:
            postgres.stop()
        if kafka is not None:
            kafka.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--webhooks", type=int, default=3000)
    parser.add_argument("--bootstrap")
    parser.add_argument("--database-url")
    asyncio.run(main(parser.parse_args()))
