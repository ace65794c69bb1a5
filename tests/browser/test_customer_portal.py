"""The customer portal in Chromium through the real API gateway, on a phone's screen (390x844):
sign-in by the link read from GreenMail, a ticket with an attachment, the agent's reply (sent
through the API), the customer's reply, "my issue is resolved", the rating (then seen by staff
and in the CSAT report); another customer cannot reach the ticket by its URL; a company's
tickets shown to its customers while a manager shares them; the branding on the next load.
axe-core finds no serious or critical violation on any screen."""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from helpdesk_devstack import mailbox
from helpdesk_devstack.images import png

from .conftest import Stack, assert_accessible, screenshot

pytestmark = pytest.mark.integration

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(
        viewport=PHONE, locale="en-US", timezone_id="Asia/Jakarta", is_mobile=True, has_touch=True
    )
    context.set_default_timeout(30_000)
    yield context
    context.close()


def sign_in_by_link(page: Page, stack: Stack, email: str) -> float:
    """Ask for a link in the portal, read it from the customer's GreenMail mailbox, open it;
    returns the seconds from opening the link to the ticket list on screen."""
    page.goto(f"{stack.url}/portal/")
    expect(page.get_by_role("heading", name="Sign in to follow your tickets")).to_be_visible()
    asked_at = datetime.now(UTC)
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("status").filter(has_text="Check your inbox")).to_be_visible()
    mail = mailbox.wait_for(
        stack.mail,
        email,
        lambda m: "sign-in" in str(m["Subject"]) and m["Date"] is not None,
        timeout=60,
    )
    body = mail.get_body(("plain",))
    assert body is not None
    text = str(body.get_content())  # type: ignore[attr-defined]
    link = re.search(rf"{re.escape(stack.url)}/portal/sign-in\?token=[A-Za-z0-9_-]+", text)
    assert link, text
    del asked_at
    started = time.perf_counter()
    page.goto(link.group(0))
    expect(page.get_by_role("heading", name="My tickets")).to_be_visible()
    return time.perf_counter() - started


