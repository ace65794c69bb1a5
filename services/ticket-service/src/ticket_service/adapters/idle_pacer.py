"""How long a loop that tails the event log (the outbox relay, the projector) waits before it
looks again: briefly while events flow, longer the longer the log stays quiet, and briefly again
as soon as this process writes.

Looking every 20 ms kept latency low but cost every idle process 50 rounds of queries a second
(about 6 % of a core for the API, 3 % for the relay, and PostgreSQL's share on top). Doubling the
pause from 20 ms up to 100 ms while nothing comes makes an idle process look 10 times a second;
the first event after a quiet spell waits at most 100 ms more; and a write made by this process
wakes its own tailing loops at once, so the API's read models follow its own writes as fast as
before.
"""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["IdlePacer"]


class IdlePacer:
    """``await pacer.pause(found)`` between looks; ``pacer.wake()`` after a write."""

    def __init__(self, shortest: float = 0.02, longest: float = 0.1) -> None:
        if not 0 < shortest <= longest:
            raise ValueError("need 0 < shortest <= longest")
        self._shortest = shortest
        self._longest = longest
        self._wait = shortest
        self._woken = asyncio.Event()

    @property
    def next_wait(self) -> float:
        """The pause the next empty look would be followed by, in seconds."""
        return self._wait

    def wake(self) -> None:
        """Look again now, then briefly: something was just written."""
        self._woken.set()

    async def pause(self, found: int) -> None:
        """Wait before the next look; ``found`` is how many events the last look found."""
        if found:
            self._wait = self._shortest
        wait = self._wait
        self._wait = min(self._wait * 2, self._longest)
        woken = False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), wait)
            woken = True
        if woken:
            self._woken.clear()
            # The write may commit a moment after it woke us: keep looking briefly.
            self._wait = self._shortest
