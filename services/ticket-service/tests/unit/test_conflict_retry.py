"""The one retry rule of the ticket service's writes (streams.ConflictRetry / RETRY)."""

from __future__ import annotations

import uuid

import pytest

from ticket_service.domain.errors import VersionConflict
from ticket_service.service_layer.streams import RETRY, ConflictRetry, pinned_or_retried

STREAM = uuid.uuid4()


class Racing:
    """An attempt that loses ``losses`` races, then succeeds."""

    def __init__(self, losses: int) -> None:
        self.losses = losses
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.losses:
            raise VersionConflict(STREAM, self.calls, self.calls + 1)
        return "written"


async def test_a_lost_race_is_decided_again_until_it_wins() -> None:
    attempt = Racing(losses=3)
    assert await ConflictRetry(attempts=4, pause_seconds=0).run(attempt) == "written"
    assert attempt.calls == 4


async def test_the_last_conflict_is_raised_when_the_attempts_run_out() -> None:
    attempt = Racing(losses=10)
    with pytest.raises(VersionConflict) as raised:
        await ConflictRetry(attempts=3, pause_seconds=0).run(attempt)
    assert attempt.calls == 3 and raised.value.expected == 3


async def test_a_pinned_version_gets_the_conflict_at_once() -> None:
    attempt = Racing(losses=1)
    with pytest.raises(VersionConflict):
        await pinned_or_retried(7, attempt)
    assert attempt.calls == 1
    unpinned = Racing(losses=RETRY.attempts - 1)
    assert await pinned_or_retried(None, unpinned) == "written"
    assert unpinned.calls == RETRY.attempts
