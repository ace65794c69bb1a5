"""The email a notification becomes, and the backoff between attempts (adapters/email_sender)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from notification_service.adapters.email_sender import backoff, build_message


def test_message_is_marked_automatic_and_has_a_stable_message_id() -> None:
    email_id = uuid.uuid4()
    message = build_message(
        sender="Helpdesk <n@example.com>",
        to="Sari <sari@example.com>",
        subject="#1 x was assigned to you",
        body="text",
        message_id=f"<{email_id}@notifications.helpdesk.local>",
        now=datetime(2026, 12, 6, tzinfo=UTC),
    )
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["Message-ID"] == f"<{email_id}@notifications.helpdesk.local>"
    assert message.get_content().strip() == "text"


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
    ]
    assert backoff(20) == timedelta(hours=1)


def test_line_breaks_in_a_ticket_subject_do_not_break_the_headers() -> None:
    message = build_message(
        sender="Helpdesk <n@example.com>",
        to="Sari\r\nBcc: x@example.com <sari@example.com>",
        subject="#1 Printer\nBcc: evil@example.com was assigned to you",
        body="text",
        message_id=f"<{uuid.uuid4()}@notifications.helpdesk.local>",
        now=datetime(2026, 12, 6, tzinfo=UTC),
    )
    assert message["Subject"] == "#1 Printer Bcc: evil@example.com was assigned to you"
    assert message["Bcc"] is None


def test_a_reply_to_goes_into_the_headers_on_one_line() -> None:
    message = build_message(
        sender="Helpdesk <n@example.com>",
        to="Sari <sari@example.com>",
        subject="x",
        body="text",
        message_id="<a@notifications.helpdesk.local>",
        now=datetime(2026, 12, 6, tzinfo=UTC),
        reply_to="support@example.com\nBcc: evil@example.com",
    )
    assert str(message["Reply-To"]).startswith("support@example.com")
    assert "\n" not in message.as_string().split("Reply-To:")[1].split("Subject:")[0].strip()
    assert message["Bcc"] is None
