"""Agents answer notification mails and the answer lands on the ticket (issue #14), on the real
stack: GreenMail, Kafka, PostgreSQL, the ticket service (API + relay), the mail gateway and the
notification service (its own database), each a real process, the two mail services sharing a
reply key.

A customer mails → a ticket; the agent it is assigned to gets the notification mail in GreenMail
when the customer writes again, presses Reply (In-Reply-To = the notification's Message-ID, To =
its Reply-To) → the customer receives the agent's public reply, threaded. An answer to a mention
notification becomes an internal note, and the customer receives nothing. A stranger quoting the
same Message-ID opens a ticket of their own.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from helpdesk_devstack import mailbox
from helpdesk_devstack.kafka_events import follow_from_now
from helpdesk_events.topics import DIRECTORY, SLA, TICKETS
from notification_service.adapters.migrate import upgrade as upgrade_notifications

from .conftest import ServiceProcess, free_port
from .mail_stack import MailStack, customer_mail, eventually, mail_stack_fixture, tickets_of
from .test_mail_gateway import (
    agent_mail,
    new_agent,
    opened,
    opened_their_own,
    plain_text,
    replies_to,
    someone,
    wait_messages,
)

pytestmark = pytest.mark.integration


@dataclass
class ReplyStack(MailStack):
    """The mail stack with a notification service beside it (its database, for the waits)."""

    notifications_db: str = ""


@pytest.fixture(scope="module")
def reply_key() -> str:
    """The key the mail gateway and the notification service share."""
    return secrets.token_urlsafe(48)


mail_stack = mail_stack_fixture(
    name="mail_stack",
    extra_env=lambda request: {"HELPDESK_MAIL_REPLY_KEY": request.getfixturevalue("reply_key")},
)


@pytest.fixture(scope="module")
def stack(
    mail_stack: MailStack,
    reply_key: str,
    make_database: Callable[[str], str],
    kafka_bootstrap: str,
    dev_keys: tuple[Path, Path],
    start_module_service: Callable[[str, list[str], dict[str, str]], ServiceProcess],
) -> ReplyStack:
    """The mail stack and, beside it, the notification service, following the topics from now."""
    database = make_database("notifyreplies")
    upgrade_notifications(database)
    group = f"notify-replies-{uuid.uuid4().hex[:8]}"
    asyncio.run(follow_from_now(kafka_bootstrap, group, (DIRECTORY, TICKETS, SLA)))
    port = free_port()
    notify = start_module_service(
        "notification-service",
        ["-m", "notification_service", "serve"],
        {
            "HELPDESK_DATABASE_URL": database,
            "HELPDESK_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "HELPDESK_JWT_PUBLIC_KEY_FILE": str(dev_keys[1]),
            "HELPDESK_HTTP_PORT": str(port),
            "HELPDESK_CONSUMER_GROUP": group,
            "HELPDESK_SMTP_HOST": mail_stack.mail.host,
            "HELPDESK_SMTP_PORT": str(mail_stack.mail.smtp_port),
            "HELPDESK_MAIL_REPLY_KEY": reply_key,
        },
    )
    notify.wait_http(f"http://127.0.0.1:{port}/readyz")
    return ReplyStack(**vars(mail_stack), notifications_db=database)


async def notifications_know(stack: ReplyStack, agent_id: str) -> None:
    """Wait until the notification service has the agent's address (it mails them)."""

    async def known() -> bool:
        connection = await asyncpg.connect(stack.notifications_db)
        try:
            email = await connection.fetchval(
                "SELECT email FROM agents WHERE agent_id = $1", agent_id
            )
        finally:
            await connection.close()
        return bool(email)

    await eventually(known)


async def assigned_agent(stack: ReplyStack, name: str, ticket_id: str) -> tuple[str, str]:
    agent_id, agent = await new_agent(stack, name)
    await notifications_know(stack, agent_id)
    async with stack.tickets() as client:
        answer = await client.patch(
            f"/tickets/{ticket_id}",
            json={"assignee_id": agent_id},
            headers=stack.headers("manager"),
        )
        assert answer.status_code == 200, answer.text
    return agent_id, agent


async def notification_mail(stack: MailStack, agent: str, title_part: str) -> EmailMessage:
    def find() -> EmailMessage | None:
        return next(
            (m for m in mailbox.messages(stack.mail, agent) if title_part in str(m["Subject"])),
            None,
        )

    found: EmailMessage = await eventually(lambda: asyncio.to_thread(find))
    return found