@pytest.mark.timeout(900)  # the whole journey, on a 2-core machine shared with other tests
def test_a_customer_opens_follows_resolves_and_rates_a_ticket(
    phone: BrowserContext, ticket_stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    stack = ticket_stack
    marker = uuid.uuid4().hex[:8]
    ani, budi = f"ani-{marker}@maju.co.id", f"budi-{marker}@maju.co.id"
    with stack.client("agent") as api:
        company = api.post("/companies", json={"name": f"PT Maju {marker}"}).json()
        for name, email in (("Ani", ani), ("Budi", budi)):
            created = api.post(
                "/customers", json={"name": name, "email": email, "company_id": company["id"]}
            )
            assert created.status_code == 201, created.text

    page = phone.new_page()
    page.goto(f"{stack.url}/portal/")
    expect(page.get_by_role("heading", name="Sign in to follow your tickets")).to_be_visible()
    assert_accessible(page, "portal sign-in")
    screenshot(page, "portal-01-sign-in")
    seconds = sign_in_by_link(page, stack, ani)
    print(f"\n[measure] link opened -> ticket list visible: {seconds * 1000:.0f} ms")
    assert_accessible(page, "portal ticket list (empty)")

    # A new ticket with a rich-text description and an attachment.
    page.get_by_role("link", name="New ticket").click()
    expect(page.get_by_role("heading", name="Open a ticket")).to_be_visible()
    page.get_by_label("Subject").fill("Printer on floor 3 jams")
    editor = page.get_by_role("textbox", name="Describe the problem")
    editor.click()
    page.keyboard.type("It jams on ")
    page.get_by_role("button", name="Bold").click()
    page.keyboard.type("every")
    page.get_by_role("button", name="Bold").click()
    page.keyboard.type(" page.")
    notes = tmp_path_factory.mktemp("files") / "error-log.txt"
    notes.write_text("paper jam at tray 2\n")
    page.locator("input[type=file]").set_input_files(str(notes))
    assert_accessible(page, "portal new ticket")
    screenshot(page, "portal-02-new-ticket")
    page.get_by_role("button", name="Send ticket").click()
    expect(page.get_by_role("heading", name="Printer on floor 3 jams")).to_be_visible()
    ticket_id = page.url.rsplit("/", 1)[1]
    with stack.client("agent") as api:
        ticket = api.get(f"/tickets/{ticket_id}").json()
        assert re.search(r"<(b|strong)>every</(b|strong)>", ticket["description"])
        assert ticket["channel"] == "portal" and ticket["requester_email"] == ani
        files = [
            a["filename"]
            for a in api.get(f"/tickets/{ticket_id}/timeline").json()[0]["data"]["attachments"]
        ]
        assert files == ["error-log.txt"]
        # The agent answers through the API; an internal note stays with the staff.
        api.post(
            f"/tickets/{ticket_id}/messages",
            json={"body": "Known issue, replacing the roller", "visibility": "internal"},
        ).raise_for_status()
        api.post(
            f"/tickets/{ticket_id}/messages",
            json={"body": "<p>Please try tray 1 meanwhile.</p>", "visibility": "public"},
        ).raise_for_status()

    conversation = page.get_by_test_id("conversation")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "tray 1" not in conversation.inner_text():
        page.reload()
        time.sleep(0.5)
    expect(conversation).to_contain_text("Please try tray 1 meanwhile.")
    expect(conversation).not_to_contain_text("roller")
    page.get_by_role("textbox", name="Your reply").click()
    page.keyboard.type("Tray 1 works, thanks.")
    page.get_by_role("button", name="Send reply").click()
    expect(conversation).to_contain_text("Tray 1 works, thanks.")
    expect(page.get_by_role("button", name="Send reply")).to_be_enabled()
    assert_accessible(page, "portal ticket page")
    screenshot(page, "portal-03-ticket")

    # "My issue is resolved" → Solved; then the rating.
    page.get_by_role("button", name="My issue is resolved").click()
    expect(page.get_by_text("Solved", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="How did we do?")).to_be_visible()
    page.get_by_text("Good", exact=True).click()
    page.get_by_label("Comment (optional)").fill("Fast and friendly")
    assert_accessible(page, "portal rating")
    screenshot(page, "portal-04-rate")
    page.get_by_role("button", name="Send rating").click()
    expect(page.get_by_role("status").filter(has_text="Thank you for your rating")).to_be_visible()

    with stack.client("agent") as api:
        deadline = time.monotonic() + 30
        ratings: list[dict[str, object]] = []
        while time.monotonic() < deadline and not ratings:
            ratings = api.get(f"/tickets/{ticket_id}/satisfaction").json()
            time.sleep(0.3)
        assert [(r["scale"], r["score"], r["comment"]) for r in ratings] == [
            ("good_bad", 1, "Fast and friendly")
        ]
    with stack.client("manager") as api:  # reports are the managers'
        today = datetime.now(UTC).date().isoformat()
        report = api.get(
            "/reports/csat", params={"from": today, "to": today, "group_by": "assignee"}
        ).json()
        assert sum(group["ratings"] for group in report["groups"]) >= 1

    # Budi (same company) cannot open Ani's ticket by URL while nothing is shared.
    other = phone.browser.new_context(viewport=PHONE, locale="en-US") if phone.browser else None
    assert other is not None
    budi_page = other.new_page()
    sign_in_by_link(budi_page, stack, budi)
    expect(budi_page.get_by_role("tab", name="My company's tickets")).to_have_count(0)
    budi_page.goto(f"{stack.url}/portal/tickets/{ticket_id}")
    expect(budi_page.get_by_role("alert")).to_contain_text("no ticket")
    expect(budi_page.get_by_text("Printer on floor 3 jams")).to_have_count(0)

    # A manager shares the company's tickets: Budi sees Ani's in the company tab; then stops.
    sharing = f"/companies/{company['id']}/portal-sharing"
    with stack.client("manager") as api:
        api.put(sharing, json={"customers_see_company_tickets": True}).raise_for_status()
    time.sleep(6)  # the gateway-side cache of the customer's company lasts 5 s
    budi_page.goto(f"{stack.url}/portal/")
    budi_page.get_by_role("tab", name="My company's tickets").click()
    expect(budi_page.get_by_test_id("list-company")).to_contain_text("Printer on floor 3 jams")
    assert_accessible(budi_page, "portal company tickets")
    screenshot(budi_page, "portal-05-company")
    with stack.client("manager") as api:
        api.put(sharing, json={"customers_see_company_tickets": False}).raise_for_status()
    time.sleep(6)
    budi_page.goto(f"{stack.url}/portal/")
    expect(budi_page.get_by_role("heading", name="My tickets")).to_be_visible()
    expect(budi_page.get_by_role("tab", name="My company's tickets")).to_have_count(0)
    budi_page.goto(f"{stack.url}/portal/tickets/{ticket_id}")
    expect(budi_page.get_by_role("alert")).to_contain_text("no ticket")
    other.close()

    # The manager's branding shows on the next load (name, accent colour, logo).
    name = f"Bantuan Maju {marker}"
    with stack.client("manager") as api:
        api.put("/branding", json={"helpdesk_name": name, "accent_color": "#0b5394"})
        logo = api.put("/branding/logo", content=png(), headers={"Content-Type": "image/png"})
        assert logo.status_code == 200, logo.text
    page.goto(f"{stack.url}/portal/")
    expect(page.get_by_test_id("brand")).to_contain_text(name)
    expect(page.get_by_test_id("brand").locator("img")).to_have_count(1)
    expect(page).to_have_title(name)
    assert_accessible(page, "portal branded")
    screenshot(page, "portal-06-branded")

    # ... and in the mail: the next sign-in mail, shown as a mail client shows it (its inline
    # logo in place of the cid: link), has the logo and the accent colour.
    asked = httpx.post(f"{stack.api_url}/auth/customer/link", json={"email": ani}, timeout=30)
    assert asked.status_code == 202, asked.text
    mail = mailbox.wait_for(
        stack.mail, ani, lambda m: name in str(m["From"]) and "sign-in" in str(m["Subject"]),
        timeout=90,
    )  # fmt: skip
    html_part = mail.get_body(("html",))
    assert html_part is not None
    markup = str(html_part.get_content())  # type: ignore[attr-defined]
    for part in mail.walk():
        if part["Content-ID"]:
            data = base64.b64encode(part.get_payload(decode=True)).decode()
            cid = str(part["Content-ID"]).strip("<>")
            markup = markup.replace(f"cid:{cid}", f"data:{part.get_content_type()};base64,{data}")
    shown = phone.new_page()
    shown.set_content(markup)
    logo_shown = shown.get_by_role("img", name=name)
    expect(logo_shown).to_be_visible()
    assert logo_shown.evaluate("image => image.naturalWidth") > 0
    assert "#0b5394" in markup
    screenshot(shown, "mail-01-branded")
    shown.close()
