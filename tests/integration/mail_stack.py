"""The mail gateway on the real stack for the mail tests: GreenMail, Kafka, PostgreSQL, the
ticket service (API + outbox relay) and the gateway, each a real process started with its own
command line. Customers write with ``helpdesk_devstack.mailbox``; tests read the ticket API.

Each mail test module gets its stack from :func:`mail_stack_fixture` (``stack =
mail_stack_fixture(...)``): the modules differ only in the mail server and the gateway's extra
settings, and one place decides how the stack is started and in which order it stops."""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from helpdesk_devstack.greenmail import MailServer
from helpdesk_devstack.tokens import mint_token
from ticket_service.adapters.migrate import upgrade

from .conftest import ServiceProcess, free_port

Start = Callable[[str, list[str], dict[str, str]], ServiceProcess]
#: The gateway's extra settings, made from the test's request when they need other fixtures.
ExtraEnv = Callable[[pytest.FixtureRequest], dict[str, str]]


@dataclass
class MailStack:
    mail: MailServer
    support: str
    tickets_url: str
    gateway_url: str
    gateway_env: dict[str, str]
    private_key: bytes
    gateway: ServiceProcess

    def token(self, role: str = "agent", subject: str | None = None, **claims: Any) -> str:
        return mint_token(
            self.private_key, role, subject or f"test-{role}", timedelta(hours=1), **claims
        )

    def headers(self, role: str = "agent", **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, **claims)}"}

    def tickets(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.tickets_url, headers=self.headers(), timeout=30)

    def manager(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.gateway_url, headers=self.headers("manager"), timeout=30
        )


def mail_gateway_env(
    *,
    database_url: str,
    kafka_bootstrap: str,
    ticket_url: str,
    dev_keys: tuple[Path, Path],
    port: int,
    mail_server: MailServer,
) -> dict[str, str]:
    """The mail gateway's settings on the test stack (a fresh secret key and consumer group)."""
    return {
        "HELPDESK_MAIL_DATABASE_URL": database_url,
        "HELPDESK_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "HELPDESK_TICKET_SERVICE_URL": ticket_url,
        "HELPDESK_JWT_PUBLIC_KEY_FILE": str(dev_keys[1]),
        "HELPDESK_JWT_PRIVATE_KEY_FILE": str(dev_keys[0]),
        "HELPDESK_MAIL_SECRET_KEY": Fernet.generate_key().decode(),
        "HELPDESK_MAIL_HTTP_PORT": str(port),
        "HELPDESK_MAIL_CONSUMER_GROUP": f"mail-gateway-{uuid.uuid4().hex[:8]}",
        "HELPDESK_MAIL_BRANDING_SECONDS": "0",  # a manager's branding shows in the next mail
        "HELPDESK_IMAP_HOST": mail_server.host,
        "HELPDESK_IMAP_PORT": str(mail_server.imap_port),
        "HELPDESK_SMTP_HOST": mail_server.host,
        "HELPDESK_SMTP_PORT": str(mail_server.smtp_port),
    }


def start_mail_stack(
    *,
    make_database: Callable[[str], str],
    kafka_bootstrap: str,
    mail_server: MailServer,
    dev_keys: tuple[Path, Path],
    start_service: Start,
    support: str,
    extra_env: dict[str, str] | None = None,
) -> MailStack:
    tickets_db = make_database("mailtickets")
    upgrade(tickets_db)
    tickets_port = free_port()
    tickets_env = {
        "HELPDESK_DATABASE_URL": tickets_db,
        "HELPDESK_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "HELPDESK_JWT_PUBLIC_KEY_FILE": str(dev_keys[1]),
        "HELPDESK_HTTP_PORT": str(tickets_port),
        "HELPDESK_RELAY_NAME": f"mail-{tickets_port}",
        "HELPDESK_BLOB_DIR": tempfile.mkdtemp(prefix="mail-blobs-"),
    }
    api = start_service("ticket-service", ["-m", "ticket_service", "serve"], tickets_env)
    start_service("ticket-relay", ["-m", "ticket_service", "relay"], tickets_env)
    api.wait_http(f"http://127.0.0.1:{tickets_port}/readyz")
    gateway_port = free_port()
    gateway_env = {
        **mail_gateway_env(
            database_url=make_database("mailgateway"),
            kafka_bootstrap=kafka_bootstrap,
            ticket_url=f"http://127.0.0.1:{tickets_port}",
            dev_keys=dev_keys,
            port=gateway_port,
            mail_server=mail_server,
        ),
        "HELPDESK_MAIL_BOOTSTRAP_ADDRESS": support,
        "HELPDESK_MAIL_BOOTSTRAP_PASSWORD": "support",
        **(extra_env or {}),
    }
    gateway = start_service("mail-gateway", ["-m", "mail_gateway", "serve"], gateway_env)
    gateway.wait_http(f"http://127.0.0.1:{gateway_port}/readyz", timeout=90)
    return MailStack(
        mail=mail_server,
        support=support,
        tickets_url=f"http://127.0.0.1:{tickets_port}",
        gateway_url=f"http://127.0.0.1:{gateway_port}",
        gateway_env=gateway_env,
        private_key=dev_keys[0].read_bytes(),
        gateway=gateway,
    )


