"""Sign-in rules without I/O: secrets, codes, lockout backoff, password policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api_gateway.domain.credentials import (
    WeakPassword,
    check_password_policy,
    code_digest,
    digest,
    invitation_expired,
    lockout_after,
    new_code,
    new_secret,
    same_digest,
)


def test_secrets_are_random_and_only_their_digest_is_kept() -> None:
    one, two = new_secret(), new_secret()
    assert one.value != two.value
    assert len(one.value) >= 43  # 256 bits, URL-safe
    assert one.digest == digest(one.value)
    assert one.value.encode() not in one.digest


def test_codes_are_six_digits_and_bound_to_their_link() -> None:
    codes = {new_code() for _ in range(200)}
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert len(codes) > 150
    link_a, link_b = new_secret(), new_secret()
    assert code_digest(link_a.digest, "123456") != code_digest(link_b.digest, "123456")
    assert same_digest(code_digest(link_a.digest, "123456"), code_digest(link_a.digest, "123456"))
    assert not same_digest(None, b"x")


def test_lockout_backs_off_after_five_failures_up_to_fifteen_minutes() -> None:
    assert [lockout_after(n) for n in range(5)] == [None] * 5
    assert lockout_after(5) == timedelta(seconds=30)
    assert lockout_after(6) == timedelta(seconds=60)
    assert lockout_after(7) == timedelta(seconds=120)
    assert lockout_after(50) == timedelta(minutes=15)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 12"),
        ("aaaaaaaaaaaaaaaa", "different characters"),
        ("sari@example.com", "email"),
        ("x" * 300, "at most"),
    ],
)
def test_weak_passwords_are_refused(password: str, reason: str) -> None:
    with pytest.raises(WeakPassword, match=reason):
        check_password_policy(password, email="sari@example.com")


def test_a_long_passphrase_is_fine() -> None:
    check_password_policy("correct horse battery staple", email="sari@example.com")


def test_an_invitation_read_after_its_links_lifetime_is_not_mailed() -> None:
    invited = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    lifetime = timedelta(hours=72)
    assert not invitation_expired(invited, lifetime, invited + timedelta(minutes=1))
    assert not invitation_expired(invited, lifetime, invited + timedelta(hours=71, minutes=59))
    assert invitation_expired(invited, lifetime, invited + lifetime)
    assert invitation_expired(invited, lifetime, invited + timedelta(days=30))
