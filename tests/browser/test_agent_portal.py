"""The agent portal in Chromium through the real API gateway: sign-in, the ticket views,
the ticket page (reply, Waiting on Customer, internal note, fields with a conflict), creating a
ticket for a new and an existing customer, language and time zone; axe-core on every screen."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Route, expect

from .conftest import (
    AGENT_EMAIL,
    AGENT_PASSWORD,
    TICKET_COUNT,
    AuthCalls,
    Stack,
    assert_accessible,
    expired_token,
    screenshot,
    sign_in,
)

# The first test of a session also starts the stack (a few minutes on a loaded machine).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


def choose(page: Page, label: str, option: str, *, within: Page | None = None) -> None:
    """Pick an option of a Mantine Select by its label, with the keyboard-accessible listbox."""
    (within or page).get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def rows(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("ticket-row")


def test_sign_in_with_the_keyboard_then_work_the_ticket_views(
    new_page: Callable[..., Page], ticket_stack: Stack, portal_url: str
) -> None:
    page = new_page()
    auth = AuthCalls(page)
    page.goto(f"{portal_url}/agent/")

    # No refresh cookie: the gateway refuses the refresh, the sign-in form shows, usable with
    # the keyboard alone.
    expect(page.get_by_role("heading", name="Sign in to the agent portal")).to_be_visible()
    assert auth.refreshes == 1
    assert_accessible(page, "sign-in")
    screenshot(page, "01-sign-in")
    page.get_by_label("Email").focus()
    page.keyboard.type(AGENT_EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type("wrong password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    page.get_by_label(re.compile(r"^Password")).fill(AGENT_PASSWORD)
    page.keyboard.press("Enter")

    # The ticket list: not solved or closed, 25 a page, newest first.
    expect(page.get_by_role("heading", name="Ticket list")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="tickets")).to_have_text(
        f"{TICKET_COUNT} tickets"
    )
    expect(rows(page)).to_have_count(25)
    newest = ticket_stack.tickets[-1]
    expect(rows(page).first).to_contain_text(newest["subject"])
    assert_accessible(page, "ticket list")

    # SLA due: a live countdown, and a breached mark (events from helpdesk.sla.v1).
    due_soon, breached = ticket_stack.tickets[2], ticket_stack.tickets[0]
    choose(page, "Sort by", "Resolution due first")
    expect(rows(page).nth(0)).to_contain_text(breached["subject"])
    expect(rows(page).nth(0)).to_contain_text("Breached")
    expect(rows(page).nth(0)).to_contain_text("1 hour ago")
    expect(rows(page).nth(1)).to_contain_text(due_soon["subject"])
    expect(rows(page).nth(1)).to_contain_text("in 3 hours")
    expect(rows(page).nth(1)).not_to_contain_text("Breached")
    assert_accessible(page, "ticket list, due first")
    screenshot(page, "02-ticket-list")
    page.get_by_label("SLA breached only").click()
    expect(page.get_by_label("SLA breached only")).to_be_checked()
    expect(rows(page)).to_have_count(1)
    page.get_by_label("SLA breached only").click()
    expect(page.get_by_label("SLA breached only")).not_to_be_checked()
    choose(page, "Sort by", "Newest first")

    # Paging.
    page.get_by_role("button", name="Page 2").click()
    expect(rows(page)).to_have_count(TICKET_COUNT - 25)

    # Filters: priority, then tag; the URL keeps them (a reload shows the same list).
    choose(page, "Priority", "Urgent")
    expect(rows(page)).to_have_count(
        sum(1 for t in ticket_stack.tickets if t["priority"] == "Urgent")
    )
    for row in rows(page).all():
        expect(row).to_contain_text("Urgent")
    page.get_by_label("Tag", exact=True).fill("vpn")
    urgent_vpn = [
        t for t in ticket_stack.tickets if t["priority"] == "Urgent" and "vpn" in t["tags"]
    ]
    expect(rows(page)).to_have_count(len(urgent_vpn))
    page.reload()
    expect(rows(page)).to_have_count(len(urgent_vpn))

    # Search by #number from a clean list.
    page.get_by_role("link", name="Ticket list").click()
    expect(rows(page)).to_have_count(25)
    target = ticket_stack.tickets[3]
    page.get_by_label("Search").fill(f"#{target['number']}")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text(target["subject"])

    # Views: mine (assigned to the signed-in agent), unassigned, new, by status.
    mine = [t for t in ticket_stack.tickets if t.get("assignee_id") == ticket_stack.agent_id]
    nav = page.get_by_role("navigation", name="Ticket views")
    nav.get_by_role("link", name="My tickets").click()
    expect(page.get_by_role("heading", name="My tickets")).to_be_visible()
    expect(rows(page)).to_have_count(len(mine))
    nav.get_by_role("link", name="Team: Support L1").click()
    expect(rows(page)).to_have_count(len(mine))
    nav.get_by_role("link", name="Unassigned").click()
    expect(page.get_by_role("heading", name="Unassigned")).to_be_visible()
    expect(rows(page).first).to_contain_text("Unassigned")
    nav.get_by_role("link", name="New tickets").click()
    expect(page.get_by_role("heading", name="New tickets")).to_be_visible()
    nav.get_by_role("link", name="Closed").click()
    expect(page.get_by_role("heading", name="Status: Closed")).to_be_visible()
    expect(page.get_by_text("No tickets here.")).to_be_visible()
    assert_accessible(page, "empty view")

    # Open a ticket with the keyboard from the list.
    nav.get_by_role("link", name="Ticket list").click()
    link = page.get_by_role("link", name=newest["subject"])
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=newest["subject"], level=2)).to_be_visible()

    # Sign out: back to the form, and the session is gone for a reload too.
    page.get_by_role("button", name="Account of Sari Wulandari").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to the agent portal")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Sign in to the agent portal")).to_be_visible()


def test_ticket_page_reply_note_and_fields_with_a_conflict(
    agent_page: tuple[Page, AuthCalls], ticket_stack: Stack, portal_url: str
) -> None:
    page, _ = agent_page
    ticket = ticket_stack.tickets[1]
    page.goto(f"{portal_url}/agent/tickets/{ticket['id']}")
    expect(page.get_by_role("heading", name=ticket["subject"], level=2)).to_be_visible()
    fields = page.get_by_role("region", name="Ticket fields")
    expect(fields.get_by_role("combobox", name="Status", exact=True)).to_have_value("New")
    assert_accessible(page, "ticket page")

    # A public reply that also sets Waiting on Customer.
    page.get_by_label("Reply to the customer").fill("Could you send a screenshot?\n\nThanks!")
    page.get_by_role("button", name="Send and set Waiting on Customer").click()
    reply = page.get_by_role("article", name="Public message from Sari Wulandari")
    expect(reply).to_contain_text("Could you send a screenshot?")
    expect(reply).to_contain_text("Public reply")
    expect(fields.get_by_role("combobox", name="Status", exact=True)).to_have_value(
        "Waiting on Customer"
    )

    # An internal note, visibly apart from the public reply.
    page.get_by_role("tab", name="Internal note").click()
    page.get_by_label("Internal note (agents only)").fill("Known SSO issue, see #998")
    page.get_by_role("button", name="Add internal note").click()
    note = page.get_by_role("article", name="Internal note from Sari Wulandari")
    expect(note).to_contain_text("Known SSO issue")
    expect(note).to_have_attribute("data-visibility", "internal")
    background = note.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background != reply.evaluate("el => getComputedStyle(el).backgroundColor")
    assert_accessible(page, "ticket page with a reply and a note")
    screenshot(page, "03-ticket-page")

    # Triage fields, saved with If-Match.
    choose(page, "Priority", "High", within=fields)  # type: ignore[arg-type]
    choose(page, "Team", "Support L1", within=fields)  # type: ignore[arg-type]
    fields.get_by_role("button", name="Assign to me").click()
    fields.get_by_role("button", name="Save changes").click()
    expect(fields.get_by_role("status")).to_have_text("Saved.")
    with ticket_stack.client("agent") as api:
        saved = api.get(f"/tickets/{ticket['id']}").json()
    assert (saved["priority"], saved["team_id"], saved["assignee_id"]) == (
        "High",
        ticket_stack.team_id,
        ticket_stack.agent_id,
    )

    # Someone else changes the ticket while the agent edits: the save is refused, the panel
    # says what changed, and the agent re-applies their change on top.
    with ticket_stack.client("manager") as api:
        other = api.patch(
            f"/tickets/{ticket['id']}",
            json={"priority": "Urgent", "add_tags": ["sso"]},
            headers={"If-Match": f'"{saved["version"]}"'},
        )
        assert other.status_code == 200, other.text
    choose(page, "Category", "Problem", within=fields)  # type: ignore[arg-type]
    fields.get_by_role("button", name="Save changes").click()
    conflict = fields.get_by_role("alert")
    expect(conflict).to_contain_text("Someone else changed this ticket")
    expect(conflict).to_contain_text("Priority: High → Urgent")
    expect(conflict).to_contain_text("Tags:")
    assert_accessible(page, "edit conflict")
    screenshot(page, "04-edit-conflict")
    conflict.get_by_role("button", name="Re-apply my changes").click()
    expect(fields.get_by_role("status")).to_have_text("Saved.")
    with ticket_stack.client("agent") as api:
        final = api.get(f"/tickets/{ticket['id']}").json()
    assert final["category"] == "Problem"
    assert final["priority"] == "Urgent"  # theirs kept
    assert "sso" in final["tags"]
    expect(fields.get_by_role("combobox", name="Priority", exact=True)).to_have_value("Urgent")


def test_create_tickets_for_a_new_and_an_existing_customer(
    agent_page: tuple[Page, AuthCalls], ticket_stack: Stack
) -> None:
    page, _ = agent_page
    expect(page.get_by_role("heading", name="Ticket list")).to_be_visible()
    page.get_by_role("button", name="New ticket").click()
    dialog = page.get_by_role("dialog", name="Create a ticket")
    expect(dialog).to_be_visible()
    dialog.locator("label", has_text="New customer").click()
    email = f"dewi.{uuid.uuid4().hex[:6]}@example.co.id"
    dialog.get_by_label(re.compile(r"^Name")).fill("Dewi Lestari")
    dialog.get_by_label("Email").fill(email)
    dialog.get_by_label("Phone").fill("+62 812 5550 1234")
    dialog.get_by_label("Customer tags").fill("vip")
    dialog.get_by_label("Customer tags").press("Enter")
    dialog.get_by_label(re.compile(r"^Subject")).fill("Invoice shows the wrong amount")
    choose(page, "Category", "Complaint", within=dialog)  # type: ignore[arg-type]
    choose(page, "Priority", "High", within=dialog)  # type: ignore[arg-type]
    choose(page, "Team", "Support L1", within=dialog)  # type: ignore[arg-type]
    choose(page, "Agent", "Budi Hartono", within=dialog)  # type: ignore[arg-type]
    dialog.get_by_label("Description").fill("The March invoice is doubled.")
    assert_accessible(page, "create-ticket dialog")
    screenshot(page, "05-create-ticket")
    dialog.get_by_role("button", name="Create ticket").click()

    expect(page.get_by_role("heading", name="Invoice shows the wrong amount")).to_be_visible()
    with ticket_stack.client("agent") as api:
        customers = api.get("/customers", params={"q": email}).json()["items"]
        assert [(c["name"], c["phone"], c["tags"]) for c in customers] == [
            ("Dewi Lestari", "+62 812 5550 1234", ["vip"])
        ]
        created = api.get(
            "/tickets", params={"customer_id": customers[0]["id"], "view": "all"}
        ).json()["items"]
    assert [(t["subject"], t["priority"], t["category"], t["team_id"]) for t in created] == [
        ("Invoice shows the wrong amount", "High", "Complaint", ticket_stack.team_id)
    ]

    # The same customer again, found by searching.
    page.get_by_role("button", name="New ticket").click()
    dialog = page.get_by_role("dialog", name="Create a ticket")
    dialog.get_by_role("combobox", name="Customer").fill("Dewi")
    page.get_by_role("option", name=f"Dewi Lestari <{email}>").click()
    dialog.get_by_label(re.compile(r"^Subject")).fill("Second invoice question")
    dialog.get_by_role("button", name="Create ticket").click()
    expect(page.get_by_role("heading", name="Second invoice question")).to_be_visible()
    expect(page.get_by_text("Opened by Dewi Lestari")).to_be_visible()


def test_language_time_zone_and_the_customer_portal_entry(
    agent_page: tuple[Page, AuthCalls], ticket_stack: Stack, portal_url: str
) -> None:
    page, _ = agent_page
    expect(page.get_by_role("heading", name="Ticket list")).to_be_visible()
    first_date = rows(page).first.locator("time").last
    jakarta = first_date.inner_text()

    choose(page, "Language", "Bahasa Indonesia")
    expect(page.get_by_role("heading", name="Daftar tiket")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("navigation", name="Tampilan tiket")).to_contain_text(
        "Belum ditugaskan"
    )
    assert_accessible(page, "ticket list in Bahasa Indonesia")
    screenshot(page, "06-ticket-list-id")

    page.get_by_role("combobox", name="Zona waktu").fill("Asia/Tokyo")
    page.get_by_role("option", name="Asia/Tokyo", exact=True).click()
    expect(first_date).not_to_have_text(jakarta)
    page.reload()  # both choices are remembered
    expect(page.get_by_role("heading", name="Daftar tiket")).to_be_visible()
    expect(page.get_by_role("combobox", name="Zona waktu")).to_have_value("Asia/Tokyo")

    # The customer portal shares the language choice and the session of the same origin.
    page.goto(f"{portal_url}/portal/")
    expect(page.get_by_role("heading", name="Tiket saya")).to_be_visible()
    assert_accessible(page, "customer portal entry")


def test_token_refreshes_silently_and_after_a_401(
    new_page: Callable[..., Page], ticket_stack: Stack, portal_url: str
) -> None:
    page = new_page()
    # The page's clock can jump: the gateway's 10-minute token is renewed a minute before it
    # runs out, without waiting ten minutes.
    page.clock.install()
    auth = AuthCalls(page)
    page.goto(f"{portal_url}/agent/")
    sign_in(page)
    expect(rows(page)).to_have_count(25)
    before = auth.refreshes
    with page.expect_response(lambda r: r.url.endswith("/api/auth/refresh")) as renewed:
        page.clock.fast_forward("09:30")
    assert renewed.value.status == 200, "no silent renewal before expiry"
    assert auth.refreshes == before + 1

    # A token the service no longer accepts (here: one that expired): the ticket service
    # answers 401, the app refreshes once and repeats the request with the new token.
    stale = expired_token(ticket_stack)

    def with_stale_token(route: Route) -> None:
        route.continue_(headers={**route.request.headers, "authorization": f"Bearer {stale}"})

    page.route("**/api/tickets?*", with_stale_token, times=1)
    refused: list[int] = []
    page.on(
        "response",
        lambda r: refused.append(r.status) if "/api/tickets?" in r.url else None,
    )
    before = auth.refreshes
    # Page 1 stays on screen while page 2 loads: wait for the repeated request's answer.
    with page.expect_response(lambda r: "/api/tickets?" in r.url and r.status == 200):
        page.get_by_role("button", name="Page 2").click()
    expect(page).to_have_url(re.compile(r"[?&]page=2"))
    expect(rows(page).first).to_be_visible()  # other tests of the session add tickets
    assert refused[:2] == [401, 200]
    assert auth.refreshes == before + 1
    expect(page.get_by_role("heading", name="Sign in to the agent portal")).to_have_count(0)
