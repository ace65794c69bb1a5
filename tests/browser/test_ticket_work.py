"""Browser tests of the agent's working tools: the SLA timers on the ticket page (from a real SLA
worker, through the gateway's ``/api/sla/tickets`` route), the notification bell over the real
notification service's Server-Sent Events with the live refresh of the ticket on screen, and the
customer's satisfaction rating; axe-core on each new panel.

The SLA worker is started for this module only (the notification service by conftest, when
first needed), on the ports the session's gateway already routes those services to: the earlier
modules' list tests rely on SLA events they publish themselves.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from helpdesk_devstack.tokens import mint_token
from helpdesk_devstack.worker_process import WorkerProcess
from tests.integration.conftest import ServiceProcess

from .conftest import AuthCalls, Stack, assert_accessible, screenshot

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


def _customer(stack: Stack, email: str, name: str) -> httpx.Client:
    token = mint_token(
        stack.private_key, "customer", f"c-{email}", timedelta(minutes=30), name, email=email
    )
    return httpx.Client(
        base_url=stack.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _open_ticket(customer: httpx.Client, subject: str, description: str) -> dict[str, Any]:
    """A ticket the customer opens themself (as in the customer portal)."""
    made = customer.post(
        "/tickets",
        json={"subject": subject, "description": description},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert made.status_code == 201, made.text
    ticket: dict[str, Any] = made.json()
    return ticket


def _until(check: Callable[[], Any], what: str, within: float = 90) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _sla(api: httpx.Client, ticket_id: str) -> dict[str, Any] | None:
    answer = api.get(f"/sla/tickets/{ticket_id}/sla")
    return answer.json() if answer.status_code == 200 else None


def test_sla_timers_on_the_ticket_page(
    agent_page: tuple[Page, AuthCalls],
    ticket_stack: Stack,
    portal_url: str,
    sla_worker: WorkerProcess,
) -> None:
    page, _ = agent_page
    with ticket_stack.client("agent") as api:
        created = api.post(
            "/tickets",
            json={
                "subject": "Invoice portal shows error 500",
                "description": "Since the update this morning.",
                "requester": {"email": "rina@example.co.id", "name": "Rina"},
                "channel": "email",
                "priority": "Urgent",
            },
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert created.status_code == 201, created.text
        ticket_id = created.json()["id"]
        # Through the gateway's new route, as the page reads it.
        sla = _until(lambda: _sla(api, ticket_id), "the SLA worker to track the ticket")
        # Bad input is a clear 4xx through the gateway; no SLA is a 404 the panel explains.
        assert api.get(f"/sla/tickets/{uuid.uuid4()}/sla").status_code == 404
        assert api.get("/sla/tickets/not-a-uuid/sla").status_code == 422
    assert sla["metrics"]["first_response"]["state"] == "running"

    page.goto(f"{portal_url}/agent/tickets/{ticket_id}")
    timers = page.get_by_role("region", name="SLA times")
    first = timers.locator('[data-metric="first_response"]')
    expect(first).to_contain_text("First response")
    expect(first).to_have_attribute("data-state", "running")
    expect(first).to_contain_text("of business time left")
    expect(first.locator("time")).to_have_attribute(
        "datetime", sla["metrics"]["first_response"]["due_at"]
    )
    expect(timers.locator('[data-metric="resolution"]')).to_contain_text("Resolution")
    expect(timers).to_contain_text(f"Policy: {sla['policy']}")
    assert_accessible(page, "ticket page with SLA timers")
    screenshot(page, "03-ticket-page-sla")

    # The agent's public reply meets the first response: the timer says so.
    page.get_by_label("Reply to the customer").fill("We are looking into it.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("article", name="Public message from Sari Wulandari")).to_contain_text(
        "We are looking into it."
    )
    with ticket_stack.client("agent") as api:
        _until(
            lambda: (
                (_sla(api, ticket_id) or {})
                .get("metrics", {})
                .get("first_response", {})
                .get("state")
                == "met"
            ),
            "the first response to be met",
        )
    page.reload()
    expect(first).to_have_attribute("data-state", "met")
    expect(first).to_contain_text("Met")
    assert_accessible(page, "ticket page with a met SLA")

    # Bahasa Indonesia: the panel follows the language.
    page.get_by_role("combobox", name="Language", exact=True).click()
    page.get_by_role("option", name="Bahasa Indonesia", exact=True).click()
    expect(page.get_by_role("region", name="Waktu SLA")).to_contain_text("Respons pertama")


def test_the_customers_rating_on_the_ticket_page(
    agent_page: tuple[Page, AuthCalls], ticket_stack: Stack, portal_url: str
) -> None:
    page, _ = agent_page
    email = f"rater-{uuid.uuid4().hex[:8]}@example.co.id"
    with _customer(ticket_stack, email, "Dewi") as me:
        ticket_id = _open_ticket(me, "Scanner driver missing", "After reinstall.")["id"]
        page.goto(f"{portal_url}/agent/tickets/{ticket_id}")
        panel = page.get_by_role("region", name="Customer satisfaction")
        expect(panel).to_contain_text("The customer has not rated this ticket yet.")
        with ticket_stack.client("agent") as api:
            solved = api.post(f"/tickets/{ticket_id}/status", json={"status": "Solved"})
            assert solved.status_code == 200, solved.text
        rated = me.post(
            f"/tickets/{ticket_id}/satisfaction",
            json={"scale": "one_to_five", "score": 4, "comment": "Quick help, thank you"},
        )
        assert rated.status_code == 201, rated.text
    page.reload()
    rating = panel.get_by_test_id("rating")
    expect(rating).to_contain_text("Satisfied")
    expect(rating).to_contain_text("4 of 5 stars")
    expect(rating).to_contain_text("Quick help, thank you")
    expect(rating).to_contain_text("Resolution 1, rated")
    assert_accessible(page, "ticket page with the customer's rating")


def test_merge_dialog_finds_the_target_and_merges_after_confirming(
    agent_page: tuple[Page, AuthCalls], ticket_stack: Stack, portal_url: str
) -> None:
    page, _ = agent_page
    email = f"merge-{uuid.uuid4().hex[:8]}@example.co.id"
    with _customer(ticket_stack, email, "Agus") as customer:
        parent = _open_ticket(customer, "Email bounces for the sales team", "Since Monday.")
        child = _open_ticket(customer, "Sales mail not arriving", "Same as my other ticket.")
    page.goto(f"{portal_url}/agent/tickets/{child['id']}")
    expect(page.get_by_role("heading", name=child["subject"], level=2)).to_be_visible()
    page.get_by_role("button", name="Merge into another ticket").click()
    dialog = page.get_by_role("dialog", name=f"Merge #{child['number']} into another ticket")
    dialog.get_by_label("Find the ticket to keep").fill(f"#{parent['number']}")
    target = dialog.get_by_role("radio", name=f"#{parent['number']} {parent['subject']}")
    target.check()
    assert_accessible(page, "merge dialog")
    screenshot(page, "10-merge-dialog")
    dialog.get_by_role("button", name="Continue").click()
    expect(dialog).to_contain_text(f"Merge #{child['number']} into #{parent['number']}")
    assert_accessible(page, "merge confirmation")
    dialog.get_by_role("button", name="Merge", exact=True).click()
    expect(page).to_have_url(re.compile(f"/agent/tickets/{parent['id']}$"))
    expect(page.get_by_role("heading", name=parent["subject"], level=2)).to_be_visible()
    with ticket_stack.client("agent") as api:
        merged = api.get(f"/tickets/{child['id']}").json()
    assert merged["merged_into"] == parent["id"]
    # The merged ticket's page points at the one kept and offers no second merge.
    page.goto(f"{portal_url}/agent/tickets/{child['id']}")
    expect(page.get_by_role("link", name="Open the parent ticket")).to_be_visible()
    expect(page.get_by_role("button", name="Merge into another ticket")).to_have_count(0)


def test_keyboard_shortcuts_and_their_help_overlay(
    agent_page: tuple[Page, AuthCalls], ticket_stack: Stack, portal_url: str
) -> None:
    page, _ = agent_page
    email = f"keys-{uuid.uuid4().hex[:8]}@example.co.id"
    with _customer(ticket_stack, email, "Putri") as customer:
        ticket = _open_ticket(customer, "Laptop will not charge", "The light stays off.")
    page.goto(f"{portal_url}/agent/tickets/{ticket['id']}")
    expect(page.get_by_role("heading", name=ticket["subject"], level=2)).to_be_visible()
    page.keyboard.press("?")
    help_overlay = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_overlay).to_contain_text("Assign the ticket to me")
    assert_accessible(page, "keyboard shortcuts overlay")
    screenshot(page, "11-shortcuts")
    page.keyboard.press("Escape")
    expect(help_overlay).to_have_count(0)

    page.keyboard.press("n")  # the internal note, caret in its editor
    expect(page.get_by_role("tab", name="Internal note")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("textbox", name="Internal note (agents only)")).to_be_focused()
    page.keyboard.type("typed, not a shortcut: a r n")  # keys in the editor stay text
    expect(page.get_by_role("textbox", name="Internal note (agents only)")).to_contain_text(
        "typed, not a shortcut: a r n"
    )
    page.get_by_role("heading", name=ticket["subject"], level=2).click()  # out of the editor
    page.keyboard.press("r")
    expect(page.get_by_role("textbox", name="Reply to the customer")).to_be_focused()
    page.get_by_role("heading", name=ticket["subject"], level=2).click()
    fields = page.get_by_role("region", name="Ticket fields")
    page.keyboard.press("a")
    expect(fields.get_by_role("combobox", name="Agent", exact=True)).to_have_value("Sari Wulandari")


def _settled_unread(stack: Stack) -> int:
    """The agent's unread count once it stays the same for three seconds."""
    seen: list[int] = []
    deadline = time.monotonic() + 120
    with stack.client("agent") as api:
        while time.monotonic() < deadline:
            answer = api.get("/notifications", params={"limit": 1})
            if answer.status_code == 200:
                seen.append(answer.json()["unread_count"])
                if len(seen) >= 4 and len(set(seen[-4:])) == 1:
                    return seen[-1]
            time.sleep(1)
    raise AssertionError(f"the unread count never settled: {seen[-10:]}")


