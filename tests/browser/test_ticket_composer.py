"""The ticket page's composer in Chromium through the real gateway: a rich-text reply (TipTap)
with an attachment uploaded through the gateway, the 20 MB limit, the file downloaded back from
the conversation; the stored body is the editor's HTML as the ticket service sanitised it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import AuthCalls, Stack, assert_accessible

# The first test of a session also starts the stack (a few minutes on a loaded machine).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

MB = 1024 * 1024


def test_rich_text_reply_with_an_attachment_and_its_download(
    agent_page: tuple[Page, AuthCalls], ticket_stack: Stack, portal_url: str, tmp_path: Path
) -> None:
    page, _ = agent_page
    ticket = ticket_stack.tickets[4]
    page.goto(f"{portal_url}/agent/tickets/{ticket['id']}")
    expect(page.get_by_role("heading", name=ticket["subject"], level=2)).to_be_visible()

    editor = page.get_by_role("textbox", name="Reply to the customer")
    editor.click()
    page.keyboard.type("Please restart the ")
    page.get_by_role("button", name="Bold").click()
    page.keyboard.type("router")
    page.get_by_role("button", name="Bold").click()
    page.keyboard.type(" and send us the log.")
    expect(editor.locator("strong")).to_have_text("router")

    # A file over 20 MB is refused before it is sent; one of 2 MB is uploaded through the gateway.
    big = tmp_path / "dump.bin"
    with big.open("wb") as sparse:  # a sparse file: no 20 MB written on a busy disk
        sparse.truncate(20 * MB + 1)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach files").click()
    chooser.value.set_files(big)
    expect(page.get_by_role("alert")).to_have_text("dump.bin is bigger than 20 MB.")
    log = os.urandom(2 * MB)
    (tmp_path / "upload").mkdir()
    upload = tmp_path / "upload" / "router.log"
    upload.write_bytes(log)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach files").click()
    chooser.value.set_files(upload)
    attached = page.get_by_role("list", name="Attached files")
    expect(attached.get_by_role("listitem")).to_have_text("router.log")
    assert_accessible(page, "composer with rich text and a file")
    page.get_by_role("button", name="Send", exact=True).click()

    reply = page.get_by_role("article", name="Public message from Sari Wulandari")
    expect(reply.locator("strong")).to_have_text("router")
    expect(reply).to_contain_text("Please restart the router and send us the log.")
    expect(editor).to_have_text("")

    # The download carries the token (no bare link): the same bytes come back.
    with page.expect_download() as download:
        reply.get_by_role("button", name="Download router.log").click()
    saved = tmp_path / "router.log"
    download.value.save_as(saved)
    assert hashlib.sha256(saved.read_bytes()).digest() == hashlib.sha256(log).digest()

    with ticket_stack.client("agent") as api:
        messages = api.get(f"/tickets/{ticket['id']}/messages").json()
    stored = next(m for m in messages if "router" in m["body_html"])
    assert "<strong>router</strong>" in stored["body_html"]
    assert [a["filename"] for a in stored["attachments"]] == ["router.log"]


def test_history_lists_the_tickets_events_newest_first(
    agent_page: tuple[Page, AuthCalls], ticket_stack: Stack, portal_url: str
) -> None:
    page, _ = agent_page
    ticket = ticket_stack.tickets[6]
    with ticket_stack.client("agent") as api:
        changed = api.patch(
            f"/tickets/{ticket['id']}",
            json={"priority": "Urgent", "add_tags": ["escalated"], "team_id": ticket_stack.team_id},
        )
        assert changed.status_code == 200, changed.text
        noted = api.post(
            f"/tickets/{ticket['id']}/messages",
            json={"body": "Checked the logs", "visibility": "internal"},
        )
        assert noted.status_code in (200, 201), noted.text
    page.goto(f"{portal_url}/agent/tickets/{ticket['id']}")
    history = page.get_by_role("region", name="History")
    entries = history.get_by_role("listitem")
    expect(entries.first).to_contain_text("Added an internal note")
    expect(history).to_contain_text(f"Priority: {ticket['priority']} → Urgent")
    expect(history).to_contain_text("Tags: +escalated")
    expect(history).to_contain_text("Team: no team → Support L1")
    expect(entries.last).to_contain_text("Created (channel: email)")
    assert_accessible(page, "ticket page with its history")
