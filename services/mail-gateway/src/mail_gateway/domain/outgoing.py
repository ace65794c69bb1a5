"""Outgoing mail: an agent's reply (or the acknowledgement of a new ticket) as a threaded email.

Every mail carries a Message-ID of our own domain (so our mail coming back is recognised as a
loop), ``In-Reply-To`` / ``References`` chaining the thread, and the ``[#N]`` token in the
subject. Automatic mail is marked ``Auto-Submitted: auto-replied``; a person's reply never is.
The HTML part is laid out in the helpdesk's branding (logo inline, accent colour), the same
layout as the API gateway's mail (``helpdesk_platform.mail_branding``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache

from helpdesk_platform.mail_branding import MailBranding, add_branded_html
from mail_gateway.domain.parsing import PARSE_ONCE

#: How many earlier Message-IDs ``References`` keeps (RFC 5322 allows any; clients cut long).
MAX_REFERENCES = 20


@dataclass(frozen=True)
class OutgoingMail:
    from_address: str
    from_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    body_html: str
    body_text: str
    message_id: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    signature: str = ""
    automated: bool = False
    attachments: tuple[tuple[str, str, bytes], ...] = ()


def new_message_id(domain: str, seed: uuid.UUID) -> str:
    return f"<{seed.hex}@{domain}>"


@lru_cache(maxsize=256)
def _mailbox_text(name: str, address: str) -> str:
    return str(Address(name, addr_spec=address))


def mailbox(name: str, address: str) -> str | Address:
    """``Name <address>`` for a From header: the stdlib's :class:`Address` written out (quoted
    where needed), once per account - as text the header is parsed once too (the policy's
    cache), where an ``Address`` is parsed on every mail. A name with a control character
    stays an ``Address`` (the stdlib encodes it; as text it is no header value)."""
    if not name.isprintable():
        return Address(name, addr_spec=address)
    return _mailbox_text(name, address)


def compose(
    mail: OutgoingMail, now: datetime | None = None, branding: MailBranding | None = None
) -> EmailMessage:
    message = EmailMessage(policy=PARSE_ONCE)
    message["From"] = mailbox(mail.from_name, mail.from_address)
    message["To"] = ", ".join(mail.to)
    if mail.cc:
        message["Cc"] = ", ".join(mail.cc)
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(now or datetime.now(UTC))
    if mail.in_reply_to:
        message["In-Reply-To"] = mail.in_reply_to
    references = tuple(dict.fromkeys(mail.references))[-MAX_REFERENCES:]
    if references:
        message["References"] = " ".join(references)
    if mail.automated:
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
    text = mail.body_text
    if mail.signature:
        text = f"{text}\n\n-- \n{mail.signature}"
    message.set_content(text)
    add_branded_html(
        message,
        mail.body_html,
        branding or MailBranding(),
        domain=mail.message_id.strip("<>").rpartition("@")[2] or "helpdesk.local",
        signature=mail.signature,
    )
    for filename, content_type, data in mail.attachments:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(
            data, maintype=maintype or "application", subtype=subtype or "octet-stream",
            filename=filename,
        )  # fmt: skip
    return message


def solved_text(number: int | None, portal_url: str, ticket_id: uuid.UUID) -> str:
    """The mail a customer gets when their ticket is solved: the rating links (the portal's
    ticket page, which asks them to sign in first) and how to reopen it."""
    label = f"#{number}" if number is not None else "your request"
    page = f"{portal_url.rstrip('/')}/tickets/{ticket_id}"
    return (
        f"We marked ticket {label} as solved.\n\n"
        "How did we do? Rate our answer:\n"
        f"Good: {page}?rate=good\n"
        f"Bad: {page}?rate=bad\n"
        f"Or give 1 to 5 stars: {page}?rate=5\n\n"
        "Not solved after all? Reply to this mail and the ticket opens again."
    )
