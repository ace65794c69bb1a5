"""The admin console's screens over the other services, in Chromium through the real gateway as a
manager: webhooks (the real notification service: add one, its secret shown once and verifying
the real deliveries a local receiver gets, rotate it, redeliver, delete). Each step checks the
API's state; axe-core on every screen."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from standardwebhooks import Webhook

from tests.integration.conftest import ServiceProcess

from .conftest import Stack, assert_accessible, screenshot
from .test_admin_console import eventually, get, open_section

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
