"""The mail gateway over TLS (issue #14), on a real GreenMail with SMTPS and IMAPS and a real
STARTTLS submission server.

Most providers accept only encrypted connections: an inbox on IMAPS (993-style, implicit TLS)
that sends by SMTPS (465-style) is watched, its mail becomes a ticket, and its replies go out;
the gateway checks the server's certificate (here a throwaway one it is told to trust through
``SSL_CERT_FILE``) and a gateway that does not trust it refuses the server - the connection test
says why.

SMTP's default mode is STARTTLS (587-style submission), which GreenMail does not offer: those
tests send through :mod:`helpdesk_devstack.submission`, an aiosmtpd server that requires
STARTTLS before AUTH and MAIL, requires the account's login and relays what it accepts into
GreenMail, where the customer's mailbox is read as in every other test. Its record of each
session shows the gateway encrypted before it logged in. A server that does not offer STARTTLS
(GreenMail's plain port) is refused, never used in plain text.

IMAP with STARTTLS (port 143 upgraded, Dovecot's and Exchange's way) has no GreenMail server
either: those tests read the inbox through :mod:`helpdesk_devstack.imap_starttls`, a front that
offers STARTTLS, refuses LOGIN before it and then relays to GreenMail's plain IMAP. Its record
shows which commands the gateway sent before TLS; the same front with ``plain`` offers no
STARTTLS and relays everything, so a test sees that the gateway refused it without a LOGIN, and
with a ``misbehaviour`` it is a hostile or broken server (a ``PREAUTH`` greeting, STARTTLS
answered ``NO``, plain text injected after STARTTLS's ``OK``) that the gateway refuses too.
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
from helpdesk_devstack.imap_starttls import ImapStartTlsFront, Misbehaviour
from helpdesk_devstack.procs import free_port
from helpdesk_devstack.pytest_plugin import (
    running_greenmail,
    running_imap_starttls_front,
    running_submission_server,
)
from helpdesk_devstack.submission import SubmissionServer
from helpdesk_devstack.tls import TlsFiles, make_local_certificate
from mail_gateway.adapters.imap import check_inbox
from mail_gateway.adapters.smtp import SmtpFailed, submit
from mail_gateway.domain.accounts import Account, AccountSecrets, AccountSettings

from .conftest import ServiceProcess
from .mail_stack import (
    MailStack,
    customer_mail,
    eventually,
    mail_account,
    mail_gateway_env,
    mail_stack_fixture,
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


SUBMISSION_LOGIN = "helpdesk-relay"
SUBMISSION_PASSWORD = "submission pw 41c2"  # what the STARTTLS server takes, and only that


@pytest.fixture(scope="module")
def submission(
    request: pytest.FixtureRequest, certificate: TlsFiles, tls_mail: MailServer
) -> Iterator[SubmissionServer]:
    with running_submission_server(
        request.config, tls=certificate, relay_to=tls_mail,
        login=SUBMISSION_LOGIN, password=SUBMISSION_PASSWORD,
    ) as server:  # fmt: skip
        yield server


def _trusting_the_certificate(request: pytest.FixtureRequest) -> dict[str, str]:
    """The gateway trusts the test's server (a throwaway certificate)."""
    certificate: TlsFiles = request.getfixturevalue("certificate")
    return {"SSL_CERT_FILE": str(certificate.certificate)}


stack = mail_stack_fixture(server="tls_mail", extra_env=_trusting_the_certificate)


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


def starttls_account(
    mail: MailServer,
    address: str,
    *,
    smtp_port: int,
    smtp_password: str = SUBMISSION_PASSWORD,
) -> dict[str, Any]:
    """An inbox on GreenMail's IMAPS that sends through a submission port with STARTTLS."""
    return {
        **tls_account(mail, address),
        "smtp_port": smtp_port,
        "smtp_tls": "starttls",
        "smtp_user": SUBMISSION_LOGIN,
        "secrets": {"imap_password": "secure-pw", "smtp_password": smtp_password},
    }


