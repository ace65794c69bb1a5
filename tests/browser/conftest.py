"""Browser tests of the agent portal: Chromium (Debian's, via Playwright) against the real
stack, through the real API gateway.

One stack per session: the session's PostgreSQL, Kafka and GreenMail (tools/devstack's pytest
plugin); the ticket service, its relay and its SLA projector; the API gateway serving the built
``web/dist`` at ``/agent/`` and ``/portal/``, seeded with a manager by ``bootstrap-manager`` as
``make up`` does (all real processes, started by ``start_gateway`` of tests/integration). The
browser signs in through the portal's form against the gateway's ``/api/auth``: argon2
passwords, the HttpOnly refresh cookie, tokens the services verify. Nothing is stubbed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from playwright.sync_api import Browser, Page, Request, expect, sync_playwright

from helpdesk_devstack.greenmail import MailServer
from helpdesk_devstack.procs import run_sync
from helpdesk_devstack.tokens import mint_token
from helpdesk_devstack.worker_process import WorkerProcess, worker_env
from helpdesk_events import Actor, ActorKind, EventEnvelope, encode_envelope, kafka_headers
from helpdesk_events.registry import DomainEvent
from helpdesk_events.sla import (
    SlaBreached,
    SlaClockState,
    SlaMetricName,
    SlaTarget,
    SlaTargetsSet,
)
from helpdesk_events.topics import SLA
from tests.integration.conftest import (
    ServiceProcess,
    free_port,
    start_module_service,
    start_service,
    start_session_service,
)
from tests.integration.gateway_stack import shared_env, start_gateway
from tests.integration.mail_stack import mail_gateway_env
from ticket_service.adapters.migrate import upgrade

#: Fixtures that start a real SLA or assignment worker. A worker reads the ticket topic from its
#: start, so it re-times (and may assign) the stack's seeded tickets, whose fake SLA state, order
#: and count the agent portal's tests check.
WHOLE_TOPIC_WORKERS = frozenset({"sla_worker", "assignment_worker"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules that start a real worker run after every other test (whole modules, in their
    own order, so that their module fixtures start once)."""
    late = {
        item.module.__name__
        for item in items
        if isinstance(item, pytest.Function) and WHOLE_TOPIC_WORKERS & set(item.fixturenames)
    }
    items.sort(key=lambda item: isinstance(item, pytest.Function) and item.module.__name__ in late)


