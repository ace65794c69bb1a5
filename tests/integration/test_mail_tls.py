"""The mail gateway over TLS (issue #14), on a real GreenMail with SMTPS and IMAPS.

Most providers accept only encrypted connections: an inbox on IMAPS (993-style, implicit TLS)
that sends by SMTPS (465-style) is watched, its mail becomes a ticket, and its replies go out;
the gateway checks the server's certificate (here a throwaway one it is told to trust through
``SSL_CERT_FILE``) and a gateway that does not trust it refuses the server - the connection test
says why. GreenMail offers no STARTTLS on SMTP (its EHLO does not announce it), so STARTTLS,
which aiosmtplib does with the same certificate checks, is not exercised here.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpdesk_devstack import mailbox
from helpdesk_devstack.greenmail import MailServer
from helpdesk_devstack.procs import free_port
from helpdesk_devstack.pytest_plugin import running_greenmail
from helpdesk_devstack.tls import TlsFiles, make_local_certificate

from .conftest import ServiceProcess
from .mail_stack import (
    MailStack,
    customer_mail,
    eventually,
    mail_account,
    mail_gateway_env,
    start_mail_stack,
    tickets_of,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_local_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_mail(request: pytest.FixtureRequest, certificate: TlsFiles) -> Iterator[MailServer]:
    with running_greenmail(request.config, tls=certificate) as server:
        yield server


@pytest.fixture(scope="module")
def stack(
    make_database: Callable[[str], str],
    kafka_bootstrap: str,
    tls_mail: MailServer,
    certificate: TlsFiles,
    dev_keys: tuple[Path, Path],
    start_module_service: Callable[[str, list[str], dict[str, str]], ServiceProcess],
) -> MailStack:
    return start_mail_stack(
        make_database=make_database,
        kafka_bootstrap=kafka_bootstrap,
        mail_server=tls_mail,
        dev_keys=dev_keys,
        start_service=start_module_service,
        support=f"support-{uuid.uuid4().hex[:6]}@helpdesk.local",
        extra_env={"SSL_CERT_FILE": str(certificate.certificate)},  # trust the test's server
    )


def tls_account(mail: MailServer, address: str) -> dict[str, Any]:
    return {
        "address": address,
        "display_name": "Secure support",
        "imap_host": mail.host,
        "imap_port": mail.imaps_port,
        "imap_tls": "ssl",
        "imap_user": address,
        "smtp_host": mail.host,
        "smtp_port": mail.smtps_port,
        "smtp_tls": "ssl",
        "secrets": {"imap_password": "secure-pw"},
    }


async def test_an_inbox_on_imaps_and_smtps_works_end_to_end(stack: MailStack) -> None:
    address = f"secure-{uuid.uuid4().hex[:6]}@helpdesk.local"
    body = tls_account(stack.mail, address)
    async with stack.manager() as client:
        checked = await client.post("/accounts/test", json=body)
    assert checked.status_code == 200, checked.text
    assert checked.json() == {"ok": True, "imap_error": None, "smtp_error": None}
    async with mail_account(stack, body):  # IMAPS logged in and IDLE
        sender = f"dewi-{uuid.uuid4().hex[:6]}@customer.example"
        message = customer_mail(stack, sender, "Akses VPN", "VPN tidak tersambung.")
        message.replace_header("To", address)
        mailbox.send(stack.mail, message, to=[address])
        async with stack.tickets() as tickets:
            (ticket,) = await eventually(lambda: tickets_of(tickets, sender))
            reply = await tickets.post(
                f"/tickets/{ticket['id']}/messages",
                json={"body": "<p>Silakan pasang ulang klien VPN.</p>"},
            )
            assert reply.status_code == 201, reply.text

        def answered() -> list[Any]:
            return [
                m
                for m in mailbox.messages(stack.mail, sender)
                if f"[#{ticket['number']}]" in str(m["Subject"]) and m["Auto-Submitted"] is None
            ]

        # The agent's reply went out by SMTPS, from the inbox (as did the acknowledgement).
        (answer,) = await eventually(lambda: asyncio.to_thread(answered))
    assert address in str(answer["From"])
    text = answer.get_body(preferencelist=("plain",)).get_content()
    assert "Silakan pasang ulang klien VPN." in text


async def test_a_server_whose_certificate_is_not_trusted_is_refused(
    stack: MailStack,
    make_database: Callable[[str], str],
    kafka_bootstrap: str,
    dev_keys: tuple[Path, Path],
    start_service: Callable[[str, list[str], dict[str, str]], ServiceProcess],
) -> None:
    """The same TLS server to a gateway that was not told to trust its certificate: the
    connection test fails on both protocols and names the certificate check."""
    port = free_port()
    env = mail_gateway_env(
        database_url=make_database("mailuntrusted"),
        kafka_bootstrap=kafka_bootstrap,
        ticket_url=stack.tickets_url,
        dev_keys=dev_keys,
        port=port,
        mail_server=stack.mail,
    )
    untrusting = start_service("mail-gateway-untrusting", ["-m", "mail_gateway", "serve"], env)
    untrusting.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=90)
    body = tls_account(stack.mail, f"secure-{uuid.uuid4().hex[:6]}@helpdesk.local")
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=stack.headers("manager"), timeout=60
    ) as client:
        checked = await client.post("/accounts/test", json=body)
    assert checked.status_code == 200, checked.text
    verdict = checked.json()
    assert verdict["ok"] is False
    for error in (verdict["imap_error"], verdict["smtp_error"]):
        assert error and "certificate" in error.lower(), verdict