def replies_in_mailbox(mail: MailServer, customer: str, number: int) -> list[Any]:
    """What a person wrote to ``customer`` about ticket ``number`` (no acknowledgement)."""
    return [
        m
        for m in mailbox.messages(mail, customer)
        if f"[#{number}]" in str(m["Subject"]) and m["Auto-Submitted"] is None
    ]


async def a_customer_is_answered_through(
    stack: MailStack, body: dict[str, Any], *, subject: str, answer_text: str
) -> str:
    """The account's connection test passes; once watched, a customer's mail to it becomes a
    ticket whose agent reply (and acknowledgement) reach the customer from it. The customer."""
    address = body["address"]
    async with stack.manager() as client:
        checked = await client.post("/accounts/test", json=body)
    assert checked.status_code == 200, checked.text
    assert checked.json() == {"ok": True, "imap_error": None, "smtp_error": None}
    async with mail_account(stack, body):  # IMAPS logged in and IDLE
        sender = f"pelanggan-{uuid.uuid4().hex[:6]}@customer.example"
        message = customer_mail(stack, sender, subject, "Tolong dibantu.")
        message.replace_header("To", address)
        mailbox.send(stack.mail, message, to=[address])
        async with stack.tickets() as tickets:
            (ticket,) = await eventually(lambda: tickets_of(tickets, sender))
            reply = await tickets.post(
                f"/tickets/{ticket['id']}/messages", json={"body": f"<p>{answer_text}</p>"}
            )
            assert reply.status_code == 201, reply.text
        (answer,) = await eventually(
            lambda: asyncio.to_thread(replies_in_mailbox, stack.mail, sender, ticket["number"])
        )
    assert address in str(answer["From"])
    assert answer_text in answer.get_body(preferencelist=("plain",)).get_content()
    return sender


async def test_an_inbox_on_imaps_and_smtps_works_end_to_end(stack: MailStack) -> None:
    body = tls_account(stack.mail, f"secure-{uuid.uuid4().hex[:6]}@helpdesk.local")
    await a_customer_is_answered_through(
        stack, body, subject="Akses VPN", answer_text="Silakan pasang ulang klien VPN."
    )


async def test_an_inbox_sending_by_starttls_works_end_to_end(
    stack: MailStack, submission: SubmissionServer
) -> None:
    """SMTP's default mode on a server that requires it: the connection test passes, the
    acknowledgement and the agent's reply reach the customer through the STARTTLS server, and
    in every session it saw the gateway encrypted before it logged in and sent."""
    address = f"starttls-{uuid.uuid4().hex[:6]}@helpdesk.local"
    body = starttls_account(stack.mail, address, smtp_port=submission.port)
    sender = await a_customer_is_answered_through(
        stack, body, subject="Printer lantai 3", answer_text="Printer sudah diganti tonernya."
    )

    def both_relayed() -> list[dict[str, Any]]:
        """The acknowledgement's and the reply's records, once both are there."""
        relayed = [
            e for e in submission.events() if e["event"] == "message" and sender in e["rcpt_tos"]
        ]
        return relayed if len(relayed) >= 2 else []

    relayed = await eventually(both_relayed)
    assert len(relayed) == 2, relayed
    events = submission.events()
    for message_event in relayed:
        assert message_event["mail_from"] == address
        assert message_event["login"] == SUBMISSION_LOGIN
        session = [e for e in events if e["session"] == message_event["session"]]
        kinds = [e["event"] for e in session]
        assert kinds[0] == "starttls", session  # nothing before the upgrade but EHLO
        assert kinds.index("auth") > 0 and all(e["tls"] for e in session), session
        assert [e["accepted"] for e in session if e["event"] == "auth"] == [True]


