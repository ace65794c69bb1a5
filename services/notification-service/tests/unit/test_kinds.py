"""Preferences per kind (domain/kinds.py)."""

from __future__ import annotations

import pytest

from notification_service.domain.kinds import (
    LOW_PRIORITY,
    Channel,
    Kind,
    Preference,
    PreferenceError,
    check_preference,
    effective,
)


def test_every_kind_has_a_default_and_urgent_ones_come_by_email() -> None:
    for kind in Kind:
        assert effective(kind, None).channel in set(Channel)
    assert effective(Kind.ASSIGNED, None).channel is Channel.BOTH
    assert effective(Kind.SLA_BREACHED, None).channel.email
    assert not effective(Kind.FOLLOWED_STATUS_CHANGED, None).channel.email


def test_a_choice_replaces_the_default() -> None:
    chosen = Preference(channel=Channel.NONE)
    assert effective(Kind.ASSIGNED, chosen) == chosen
    assert not chosen.channel.in_app and not chosen.channel.email


@pytest.mark.parametrize("kind", sorted(LOW_PRIORITY))
def test_digest_for_low_priority_kinds_by_email(kind: Kind) -> None:
    ok = Preference(channel=Channel.EMAIL, digest=True)
    assert check_preference(kind, ok) == ok
    with pytest.raises(PreferenceError, match="is an email"):
        check_preference(kind, Preference(channel=Channel.IN_APP, digest=True))


@pytest.mark.parametrize("kind", sorted(set(Kind) - LOW_PRIORITY))
def test_no_digest_for_what_needs_attention_now(kind: Kind) -> None:
    with pytest.raises(PreferenceError, match="low-priority"):
        check_preference(kind, Preference(channel=Channel.BOTH, digest=True))
