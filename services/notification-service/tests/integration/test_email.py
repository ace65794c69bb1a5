"""Email to agents through a real SMTP server (GreenMail), read back over IMAP."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from helpdesk_devstack import mailbox
from helpdesk_devstack.greenmail import MailServer
from helpdesk_events import TicketAssigned, TicketCreated

from .conftest import Harness, bearer


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
