"""Mail with files, end to end: customers' attachments (an inline image too) become the ticket's
attachments byte for byte, and a file over the ticket service's 20 MB limit is left on the
original mail, said so, while the rest of its mail lands.

The mails are delivered to an inbox before the helpdesk watches it, so its first catch-up finds
them all unseen at once and must cut them into IMAP fetches by size: the gateway's fetch budget
(``HELPDESK_MAIL_IMAP_FETCH_MAX_BYTES``) is 1 MiB here, smaller than two of the mails, and one
mail (28 MB encoded) is larger than the whole budget - fetched alone, never skipped."""

from __future__ import annotations

import os
import uuid
from email.message import EmailMessage
from typing import Any

import pytest

from helpdesk_devstack import mailbox
from helpdesk_devstack.images import png

from .mail_stack import (
    MailStack,
    account_body,
    customer_mail,
    eventually,
    mail_account,
    mail_stack_fixture,
    tickets_of,
)

pytestmark = pytest.mark.integration

FETCH_BUDGET = 1024 * 1024

stack = mail_stack_fixture(extra_env={"HELPDESK_MAIL_IMAP_FETCH_MAX_BYTES": str(FETCH_BUDGET)})


def someone() -> str:
    return f"sari-{uuid.uuid4().hex[:8]}@customer.example"


def new_inbox() -> str:
    return f"files-{uuid.uuid4().hex[:6]}@helpdesk.local"


def mail_to(stack: MailStack, inbox: str, sender: str, subject: str, body: str) -> EmailMessage:
    mail = customer_mail(stack, sender, subject, body)
    mail.replace_header("To", inbox)
    return mail


def watched(stack: MailStack, inbox: str) -> Any:
    """The helpdesk watches ``inbox`` (an account of its own) while the block runs."""
    return mail_account(stack, account_body(stack, inbox, secrets={"imap_password": "files-pw"}))


async def first_message(stack: MailStack, sender: str) -> dict[str, Any]:
    async with stack.tickets() as client:
        tickets = await eventually(lambda: tickets_of(client, sender), timeout=90)
        assert len(tickets) == 1, tickets

        async def messages() -> list[dict[str, Any]]:
            answer = await client.get(f"/tickets/{tickets[0]['id']}/messages")
            answer.raise_for_status()
            return answer.json()  # type: ignore[no-any-return]

        found = await eventually(messages)
    return found[0]  # type: ignore[no-any-return]


async def downloaded(stack: MailStack, message: dict[str, Any]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    async with stack.tickets() as client:
        for attachment in message["attachments"]:
            answer = await client.get(f"/attachments/{attachment['attachment_id']}")
            assert answer.status_code == 200, answer.text
            files[attachment["filename"]] = answer.content
    return files


async def test_files_arrive_whole_through_fetches_smaller_than_two_mails(stack: MailStack) -> None:
    inbox = new_inbox()
    senders = [someone() for _ in range(3)]
    reports = {sender: os.urandom(600 * 1024) for sender in senders}  # ~820 KB each, encoded
    logo = png((0x2B, 0x8A, 0x3E), size=16)
    for sender in senders:
        mail = mail_to(stack, inbox, sender, "The export fails", "The report is attached.")
        mail.add_attachment(
            reports[sender], maintype="application", subtype="octet-stream",
            filename="report.bin",
        )  # fmt: skip
        if sender == senders[0]:
            mail.add_attachment(logo, maintype="image", subtype="png", filename="screen.png",
                                disposition="inline", cid="<screen@customer.example>")  # fmt: skip
        mailbox.send(stack.mail, mail, to=[inbox])
    async with watched(stack, inbox):
        for sender in senders:
            files = await downloaded(stack, await first_message(stack, sender))
            assert files["report.bin"] == reports[sender]
            if sender == senders[0]:
                assert files["screen.png"] == logo  # the inline image is kept
            else:
                assert set(files) == {"report.bin"}


async def test_a_file_over_20_mb_stays_on_the_original_and_the_rest_lands(
    stack: MailStack,
) -> None:
    inbox = new_inbox()
    before, sender, after = someone(), someone(), someone()
    mailbox.send(stack.mail, mail_to(stack, inbox, before, "Hello", "Before."), to=[inbox])
    mail = mail_to(stack, inbox, sender, "Full backup", "Backup and notes attached.")
    mail.add_attachment(os.urandom(21 * 1024 * 1024), maintype="application",
                        subtype="octet-stream", filename="backup.bin")  # fmt: skip
    mail.add_attachment(b"1. Export\n2. Zip\n", maintype="text", subtype="plain",
                        filename="notes.txt")  # fmt: skip
    mailbox.send(stack.mail, mail, to=[inbox])
    mailbox.send(stack.mail, mail_to(stack, inbox, after, "Hello", "After."), to=[inbox])
    async with watched(stack, inbox):
        message = await first_message(stack, sender)
        assert await downloaded(stack, message) == {"notes.txt": b"1. Export\n2. Zip\n"}
        assert "Not attached (over 20 MB or refused): backup.bin" in message["body_html"]
        assert "Backup and notes attached." in message["body_text"]
        for other, text in ((before, "Before."), (after, "After.")):
            landed = await first_message(stack, other)
            assert text in landed["body_text"]
            assert landed["attachments"] == []
