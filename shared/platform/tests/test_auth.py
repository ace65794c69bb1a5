"""Bearer-token verification: what is accepted, what is refused, and the verified-token cache."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from helpdesk_platform.auth import AUDIENCE, ISSUER, AuthenticationError, Role, TokenVerifier


def key_pair() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


PRIVATE, PUBLIC = key_pair()


def token(private: bytes = PRIVATE, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "agent-1",
        "role": "agent",
        "name": "Sari",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        # Parametrized cases mint their tokens at collection time, long before a full run
        # reaches them on a busy machine: valid for a day, so only the expiry case expires.
        "exp": now + 86_400,
    } | overrides
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, private, "RS256")


def test_valid_token_gives_the_principal() -> None:
    principal = TokenVerifier(PUBLIC).verify(f"Bearer {token(email='sari@example.com')}")
    assert (principal.subject, principal.role, principal.email) == (
        "agent-1",
        Role.AGENT,
        "sari@example.com",
    )
    assert principal.is_staff
    assert not TokenVerifier(PUBLIC).verify(f"bearer {token(role='customer')}").is_staff


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing Authorization header"),
        ("Basic dXNlcjpwYXNz", "must be 'Bearer <token>'"),
        ("Bearer ", "must be 'Bearer <token>'"),
        ("Bearer not-a-jwt", "invalid token"),
        (f"Bearer {token(exp=int(time.time()) - 5)}", "token expired"),
        (f"Bearer {token(aud='someone-else')}", "invalid token"),
        (f"Bearer {token(iss='elsewhere')}", "invalid token"),
        (f"Bearer {token(private=key_pair()[0])}", "invalid token"),
        (f"Bearer {token(role='superuser')}", "unknown role"),
        (f"Bearer {token(role=None)}", "invalid token"),
        # issue #11: no token without an expiry, and none that lives longer than 24 h
        (f"Bearer {token(exp=None)}", "invalid token"),
        (f"Bearer {token(iat=None)}", "invalid token"),
        (f"Bearer {token(exp=int(time.time()) + 100 * 365 * 86400)}", "lifetime too long"),
        (f"Bearer {token(exp=int(time.time()) + 24 * 3600 + 1)}", "lifetime too long"),
    ],
)
def test_bad_credentials_are_refused_with_a_reason(header: str | None, message: str) -> None:
    with pytest.raises(AuthenticationError, match=message):
        TokenVerifier(PUBLIC).verify(header)


def test_a_cached_token_still_expires() -> None:
    verifier = TokenVerifier(PUBLIC)
    short_lived = f"Bearer {token(exp=int(time.time()) + 2)}"
    assert verifier.verify(short_lived).subject == "agent-1"
    assert verifier.verify(short_lived).subject == "agent-1"  # served from the cache
    time.sleep(2.1)
    with pytest.raises(AuthenticationError, match="token expired"):
        verifier.verify(short_lived)


def test_the_cache_is_bounded() -> None:
    verifier = TokenVerifier(PUBLIC, cache_size=3)
    for subject in ("a", "b", "c", "d", "e"):
        verifier.verify(f"Bearer {token(sub=subject)}")
    assert len(verifier._verified) == 3


def test_a_token_of_exactly_the_longest_lifetime_is_accepted() -> None:
    now = int(time.time())
    principal = TokenVerifier(PUBLIC).verify(f"Bearer {token(iat=now, exp=now + 24 * 3600)}")
    assert principal.subject == "agent-1"


def test_the_longest_lifetime_can_be_set_per_verifier() -> None:
    from datetime import timedelta

    now = int(time.time())
    strict = TokenVerifier(PUBLIC, max_lifetime=timedelta(minutes=30))
    with pytest.raises(AuthenticationError, match=r"at most 0\.5 h"):
        strict.verify(f"Bearer {token(iat=now, exp=now + 3600)}")
