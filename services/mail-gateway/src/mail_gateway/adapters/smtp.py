"""SMTP submission with aiosmtplib, per account (TLS mode, optional login).

The send queue submits a batch of mails through :class:`SmtpSessions`: one connection (and
login) per account for the whole batch instead of connect, EHLO, STARTTLS, login and QUIT for
every mail. A session that fails is dropped; the next mail of that account opens a new one.
"""

from __future__ import annotations

import contextlib
import uuid
from email.message import EmailMessage
from types import TracebackType

import aiosmtplib

from mail_gateway.domain.accounts import Account

TIMEOUT = 30.0


class SmtpFailed(Exception):
    pass


def _client(account: Account, timeout: float = TIMEOUT) -> aiosmtplib.SMTP:
    settings = account.settings
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        use_tls=settings.smtp_tls == "ssl",
        start_tls=settings.smtp_tls == "starttls",
        timeout=timeout,
    )


class SmtpSessions:
    """Open SMTP sessions by account, for one batch of the send queue (``async with``)."""

    def __init__(self) -> None:
        self._open: dict[uuid.UUID, tuple[int, aiosmtplib.SMTP]] = {}

    async def __aenter__(self) -> SmtpSessions:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for _, client in self._open.values():
            with contextlib.suppress(Exception):
                await client.quit()
            client.close()
        self._open.clear()

    async def _session(self, account: Account) -> aiosmtplib.SMTP:
        found = self._open.get(account.account_id)
        if found is not None and found[0] == account.version and found[1].is_connected:
            return found[1]
        self._drop(account)
        client = _client(account)
        await client.connect()
        if account.settings.smtp_user:
            await client.login(account.settings.smtp_user, account.secrets.smtp)
        self._open[account.account_id] = (account.version, client)
        return client

    def _drop(self, account: Account) -> None:
        found = self._open.pop(account.account_id, None)
        if found is not None:
            found[1].close()

    async def submit(self, account: Account, message: EmailMessage, recipients: list[str]) -> None:
        """Send ``message`` from ``account``; :class:`SmtpFailed` says why not."""
        try:
            client = await self._session(account)
            await client.send_message(message, sender=account.settings.address,
                                      recipients=recipients)  # fmt: skip
        except (aiosmtplib.SMTPException, OSError) as error:
            self._drop(account)  # whatever state the session is in, the next mail starts anew
            raise SmtpFailed(f"{type(error).__name__}: {error}") from None


async def submit(account: Account, message: EmailMessage, recipients: list[str]) -> None:
    """Send one mail in a session of its own."""
    async with SmtpSessions() as sessions:
        await sessions.submit(account, message, recipients)


async def check_submission(account: Account, within: float = 10.0) -> str | None:
    """None when the account's SMTP server answers (and takes its login, if it has one), else
    why not (no secret in it): the managers' connection test. Sends no mail."""
    settings = account.settings
    try:
        client = _client(account, within)
        async with client:
            if settings.smtp_user:
                await client.login(settings.smtp_user, account.secrets.smtp)
    except Exception as error:  # any failure is the test's answer (a bad host name too), not a 500
        return f"{type(error).__name__}: {error}"[:500] if str(error) else type(error).__name__
    return None