# The fixtures, shared with tests/integration.
__all__ = ["start_module_service", "start_service", "start_session_service"]

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
DIST = WEB / "dist"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("HELPDESK_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = os.environ.get("HELPDESK_SCREENSHOTS")

# The signed-in person: the stack's manager, seeded by the gateway's bootstrap-manager.
AGENT_EMAIL = "sari@helpdesk.example"
AGENT_NAME = "Sari Wulandari"
AGENT_PASSWORD = "correct horse battery staple"
TICKET_COUNT = 30  # more than one page of 25

# Read models follow the event log: give the screen a moment on a busy 2-core machine.
expect.set_options(timeout=40_000)


@dataclass
class Stack:
    """The running stack: the gateway (``url``; its APIs at ``api_url``), the seeded directory,
    and tokens signed with the gateway's key for the tests' own API calls."""

    url: str
    api_url: str
    private_key: bytes
    mail: MailServer
    ticket_url: str
    # The gateway's SLA, notification service, mail gateway and assignment upstreams: started by
    # the tests that use them
    sla_port: int = 0
    notification_port: int = 0
    mail_port: int = 0
    assignment_port: int = 0
    #: The ticket service's environment (database, Kafka, keys), for the processes a module adds.
    service_env: dict[str, str] = field(default_factory=dict)
    agent_id: str = ""
    team_id: str = ""
    tickets: list[dict[str, Any]] = field(default_factory=list)
    #: The gateway's environment (its CLI, e.g. ``bootstrap-manager``, runs with it).
    gateway_env: dict[str, str] = field(default_factory=dict)

    def token(
        self,
        role: str = "agent",
        *,
        ttl: timedelta = timedelta(minutes=30),
        now: datetime | None = None,
    ) -> str:
        if role == "agent":
            return mint_token(
                self.private_key,
                "agent",
                self.agent_id,
                ttl,
                AGENT_NAME,
                email=AGENT_EMAIL,
                now=now,
            )
        return mint_token(self.private_key, role, f"browser-{role}", ttl)

    def client(self, role: str = "manager") -> httpx.Client:
        return httpx.Client(
            base_url=self.api_url,
            headers={"Authorization": f"Bearer {self.token(role)}"},
            timeout=30.0,
        )


def _seed(stack: Stack) -> None:
    """A team with the signed-in manager, a colleague, and a page and a bit of tickets."""
    signed_in = httpx.post(
        f"{stack.url}/api/auth/sign-in",
        json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD},
        timeout=30,
    )
    assert signed_in.status_code == 200, signed_in.text
    me = httpx.get(
        f"{stack.api_url}/agents/me",
        headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"},
        timeout=30,
    )
    assert me.status_code == 200, me.text
    stack.agent_id = me.json()["id"]
    with stack.client("manager") as api:
        colleague = api.post(
            "/agents",
            json={"email": "budi.agent@helpdesk.example", "name": "Budi Hartono", "role": "agent"},
        )
        colleague.raise_for_status()
        team = api.post("/teams", json={"name": "Support L1", "tier": 1})
        team.raise_for_status()
        stack.team_id = team.json()["id"]
        for member in (stack.agent_id, colleague.json()["id"]):
            api.put(f"/teams/{stack.team_id}/members/{member}").raise_for_status()
        priorities = ["Low", "Medium", "High", "Urgent"]
        for n in range(TICKET_COUNT):
            body: dict[str, Any] = {
                "subject": f"Printer on floor {n} jams" if n % 3 else f"VPN drops every hour ({n})",
                "description": "Since this morning.",
                "requester": {
                    "email": f"customer{n % 7}@example.co.id",
                    "name": f"Customer {n % 7}",
                },
                "channel": "email",
                "priority": priorities[n % 4],
                "tags": ["vpn"] if n % 3 == 0 else ["printer"],
            }
            if n % 5 == 0:
                body["team_id"] = stack.team_id
                body["assignee_id"] = stack.agent_id
            created = api.post(
                "/tickets", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
            )
            assert created.status_code == 201, created.text
            stack.tickets.append(created.json())


def _sla_envelope(ticket_id: uuid.UUID, event: DomainEvent, at: datetime) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=ticket_id,
        stream_type="sla",
        stream_version=1,
        occurred_at=at,
        actor=Actor(kind=ActorKind.SERVICE, id="sla-service"),
        correlation_id=uuid.uuid4(),
        data=event.model_dump(mode="json"),
    )


def _resolution_targets(ticket_id: uuid.UUID, due: datetime, now: datetime) -> SlaTargetsSet:
    return SlaTargetsSet(
        ticket_id=ticket_id,
        policy="default",
        priority="High",
        targets=(
            SlaTarget(
                metric=SlaMetricName.RESOLUTION,
                target_seconds=4 * 3600,
                elapsed_seconds=0,
                state=SlaClockState.RUNNING,
                due_at=due,
            ),
        ),
    )


