"""The ticket page live, in Chromium through the real gateway and the real notification
service: two agents (two browser contexts, each signed in through the form) on one ticket see
each other viewing, then replying, then leaving (the collision warning); a change made through
the API by someone else shows on an open ticket page at once, without a reload. axe-core on
each new state."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.integration.conftest import ServiceProcess

from .conftest import AuthCalls, Stack, assert_accessible, new_ticket, screenshot, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

COLLEAGUE = ("dewi.live@helpdesk.example", "Dewi Lestari", "a kettle singing on the stove")
# Live means faster than the page's 15 s refetch: the feed's `changed` message, not a poll.
LIVE = 8_000


@pytest.fixture(scope="module")
def colleague(ticket_stack: Stack) -> tuple[str, str]:
    """A second staff account with a password, made as an operator makes one (the gateway's
    ``bootstrap-manager``); (email, password)."""
    email, name, password = COLLEAGUE
    env = os.environ | ticket_stack.gateway_env
    env |= {
        "HELPDESK_BOOTSTRAP_MANAGER_EMAIL": email,
        "HELPDESK_BOOTSTRAP_MANAGER_NAME": name,
        "HELPDESK_BOOTSTRAP_MANAGER_PASSWORD": password,
    }
    made = subprocess.run(
        [sys.executable, "-m", "api_gateway", "bootstrap-manager"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    return email, password


def _presence(page: Page) -> Any:
    return page.get_by_role("status", name="Other agents on this ticket")


def test_two_agents_see_each_other_viewing_replying_and_leaving(
    notification_service: ServiceProcess,
    agent_page: tuple[Page, AuthCalls],
    new_page: Callable[..., Page],
    colleague: tuple[str, str],
    ticket_stack: Stack,
    portal_url: str,
) -> None:
    sari, _ = agent_page
    with ticket_stack.client("manager") as api:
        ticket = new_ticket(api, "Invoice PDF is blank", priority="Low")
    url = f"{portal_url}/agent/tickets/{ticket['id']}"
    dewi = new_page()
    dewi.goto(f"{portal_url}/agent/")
    sign_in(dewi, *colleague)

    sari.goto(url)
    dewi.goto(url)
    expect(_presence(sari)).to_have_text("Dewi Lestari is viewing this ticket")
    expect(_presence(dewi)).to_have_text("Sari Wulandari is viewing this ticket")
    assert_accessible(sari, "ticket with another agent viewing")

    # Dewi starts a reply (keyboard only: Tab into the editor, type): Sari is warned.
    editor = dewi.get_by_role("textbox", name="Reply to the customer")
    editor.focus()
    dewi.keyboard.type("Checking the PDF renderer")
    expect(_presence(sari)).to_contain_text("Dewi Lestari is writing a reply")
    expect(_presence(sari)).to_contain_text("Someone else is replying: check before you send.")
    expect(_presence(dewi)).to_have_text("Sari Wulandari is viewing this ticket")
    assert_accessible(sari, "ticket with another agent replying")
    screenshot(sari, "16-collision-warning")

    # Dewi goes back to the list: she disappears from Sari's page at once (not after 30 s).
    dewi.get_by_role("link", name="Back to the list").first.click()
    expect(dewi).to_have_url(re.compile(r"/agent/?$"))
    expect(_presence(sari)).to_have_text("", timeout=LIVE)


def test_a_change_by_someone_else_shows_on_the_open_ticket_without_reload(
    notification_service: ServiceProcess,
    agent_page: tuple[Page, AuthCalls],
    ticket_stack: Stack,
    portal_url: str,
) -> None:
    page, _ = agent_page
    with ticket_stack.client("manager") as api:
        ticket = new_ticket(api, "Scanner on floor 3 is offline", priority="Low")
    page.goto(f"{portal_url}/agent/tickets/{ticket['id']}")
    fields = page.get_by_role("region", name="Ticket fields")
    priority = fields.get_by_role("combobox", name="Priority", exact=True)
    expect(priority).to_have_value("Low")
    # The page follows the ticket's feed once its presence has reached the service.
    expect(_presence(page)).to_have_count(1)
    time.sleep(1)

    with ticket_stack.client("manager") as api:
        changed = api.patch(
            f"/tickets/{ticket['id']}",
            json={"priority": "Urgent", "add_tags": ["scanner"]},
            headers={"If-Match": f'"{ticket["version"]}"'},
        )
        assert changed.status_code == 200, changed.text
        started = time.monotonic()
        expect(priority).to_have_value("Urgent", timeout=LIVE)
        shown = time.monotonic() - started
        # A change that notifies nobody (an internal note by someone not involved) too.
        noted = api.post(
            f"/tickets/{ticket['id']}/messages",
            json={"body": "Vendor says firmware 2.1 fixes it.", "visibility": "internal"},
        )
        assert noted.status_code in (200, 201), noted.text
        started = time.monotonic()
        expect(page.get_by_role("article", name=re.compile("^Internal note from"))).to_contain_text(
            "Vendor says firmware 2.1 fixes it.", timeout=LIVE
        )
        note_shown = time.monotonic() - started
    print(f"live refresh: priority {shown:.2f} s, internal note {note_shown:.2f} s")
    assert_accessible(page, "ticket refreshed live")
