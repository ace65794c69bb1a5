"""Rules of sign-in that need no I/O: one-time secrets, lockout backoff, password policy.

Secrets given to people (links, codes, refresh tokens) are random and stored only as SHA-256
digests: they have 256 bits (links, refresh tokens), so a digest cannot be reversed, and a
database dump lets no one sign in. The 6-digit code is weak on its own; it is bound to its link
(digested together), lives minutes, and its row dies after a few wrong tries.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

MAX_CODE_ATTEMPTS = 5
LOCKOUT_FREE_FAILURES = 5
LOCKOUT_BASE = timedelta(seconds=30)
LOCKOUT_MAX = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


class Purpose(StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a secret
    CUSTOMER_SIGN_IN = "customer_sign_in"


class WeakPassword(ValueError):
    """The password does not meet the policy; the message says what is missing."""


@dataclass(frozen=True)
class Secret:
    """A secret for a person (``value``) and what the database keeps of it (``digest``)."""

    value: str
    digest: bytes


def digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def new_secret() -> Secret:
    value = secrets.token_urlsafe(32)
    return Secret(value, digest(value))


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def code_digest(link_digest: bytes, code: str) -> bytes:
    return hashlib.sha256(link_digest + code.encode()).digest()


def same_digest(a: bytes | None, b: bytes) -> bool:
    return a is not None and hmac.compare_digest(a, b)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def invitation_expired(invited_at: datetime, lifetime: timedelta, now: datetime) -> bool:
    """An invitation older than a link's lifetime is not mailed when its event is read (again):
    a gateway that starts on a new consumer group (a fresh deployment, a renamed group) reads
    the directory from its start, and the agents invited long ago must not get a mail each."""
    return invited_at + lifetime <= now


def lockout_after(failures: int) -> timedelta | None:
    """How long an account is locked after ``failures`` wrong passwords in a row: nothing for
    the first few, then 30 s doubling each time, at most 15 minutes."""
    if failures < LOCKOUT_FREE_FAILURES:
        return None
    extra = failures - LOCKOUT_FREE_FAILURES
    wait: timedelta = LOCKOUT_BASE * (2 ** min(extra, 16))
    return min(wait, LOCKOUT_MAX)


def check_password_policy(password: str, *, email: str | None = None) -> None:
    """NIST SP 800-63B style: long enough, not the email, no composition rules."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    if len(set(password)) < 4:
        raise WeakPassword("a password needs more than three different characters")
    if email and normalise_email(password) in {
        normalise_email(email),
        normalise_email(email).split("@")[0],
    }:
        raise WeakPassword("a password must not be your email address")
