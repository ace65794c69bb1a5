"""Email to agents through a real SMTP server (GreenMail), read back over IMAP."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from helpdesk_devstack import mailbox
from helpdesk_devstack.greenmail import MailServer
from helpdesk_events import StatusChanged, TicketAssigned, TicketCreated
from notification_service.adapters.database import create_pool
from notification_service.adapters.email_sender import EmailSender
from notification_service.adapters.migrate import upgrade
from notification_service.adapters.projection_store import save_directory, store_emails
from notification_service.domain.kinds import Kind
from notification_service.domain.rules import Notification, notification_id
from notification_service.domain.views import Agent

from .conftest import Harness, bearer, eventually


async def test_an_assignment_is_emailed_once_marked_auto_generated(
    api: httpx.AsyncClient, harness: Harness, mail_server: MailServer
) -> None:
    agent = await harness.agent("Sari Email")
    ticket = uuid.uuid4()
    await harness.emit(
        TicketCreated(
            subject="Invoice missing", channel="email", status="New", priority="Low", number=77
        ),
        ticket,
    )
    envelope = await harness.emit(TicketAssigned(assignee_id=uuid.UUID(agent.id)), ticket)

    message = await asyncio.to_thread(
        mailbox.wait_for,
        mail_server,
        agent.email,
        lambda m: "#77 Invoice missing" in str(m["Subject"]),
        timeout=60,
    )
    assert message["Subject"] == "#77 Invoice missing was assigned to you"
    assert message["Auto-Submitted"] == "auto-generated"
    assert agent.email in message["To"]
    body = message.get_body(("plain",))
    assert body is not None and f"/tickets/{ticket}" in body.get_content()

    row = await harness.fetch(
        "SELECT status, attempts, sent_at FROM emails WHERE ticket_id = $1", ticket
    )
    assert [(r["status"], r["attempts"]) for r in row] == [("sent", 1)]
    # The same event again: no second email is queued or sent.
    _, partition, offset = await harness.send(envelope)
    await harness.consumed("helpdesk.tickets.v1", partition, offset)
    assert await harness.fetchval("SELECT count(*) FROM emails WHERE ticket_id = $1", ticket) == 1
    await asyncio.sleep(1)
    mails = await asyncio.to_thread(mailbox.messages, mail_server, agent.email)
    assert len(mails) == 1
    # and it is in the app too (default: both)
    page = (await api.get("/notifications", headers=bearer(agent))).json()
    assert [n["kind"] for n in page["items"]] == ["assigned"]


async def test_low_priority_kinds_chosen_as_a_digest_come_in_one_email(
    api: httpx.AsyncClient, harness: Harness, mail_server: MailServer, database_url: str
) -> None:
    agent = await harness.agent("Digest Reader")
    chosen = await api.put(
        "/notifications/preferences",
        headers=bearer(agent),
        json={"preferences": {"followed_status_changed": {"channel": "email", "digest": True}}},
    )
    assert chosen.status_code == 200
    tickets = [uuid.uuid4(), uuid.uuid4()]
    for ticket in tickets:
        assert (
            await api.put(f"/notifications/follows/{ticket}", headers=bearer(agent))
        ).status_code == 204
        await harness.emit(StatusChanged(from_status="Open", to_status="Solved"), ticket)

    async def both_queued() -> bool:
        count = await harness.fetchval(
            "SELECT count(*) FROM emails WHERE recipient_id = $1 AND digest AND status = 'pending'",
            agent.id,
        )
        return bool(count == 2)

    await eventually(both_queued)
    # The service's own sender waits HELPDESK_DIGEST_MINUTES (60); one with no wait sends now.
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        sender = EmailSender(
            pool,
            host=mail_server.host,
            port=mail_server.smtp_port,
            sender="Helpdesk <notifications@example.com>",
            digest_interval=timedelta(0),
        )
        assert await sender.send_digests() >= 1
    finally:
        await pool.close()
    message = await asyncio.to_thread(
        mailbox.wait_for, mail_server, agent.email, lambda m: "digest" in str(m["Subject"])
    )
    assert message["Subject"] == "Helpdesk digest: 2 updates"
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_body(("plain",))
    assert body is not None and body.get_content().count("is now Solved") == 2
    statuses = await harness.fetch("SELECT status FROM emails WHERE recipient_id = $1", agent.id)
    assert [r["status"] for r in statuses] == ["sent", "sent"]
    # nothing in the app: the choice was email only
    assert (await api.get("/notifications", headers=bearer(agent))).json()["items"] == []


def _queued(recipient_id: str, title: str) -> tuple[Notification, bool, str]:
    """A ``customer_replied`` email as the consumer queues it (no ticket: a plain mail)."""
    event_id = uuid.uuid4()
    notification = Notification(
        id=notification_id(event_id, recipient_id, Kind.CUSTOMER_REPLIED),
        recipient_id=recipient_id,
        kind=Kind.CUSTOMER_REPLIED,
        title=title,
        body="Still broken.",
        ticket_id=None,
        ticket_number=None,
        event_id=event_id,
        event_type="MessageAdded",
        occurred_at=datetime.now(UTC),
    )
    return notification, False, f"{title}\n\nStill broken."


async def test_an_email_that_cannot_go_yet_is_retried_later_and_holds_up_no_other(
    make_database: Callable[[str], str], mail_server: MailServer
) -> None:
    """An email to someone whose address is not known (yet) - an assignee from before the
    service started - gets its failure recorded and a later attempt; the queue goes on. (The
    failure's UPDATE once could not be prepared: the sender failed on that row every 5 s and
    never reached the emails after it - no notification mail went out any more.)"""
    database_url = make_database("emailretry")
    upgrade(database_url)
    reader = f"reader-{uuid.uuid4().hex[:8]}@staff.example"
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        async with pool.acquire() as connection:
            await save_directory(connection, [Agent("known", "Known Reader", reader, "agent")])
            # The unknown recipient's row first: the sender meets it before the other one.
            await store_emails(connection, [_queued("unknown", "Ticket of a stranger")])
            await connection.execute("UPDATE emails SET next_attempt_at = now() - interval '1s'")
            await store_emails(connection, [_queued("known", "Ticket of the reader")])
        sender = EmailSender(
            pool,
            host=mail_server.host,
            port=mail_server.smtp_port,
            sender="Helpdesk <notifications@example.com>",
            digest_interval=timedelta(minutes=60),
        )
        assert await sender.send_due() == 2
        rows = {
            row["recipient_id"]: row
            for row in await pool.fetch(
                "SELECT recipient_id, status, attempts, last_error, "
                "next_attempt_at > now() + interval '20 seconds' AS later FROM emails"
            )
        }
    finally:
        await pool.close()
    assert rows["known"]["status"] == "sent"
    unknown = rows["unknown"]
    assert (unknown["status"], unknown["attempts"], unknown["later"]) == ("pending", 1, True)
    assert "not known" in unknown["last_error"]
    message = await asyncio.to_thread(
        mailbox.wait_for, mail_server, reader, lambda m: "reader" in str(m["Subject"])
    )
    assert message["Subject"] == "Ticket of the reader"
