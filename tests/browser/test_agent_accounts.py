"""The pages the gateway's mails link to, in Chromium through the real gateway: a manager
invites an agent, the invitation mail arrives in GreenMail, the agent opens its link, chooses a
password and is signed in; "forgot your password?" mails a reset link that sets a new one (the
old password stops working). axe-core on every screen."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from email.message import EmailMessage

import pytest
from playwright.sync_api import Page, expect

from helpdesk_devstack import mailbox

from .conftest import Stack, assert_accessible, screenshot, sign_in

# The first test of a session also starts the stack (a few minutes on a loaded machine).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

PASSWORD = "a long and sunny afternoon"
NEW_PASSWORD = "rain on the tin roof at night"


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def mailed_link(stack: Stack, address: str, path: str, *, after: int = 0) -> str:
    """The link to ``path`` on this session's gateway in a mail to ``address`` (other gateways
    of the session mail their own links; ``after`` skips the mails already read)."""
    prefix = f"{stack.url}{path}?token="
    seen = 0

    def ours(message: EmailMessage) -> bool:
        nonlocal seen
        if prefix not in text_of(message):
            return False
        seen += 1
        return seen > after

    message = mailbox.wait_for(stack.mail, address, ours, timeout=90)
    found = re.search(re.escape(prefix) + r"[A-Za-z0-9_-]+", text_of(message))
    assert found, text_of(message)
    return found.group(0)


def invite(stack: Stack, name: str) -> str:
    email = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@example.com"
    with stack.client("manager") as api:
        invited = api.post("/agents", json={"email": email, "name": name, "role": "agent"})
    assert invited.status_code == 201, invited.text
    return email


def set_password(page: Page, password: str, repeated: str | None = None) -> None:
    page.get_by_label(re.compile(r"^New password")).fill(password)
    page.get_by_label(re.compile(r"^Repeat the password")).fill(repeated or password)
    page.get_by_role("button", name="Save and sign in").click()


def test_an_invited_agent_chooses_a_password_through_the_mailed_link(
    new_page: Callable[..., Page], ticket_stack: Stack
) -> None:
    email = invite(ticket_stack, "Rina Kusuma")
    link = mailed_link(ticket_stack, email, "/agent/accept-invitation")

    page = new_page()
    page.goto(link)
    expect(page.get_by_role("heading", name="Welcome to the helpdesk")).to_be_visible()
    assert_accessible(page, "accept invitation")
    screenshot(page, "07-accept-invitation")
    set_password(page, PASSWORD, PASSWORD + "?")
    expect(page.get_by_role("alert")).to_have_text("The two passwords are not the same.")
    set_password(page, PASSWORD)

    # Signed in as the new agent, on the ticket list.
    expect(page.get_by_role("heading", name="Ticket list")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/agent/?$"))
    expect(page.get_by_role("button", name="Account of Rina Kusuma")).to_be_visible()

    # The link works once.
    page.goto(link)
    set_password(page, PASSWORD)
    expect(page.get_by_role("alert")).to_have_text(
        "This link has expired or was already used. Ask for a new one."
    )


def test_forgot_password_mails_a_reset_link_that_sets_a_new_one(
    new_page: Callable[..., Page], ticket_stack: Stack, portal_url: str
) -> None:
    email = invite(ticket_stack, "Joko Santoso")
    accepted = new_page()
    accepted.goto(mailed_link(ticket_stack, email, "/agent/accept-invitation"))
    set_password(accepted, PASSWORD)
    expect(accepted.get_by_role("heading", name="Ticket list")).to_be_visible()

    page = new_page()
    page.goto(f"{portal_url}/agent/")
    page.get_by_role("button", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    assert_accessible(page, "forgot password")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send the reset link").click()
    expect(page.get_by_role("status")).to_contain_text("a reset link is on its way")

    page.goto(mailed_link(ticket_stack, email, "/agent/reset-password"))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert_accessible(page, "reset password")
    screenshot(page, "08-reset-password")
    set_password(page, NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Ticket list")).to_be_visible()
    expect(page.get_by_role("button", name="Account of Joko Santoso")).to_be_visible()

    # The old password no longer signs in; the new one does.
    fresh = new_page()
    fresh.goto(f"{portal_url}/agent/")
    fresh.get_by_label("Email").fill(email)
    fresh.get_by_label(re.compile(r"^Password")).fill(PASSWORD)
    fresh.get_by_role("button", name="Sign in").click()
    expect(fresh.get_by_role("alert")).to_have_text("Wrong email or password.")
    sign_in(fresh, email, NEW_PASSWORD)
    expect(fresh.get_by_role("heading", name="Ticket list")).to_be_visible()


def test_a_link_without_its_token_says_so(new_page: Callable[..., Page], portal_url: str) -> None:
    page = new_page()
    page.goto(f"{portal_url}/agent/reset-password")
    expect(page.get_by_role("alert")).to_have_text(
        "This link is incomplete. Open the link from the email again."
    )
    expect(page.get_by_role("button", name="Save and sign in")).to_be_disabled()
