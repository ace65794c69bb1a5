"""The mail gateway's connection test (``POST /accounts/test`` behind the Email accounts screen)
against the session's real GreenMail: both servers answer with good settings; a closed port or
a server that refuses is reported per server, without the password, and nothing else fails."""

from __future__ import annotations

import uuid

import pytest
from pydantic import SecretStr

from helpdesk_devstack.greenmail import MailServer
from mail_gateway.adapters.imap import check_inbox
from mail_gateway.adapters.smtp import check_submission
from mail_gateway.domain.accounts import Account, AccountSecrets, AccountSettings
from mail_gateway.service_layer.admin import EmailAccounts

from .conftest import free_port

pytestmark = pytest.mark.integration

PASSWORD = "inbox password 7f3a"  # GreenMail takes any


def account(mail: MailServer, *, imap_port: int | None = None, smtp_tls: str = "none") -> Account:
    address = f"help-{uuid.uuid4().hex[:6]}@helpdesk.local"
    settings = AccountSettings.model_validate(
        {
            "address": address,
            "imap_host": mail.host,
            "imap_port": imap_port or mail.imap_port,
            "imap_tls": "none",
            "imap_user": address,
            "smtp_host": mail.host,
            "smtp_port": mail.smtp_port,
            "smtp_tls": smtp_tls,
        }
    )
    return Account(uuid.uuid4(), 0, settings, AccountSecrets(imap_password=SecretStr(PASSWORD)))


def use_cases() -> EmailAccounts:
    async def never() -> None:
        raise AssertionError("a connection test changes no watcher")

    def no_status(account_id: uuid.UUID) -> None:
        return None

    return EmailAccounts(
        accounts=None,  # type: ignore[arg-type]  # a connection test reads no store
        sync_watchers=never,
        status_of=no_status,
        probes=(check_inbox, check_submission),
    )


async def test_good_settings_pass_both_servers(mail_server: MailServer) -> None:
    good = account(mail_server)
    check = await use_cases().test_connection(good.settings, good.secrets)
    assert check.ok and check.imap_error is None and check.smtp_error is None


async def test_each_server_reports_why_it_failed(mail_server: MailServer) -> None:
    closed = account(mail_server, imap_port=free_port(), smtp_tls="ssl")  # SMTP speaks no TLS
    check = await use_cases().test_connection(closed.settings, closed.secrets)
    assert not check.ok
    assert check.imap_error and check.smtp_error
    assert PASSWORD not in check.imap_error + check.smtp_error