def _publish_sla(stack: Stack, kafka_bootstrap: str) -> None:
    """What the SLA service would publish: a resolution target due in 3 hours on one ticket, and
    a breached one on another. ``ticket-service sla-projector`` puts them in the ticket views."""
    now = datetime.now(UTC).replace(microsecond=0)
    due_soon = uuid.UUID(stack.tickets[2]["id"])
    breached = uuid.UUID(stack.tickets[0]["id"])
    events = [
        _sla_envelope(due_soon, _resolution_targets(due_soon, now + timedelta(hours=3), now), now),
        _sla_envelope(breached, _resolution_targets(breached, now - timedelta(hours=1), now), now),
        _sla_envelope(
            breached,
            SlaBreached(
                ticket_id=breached,
                metric=SlaMetricName.RESOLUTION,
                due_at=now - timedelta(hours=1),
                target_seconds=4 * 3600,
            ),
            now,
        ),
    ]

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            for envelope in events:
                await producer.send_and_wait(
                    SLA,
                    encode_envelope(envelope),
                    key=str(envelope.stream_id).encode(),
                    headers=kafka_headers(envelope, None),
                )
        finally:
            await producer.stop()

    run_sync(send())
    deadline = time.monotonic() + 60
    with stack.client("agent") as api:
        while time.monotonic() < deadline:
            listed = api.get("/tickets", params={"breached": "true"}).json()["items"]
            if any(item["id"] == str(breached) for item in listed):
                return
            time.sleep(0.5)
    raise AssertionError("the SLA events never reached the ticket views")


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """The built apps (``make web-build``; built here when missing, e.g. a bare pytest run)."""
    if not (DIST / "agent" / "index.html").is_file() or not AXE.is_file():
        subprocess.run(["make", "-C", str(ROOT), "web-build"], check=True)
    return DIST


@pytest.fixture(scope="session")
def ticket_stack(
    tmp_path_factory: pytest.TempPathFactory,
    make_database: Callable[[str], str],
    kafka_bootstrap: str,
    mail_server: MailServer,
    dev_keys: tuple[Path, Path],
    start_session_service: Callable[[str, list[str], dict[str, str]], ServiceProcess],
    web_dist: Path,
) -> Stack:
    database_url = make_database("browser")
    upgrade(database_url)
    port = free_port()
    common = shared_env(database_url, kafka_bootstrap, dev_keys, tmp_path_factory.mktemp("blobs"))
    env = {**common, "HELPDESK_HTTP_PORT": str(port), "HELPDESK_RELAY_NAME": f"browser-{port}"}
    api = start_session_service("ticket-service", ["-m", "ticket_service", "serve"], env)
    start_session_service("ticket-relay", ["-m", "ticket_service", "relay"], env)
    start_session_service("ticket-sla-projector", ["-m", "ticket_service", "sla-projector"], env)
    ticket_url = f"http://127.0.0.1:{port}"
    api.wait_http(f"{ticket_url}/readyz", timeout=180)
    sla_port, notification_port, mail_port = free_port(), free_port(), free_port()
    assignment_port = free_port()
    gateway_url, gateway_env, _ = start_gateway(
        start_session_service,
        common=common,
        ticket_url=ticket_url,
        mail=mail_server,
        web_dir=web_dist,
        upstreams={
            "sla-service": f"http://127.0.0.1:{sla_port}",
            "assignment-service": f"http://127.0.0.1:{assignment_port}",
            "mail-gateway": f"http://127.0.0.1:{mail_port}",
            "notification-service": f"http://127.0.0.1:{notification_port}",
        },
        manager=(AGENT_EMAIL, AGENT_NAME, AGENT_PASSWORD),
        # Every test signs in through the form: more than the default per-IP budget; a
        # manager's branding shows in the next mail.
        extra={
            "HELPDESK_GATEWAY_AUTH_RATE_LIMIT": "600/minute",
            "HELPDESK_GATEWAY_BRANDING_SECONDS": "0",
        },
    )
    stack = Stack(
        url=gateway_url,
        api_url=f"{gateway_url}/api",
        private_key=dev_keys[0].read_bytes(),
        mail=mail_server,
        ticket_url=ticket_url,
        sla_port=sla_port,
        notification_port=notification_port,
        mail_port=mail_port,
        gateway_env=gateway_env,
        assignment_port=assignment_port,
        service_env=common,
    )
    _seed(stack)
    _publish_sla(stack, kafka_bootstrap)
    return stack


