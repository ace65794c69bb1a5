"""The agent portal in Chromium against the real ticket service: sign-in, the ticket views,
the ticket page (reply, Waiting on Customer, internal note, fields with a conflict), creating a
ticket for a new and an existing customer, language and time zone; axe-core on every screen."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    AGENT_EMAIL,
    AGENT_PASSWORD,
    TICKET_COUNT,
    AuthStub,
    Stack,
    assert_accessible,
    screenshot,
)

pytestmark = pytest.mark.integration


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
    auth = AuthStub(ticket_stack, signed_in=False)
    auth.install(page)
    page.goto(f"{portal_url}/agent/")

    # No refresh cookie: the sign-in form, usable with the keyboard alone.
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
    screenshot(page, "02-ticket-list")

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
