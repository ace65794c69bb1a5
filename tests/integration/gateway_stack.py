"""The gateway on the real stack, for the ``test_gateway_*`` tests: PostgreSQL, Kafka and
GreenMail from the devstack plugin, the ticket service (API + relay) and the gateway as real
processes, and a probe upstream (a real HTTP server started in this process with uvicorn) behind
the routes the proxy tests aim at: it does on demand what the real services do only by chance (a
stream that waits for the test, an answer slower than the gateway's timeout, an echo of exactly
what the proxy forwarded). The real notification and assignment services are proven through the
gateway by the end-to-end and browser tests.

Import the fixtures into a test module: ``from .gateway_stack import gateway  # noqa: F401``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer, TopicPartition
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from helpdesk_devstack.greenmail import MailServer
from helpdesk_devstack.kafka_events import follow_from_now, topic_ends
from helpdesk_devstack.procs import run_sync
from helpdesk_events.topics import DIRECTORY
from ticket_service.adapters.migrate import upgrade

from .conftest import ServiceProcess, free_port

MANAGER_EMAIL = "boss@example.com"
MANAGER_PASSWORD = "correct horse battery staple"


class ProbeUpstream:
    """The upstream the gateway routes ``/api/notifications`` and ``/api/rules`` to in the proxy
    tests: a gated event stream, an echo of the forwarded request, a slow answer."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.port = free_port()

        async def stream(request: Request) -> Response:
            async def events() -> AsyncIterator[bytes]:
                yield b"id: 1\ndata: first\n\n"
                # The second event waits until the test has seen the first: a buffering proxy
                # would hold the first back and the test would time out.
                while not self.release.is_set():  # noqa: ASYNC110 - set from the test's thread
                    await asyncio.sleep(0.02)
                yield b"id: 2\ndata: second\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")

        async def echo(request: Request) -> Response:
            digest = hashlib.sha256()
            size = 0
            async for chunk in request.stream():
                digest.update(chunk)
                size += len(chunk)
            return JSONResponse(
                {
                    "path": request.url.path,
                    "query": request.url.query,
                    "size": size,
                    "sha256": digest.hexdigest(),
                    "headers": {k: v for k, v in request.headers.items()},
                },
                headers={"Set-Cookie": "upstream=1", "X-Upstream": "yes"},
            )

        async def slow(request: Request) -> Response:
            await asyncio.sleep(10)
            return JSONResponse({"late": True})

        async def openapi(request: Request) -> Response:
            return JSONResponse(
                {
                    "openapi": "3.1.0",
                    "info": {"title": "probe-upstream", "version": "1"},
                    "paths": {
                        "/notifications/stream": {"get": {"responses": {"200": {}}}},
                        "/internal/metrics": {"get": {"responses": {"200": {}}}},
                    },
                    "components": {"schemas": {"Problem": {"type": "object", "title": "Other"}}},
                }
            )

        app = Starlette(
            routes=[
                Route("/notifications/stream", stream),
                Route("/notifications/echo", echo, methods=["GET", "POST", "PUT"]),
                Route("/rules/slow", slow),
                Route("/openapi.json", openapi),
            ]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise AssertionError("probe upstream did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@dataclass
class GatewayStack:
    url: str
    ticket_url: str
    probe: ProbeUpstream
    mail: MailServer
    private_key: bytes
    env: dict[str, str]
    process: ServiceProcess

    def client(self, timeout: float = 30) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=timeout)


def refresh_cookie(response: httpx.Response) -> str:
    """The refresh cookie's value from a Set-Cookie (sent back by hand: it is Secure, and
    the tests speak plain HTTP on loopback)."""
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return jar["helpdesk_refresh"].value


def shared_env(
    database_url: str, kafka_bootstrap: str, dev_keys: tuple[Path, Path], blob_dir: Path
) -> dict[str, str]:
    """The settings the ticket service and the gateway share: one database, Kafka, key pair."""
    return {
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "HELPDESK_JWT_PUBLIC_KEY_FILE": str(dev_keys[1]),
        "HELPDESK_JWT_PRIVATE_KEY_FILE": str(dev_keys[0]),
        "HELPDESK_BLOB_DIR": str(blob_dir),
    }


async def caught_up(bootstrap: str, group: str, ends: dict[TopicPartition, int]) -> bool:
    """Whether ``group`` committed the directory topic up to ``ends`` (it read every event
    published before them)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        for partition, end in ends.items():
            if end and (await consumer.committed(partition) or 0) < end:
                return False
        return True
    finally:
        await consumer.stop()


async def directory_ends(bootstrap: str) -> dict[TopicPartition, int]:
    return await topic_ends(bootstrap, (DIRECTORY,))


def start_gateway(
    start_service: Callable[[str, list[str], dict[str, str]], ServiceProcess],
    *,
    common: dict[str, str],
    ticket_url: str,
    mail: MailServer,
    web_dir: Path,
    upstreams: dict[str, str],
    manager: tuple[str, str, str],
    extra: dict[str, str] | None = None,
    from_now: bool = True,
) -> tuple[str, dict[str, str], ServiceProcess]:
    """The gateway's real process on a free port, after ``bootstrap-manager`` seeded the
    ``manager`` (email, name, password) as ``make up`` does; returns (URL, env, process).

    ``common`` carries the database, Kafka and key settings it shares with the ticket service;
    ``upstreams`` overrides the routing table's service addresses (name → base URL). Shared by
    the gateway's integration tests and the browser tests, which serve the built portals.
    ``from_now=False`` lets its new consumer group read the directory from the topic's start,
    as a fresh deployment does."""
    port = free_port()
    email, name, password = manager
    env = {
        **common,
        "HELPDESK_HTTP_PORT": str(port),
        "HELPDESK_TICKET_SERVICE_URL": ticket_url,
        "HELPDESK_SMTP_HOST": mail.host,
        "HELPDESK_SMTP_PORT": str(mail.smtp_port),
        "HELPDESK_GATEWAY_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "HELPDESK_GATEWAY_WEB_DIR": str(web_dir),
        # Its own consumer group: each gateway of a session sees every directory event.
        "HELPDESK_GATEWAY_DIRECTORY_GROUP": f"api-gateway-directory-{port}",
        "HELPDESK_GATEWAY_UPSTREAMS": json.dumps({"ticket-service": ticket_url, **upstreams}),
        "HELPDESK_BOOTSTRAP_MANAGER_EMAIL": email,
        "HELPDESK_BOOTSTRAP_MANAGER_NAME": name,
        "HELPDESK_BOOTSTRAP_MANAGER_PASSWORD": password,
        **(extra or {}),
    }
    if from_now:
        run_sync(
            follow_from_now(
                env["HELPDESK_KAFKA_BOOTSTRAP"],
                env["HELPDESK_GATEWAY_DIRECTORY_GROUP"],
                (DIRECTORY,),
            )
        )
    bootstrap = subprocess.run(
        [sys.executable, "-m", "api_gateway", "bootstrap-manager"],
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert bootstrap.returncode == 0, bootstrap.stdout + bootstrap.stderr
    assert email in bootstrap.stdout
    assert password not in bootstrap.stdout + bootstrap.stderr  # #15: never in a log
    process = start_service(f"api-gateway-{port}", ["-m", "api_gateway", "serve"], env)
    process.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=180)
    return f"http://127.0.0.1:{port}", env, process


@pytest.fixture(scope="session")
def gateway(
    make_database: Callable[[str], str],
    kafka_bootstrap: str,
    mail_server: MailServer,
    dev_keys: tuple[Path, Path],
    start_session_service: Callable[[str, list[str], dict[str, str]], ServiceProcess],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GatewayStack]:
    database_url = make_database("gateway")
    upgrade(database_url)
    ticket_port, dead_port = free_port(), free_port()
    probe = ProbeUpstream()
    probe.start()
    common = shared_env(database_url, kafka_bootstrap, dev_keys, tmp_path_factory.mktemp("blobs"))
    tickets = start_session_service(
        "ticket-service",
        ["-m", "ticket_service", "serve"],
        {**common, "HELPDESK_HTTP_PORT": str(ticket_port)},
    )
    start_session_service(
        "ticket-relay",
        ["-m", "ticket_service", "relay"],
        {**common, "HELPDESK_RELAY_NAME": f"gateway-relay-{ticket_port}"},
    )
    ticket_url = f"http://127.0.0.1:{ticket_port}"
    tickets.wait_http(f"{ticket_url}/readyz", timeout=180)
    web = tmp_path_factory.mktemp("web")
    (web / "portal" / "assets").mkdir(parents=True)
    (web / "portal" / "index.html").write_text("<!doctype html><title>portal</title>")
    (web / "portal" / "assets" / "app-3f2a1b.js").write_text("console.log('portal')")
    url, env, process = start_gateway(
        start_session_service,
        common=common,
        ticket_url=ticket_url,
        mail=mail_server,
        web_dir=web,
        upstreams={
            "notification-service": f"http://127.0.0.1:{probe.port}",
            "assignment-service": f"http://127.0.0.1:{probe.port}",
            "sla-service": f"http://127.0.0.1:{dead_port}",
        },
        manager=(MANAGER_EMAIL, "Helpdesk Manager", MANAGER_PASSWORD),
        extra={
            "HELPDESK_GATEWAY_READ_TIMEOUT": "2",
            "HELPDESK_GATEWAY_BRANDING_SECONDS": "0",  # a rename shows in the next mail
            "HELPDESK_GATEWAY_AUTH_RATE_LIMIT": "500/minute",
            "HELPDESK_GATEWAY_CORS_ORIGINS": json.dumps(["https://portal.example"]),
        },
    )
    yield GatewayStack(
        url=url,
        ticket_url=ticket_url,
        probe=probe,
        mail=mail_server,
        private_key=dev_keys[0].read_bytes(),
        env=env,
        process=process,
    )
    probe.stop()