def _unread(page: Page) -> int:
    label = page.get_by_role("button", name=re.compile(r"^Notifications \(")).get_attribute(
        "aria-label"
    )
    found = re.search(r"\((\d+) unread\)", label or "")
    assert found, label
    return int(found.group(1))


def test_notification_bell_and_live_ticket_refresh(
    notification_service: ServiceProcess,
    agent_page: tuple[Page, AuthCalls],
    ticket_stack: Stack,
    portal_url: str,
) -> None:
    page, _ = agent_page
    email = f"live-{uuid.uuid4().hex[:8]}@example.co.id"
    with _customer(ticket_stack, email, "Yusuf") as customer:
        ticket = _open_ticket(customer, "Shared drive is read-only", "For the whole floor.")
        page.goto(f"{portal_url}/agent/tickets/{ticket['id']}")
        expect(page.get_by_role("heading", name=ticket["subject"], level=2)).to_be_visible()
        bell = page.get_by_role("button", name=re.compile(r"^Notifications \("))
        expect(bell).to_have_attribute("data-live", "true")  # the stream is open
        # The service read the session's earlier events from the start: let its backlog settle.
        before = _settled_unread(ticket_stack)
        expect(bell).to_have_attribute("aria-label", f"Notifications ({before} unread)")

        # A manager assigns the ticket to the agent looking at it: the bell counts it, and the
        # fields on screen follow as soon as the notification arrives (not at the next refetch).
        with ticket_stack.client("manager") as api:
            current = api.get(f"/tickets/{ticket['id']}").json()
            assigned = api.patch(
                f"/tickets/{ticket['id']}",
                json={"team_id": ticket_stack.team_id, "assignee_id": ticket_stack.agent_id},
                headers={"If-Match": f'"{current["version"]}"'},
            )
            assert assigned.status_code == 200, assigned.text
        started = time.monotonic()
        # Assigned to you, and routed to your team: one notification or two.
        after = _until(lambda: _unread(page) > before and _unread(page), "the bell to count it")
        arrived = time.monotonic() - started
        fields = page.get_by_role("region", name="Ticket fields")
        expect(fields.get_by_role("combobox", name="Agent", exact=True)).to_have_value(
            "Sari Wulandari", timeout=5_000
        )
        print(f"assignment → bell {arrived:.2f} s, fields {time.monotonic() - started:.2f} s")

        # The customer replies: the assignee hears of it and the conversation shows it live.
        replied = customer.post(
            f"/tickets/{ticket['id']}/messages", json={"body": "It is still read-only."}
        )
        assert replied.status_code in (200, 201), replied.text
        expect(bell).to_have_attribute("aria-label", f"Notifications ({after + 1} unread)")
        expect(
            page.get_by_role("article", name=re.compile("^Public message from"))
        ).to_contain_text("It is still read-only.", timeout=5_000)

    # The bell's list: newest first; opening one marks it read and opens its ticket.
    bell.click()
    panel = page.get_by_role("dialog").filter(has_text="Notifications")
    items = panel.get_by_test_id("notification")
    expect(items.first).to_have_attribute("data-read", "false")
    expect(items.first).to_contain_text(f"replied on #{ticket['number']}")
    assert_accessible(page, "notifications")
    screenshot(page, "09-notifications")
    items.first.click()
    expect(bell).to_have_attribute("aria-label", f"Notifications ({after} unread)")
    expect(page).to_have_url(re.compile(f"/agent/tickets/{ticket['id']}$"))

    # Mark all as read: the count goes to zero and stays there after a reload (it is stored).
    bell.click()
    panel.get_by_role("button", name="Mark all as read").click()
    expect(bell).to_have_attribute("aria-label", "Notifications (0 unread)")
    page.reload()
    expect(page.get_by_role("button", name="Notifications (0 unread)")).to_be_visible()
