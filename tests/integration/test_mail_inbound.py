"""Mail in, on the real stack: customers write to the support address over SMTP (GreenMail),
the gateway reads it over IMAP IDLE, and the ticket API shows the result."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpdesk_devstack import mailbox
from helpdesk_devstack.greenmail import MailServer

from .conftest import ServiceProcess
from .mail_stack import MailStack, customer_mail, eventually, start_mail_stack, tickets_of

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(
    make_database: Callable[[str], str],
    kafka_bootstrap: str,
    mail_server: MailServer,
    dev_keys: tuple[Path, Path],
    start_service: Callable[[str, list[str], dict[str, str]], ServiceProcess],
) -> MailStack:
    return start_mail_stack(
        make_database=make_database,
        kafka_bootstrap=kafka_bootstrap,
        mail_server=mail_server,
        dev_keys=dev_keys,
        start_service=start_service,
        support=f"support-{uuid.uuid4().hex[:6]}@helpdesk.local",
    )


def someone(name: str = "budi") -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@customer.example"


async def one_ticket(stack: MailStack, email: str) -> dict[str, Any]:
    async with stack.tickets() as client:
        found = await eventually(lambda: tickets_of(client, email))
    assert len(found) == 1, found
    return found[0]


async def conversation(stack: MailStack, ticket_id: str) -> list[dict[str, Any]]:
    async with stack.tickets() as client:
        answer = await client.get(f"/tickets/{ticket_id}/messages")
        answer.raise_for_status()
        return answer.json()  # type: ignore[no-any-return]


async def test_a_mail_becomes_a_ticket_with_the_mail_as_its_first_message(
    stack: MailStack,
) -> None:
    sender = someone()
    mailbox.send(stack.mail, customer_mail(stack, sender, "Cannot log in", "The portal says no."))
    ticket = await one_ticket(stack, sender)
    assert ticket["subject"] == "Cannot log in"
    assert ticket["channel"] == "email"
    messages = await eventually(lambda: conversation(stack, ticket["id"]))
    assert "The portal says no." in messages[0]["body_text"]
    async with stack.tickets() as client:
        timeline = (await client.get(f"/tickets/{ticket['id']}/timeline")).json()
    received = [e for e in timeline if e["event_type"] == "EmailReceived"]
    assert received[0]["data"]["from_address"] == sender
    assert received[0]["data"]["account"] == stack.support
    # The acknowledgement reaches the customer, threaded and marked automatic.
    ack = await asyncio.to_thread(mailbox.wait_for, stack.mail, sender, timeout=30)
    assert f"[#{ticket['number']}]" in str(ack["Subject"])
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == received[0]["data"]["email_message_id"]
