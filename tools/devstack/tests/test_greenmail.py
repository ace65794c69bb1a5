"""The local mail server: mail sent over SMTP is read back over IMAP from any address's mailbox."""

from __future__ import annotations

import imaplib
from email.message import EmailMessage
from pathlib import Path

import pytest

from helpdesk_devstack.errors import DevstackError
from helpdesk_devstack.greenmail import SUPPORT_ADDRESS, LocalGreenMail, MailServer
from helpdesk_devstack.mailbox import messages, send, wait_for

pytestmark = pytest.mark.integration


def _mail(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def test_support_mailbox_receives_and_customer_mailbox_needs_no_setup(
    mail_server: MailServer,
) -> None:
    send(mail_server, _mail("budi@example.co.id", SUPPORT_ADDRESS, "Tidak bisa login", "Halo"))
    send(mail_server, _mail(SUPPORT_ADDRESS, "budi@example.co.id", "Re: Tidak bisa login", "Ok"))

    received = wait_for(mail_server, SUPPORT_ADDRESS, lambda m: m["Subject"] == "Tidak bisa login")
    assert received["From"] == "budi@example.co.id"
    answer = wait_for(mail_server, "budi@example.co.id")
    assert answer.get_content().strip() == "Ok"
    assert all(m["To"] == "budi@example.co.id" for m in messages(mail_server, "budi@example.co.id"))


def test_imap_speaks_idle(mail_server: MailServer) -> None:
    imap = imaplib.IMAP4(mail_server.host, mail_server.imap_port, timeout=10)
    try:
        imap.login(SUPPORT_ADDRESS, "support")
        _, capabilities = imap.capability()
        assert b"IDLE" in capabilities[0].split()
    finally:
        imap.logout()


def test_wait_for_gives_up_with_a_timeout(mail_server: MailServer) -> None:
    with pytest.raises(TimeoutError):
        wait_for(mail_server, "nobody@example.com", timeout=0.5)


def test_three_distinct_ports_are_required(tmp_path: Path) -> None:
    with pytest.raises(DevstackError, match="three different ports"):
        LocalGreenMail(tmp_path, smtp_port=3025, imap_port=3025, api_port=3080, libs=tmp_path)
