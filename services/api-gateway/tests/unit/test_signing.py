"""Access tokens: the claims every service verifies, the JWKS, and rotation."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from api_gateway.adapters.signing import KeyRing, public_keys_in
from helpdesk_devstack.tokens import ensure_dev_keys
from helpdesk_platform.auth import AuthenticationError, Role, TokenVerifier


def pair(directory: Path) -> tuple[bytes, bytes]:
    private, public = ensure_dev_keys(directory)
    return private.read_bytes(), public.read_bytes()


with tempfile.TemporaryDirectory() as keys:
    OLD, NEW = pair(Path(keys) / "old"), pair(Path(keys) / "new")


def test_tokens_are_what_every_service_verifies() -> None:
    ring = KeyRing(NEW[0])
    now = datetime.now(UTC)
    token = ring.sign(
        subject="a1",
        role="agent",
        name="Sari",
        email="sari@example.com",
        now=now,
        lifetime=timedelta(minutes=10),
    )
    principal = TokenVerifier(NEW[1]).verify(f"Bearer {token}")
    assert (principal.subject, principal.role, principal.email) == (
        "a1",
        Role.AGENT,
        "sari@example.com",
    )
    claims = jwt.decode(token, NEW[1], algorithms=["RS256"], audience="helpdesk")
    assert claims["iss"] == "helpdesk-local"
    assert claims["exp"] - claims["iat"] == 600
    assert claims["jti"]
    assert jwt.get_unverified_header(token)["kid"] == ring.kid


def test_jwks_publishes_current_and_previous_keys_and_both_verify() -> None:
    old_ring = KeyRing(OLD[0])
    ring = KeyRing(NEW[0], [OLD[1]])
    kids = {key["kid"] for key in ring.jwks()["keys"]}
    assert kids == {ring.kid, old_ring.kid}
    assert all(key["alg"] == "RS256" and key["use"] == "sig" for key in ring.jwks()["keys"])
    now = datetime.now(UTC)
    old_token = old_ring.sign(
        subject="c1", role="customer", name=None, email=None, now=now, lifetime=timedelta(minutes=5)
    )
    assert ring.verify(f"Bearer {old_token}").subject == "c1"
    # A key that is no longer trusted does not verify
    with pytest.raises(AuthenticationError):
        KeyRing(NEW[0]).verify(f"Bearer {old_token}")


def test_several_public_keys_in_one_file() -> None:
    assert public_keys_in(OLD[1] + NEW[1]) == [OLD[1].strip(), NEW[1].strip()]
