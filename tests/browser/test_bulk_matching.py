"""Bulk actions on every ticket of a view, not only the page on screen, in Chromium through the
real gateway: select the page, take the offer to select all N tickets matching the view, apply
a change; the portal pages through the API, sends each PATCH with If-Match, shows its progress
and reports the ticket someone else changed meanwhile (a real 409). Keyboard only; axe-core on
each new state."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from .conftest import AuthCalls, Stack, assert_accessible, new_ticket, screenshot

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

COUNT = 30  # more than a page of 25


def test_select_all_matching_the_view_applies_to_every_page_and_reports_conflicts(
    agent_page: tuple[Page, AuthCalls], ticket_stack: Stack, portal_url: str
) -> None:
    page, _ = agent_page
    batch = f"batch{uuid.uuid4().hex[:8]}"
    with ticket_stack.client("manager") as api:
        made = [new_ticket(api, f"Badge reader {n} is slow", tags=[batch]) for n in range(COUNT)]
    # The lowest number is the last the portal collects (it pages newest number first): by
    # then the bulk edit is under way.
    victim = min(made, key=lambda t: int(t["number"]))

    def someone_else_edits_first(route: Route) -> None:
        if route.request.method == "PATCH":
            with ticket_stack.client("manager") as api:
                changed = api.patch(
                    f"/tickets/{victim['id']}",
                    json={"priority": "High"},
                    headers={"If-Match": f'"{victim["version"]}"'},
                )
                assert changed.status_code == 200, changed.text
        route.continue_()

    page.route(f"**/api/tickets/{victim['id']}", someone_else_edits_first)
    page.goto(f"{portal_url}/agent/?v=unsolved&tag={batch}")
    expect(page.get_by_text(f"{COUNT} tickets", exact=True)).to_be_visible()
    expect(page.get_by_test_id("ticket-row")).to_have_count(25)

    select_page = page.get_by_role("checkbox", name="Select every ticket on this page")
    select_page.focus()
    page.keyboard.press("Space")
    bulk = page.get_by_role("region", name="Bulk actions")
    expect(bulk).to_contain_text("All 25 tickets on this page are selected.")
    offer = bulk.get_by_role("button", name=f"Select all {COUNT} tickets matching this view")
    assert_accessible(page, "select all matching: offered")
    offer.focus()
    page.keyboard.press("Enter")
    expect(bulk).to_contain_text(f"All {COUNT} tickets matching this view selected")
    expect(bulk.get_by_role("button", name="Clear the selection")).to_be_visible()
    assert_accessible(page, "select all matching: chosen")

    bulk.get_by_label("Add tag").fill("reviewed")
    apply = bulk.get_by_role("button", name=f"Apply to {COUNT} tickets")
    apply.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("bulk-progress")).to_be_visible()
    report = page.get_by_test_id("bulk-report")
    expect(report).to_contain_text(f"{COUNT - 1} tickets updated")
    expect(report).to_contain_text("1 ticket changed since you loaded the list")
    expect(report).to_contain_text(f"#{victim['number']} {victim['subject']}")
    assert_accessible(page, "select all matching: report")
    screenshot(page, "17-bulk-select-all-matching")

    # Every ticket, on both pages, has the tag but the one changed meanwhile (not overwritten).
    with ticket_stack.client("manager") as api:
        tagged: dict[str, Any] = {
            t["id"]: api.get(f"/tickets/{t['id']}").json()["tags"] for t in made
        }
    assert [i for i, tags in tagged.items() if "reviewed" not in tags] == [victim["id"]]

    # Applying it to the conflicted one as it is now finishes the job.
    page.unroute(f"**/api/tickets/{victim['id']}")
    report.get_by_role("button", name="Apply to it as it is now").click()
    expect(report).to_contain_text("1 ticket updated")
    with ticket_stack.client("manager") as api:
        latest = api.get(f"/tickets/{victim['id']}").json()
    assert "reviewed" in latest["tags"] and latest["priority"] == "High"
