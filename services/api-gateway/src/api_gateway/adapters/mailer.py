"""Outbound mail over SMTP (aiosmtplib), with the same settings as the mail gateway
(``HELPDESK_SMTP_*``; GreenMail in tests and in ``make up``).

Messages are marked ``Auto-Submitted: auto-generated`` (RFC 3834) so that auto-responders do not
answer them. The links in them are secrets: they are never logged. Each goes out in the
helpdesk's branding: its name as the sender and under the text, and an HTML part with its logo
and accent colour (``helpdesk_platform.mail_branding``, shared with the mail gateway).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

import aiosmtplib

from helpdesk_platform.mail_branding import MailBranding, add_branded_html, text_to_html

MESSAGE_ID_DOMAIN = "helpdesk.local"


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

    async def send(
        self, to: str, subject: str, body: str, *, branding: MailBranding | None = None
    ) -> None:
        """``body`` is plain text; the branding's name is shown as the sender (the address
        stays) and signs it."""
        branding = branding or MailBranding()
        name = branding.helpdesk_name
        message = EmailMessage()
        message["From"] = formataddr((name, self._sender))
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(idstring=uuid.uuid4().hex[:12], domain=MESSAGE_ID_DOMAIN)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(f"{body.rstrip()}\n\n-- \n{name}\n")
        add_branded_html(
            message, text_to_html(body, links=True), branding, domain=MESSAGE_ID_DOMAIN
        )
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