@pytest.fixture(scope="module")
def notification_service(
    ticket_stack: Stack,
    kafka_bootstrap: str,
    dev_keys: tuple[Path, Path],
    make_database: Callable[[str], str],
    start_module_service: Callable[[str, list[str], dict[str, str]], ServiceProcess],
) -> ServiceProcess:
    """The real notification service on the port the gateway routes it to, for the modules
    whose screens use it (the bell's event stream, @mentions, the webhooks screen), stopped
    after each.
    Webhook targets on loopback are allowed: the tests' receiver listens there."""
    from notification_service.adapters.migrate import upgrade as upgrade_notifications

    database_url = make_database("notify_browser")
    upgrade_notifications(database_url)
    service = start_module_service(
        "notification-service",
        ["-m", "notification_service", "serve"],
        {
            "HELPDESK_DATABASE_URL": database_url,
            "HELPDESK_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "HELPDESK_JWT_PUBLIC_KEY_FILE": str(dev_keys[1]),
            "HELPDESK_HTTP_PORT": str(ticket_stack.notification_port),
            "HELPDESK_CONSUMER_GROUP": f"notification-browser-{uuid.uuid4().hex[:8]}",
            "HELPDESK_WEBHOOKS_ALLOW_PRIVATE": "true",
        },
    )
    service.wait_http(f"http://127.0.0.1:{ticket_stack.notification_port}/readyz", timeout=180)
    return service


@pytest.fixture(scope="module")
def sla_worker(
    ticket_stack: Stack,
    kafka_bootstrap: str,
    dev_keys: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerProcess]:
    """The real SLA worker on the port the gateway routes to, for the modules that use it
    (the ticket page's timers, the SLA policies screen), around the clock in Jakarta by
    default; stopped after each."""
    base = tmp_path_factory.mktemp("sla-worker")
    app_id = f"sla-browser-{uuid.uuid4().hex[:8]}"
    env = worker_env(
        "SLA", app_id, ticket_stack.sla_port, base / app_id, kafka_bootstrap, dev_keys[1]
    )
    # Always open: the clocks run whatever the hour the test runs at.
    env["HELPDESK_SLA_CALENDAR"] = json.dumps({"time_zone": "Asia/Jakarta", "always_open": True})
    worker = WorkerProcess("sla_service", env, base / f"{app_id}.log", ticket_stack.sla_port)
    worker.start()
    try:
        run_sync(worker.wait_ready(within=180))
        yield worker
    finally:
        worker.stop()


@pytest.fixture(scope="module")
def assignment_worker(
    ticket_stack: Stack,
    tmp_path_factory: pytest.TempPathFactory,
    start_module_service: Callable[[str, list[str], dict[str, str]], ServiceProcess],
) -> ServiceProcess:
    """The real assignment worker on the port the gateway routes to, and the ticket service's
    command consumer that carries out its AssignTicket and RouteTicket (a group of the module's
    own), for the modules that use them (the admin setup and routing screens)."""
    suffix = uuid.uuid4().hex[:8]
    env = {**ticket_stack.service_env, "HELPDESK_COMMANDS_GROUP": f"commands-admin-{suffix}"}
    start_module_service("ticket-commands", ["-m", "ticket_service", "commands"], env)
    worker = start_module_service(
        "assignment-service",
        ["-m", "assignment_service", "worker"],
        {
            **ticket_stack.service_env,
            "HELPDESK_ASSIGNMENT_APP_ID": f"assignment-admin-{suffix}",
            "HELPDESK_ASSIGNMENT_HTTP_PORT": str(ticket_stack.assignment_port),
            "HELPDESK_ASSIGNMENT_DATA_DIR": str(tmp_path_factory.mktemp("assignment-admin")),
        },
    )
    worker.wait_http(f"http://127.0.0.1:{ticket_stack.assignment_port}/readyz", timeout=180)
    return worker


@pytest.fixture(scope="module")
def mail_gateway(
    ticket_stack: Stack,
    kafka_bootstrap: str,
    mail_server: MailServer,
    dev_keys: tuple[Path, Path],
    make_database: Callable[[str], str],
    start_module_service: Callable[[str, list[str], dict[str, str]], ServiceProcess],
) -> ServiceProcess:
    """The real mail gateway on the port the session's gateway routes it to, with no inbox yet:
    test_admin_services' manager adds one on the screen, test_admin_setup's through the API."""
    env = mail_gateway_env(
        database_url=make_database("mail_browser"),
        kafka_bootstrap=kafka_bootstrap,
        ticket_url=ticket_stack.ticket_url,
        dev_keys=dev_keys,
        port=ticket_stack.mail_port,
        mail_server=mail_server,
    )
    service = start_module_service("mail-gateway", ["-m", "mail_gateway", "serve"], env)
    service.wait_http(f"http://127.0.0.1:{ticket_stack.mail_port}/readyz", timeout=120)
    return service