def answering(stack: MailStack, agent: str, notification: EmailMessage, body: str) -> EmailMessage:
    """What the agent's mail client sends on Reply: to the notification's Reply-To."""
    answer = agent_mail(stack, agent, f"Re: {notification['Subject']}", body, notification)
    del answer["To"]
    answer["To"] = str(notification["Reply-To"])
    return answer


async def test_an_agent_answers_a_customer_reply_notification_and_the_customer_gets_it(
    stack: ReplyStack,
) -> None:
    customer = someone("budi")
    ticket = await opened(stack, customer, "Printer on fire")
    agent_id, agent = await assigned_agent(stack, "sari", ticket["id"])
    follow_up = customer_mail(stack, customer, f"Re: [#{ticket['number']}] Printer", "Still!")
    follow_up["In-Reply-To"] = ticket["mid"]
    mailbox.send(stack.mail, follow_up)
    notified = await notification_mail(stack, agent, "replied on")
    assert str(notified["Message-ID"]).startswith("<n.")
    assert ".public." in str(notified["Message-ID"])
    assert str(notified["Reply-To"]) == stack.support  # the ticket's own inbox
    assert f"[#{ticket['number']}]" in str(notified["Subject"])
    assert "sent to them" in plain_text(notified)

    mailbox.send(
        stack.mail,
        answering(
            stack, agent,
            notified,
            "Unplug it and call us.\n\nOn Monday Helpdesk wrote:\n> Budi replied on the ticket",
        ),
    )  # fmt: skip
    reply = (await wait_messages(stack, ticket["id"], 3))[-1]
    assert reply["visibility"] == "public"
    assert reply["author"]["kind"] == "agent" and reply["author"]["id"] == agent_id
    assert "Unplug it" in reply["body_text"]
    assert "Budi replied" not in reply["body_text"]  # quoted history stripped

    def arrived() -> list[Any]:
        return replies_to(stack, customer, ticket["number"])

    sent = (await eventually(lambda: asyncio.to_thread(arrived)))[0]
    assert ticket["mid"] in str(sent["References"])  # threaded in the customer's mailbox
    assert "Unplug it" in plain_text(sent)
    assert str(notified["Message-ID"]) not in str(sent["References"])  # nothing of ours leaks
    async with stack.tickets() as client:
        assert await tickets_of(client, agent) == []

    # A stranger who got hold of the notification quotes its Message-ID: anyone's mail.
    stranger = someone("orang")
    forwarded = agent_mail(stack, stranger, f"Re: {notified['Subject']}", "Let me in.", notified)
    mailbox.send(stack.mail, forwarded)
    await opened_their_own(stack, stranger, ticket, messages=3)


async def test_an_answer_to_a_mention_is_an_internal_note_the_customer_never_gets(
    stack: ReplyStack,
) -> None:
    customer = someone("wulan")
    ticket = await opened(stack, customer, "VPN down")
    agent_id, agent = await new_agent(stack, "dewi")
    await notifications_know(stack, agent_id)
    async with stack.tickets() as client:
        noted = await client.post(
            f"/tickets/{ticket['id']}/messages",
            json={"body": f"<p>@{agent} is the VPN certificate expired?</p>",
                  "visibility": "internal"},
            headers={**stack.headers("manager"), "Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        assert noted.status_code == 201, noted.text
    notified = await notification_mail(stack, agent, "mentioned you")
    assert ".internal." in str(notified["Message-ID"])
    assert "internal note" in plain_text(notified)

    mailbox.send(
        stack.mail,
        answering(stack, agent, notified, "Yes, it expired yesterday. Renewing it now."),
    )
    note = (await wait_messages(stack, ticket["id"], 3))[-1]
    assert note["visibility"] == "internal"
    assert note["author"]["kind"] == "agent" and note["author"]["id"] == agent_id
    assert "Renewing it now" in note["body_text"]
    await asyncio.sleep(3)  # the send queue would have sent it by now
    customer_mailbox = await asyncio.to_thread(mailbox.messages, stack.mail, customer)
    assert not any("Renewing" in plain_text(m) for m in customer_mailbox)
    assert replies_to(stack, customer, ticket["number"]) == []