def mail_stack_fixture(
    *,
    server: str = "mail_server",
    extra_env: dict[str, str] | ExtraEnv | None = None,
    name: str = "stack",
) -> Any:
    """A module-scoped fixture called ``name`` that starts the mail stack (:func:`start_mail_stack`)
    on the mail server the fixture ``server`` gives (the session's GreenMail, or a module's own),
    with a support address of its own and ``extra_env`` in the gateway's settings.

    The services are started after the mail server is set up, so they stop before it does."""

    @pytest.fixture(scope="module", name=name)
    def stack(
        request: pytest.FixtureRequest,
        make_database: Callable[[str], str],
        kafka_bootstrap: str,
        dev_keys: tuple[Path, Path],
    ) -> MailStack:
        mail_server: MailServer = request.getfixturevalue(server)
        env = extra_env(request) if callable(extra_env) else extra_env
        start_service: Start = request.getfixturevalue("start_module_service")
        return start_mail_stack(
            make_database=make_database,
            kafka_bootstrap=kafka_bootstrap,
            mail_server=mail_server,
            dev_keys=dev_keys,
            start_service=start_service,
            support=f"support-{uuid.uuid4().hex[:6]}@helpdesk.local",
            extra_env=env,
        )

    return stack


def customer_mail(
    stack: MailStack,
    sender: str,
    subject: str,
    body: str,
    *,
    cc: list[str] | None = None,
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = stack.support
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="customer.example")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message


def account_body(stack: MailStack, address: str, **more: Any) -> dict[str, Any]:
    """A mail account on the test's GreenMail (plain IMAP and SMTP)."""
    return {
        "address": address,
        "display_name": "Billing",
        "imap_host": stack.mail.host,
        "imap_port": stack.mail.imap_port,
        "imap_tls": "none",
        "imap_user": address,
        "smtp_host": stack.mail.host,
        "smtp_port": stack.mail.smtp_port,
        "smtp_tls": "none",
        **more,
    }


def send_raw(stack: MailStack, raw: bytes, *, envelope_from: str) -> None:
    """Deliver raw bytes as they are (broken MIME, no From header, a delivery report)."""
    with smtplib.SMTP(stack.mail.host, stack.mail.smtp_port, timeout=10) as smtp:
        smtp.sendmail(envelope_from, [stack.support], raw)


async def eventually(
    probe: Callable[[], Any], *, timeout: float = 60.0, interval: float = 0.1
) -> Any:
    """Poll ``probe`` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s")
        await asyncio.sleep(interval)


async def tickets_of(client: httpx.AsyncClient, email: str) -> list[dict[str, Any]]:
    answer = await client.get(
        "/tickets", params={"requester_email": email, "view": "all", "include_merged": "true"}
    )
    answer.raise_for_status()
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


@contextlib.asynccontextmanager
async def mail_account(stack: MailStack, body: dict[str, Any]) -> AsyncIterator[str]:
    """An email account made through the gateway's API, its inbox watched (connected), and
    deleted when the block ends; yields its id."""
    async with stack.manager() as client:
        created = await client.post("/accounts", json=body)
        assert created.status_code == 201, created.text
        account_id: str = created.json()["account_id"]

        async def connected() -> bool:
            status = await client.get(f"/accounts/{account_id}/status")
            return bool(status.json()["connected"])

        await eventually(connected)
        try:
            yield account_id
        finally:
            version = (await client.get(f"/accounts/{account_id}")).headers["ETag"]
            await client.delete(f"/accounts/{account_id}", headers={"If-Match": version})