async def test_a_wrong_smtp_password_is_reported_as_a_refused_login(
    stack: MailStack, submission: SubmissionServer
) -> None:
    wrong = "not the submission password"
    body = starttls_account(
        stack.mail, f"wrongpw-{uuid.uuid4().hex[:6]}@helpdesk.local",
        smtp_port=submission.port, smtp_password=wrong,
    )  # fmt: skip
    seen_before = len(submission.events())
    async with stack.manager() as client:
        checked = await client.post("/accounts/test", json=body)
    assert checked.status_code == 200, checked.text
    verdict = checked.json()
    assert verdict["ok"] is False and verdict["imap_error"] is None, verdict
    assert verdict["smtp_error"].startswith("the SMTP server refused the login (535"), verdict
    assert "user and password" in verdict["smtp_error"]
    assert wrong not in checked.text
    logins = [e for e in submission.events()[seen_before:] if e["event"] == "auth"]
    assert logins and all(e["tls"] and not e["accepted"] for e in logins), logins


async def test_a_server_without_starttls_is_refused_and_gets_nothing_in_plain_text(
    stack: MailStack,
) -> None:
    """GreenMail's plain SMTP port announces no STARTTLS. aiosmtplib's own ``start_tls=True``
    would refuse it too (with a bare ``SMTPException``); the gateway says what happened, and
    neither the connection test nor a real submission goes on in plain text."""
    mail = stack.mail
    address = f"plain-{uuid.uuid4().hex[:6]}@helpdesk.local"
    body = starttls_account(mail, address, smtp_port=mail.smtp_port)
    async with stack.manager() as client:
        checked = await client.post("/accounts/test", json=body)
    assert checked.status_code == 200, checked.text
    expected = f"the SMTP server {mail.host}:{mail.smtp_port} does not offer STARTTLS: refused"
    assert checked.json()["smtp_error"].startswith(expected), checked.json()

    customer = f"never-{uuid.uuid4().hex[:6]}@customer.example"
    settings = AccountSettings.model_validate({k: v for k, v in body.items() if k != "secrets"})
    account = Account(uuid.uuid4(), 0, settings, AccountSecrets.model_validate(body["secrets"]))
    message = customer_mail(stack, address, "Must not leave", "Never in plain text.")
    message.replace_header("To", customer)
    with pytest.raises(SmtpFailed, match="does not offer STARTTLS"):
        await submit(account, message, [customer])
    assert await asyncio.to_thread(mailbox.messages, mail, customer) == []


async def test_a_server_whose_certificate_is_not_trusted_is_refused(
    stack: MailStack,
    submission: SubmissionServer,
    make_database: Callable[[str], str],
    kafka_bootstrap: str,
    dev_keys: tuple[Path, Path],
    start_service: Callable[[str, list[str], dict[str, str]], ServiceProcess],
) -> None:
    """The same TLS servers to a gateway that was not told to trust their certificate: the
    connection test fails on IMAPS, SMTPS and SMTP with STARTTLS, and names the certificate."""
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
    address = f"secure-{uuid.uuid4().hex[:6]}@helpdesk.local"
    implicit = tls_account(stack.mail, address)
    starttls = starttls_account(stack.mail, address, smtp_port=submission.port)
    logins_before = [e for e in submission.events() if e["event"] == "auth"]
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=stack.headers("manager"), timeout=60
    ) as client:
        verdicts = [(await client.post("/accounts/test", json=b)) for b in (implicit, starttls)]
    for checked in verdicts:
        assert checked.status_code == 200, checked.text
        verdict = checked.json()
        assert verdict["ok"] is False
        for error in (verdict["imap_error"], verdict["smtp_error"]):
            assert error and "certificate" in error.lower(), verdict
    untrusted_starttls = verdicts[1].json()["smtp_error"]
    assert untrusted_starttls.startswith("the SMTP server's certificate is not trusted")
    # The handshake failed before any login: the STARTTLS server saw no AUTH.
    assert [e for e in submission.events() if e["event"] == "auth"] == logins_before


# --- IMAP STARTTLS ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def imap_starttls(
    request: pytest.FixtureRequest, certificate: TlsFiles, tls_mail: MailServer
) -> Iterator[ImapStartTlsFront]:
    with running_imap_starttls_front(request.config, tls=certificate, relay_to=tls_mail) as front:
        yield front


