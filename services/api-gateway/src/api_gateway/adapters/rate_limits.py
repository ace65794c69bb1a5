"""Rate limits at the edge, with the ``limits`` library (sliding window counters in memory).

In memory per gateway process: with several replicas each one counts on its own, so the
effective limit is the configured one times the replicas (documented in the README). The
sign-in lockout that must survive restarts and span replicas lives in PostgreSQL instead
(``adapters/accounts.py``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


class RateLimits:
    """Named limits (``"ip"``, ``"subject"``, ``"auth-ip"``, ``"auth-account"``), one counter each
    per identifier."""

    def __init__(self, limits: dict[str, str]) -> None:
        self._items: dict[str, RateLimitItem] = {name: parse(spec) for name, spec in limits.items()}
        self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    async def hit(self, name: str, identifier: str) -> Verdict:
        item = self._items[name]
        if await self._limiter.hit(item, name, identifier):
            return Verdict(True)
        stats = await self._limiter.get_window_stats(item, name, identifier)
        return Verdict(False, max(1, math.ceil(stats.reset_time - time.time())))

    async def reset(self) -> None:
        await self._limiter.storage.reset()