@pytest.fixture(scope="session")
def portal_url(ticket_stack: Stack) -> str:
    """Where the browser opens the portals: the gateway's address."""
    return ticket_stack.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one test module. Not longer: while Playwright's sync API is open it marks
    its event loop as running in this thread, and the async tests of other folders (run later
    in the same pytest session) could not start theirs."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


class AuthCalls:
    """The page's calls to the gateway's auth API, counted as they leave the browser."""

    def __init__(self, page: Page) -> None:
        self.calls: list[str] = []
        page.on("request", self._seen)

    def _seen(self, request: Request) -> None:
        if "/api/auth/" in request.url:
            self.calls.append(request.url.split("/api/auth/", 1)[1].split("?", 1)[0])

    @property
    def refreshes(self) -> int:
        return self.calls.count("refresh")


def sign_in(page: Page, email: str = AGENT_EMAIL, password: str = AGENT_PASSWORD) -> None:
    """Through the portal's own form, as a person would."""
    expect(page.get_by_role("heading", name="Sign in to the agent portal")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password")).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in to the agent portal")).to_have_count(0)


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Pages in fresh contexts (own storage), Jakarta time, English unless told otherwise."""
    contexts = []

    def make(*, locale: str = "en-US", timezone: str = "Asia/Jakarta") -> Page:
        context = browser.new_context(
            locale=locale, timezone_id=timezone, viewport={"width": 1440, "height": 900}
        )
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def agent_page(new_page: Callable[..., Page], portal_url: str) -> tuple[Page, AuthCalls]:
    """A page whose agent signed in through the form (the gateway's refresh cookie is set)."""
    page = new_page()
    auth = AuthCalls(page)
    page.goto(f"{portal_url}/agent/")
    sign_in(page)
    return page, auth


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Not as a <script> tag: the gateway's Content-Security-Policy (script-src 'self')
        # refuses inline scripts, rightly. The DevTools protocol's evaluation is not a page script.
        page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async () => await window.axe.run(document, {resultTypes: ['violations']})"
    )
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def assert_accessible(page: Page, screen: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"{screen}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in violations
    )


def screenshot(page: Page, name: str) -> None:
    """Saved when HELPDESK_SCREENSHOTS names a folder (``make screenshots``)."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"))


def new_ticket(api: httpx.Client, subject: str, **fields: Any) -> dict[str, Any]:
    """A ticket of a new customer of its own, made through the API (``fields`` add to it)."""
    made = api.post(
        "/tickets",
        json={
            "subject": subject,
            "description": "From the browser tests.",
            "requester": {"email": f"browser-{uuid.uuid4().hex[:8]}@example.co.id"},
            "channel": "email",
            **fields,
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert made.status_code == 201, made.text
    ticket: dict[str, Any] = made.json()
    return ticket


def expired_token(stack: Stack) -> str:
    return stack.token(
        "agent", ttl=timedelta(minutes=1), now=datetime.now(UTC) - timedelta(minutes=10)
    )


def solve(api: httpx.Client, ticket_id: str) -> None:
    """Solve a ticket a test made on the shared stack: the agent portal's test, later in the
    session, counts the stack's seeded open tickets and expects no Closed one. (A mail
    ticket's acknowledgement may still move the version.)"""
    for _ in range(5):
        version = api.get(f"/tickets/{ticket_id}").headers["ETag"]
        solved = api.patch(
            f"/tickets/{ticket_id}", json={"status": "Solved"}, headers={"If-Match": version}
        )
        if solved.status_code not in (409, 412):  # changed since it was read: again
            break
    assert solved.status_code == 200, solved.text
