"""Browser tests of the agent's team tools, on the real stack through the gateway: escalating a
ticket to the next tier (the ticket service's escalate use case), bulk edits of the ticket list
with If-Match per ticket and a report of the conflicts, @mentions in internal notes that notify
the agent mentioned (the real notification service), and the helpdesk's branding in the agent
portal. axe-core on each new state.
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
from tests.integration.conftest import ServiceProcess

from .conftest import AuthCalls, Stack, assert_accessible, new_ticket, screenshot, sign_in
from .test_customer_portal import png

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


def _team(api: httpx.Client, name: str, tier: int, escalates_to: str | None = None) -> str:
    body: dict[str, Any] = {"name": f"{name} {uuid.uuid4().hex[:6]}", "tier": tier}
    if escalates_to:
        body["escalates_to"] = escalates_to
    made = api.post("/teams", json=body)
    assert made.status_code == 201, made.text
    team_id: str = made.json()["id"]
    return team_id


def test_escalate_to_the_next_tier(
    agent_page: tuple[Page, AuthCalls], ticket_stack: Stack, portal_url: str
) -> None:
    page, _ = agent_page
    with ticket_stack.client("manager") as api:
        second = _team(api, "Network L2", 2)
        first = _team(api, "Network L1", 1, escalates_to=second)
        api.put(f"/teams/{first}/members/{ticket_stack.agent_id}").raise_for_status()
        l2_name = api.get(f"/teams/{second}").json()["name"]
        ticket = new_ticket(
            api, "Core switch drops packets", team_id=first, assignee_id=ticket_stack.agent_id
        )
    page.goto(f"{portal_url}/agent/tickets/{ticket['id']}")
    expect(page.get_by_role("heading", name=ticket["subject"], level=2)).to_be_visible()
    page.get_by_role("button", name=f"Escalate to {l2_name}").click()
    dialog = page.get_by_role("dialog", name=f"Escalate #{ticket['number']}")
    expect(dialog).to_contain_text(f"to {l2_name} (Tier 2)")
    reason = dialog.get_by_label("Reason (an internal note)")
    expect(reason).to_be_focused()
    reason.fill("Needs a network engineer: the core switch logs CRC errors.")
    assert_accessible(page, "escalation dialog")
    screenshot(page, "12-escalate")
    reason.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # keyboard only: the Escalate button
    expect(dialog).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text=f"Escalated to {l2_name}.")).to_be_visible()
    fields = page.get_by_role("region", name="Ticket fields")
    expect(fields.get_by_role("combobox", name="Team", exact=True)).to_have_value(l2_name)
    # Sari is not a member of the next tier: the ticket waits for its assignment there.
    expect(fields.get_by_role("combobox", name="Agent", exact=True)).to_have_value("")
    expect(page.get_by_role("article", name=re.compile("^Internal note"))).to_contain_text(
        "Needs a network engineer"
    )
    # L2 has no next tier: the button is gone rather than a 409 waiting to happen.
    expect(page.get_by_role("button", name=re.compile("^Escalate to"))).to_have_count(0)
    assert_accessible(page, "ticket page after escalating")
    with ticket_stack.client("agent") as api:
        after = api.get(f"/tickets/{ticket['id']}").json()
    assert after["team_id"] == second and after["assignee_id"] is None


def test_bulk_assign_status_and_tag_report_the_conflicts(
    agent_page: tuple[Page, AuthCalls], ticket_stack: Stack, portal_url: str
) -> None:
    page, _ = agent_page
    word = f"bulk{uuid.uuid4().hex[:8]}"
    with ticket_stack.client("manager") as api:
        made = [new_ticket(api, f"Monitor {n} flickers {word}") for n in range(3)]
    page.goto(f"{portal_url}/agent/?q={word}")
    rows = page.get_by_test_id("ticket-row")
    expect(rows).to_have_count(3)
    select_all = page.get_by_role("checkbox", name="Select every ticket on this page")
    select_all.focus()
    page.keyboard.press("Space")
    bulk = page.get_by_role("region", name="Bulk actions")
    expect(bulk).to_contain_text("3 tickets selected")
    bulk.get_by_role("combobox", name="Assign to").click()
    page.get_by_role("option", name="Budi Hartono").click()
    bulk.get_by_role("combobox", name="Set status").click()
    page.get_by_role("option", name="Open", exact=True).click()
    bulk.get_by_label("Add tag").fill("monitor")
    assert_accessible(page, "bulk actions")
    screenshot(page, "13-bulk-actions")

    # Someone else changes the first ticket after the agent picked it: it must not be
    # overwritten, and the report must say so.
    with ticket_stack.client("manager") as api:
        changed = api.patch(f"/tickets/{made[0]['id']}", json={"priority": "Urgent"})
        assert changed.status_code == 200, changed.text
    bulk.get_by_label("Add tag").press("Enter")
    report = page.get_by_test_id("bulk-report")
    expect(report).to_contain_text("2 tickets updated")
    expect(report).to_contain_text("1 ticket changed since you loaded the list")
    expect(report.get_by_role("listitem")).to_have_text(
        f"#{made[0]['number']} {made[0]['subject']}"
    )
    expect(bulk).to_contain_text("1 ticket selected")  # the conflicted one stays picked
    assert_accessible(page, "bulk report with a conflict")
    with ticket_stack.client("agent") as api:
        first = api.get(f"/tickets/{made[0]['id']}").json()
        assert first["assignee_id"] is None and first["priority"] == "Urgent"
        for ticket in made[1:]:
            now = api.get(f"/tickets/{ticket['id']}").json()
            assert now["status"] == "Open" and "monitor" in now["tags"], now
            assert now["assignee_id"] is not None

    report.get_by_role("button", name="Apply to it as it is now").click()
    expect(report).to_contain_text("1 ticket updated")
    expect(report).not_to_contain_text("changed since")
    with ticket_stack.client("agent") as api:
        first = api.get(f"/tickets/{made[0]['id']}").json()
        second = api.get(f"/tickets/{made[1]['id']}").json()
    assert first["status"] == "Open" and "monitor" in first["tags"]
    assert first["priority"] == "Urgent"  # their change kept
    assert first["assignee_id"] == second["assignee_id"]


def _mentions_of(api: httpx.Client, ticket_id: str) -> list[dict[str, Any]]:
    answer = api.get("/notifications", params={"limit": 50})
    if answer.status_code != 200:
        return []
    return [
        item
        for item in answer.json()["items"]
        if item["kind"] == "mentioned" and item["ticket_id"] == ticket_id
    ]


def test_mention_a_colleague_in_an_internal_note(
    notification_service: ServiceProcess,
    agent_page: tuple[Page, AuthCalls],
    ticket_stack: Stack,
    portal_url: str,
) -> None:
    page, _ = agent_page
    with ticket_stack.client("manager") as api:
        ticket = new_ticket(api, "Payroll export is empty")
        budi = next(
            agent
            for agent in api.get("/agents", params={"page_size": 200}).json()["items"]
            if agent["email"] == "budi.agent@helpdesk.example"
        )
    page.goto(f"{portal_url}/agent/tickets/{ticket['id']}")
    expect(page.get_by_role("heading", name=ticket["subject"], level=2)).to_be_visible()
    page.get_by_role("tab", name="Internal note").click()
    note = page.get_by_role("textbox", name="Internal note (agents only)")
    note.click()
    page.keyboard.type("Could you check the export job, @har")
    offer = page.get_by_role("listbox", name="Agents to mention")
    expect(offer.get_by_role("option", name=re.compile("^Budi Hartono"))).to_have_attribute(
        "aria-selected", "true"
    )
    assert_accessible(page, "mention offer")
    screenshot(page, "14-mention")
    page.keyboard.press("Enter")  # picks the agent, as the notification service will read it
    expect(offer).to_have_count(0)
    page.keyboard.type("please?")
    expect(note).to_contain_text("Could you check the export job, @Budi Hartono please?")
    page.get_by_role("button", name="Add internal note").click()
    expect(page.get_by_role("article", name=re.compile("^Internal note from"))).to_contain_text(
        "@Budi Hartono please?"
    )

    # The second agent hears of it from the notification service (as their bell would show).
    token = mint_token(
        ticket_stack.private_key,
        "agent",
        budi["id"],
        timedelta(minutes=30),
        budi["name"],
        email=budi["email"],
    )
    with httpx.Client(
        base_url=ticket_stack.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as as_budi:
        deadline = time.monotonic() + 120
        found: list[dict[str, Any]] = []
        while not found and time.monotonic() < deadline:
            found = _mentions_of(as_budi, ticket["id"])
            time.sleep(0.5)
    assert found, "Budi was never told of the mention"
    assert found[0]["title"].startswith(f"Sari Wulandari mentioned you on #{ticket['number']}")
    with ticket_stack.client("agent") as me:  # nobody is told of their own mention of others
        assert _mentions_of(me, ticket["id"]) == []


def test_the_branding_in_the_agent_portal(
    new_page: Callable[..., Page], ticket_stack: Stack, portal_url: str
) -> None:
    """The manager's branding (shared with the customer portal's code) on the sign-in card and
    in the shell: name, logo, accent strip, favicon and title, on the next load."""
    name = f"Layanan Prima {uuid.uuid4().hex[:6]}"
    with ticket_stack.client("manager") as api:
        put = api.put("/branding", json={"helpdesk_name": name, "accent_color": "#0b5394"})
        assert put.status_code == 200, put.text
        for kind in ("logo", "favicon"):
            image = api.put(
                f"/branding/{kind}", content=png(), headers={"Content-Type": "image/png"}
            )
            assert image.status_code == 200, image.text
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            branding = api.get("/branding").json()
            if branding["helpdesk_name"] == name and branding["favicon_url"]:
                break
            time.sleep(0.5)
    page = new_page()
    page.goto(f"{portal_url}/agent/")
    brand = page.get_by_test_id("brand")
    expect(brand).to_contain_text(name)  # on the sign-in card, before signing in
    expect(brand.locator("img")).to_have_attribute("src", "/api/" + branding["logo_url"])
    expect(page).to_have_title(name)
    assert_accessible(page, "branded sign-in")
    sign_in(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    expect(page.get_by_role("heading", level=1).locator("img")).to_have_count(1)
    expect(page.locator("link[rel='icon']")).to_have_attribute(
        "href", "/api/" + branding["favicon_url"]
    )
    header_top = page.locator("header").first.evaluate("e => getComputedStyle(e).borderTopColor")
    assert header_top == "rgb(11, 83, 148)"  # #0b5394
    assert_accessible(page, "branded agent portal")
    screenshot(page, "15-branded-agent-portal")
    favicon = httpx.get(f"{ticket_stack.api_url}/{branding['favicon_url']}", timeout=30)
    assert favicon.status_code == 200 and favicon.headers["content-type"] == "image/png"
