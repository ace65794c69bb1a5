"""Key rotation: a public key file with several keys verifies tokens of each, by ``kid``."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from helpdesk_devstack.tokens import ensure_dev_keys
from helpdesk_platform.auth import (
    AUDIENCE,
    ISSUER,
    AuthenticationError,
    TokenVerifier,
    key_id,
    token_key_id,
)


def signed(private: bytes, kid: str | None) -> str:
    now = int(time.time())
    claims = {
        "sub": "a",
        "role": "agent",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 60,
    }
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid} if kid else None)


def test_a_file_with_two_keys_verifies_tokens_of_both(tmp_path: Path) -> None:
    old_private, old_public = (p.read_bytes() for p in ensure_dev_keys(tmp_path / "old"))
    new_private, new_public = (p.read_bytes() for p in ensure_dev_keys(tmp_path / "new"))
    both = tmp_path / "public.pem"
    both.write_bytes(new_public + old_public)
    verifier = TokenVerifier.from_file(both)
    assert verifier.verify(f"Bearer {signed(old_private, key_id(old_public))}").subject == "a"
    assert verifier.verify(f"Bearer {signed(new_private, key_id(new_public))}").subject == "a"
    assert verifier.verify(f"Bearer {signed(new_private, None)}").subject == "a"  # the first key
    with pytest.raises(AuthenticationError):
        verifier.verify(f"Bearer {signed(old_private, None)}")
    # One key alone keeps working as before, kid or not
    single = TokenVerifier(old_public)
    assert single.verify(f"Bearer {signed(old_private, 'anything')}").subject == "a"
    with pytest.raises(AuthenticationError):
        single.verify(f"Bearer {signed(new_private, key_id(new_public))}")


def test_token_key_id_reads_the_header_only() -> None:
    assert token_key_id("not a token") is None
    assert token_key_id(signed(ensure_dev_keys_cached(), "k1")) == "k1"


def ensure_dev_keys_cached() -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        return ensure_dev_keys(Path(directory))[0].read_bytes()
