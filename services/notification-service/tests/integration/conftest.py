"""Fixtures for the notification service on the real Kafka, PostgreSQL and GreenMail.

The service runs as a real process (``python -m notification_service serve``) on a free port;
the tests produce events with the contract's models onto the real topics, as the ticket and SLA
services do, and watch what reaches people: the SSE stream, the mailbox, a webhook receiver.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaProducer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from helpdesk_devstack.greenmail import MailServer
from helpdesk_devstack.procs import free_port
from helpdesk_devstack.tokens import mint_token
from helpdesk_events import Actor, ActorKind, EventEnvelope, encode_envelope, kafka_headers
from helpdesk_events.directory import (
    AgentInvited,
    AgentRole,
    TeamCreated,
    TeamMemberAdded,
)
from helpdesk_events.registry import DomainEvent
from helpdesk_events.topics import TOPIC_BY_STREAM_TYPE
from notification_service.adapters.migrate import upgrade

pytestmark = pytest.mark.integration


class ServiceProcess:
    """The service as the operator runs it; ``kill()`` is ``kill -9``."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.port = int(env["HELPDESK_HTTP_PORT"])
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "notification_service", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def wait_ready(self, within: float = 90.0) -> None:
        deadline = asyncio.get_running_loop().time() + within
        async with httpx.AsyncClient() as client:
            while asyncio.get_running_loop().time() < deadline:
                assert self.proc is not None and self.proc.poll() is None, self.tail()
                try:
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"not ready after {within}s\n{self.tail()}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@dataclass
class Person:
    id: str
    name: str
    email: str
    token: str


@dataclass
class Team:
    id: str
    name: str
    lead: Person | None
    members: list[Person] = field(default_factory=list)


class Harness:
    """Produce events as the helpdesk would, and read what the service stored."""

    def __init__(
        self,
        producer: AIOKafkaProducer,
        database_url: str,
        private_key: bytes,
    ) -> None:
        self.producer = producer
        self.database_url = database_url
        self.private_key = private_key
        self.versions: dict[uuid.UUID, int] = {}

    def token(self, subject: str, role: str = "agent", ttl: timedelta = timedelta(hours=1)) -> str:
        return mint_token(self.private_key, role, subject, ttl)

    def envelope(
        self,
        event: DomainEvent,
        stream_id: uuid.UUID,
        actor: Actor | None = None,
        event_id: uuid.UUID | None = None,
    ) -> EventEnvelope:
        version = self.versions.get(stream_id, 0) + 1
        self.versions[stream_id] = version
        return EventEnvelope(
            event_id=event_id or uuid.uuid4(),
            event_type=event.event_type,
            schema_version=event.schema_version,
            stream_id=stream_id,
            stream_type=event.stream_type,
            stream_version=version,
            occurred_at=datetime.now(UTC),
            actor=actor or Actor(kind=ActorKind.SYSTEM, id="tests"),
            correlation_id=uuid.uuid4(),
            data=event.model_dump(mode="json"),
        )

    async def send(self, envelope: EventEnvelope) -> tuple[str, int, int]:
        """Publish as the relay does; (topic, partition, offset)."""
        topic = TOPIC_BY_STREAM_TYPE[envelope.stream_type]
        meta = await self.producer.send_and_wait(
            topic,
            encode_envelope(envelope),
            key=str(envelope.stream_id).encode(),
            headers=kafka_headers(envelope, None),
        )
        return topic, meta.partition, meta.offset

    async def emit(
        self, event: DomainEvent, stream_id: uuid.UUID, actor: Actor | None = None
    ) -> EventEnvelope:
        envelope = self.envelope(event, stream_id, actor)
        await self.send(envelope)
        return envelope

    async def consumed(self, topic: str, partition: int, offset: int, within: float = 60) -> None:
        """Until the service has handled ``offset`` (its position is past it)."""

        async def past() -> bool:
            value = await self.fetchval(
                "SELECT next_offset FROM consumer_positions WHERE topic = $1 AND partition = $2",
                topic,
                partition,
            )
            return value is not None and value > offset

        await eventually(past, within)

    async def fetchval(self, query: str, *args: Any) -> Any:
        connection = await asyncpg.connect(self.database_url)
        try:
            return await connection.fetchval(query, *args)
        finally:
            await connection.close()

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.database_url)
        try:
            return list(await connection.fetch(query, *args))
        finally:
            await connection.close()

    async def agent(self, name: str, role: AgentRole = AgentRole.AGENT) -> Person:
        agent_id = uuid.uuid4()
        email = f"{name.split()[0].lower()}.{agent_id.hex[:8]}@example.com"
        await self.emit(AgentInvited(email=email, name=name, role=role), agent_id)
        return Person(str(agent_id), name, email, self.token(str(agent_id), role.value))

    async def team(self, name: str, lead: Person | None, members: list[Person]) -> Team:
        team_id = uuid.uuid4()
        await self.emit(
            TeamCreated(name=name, lead_id=uuid.UUID(lead.id) if lead else None), team_id
        )
        for member in members:
            await self.emit(TeamMemberAdded(agent_id=uuid.UUID(member.id)), team_id)
        team = Team(str(team_id), name, lead, members)

        async def known() -> bool:
            members_known = await self.fetchval(
                "SELECT cardinality(members) FROM teams WHERE team_id = $1", team.id
            )
            return members_known == len(members)

        await eventually(known)
        return team


