"""Email to agents through a real SMTP server (GreenMail), read back over IMAP."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx

from helpdesk_devstack import mailbox
from helpdesk_devstack.greenmail import MailServer
from helpdesk_events import StatusChanged, TicketAssigned, TicketCreated
from notification_service.adapters.database import create_pool
from notification_service.adapters.email_sender import EmailSender

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