@pytest.fixture(scope="module")
def imap_without_starttls(
    request: pytest.FixtureRequest, certificate: TlsFiles, tls_mail: MailServer
) -> Iterator[ImapStartTlsFront]:
    """GreenMail's plain IMAP behind a front that records what the client sent."""
    with running_imap_starttls_front(
        request.config, tls=certificate, relay_to=tls_mail, plain=True
    ) as front:
        yield front


def imap_starttls_account(mail: MailServer, address: str, host: str, port: int) -> dict[str, Any]:
    """An inbox read with STARTTLS on ``host:port`` that sends by GreenMail's SMTPS."""
    return {**tls_account(mail, address), "imap_host": host, "imap_port": port,
            "imap_tls": "starttls"}  # fmt: skip


def commands_before_tls(front: ImapStartTlsFront, since: int) -> list[str]:
    """The commands the front saw in plain text in the sessions after its first ``since``
    events."""
    return [e["command"] for e in front.events()[since:] if e["event"] == "command"]


async def sessions_over(front: ImapStartTlsFront, since: int) -> list[dict[str, Any]]:
    """The front's events after its first ``since``, once every session among them has closed
    (what a client sends after a refusal comes a moment after the refusal is reported)."""

    def all_closed() -> list[dict[str, Any]]:
        events = front.events()[since:]
        closed = {e["session"] for e in events if e["event"] == "closed"}
        return events if closed and closed == {e["session"] for e in events} else []

    events: list[dict[str, Any]] = await eventually(all_closed)
    return events


async def test_an_inbox_read_with_imap_starttls_works_end_to_end(
    stack: MailStack, imap_starttls: ImapStartTlsFront
) -> None:
    """The connection test passes through the STARTTLS front; a customer's mail delivered to
    GreenMail becomes a ticket through it and is answered; in every session the gateway said
    only CAPABILITY and STARTTLS in plain text and logged in over TLS."""
    seen_before = len(imap_starttls.events())
    address = f"imapstarttls-{uuid.uuid4().hex[:6]}@helpdesk.local"
    body = imap_starttls_account(stack.mail, address, imap_starttls.host, imap_starttls.port)
    await a_customer_is_answered_through(
        stack, body, subject="Surel lewat STARTTLS", answer_text="Kotak masuk sudah dibaca."
    )
    events = imap_starttls.events()[seen_before:]
    sessions = {e["session"] for e in events}
    assert len(sessions) >= 2, events  # the connection test's and the watcher's
    upgraded = {e["session"] for e in events if e["event"] == "tls"}
    assert upgraded == sessions, events
    assert set(commands_before_tls(imap_starttls, seen_before)) == {"CAPABILITY", "STARTTLS"}
    assert all(e["answer"] != "refused" for e in events if e["event"] == "command"), events


async def test_an_imap_server_without_starttls_is_refused_before_any_login(
    stack: MailStack, imap_without_starttls: ImapStartTlsFront
) -> None:
    """GreenMail's plain IMAP offers no STARTTLS: the connection test says so (directly and
    through the recording front), a saved account's watcher never connects, and the front saw
    no LOGIN: the password never went out in plain text."""
    mail = stack.mail
    plain = imap_without_starttls
    seen_before = len(plain.events())
    address = f"imapplain-{uuid.uuid4().hex[:6]}@helpdesk.local"
    direct = imap_starttls_account(mail, address, mail.host, mail.imap_port)
    recorded = imap_starttls_account(mail, address, plain.host, plain.port)
    async with stack.manager() as client:
        verdicts = [
            (await client.post("/accounts/test", json=b)).json() for b in (direct, recorded)
        ]
        for verdict, port in zip(verdicts, (mail.imap_port, plain.port), strict=True):
            assert verdict["ok"] is False and verdict["smtp_error"] is None, verdict
            expected = f"the IMAP server {mail.host}:{port} does not offer STARTTLS: refused"
            assert expected in verdict["imap_error"], verdict
            assert "secure-pw" not in str(verdict)

        created = await client.post("/accounts", json=recorded)
        assert created.status_code == 201, created.text
        account_id = created.json()["account_id"]

        async def refused() -> dict[str, Any] | None:
            status = (await client.get(f"/accounts/{account_id}/status")).json()
            return status if "does not offer STARTTLS" in (status["last_error"] or "") else None

        try:
            status = await eventually(refused)
            assert status["connected"] is False, status
        finally:
            version = (await client.get(f"/accounts/{account_id}")).headers["ETag"]
            await client.delete(f"/accounts/{account_id}", headers={"If-Match": version})
    commands = commands_before_tls(plain, seen_before)
    assert "CAPABILITY" in commands and "LOGIN" not in commands and "AUTHENTICATE" not in commands
    assert not any(e["tls"] for e in plain.events()[seen_before:])


