"""Mentions in internal notes (domain/mentions.py)."""

from __future__ import annotations

import pytest

from notification_service.domain.mentions import mentioned_agents
from notification_service.domain.views import Agent

AGENTS = [
    Agent("sari", "Sari", "sari@example.com", "agent"),
    Agent("sari-dewi", "Sari Dewi", "dewi@example.com", "agent"),
    Agent("budi", "Budi", "budi@example.co.id", "agent"),
    Agent("gone", "Gone", "gone@example.com", "agent", active=False),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@Sari please check", {"sari"}),
        ("@sari dewi please check", {"sari-dewi"}),  # the longest name wins, any case
        ("cc @SARI DEWI, @Budi.", {"sari-dewi", "budi"}),
        ("@budi@example.co.id fyi", {"budi"}),
        ("@dewi@example.com", {"sari-dewi"}),
        ("write to budi@example.co.id", set()),  # an address is not a mention
        ("@Sarina is someone else", set()),  # a name must end at a word boundary
        ("@Budi_x", set()),
        ("@Gone is deactivated", set()),
        ("no mention here", set()),
        ("@", set()),
        ("(@Budi)", {"budi"}),
        ("@Sari\n@Budi", {"sari", "budi"}),
    ],
)
def test_mentions(text: str, expected: set[str]) -> None:
    assert mentioned_agents(text, AGENTS) == frozenset(expected)
