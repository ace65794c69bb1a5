"""The admin console's screens over the other services, in Chromium through the real gateway as a
manager: webhooks (the real notification service: add one, its secret shown once and verifying
the real deliveries a local receiver gets, rotate it, redeliver, delete) and email accounts (the
real mail gateway on the session's GreenMail: a connection test that fails and one that works,
add the inbox with its team, signature, archive folder and acknowledgement off, then release and
discard mail it quarantined). Each step checks the API's state; axe-core on every screen."""

from __future__ import annotations

import json
import re
import smtplib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from standardwebhooks import Webhook

from tests.integration.conftest import ServiceProcess, free_port

from .conftest import Stack, assert_accessible, screenshot, solve
from .test_admin_console import eventually, get, open_section, pick

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver on loopback: what a manager's integration would be."""

    url: str
    received: list[Received] = field(default_factory=list)

    def about(self, ticket_id: str) -> list[Received]:
        return [r for r in list(self.received) if ticket_id.encode() in r.body]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    deliveries: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            deliveries.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks", deliveries)
    finally:
        server.shutdown()
        server.server_close()


def test_a_manager_manages_webhooks(
    agent_page: tuple[Page, Any],
    ticket_stack: Stack,
    notification_service: ServiceProcess,
    receiver: Receiver,
) -> None:
    page, _ = agent_page
    api = ticket_stack.client("manager")
    marker = uuid.uuid4().hex[:6]
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Admin").click()
    open_section(page, "Webhooks")
    expect(page.get_by_role("heading", name="Add a webhook")).to_be_visible()

    # Add: URL, event types (TicketCreated is the default), a description
    page.get_by_label(re.compile(r"^Receiver URL")).fill(receiver.url)
    page.get_by_label("Description").fill(f"CRM sync {marker}")
    page.get_by_role("button", name="Add webhook").click()
    secret = page.get_by_test_id("webhook-secret").inner_text()
    assert secret.startswith("whsec_")
    made = eventually(
        lambda: [w for w in get(api, "/webhooks") if w["description"] == f"CRM sync {marker}"],
        lambda found: len(found) == 1,
    )[0]
    assert made["url"] == receiver.url and made["event_types"] == ["TicketCreated"]
    assert "secret" not in made  # shown once, never listed
    assert_accessible(page, "admin webhooks")

    # A ticket made now reaches the receiver, signed with the secret the screen showed
    created = api.post(
        "/tickets",
        json={"subject": f"Webhook check {marker}", "priority": "High"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert created.status_code == 201, created.text
    ticket_id = created.json()["id"]
    first = eventually(lambda: receiver.about(ticket_id), bool, timeout=60)[0]
    Webhook(secret).verify(first.body, first.headers)
    assert json.loads(first.body)["event_type"] == "TicketCreated"

    card = page.get_by_test_id("webhook-card").filter(has_text=f"CRM sync {marker}")
    card.get_by_role("button", name="Recent deliveries").click()
    row = card.get_by_test_id("delivery-row").filter(has_text="TicketCreated").first
    expect(row).to_contain_text("Delivered")
    assert_accessible(page, "admin webhook deliveries")

    # Rotate: a new secret, shown once; the old one still signs for the overlap
    card.get_by_role("button", name="Rotate secret").click()
    expect(page.get_by_test_id("webhook-secret")).not_to_have_text(secret)
    rotated = page.get_by_test_id("webhook-secret").inner_text()
    assert rotated.startswith("whsec_") and rotated != secret
    eventually(
        lambda: get(api, f"/webhooks/{made['id']}"),
        lambda w: w["previous_secret_expires_at"] is not None,
    )

    # Redeliver: the same webhook-id again, signed with the new secret
    row.get_by_role("button", name="Redeliver TicketCreated").click()
    again = eventually(lambda: receiver.about(ticket_id)[1:], bool, timeout=60)[0]
    assert again.headers["webhook-id"] == first.headers["webhook-id"]
    Webhook(rotated).verify(again.body, again.headers)
    screenshot(page, "admin-webhooks")

    # Delete
    card.get_by_role("button", name=f"Delete the webhook to {receiver.url}").click()
    expect(card).to_have_count(0)
    assert api.get(f"/webhooks/{made['id']}").status_code == 404
    solve(api, ticket_id)


def fill_server(page: Page, server: str, host: str, port: int) -> None:
    page.get_by_label(re.compile(rf"^{server} server")).fill(host)
    page.get_by_label(re.compile(rf"^{server} port")).fill(str(port))
    pick(page, page.locator("form"), f"{server} security", "None (local servers only)")


def test_a_manager_adds_an_inbox_and_settles_its_quarantine(
    agent_page: tuple[Page, Any],
    ticket_stack: Stack,
    mail_gateway: ServiceProcess,
) -> None:
    page, _ = agent_page
    api = ticket_stack.client("manager")
    mail = ticket_stack.mail
    address = f"help-{uuid.uuid4().hex[:6]}@helpdesk.local"
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Admin").click()
    open_section(page, "Email accounts")
    expect(page.get_by_role("heading", name="Add an inbox")).to_be_visible()

    page.get_by_label(re.compile(r"^Address")).fill(address)
    fill_server(page, "IMAP", mail.host, free_port())  # nothing listens there
    page.get_by_label(re.compile(r"^IMAP password")).fill("inbox password")
    fill_server(page, "SMTP", mail.host, mail.smtp_port)
    pick(page, page.locator("form"), "Team", "Support L1")
    page.get_by_label("Signature").fill("Salam, Tim Support")
    page.get_by_role("switch", name="Acknowledge new tickets").uncheck()
    page.get_by_label(re.compile(r"^Move handled mail to folder")).fill("Diproses")

    # The connection test: the IMAP port is wrong, SMTP answers; then both work
    page.get_by_role("button", name="Test connection").click()
    failed = page.get_by_role("alert").filter(has_text="Connection failed")
    expect(failed).to_contain_text("IMAP:")
    expect(failed).not_to_contain_text("SMTP:")
    assert "inbox password" not in failed.inner_text()
    page.get_by_label(re.compile(r"^IMAP port")).fill(str(mail.imap_port))
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("status").filter(has_text="Connection works")).to_be_visible()
    assert get(api, "/mail/accounts") == []  # a test stores nothing
    body = {"address": address, "imap_host": mail.host, "imap_user": address,
            "smtp_host": mail.host}  # fmt: skip
    assert api.post("/mail/accounts/test", json=body).status_code == 422  # no password
    with ticket_stack.client("agent") as agent:  # managers only
        secrets = {"secrets": {"imap_password": "x"}}
        assert agent.post("/mail/accounts/test", json=body | secrets).status_code == 403
    assert_accessible(page, "admin email accounts")

    page.get_by_role("button", name="Add inbox").click()
    accounts = eventually(lambda: get(api, "/mail/accounts"), lambda found: len(found) == 1)
    added = accounts[0]
    assert added["address"] == address and added["team_id"] == ticket_stack.team_id
    assert added["signature"] == "Salam, Tim Support" and added["acknowledge"] is False
    assert added["archive_folder"] == "Diproses"
    assert "secrets" not in added and "inbox password" not in json.dumps(added)
    row = page.get_by_test_id("inbox-row").filter(has_text=address)
    expect(row).to_contain_text("Support L1")
    expect(row).to_contain_text("Moved to Diproses")
    expect(row).to_contain_text("Connected")

    # Two mails the gateway cannot make tickets of as they are: both are quarantined
    subject = f"Anonymous {uuid.uuid4().hex[:6]}"
    broken = f"broken-{uuid.uuid4().hex[:6]}@customer.example"
    raws = {
        "nobody@customer.example": f"To: {address}\r\nSubject: {subject}\r\n\r\nWho am I?\r\n",
        broken: (
            f"From: {broken}\r\nTo: {address}\r\nSubject: Broken {broken}\r\n"
            "MIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="never-used"\r\n\r\nNo boundary.\r\n'
        ),
    }
    with smtplib.SMTP(mail.host, mail.smtp_port, timeout=10) as smtp:
        for sender, raw in raws.items():
            smtp.sendmail(sender, [address], raw.encode())
    held = page.get_by_test_id("quarantine-row")
    expect(held.filter(has_text=subject)).to_be_visible(timeout=60_000)
    expect(held.filter(has_text=broken)).to_be_visible(timeout=60_000)
    assert_accessible(page, "admin quarantine")
    page.get_by_role("heading", name="Inboxes").evaluate("heading => heading.scrollIntoView()")
    screenshot(page, "admin-email")

    page.get_by_role("button", name=f"Discard {subject}").click()
    page.get_by_role("button", name=f"Release Broken {broken}").click()
    expect(held.filter(has_text=subject)).to_have_count(0)
    expect(held.filter(has_text=broken)).to_have_count(0)
    discarded = [q["subject"] for q in get(api, "/mail/quarantine", state="discarded")]
    released = [q["subject"] for q in get(api, "/mail/quarantine", state="released")]
    assert subject in discarded and f"Broken {broken}" in released
    tickets = eventually(
        lambda: get(api, "/tickets", q=broken, view="all")["items"], lambda found: len(found) == 1
    )
    assert tickets[0]["team_id"] == ticket_stack.team_id  # the inbox's team
    solve(api, tickets[0]["id"])