async def test_an_imap_starttls_server_whose_certificate_is_not_trusted_is_refused(
    stack: MailStack, imap_starttls: ImapStartTlsFront, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same front to the gateway's IMAP adapter in a process not told to trust its
    certificate: the upgrade fails, the check names the certificate and no LOGIN was sent."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    seen_before = len(imap_starttls.events())
    body = imap_starttls_account(
        stack.mail, f"untrusted-{uuid.uuid4().hex[:6]}@helpdesk.local",
        imap_starttls.host, imap_starttls.port,
    )  # fmt: skip
    settings = AccountSettings.model_validate({k: v for k, v in body.items() if k != "secrets"})
    account = Account(uuid.uuid4(), 0, settings, AccountSecrets.model_validate(body["secrets"]))
    error = await check_inbox(account)
    assert error is not None and "the IMAP server's certificate is not trusted" in error, error

    events = await sessions_over(imap_starttls, seen_before)  # the client's alert comes later
    outcomes = [e["event"] for e in events if e["event"] != "command"]
    assert outcomes == ["handshake_failed", "closed"], events
    assert commands_before_tls(imap_starttls, seen_before) == ["CAPABILITY", "STARTTLS"]


@pytest.mark.parametrize(
    ("misbehaviour", "reason", "said_before_refusal"),
    [
        (
            Misbehaviour.PREAUTH,
            "greeted as already logged in (PREAUTH) before STARTTLS: refused",
            ["CAPABILITY"],
        ),
        (
            Misbehaviour.REFUSE_STARTTLS,
            "answered STARTTLS with NO: refused",
            ["CAPABILITY", "STARTTLS"],
        ),
        (
            Misbehaviour.INJECT_AFTER_OK,
            "sent data after its STARTTLS answer in plain text: refused",
            ["CAPABILITY", "STARTTLS"],
        ),
        (
            Misbehaviour.INJECT_PARTIAL_AFTER_OK,
            "sent data after its STARTTLS answer in plain text: refused",
            ["CAPABILITY", "STARTTLS"],
        ),
    ],
)
async def test_a_misbehaving_imap_starttls_server_is_refused_before_any_login(
    stack: MailStack,
    request: pytest.FixtureRequest,
    certificate: TlsFiles,
    tls_mail: MailServer,
    misbehaviour: Misbehaviour,
    reason: str,
    said_before_refusal: list[str],
) -> None:
    """A server that greets ``PREAUTH``, answers STARTTLS ``NO`` or injects plain text after
    its ``OK`` (a whole line or the start of one): the connection test names why it refused,
    the front never got to TLS, and the gateway sent no LOGIN or AUTHENTICATE: nothing at all
    after the refusal, it closed the connection (not even a LOGOUT)."""
    with running_imap_starttls_front(
        request.config, tls=certificate, relay_to=tls_mail, misbehaviour=misbehaviour
    ) as front:
        body = imap_starttls_account(
            stack.mail, f"{misbehaviour}-{uuid.uuid4().hex[:6]}@helpdesk.local",
            front.host, front.port,
        )  # fmt: skip
        async with stack.manager() as client:
            checked = await client.post("/accounts/test", json=body)
        assert checked.status_code == 200, checked.text
        verdict = checked.json()
        assert verdict["ok"] is False and verdict["smtp_error"] is None, verdict
        expected = f"the IMAP server {front.host}:{front.port} {reason}"
        assert expected in verdict["imap_error"], verdict
        assert "secure-pw" not in checked.text
        events = await sessions_over(front, 0)
    assert len({e["session"] for e in events}) == 1, events
    assert not any(e["tls"] or e["event"] == "tls" for e in events), events
    assert [e["command"] for e in events if e["event"] == "command"] == said_before_refusal, events


async def test_a_connection_that_fails_after_tls_is_closed_at_once(
    stack: MailStack, imap_starttls: ImapStartTlsFront
) -> None:
    """A folder that does not exist: the upgrade and the login work, SELECT fails. The
    connection test names the folder's refusal, and the connection is closed then and there,
    not left open until the client happens to be collected."""
    seen_before = len(imap_starttls.events())
    body = imap_starttls_account(
        stack.mail, f"nofolder-{uuid.uuid4().hex[:6]}@helpdesk.local",
        imap_starttls.host, imap_starttls.port,
    ) | {"imap_folder": "NoSuchFolder"}  # fmt: skip
    async with stack.manager() as client:
        checked = await client.post("/accounts/test", json=body)
    assert checked.status_code == 200, checked.text
    verdict = checked.json()
    assert verdict["ok"] is False and verdict["imap_error"].startswith("ImapError: SELECT: NO")
    events = await sessions_over(imap_starttls, seen_before)
    assert [e["event"] for e in events if e["event"] in ("tls", "closed")] == ["tls", "closed"]


async def test_a_dropped_connection_is_noticed_at_once_and_mail_keeps_coming(
    stack: MailStack, request: pytest.FixtureRequest, certificate: TlsFiles, tls_mail: MailServer
) -> None:
    """The server drops the gateway's connection in the middle of IDLE, without a BYE (a crash,
    a restart; GreenMail's own issue #343 under load). The watcher notices at once and
    reconnects within a few seconds (without waiting for a LOGOUT nobody can answer), and a mail
    delivered right after becomes a ticket within seconds - not when the 25-minute IDLE would
    have run out, as aioimaplib alone would have it."""
    with running_imap_starttls_front(request.config, tls=certificate, relay_to=tls_mail) as front:
        address = f"dropped-{uuid.uuid4().hex[:6]}@helpdesk.local"
        body = imap_starttls_account(stack.mail, address, front.host, front.port)
        async with mail_account(stack, body) as account_id, stack.manager() as client:

            async def status() -> dict[str, Any]:
                answer = await client.get(f"/accounts/{account_id}/status")
                return answer.json()  # type: ignore[no-any-return]

            await eventually(lambda: _when(status(), lambda s: s["state"] == "idle"))
            front.drop_connections()
            back = await eventually(
                lambda: _when(status(), lambda s: s["reconnects"] >= 1 and s["state"] == "idle"),
                timeout=4,
            )
            assert back["connected"] is True, back
            sender = f"pelanggan-{uuid.uuid4().hex[:6]}@customer.example"
            message = customer_mail(stack, sender, "Setelah putus", "Masih sampai?")
            message.replace_header("To", address)
            mailbox.send(stack.mail, message, to=[address])
            async with stack.tickets() as tickets:
                (ticket,) = await eventually(lambda: tickets_of(tickets, sender), timeout=10)
        assert ticket["subject"] == "Setelah putus"
        dropped = [e for e in front.events() if e["event"] == "dropped"]
        assert dropped and all(e["tls"] for e in dropped), dropped


async def _when(probe: Any, accept: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    found: dict[str, Any] = await probe
    return found if accept(found) else None
