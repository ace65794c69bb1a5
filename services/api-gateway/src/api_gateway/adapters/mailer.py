"""Outbound mail over SMTP (aiosmtplib), with the same settings as the mail gateway
(``HELPDESK_SMTP_*``; GreenMail in tests and in ``make up``).

Messages are marked ``Auto-Submitted: auto-generated`` (RFC 3834) so that auto-responders do not
answer them. The links in them are secrets: they are never logged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

import aiosmtplib


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    use_tls: bool = False


class Mailer:
    def __init__(self, smtp: SmtpSettings, sender: str) -> None:
        self._smtp = smtp
        self._sender = sender

    async def send(self, to: str, subject: str, body: str, *, sender_name: str = "") -> None:
        """``sender_name`` is shown as the sender (the helpdesk's name); the address stays."""
        message = EmailMessage()
        message["From"] = formataddr((sender_name, self._sender)) if sender_name else self._sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(idstring=uuid.uuid4().hex[:12], domain="helpdesk.local")
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body)
        await aiosmtplib.send(
            message,
            hostname=self._smtp.host,
            port=self._smtp.port,
            username=self._smtp.username,
            password=self._smtp.password,
            start_tls=self._smtp.starttls,
            use_tls=self._smtp.use_tls,
            timeout=15,
        )
