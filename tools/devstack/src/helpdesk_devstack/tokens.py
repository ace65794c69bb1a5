"""The dev RS256 key pair and bearer tokens for the local stack (``make token ROLE=agent``).

The services verify tokens with ``helpdesk_platform.auth.TokenVerifier`` (issuer
``helpdesk-local``, audience ``helpdesk``) and the public key in ``HELPDESK_JWT_PUBLIC_KEY_FILE``.
The private key never leaves ``<repo>/.local/jwt/`` (gitignored); it is for development only.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from helpdesk_devstack.errors import DevstackError

ISSUER = "helpdesk-local"
AUDIENCE = "helpdesk"
ROLES = ("agent", "manager", "technician", "customer")
PRIVATE_KEY_FILE = "private.pem"
PUBLIC_KEY_FILE = "public.pem"


def ensure_dev_keys(dir: Path) -> tuple[Path, Path]:
    """Return ``(private.pem, public.pem)`` in ``dir``, generating a 2048-bit RSA pair once."""
    directory = Path(dir)
    private_path = directory / PRIVATE_KEY_FILE
    public_path = directory / PUBLIC_KEY_FILE
    if private_path.is_file() and public_path.is_file():
        return private_path, public_path
    directory.mkdir(parents=True, exist_ok=True)
    # A lock, so that two processes (pytest-xdist workers, `make up` beside `make token`) cannot
    # each write half of a different pair.
    with (directory / ".keys.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (private_path.is_file() and public_path.is_file()):
            _generate_pair(private_path, public_path)
    return private_path, public_path


def _generate_pair(private_path: Path, public_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # Private key readable by its owner only; written atomically so a concurrent reader never
    # sees half a key, and public after private so "public exists" implies a complete pair.
    _write_atomic(private_path, private_pem, 0o600)
    _write_atomic(public_path, public_pem, 0o644)


#: The local stack's mail reply key: the notification service signs the reply reference of its
#: mails with it, the mail gateway checks it (issue #14).
MAIL_REPLY_KEY_FILE = "reply.key"


def ensure_mail_reply_key(dir: Path) -> Path:
    """``dir/reply.key``: a random key (64 url-safe characters) generated once, owner-only."""
    path = Path(dir) / MAIL_REPLY_KEY_FILE
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with (path.parent / ".reply-key.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.is_file():
            _write_atomic(path, secrets.token_urlsafe(48).encode(), 0o600)
    return path


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    tmp.replace(path)


def default_subject(role: str) -> str:
    """A stable per-role subject (``dev-agent``...) so repeated tokens act as the same person."""
    return f"dev-{role}"


def default_email(role: str) -> str:
    """A stable per-role address (``dev-customer@example.com``...): a customer's token must carry
    one, since the ticket service finds (or registers) the customer's contact by it."""
    return f"{default_subject(role)}@example.com"


def mint_token(
    private_key_pem: bytes,
    role: str,
    subject: str,
    ttl: timedelta,
    name: str | None = None,
    *,
    email: str | None = None,
    now: datetime | None = None,
    claims: dict[str, object] | None = None,
) -> str:
    """A bearer JWT (RS256) with ``sub``, ``role``, ``name``, ``iss``, ``aud``, ``iat``, ``exp``
    (and ``claims``, such as the mail gateway's ``via``)."""
    if role not in ROLES:
        raise DevstackError(f"unknown role {role!r}", f"use one of: {', '.join(ROLES)}")
    if ttl <= timedelta(0):
        raise DevstackError(f"token lifetime must be positive, got {ttl}")
    issued = (now or datetime.now(UTC)).replace(microsecond=0)
    payload: dict[str, object] = {
        "sub": subject,
        "role": role,
        "name": name or f"Dev {role.capitalize()}",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    if email:
        payload["email"] = email
    return jwt.encode(payload | (claims or {}), private_key_pem, algorithm="RS256")
