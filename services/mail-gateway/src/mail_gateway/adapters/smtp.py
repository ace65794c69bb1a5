"""SMTP submission with aiosmtplib, per account (TLS mode, optional login).

The send queue submits a batch of mails through :class:`SmtpSessions`: one connection (and
login) per account for the whole batch instead of connect, EHLO, STARTTLS, login and QUIT for
every mail. A session that fails is dropped; the next mail of that account opens a new one.

TLS modes: ``ssl`` is implicit TLS (465-style); ``starttls`` (587-style, the default) upgrades
the connection before anything else is said, and a server whose EHLO does not offer STARTTLS is
refused - the password and the mail are never sent in plain text (aiosmtplib's
``start_tls=True`` refuses too, with a bare ``SMTPException``; the check is ours so that the
error says what happened); ``none`` is plain text and never upgrades. Certificates are checked
against the system's trust store (``SSL_CERT_FILE`` where a private CA is used). Failures are
described for managers by :func:`explain` (no secret in it).
"""

from __future__ import annotations

import contextlib
import ssl
import uuid
from email.message import EmailMessage
from types import TracebackType

import aiosmtplib

from mail_gateway.domain.accounts import Account

TIMEOUT = 30.0


class SmtpFailed(Exception):
    pass


class StartTlsNotOffered(aiosmtplib.SMTPException):
    """The account says ``starttls`` but the server's EHLO does not offer it."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"the SMTP server {host}:{port} does not offer STARTTLS: refused rather than sending "
            "the password and mail unencrypted (use TLS mode ssl if the server has implicit TLS)"
        )


def explain(error: BaseException) -> str:
    """Why an SMTP connection, login or submission failed, in words for a manager."""
    if isinstance(error, StartTlsNotOffered):
        return str(error)
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return (
            f"the SMTP server refused the login ({error.code} {error.message}): "
            "check the SMTP user and password"
        )
    cause: BaseException | None = error
    while cause is not None:  # aiosmtplib wraps an implicit TLS handshake's failure
        if isinstance(cause, ssl.SSLCertVerificationError):
            why = getattr(cause, "verify_message", None) or cause.strerror or str(cause)
            return f"the SMTP server's certificate is not trusted: {why}"
        cause = cause.__cause__
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


async def _connect(account: Account, within: float = TIMEOUT) -> aiosmtplib.SMTP:
    """A session encrypted as the account's TLS mode says and logged in if it has a login."""
    settings = account.settings
    client = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        use_tls=settings.smtp_tls == "ssl",
        start_tls=False,  # STARTTLS below, never aiosmtplib's opportunistic default
        timeout=within,  # aiosmtplib's own per-step timeout
    )
    await client.connect()
    try:
        if settings.smtp_tls == "starttls":
            await client.ehlo()
            if not client.supports_extension("starttls"):
                raise StartTlsNotOffered(settings.smtp_host, settings.smtp_port)
            await client.starttls()
        if settings.smtp_user:
            await client.login(settings.smtp_user, account.secrets.smtp)
    except BaseException:
        client.close()
        raise
    return client


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
        client = await _connect(account)
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
            raise SmtpFailed(explain(error)) from None


async def submit(account: Account, message: EmailMessage, recipients: list[str]) -> None:
    """Send one mail in a session of its own."""
    async with SmtpSessions() as sessions:
        await sessions.submit(account, message, recipients)


async def check_submission(account: Account, within: float = 10.0) -> str | None:
    """None when the account's SMTP server answers (and takes its login, if it has one), else
    why not (no secret in it): the managers' connection test. Sends no mail."""
    try:
        client = await _connect(account, within)
    except Exception as error:  # any failure is the test's answer (a bad host name too), not a 500
        return explain(error)[:500]
    with contextlib.suppress(aiosmtplib.SMTPException, OSError):  # it answered: the check passed
        await client.quit()
    client.close()
    return None
