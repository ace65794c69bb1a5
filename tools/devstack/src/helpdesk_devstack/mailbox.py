"""Send and read mail on a local mail server as a person would: SMTP in, IMAP out.

For tests and the command line (a newcomer after ``make up``): ``send`` delivers a message over
SMTP, ``messages`` logs in to an address's mailbox over IMAP and returns what is there, parsed
with the standard library's ``policy.default``; ``wait_for`` polls until a message arrives.
Plain standard-library clients on purpose: what is checked is the server's view, not ours.
"""

from __future__ import annotations

import contextlib
import imaplib
import smtplib
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage

from helpdesk_devstack.greenmail import MailServer


def send(server: MailServer, message: EmailMessage | bytes, *, to: list[str] | None = None) -> None:
    """Deliver ``message`` through the server's SMTP port (raw bytes need ``to``)."""
    with smtplib.SMTP(server.host, server.smtp_port, timeout=10) as smtp:
        if isinstance(message, bytes):
            if not to:
                raise ValueError("raw bytes need the recipients (to=[...])")
            sender = "<>"
            smtp.sendmail(sender, to, message)
        else:
            smtp.send_message(message, to_addrs=to)


def messages(server: MailServer, address: str, folder: str = "INBOX") -> list[EmailMessage]:
    """Every message in ``address``'s mailbox, oldest first (login = the address)."""
    imap = imaplib.IMAP4(server.host, server.imap_port, timeout=10)
    try:
        imap.login(address, "any")  # GreenMail here runs with authentication disabled
        status, _ = imap.select(folder, readonly=True)
        if status != "OK":
            return []
        _, found = imap.uid("SEARCH", "ALL")
        uids = found[0].split() if found and found[0] else []
        result: list[EmailMessage] = []
        for uid in uids:
            _, parts = imap.uid("FETCH", uid.decode(), "(RFC822)")
            for part in parts:
                if isinstance(part, tuple):
                    parsed = message_from_bytes(part[1], policy=policy.default)
                    assert isinstance(parsed, EmailMessage)
                    result.append(parsed)
        return result
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            imap.logout()


def wait_for(
    server: MailServer,
    address: str,
    predicate: Callable[[EmailMessage], bool] = lambda _: True,
    *,
    timeout: float = 20.0,
) -> EmailMessage:
    """The first message in ``address``'s mailbox that satisfies ``predicate``, waiting for it."""
    deadline = time.monotonic() + timeout
    while True:
        for message in messages(server, address):
            if predicate(message):
                return message
        if time.monotonic() > deadline:
            raise TimeoutError(f"no matching mail for {address} within {timeout:.0f}s")
        time.sleep(0.2)