async def eventually(condition: Callable[[], Awaitable[bool]], within: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {within}s")
        await asyncio.sleep(0.1)


class SseReader:
    """A minimal Server-Sent Events client over httpx, as a fetch-based browser client reads."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()

    async def next_event(self, within: float = 30.0) -> dict[str, str]:
        return await asyncio.wait_for(self._read(), within)

    async def _read(self) -> dict[str, str]:
        event: dict[str, str] = {}
        async for line in self._lines:
            if not line:
                if "data" in event:
                    return event
                event = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            event[name] = event[name] + "\n" + value if name == "data" and name in event else value
        raise AssertionError("the stream ended")


@pytest.fixture(scope="session")
def private_key(dev_keys: tuple[Path, Path]) -> bytes:
    return dev_keys[0].read_bytes()


def service_env(
    database_url: str,
    kafka_bootstrap: str,
    dev_keys: tuple[Path, Path],
    mail_server: MailServer | None,
    **extra: str,
) -> dict[str, str]:
    env = os.environ | {
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "HELPDESK_JWT_PUBLIC_KEY_FILE": str(dev_keys[1]),
        "HELPDESK_HTTP_PORT": str(free_port()),
        "HELPDESK_CONSUMER_GROUP": f"notification-test-{uuid.uuid4().hex[:8]}",
        "HELPDESK_WEBHOOKS_ALLOW_PRIVATE": "true",
        "HELPDESK_LOG_LEVEL": "INFO",
    }
    if mail_server is not None:
        env |= {
            "HELPDESK_SMTP_HOST": mail_server.host,
            "HELPDESK_SMTP_PORT": str(mail_server.smtp_port),
        }
    else:
        env.pop("HELPDESK_SMTP_HOST", None)
    return env | extra


@pytest.fixture(scope="session")
def database_url(make_database: Callable[[str], str]) -> str:
    url = make_database("notifications")
    upgrade(url)
    return url


# One service for this directory's tests, stopped after them (package scope: the __init__.py
# beside this file makes the directory a package); kept to the session's end it polled on idle
# through every later test.
@pytest.fixture(scope="package")
def service(
    database_url: str,
    kafka_bootstrap: str,
    dev_keys: tuple[Path, Path],
    mail_server: MailServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceProcess]:
    env = service_env(database_url, kafka_bootstrap, dev_keys, mail_server)
    process = ServiceProcess(env, tmp_path_factory.mktemp("notify") / "service.log")
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="package")
async def ready_service(service: ServiceProcess) -> ServiceProcess:
    await service.wait_ready()
    return service


@pytest.fixture(scope="session")
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", linger_ms=0)
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture(scope="session")
def harness(producer: AIOKafkaProducer, database_url: str, private_key: bytes) -> Harness:
    return Harness(producer, database_url, private_key)


@pytest.fixture
async def api(ready_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=ready_service.url, timeout=30) as client:
        yield client


def bearer(person: Person | str) -> dict[str, str]:
    token = person.token if isinstance(person, Person) else person
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Receiver:
    """A webhook endpoint: answers ``fail_with`` to the next ``failures`` requests."""

    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    accepted: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    failures: int = 0
    fail_with: int = 503
    retry_after: str | None = "1"
    #: Seconds each request takes (a slow receiver keeps an attempt in flight).
    delay: float = 0.0

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        if self.delay:
            await asyncio.sleep(self.delay)
        headers = dict(request.headers)
        self.received.append((headers, body))
        if self.failures > 0:
            self.failures -= 1
            extra = {"Retry-After": self.retry_after} if self.retry_after else {}
            return Response("not now", status_code=self.fail_with, headers=extra)
        self.accepted.append((headers, body))
        return Response(status_code=204)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    port = free_port()
    app = Starlette(routes=[Route("/hook", receiver.handle, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return bool(server.started)

    await eventually(started, within=30)
    receiver.url = f"http://127.0.0.1:{port}/hook"
    yield receiver
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)
