"""SMTP submission with aiosmtplib, per account (TLS mode, optional login)."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from mail_gateway.domain.accounts import Account


class SmtpFailed(Exception):
    pass


async def submit(account: Account, message: EmailMessage, recipients: list[str]) -> None:
    settings = account.settings
    try:
        await aiosmtplib.send(
            message,
            recipients=recipients,
            sender=settings.address,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user,
            password=account.secrets.smtp if settings.smtp_user else None,
            use_tls=settings.smtp_tls == "ssl",
            start_tls=settings.smtp_tls == "starttls",
            timeout=30,
        )
    except (aiosmtplib.SMTPException, OSError) as error:
        raise SmtpFailed(f"{type(error).__name__}: {error}") from None


async def check_submission(account: Account, within: float = 10.0) -> str | None:
    """None when the account's SMTP server answers (and takes its login, if it has one), else
    why not (no secret in it): the managers' connection test. Sends no mail."""
    settings = account.settings
    try:
        client = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            use_tls=settings.smtp_tls == "ssl",
            start_tls=settings.smtp_tls == "starttls",
            timeout=within,
        )
        async with client:
            if settings.smtp_user:
                await client.login(settings.smtp_user, account.secrets.smtp)
    except Exception as error:  # any failure is the test's answer (a bad host name too), not a 500
        return f"{type(error).__name__}: {error}"[:500] if str(error) else type(error).__name__
    return None
