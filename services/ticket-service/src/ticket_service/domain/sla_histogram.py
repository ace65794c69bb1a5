"""The SLA report's rollup rules: business-time buckets, the median and p90 read from them (with
their error bound), and a period cut into the rollup's blocks of days (issue #19).

Why a rollup: over 1,000,000 events (~400,000 SLA outcomes in 90 days) the exact report sorted
every outcome of the period per request (``percentile_cont``) and joined each to its ticket's
team and assignee: 1.5-3.3 s at p95 for 30 and 90 days (``bench/reports_1m.py``,
``docs/benchmarks.md``). A faster index or query cannot help much: the answer needs every time
of the period, and sorting 400,000 of them alone takes most of a 300 ms budget on this machine.
The rollup (``sla_report_buckets``, migration 0013) keeps, per block of UTC days, metric, team
and assignee, the count of outcomes in each business-time bucket, so a report adds up a few
thousand rows instead of sorting hundreds of thousands; the counts and the average stay exact.

Buckets: ``0`` holds times under one second; bucket ``b >= 1`` holds
``[2 ** ((b - 1) / 8), 2 ** (b / 8))`` seconds: eight per doubling, each ~9.05 % wide. A
percentile is read as ``percentile_cont`` reads it (the two ranks around ``fraction * (n - 1)``,
interpolated linearly), with each rank's time taken as its bucket's geometric middle
(``0.5`` s in bucket 0). Each of those is within a factor ``2 ** (1 / 16)`` of the true time (or
0.5 s of it, under one second), and so is a weighted mean of two of them, hence:

    |estimate - exact| <= max(0.5 s, RELATIVE_ERROR * exact)   (RELATIVE_ERROR ~ 4.43 %)

Blocks: tier ``t`` (0-3) groups ``4 ** t`` UTC days, aligned on 1970-01-01 (block
``day >> 2t``); each outcome counts once in each tier. A period of whole UTC days is covered by
at most three blocks per tier on each side and the largest blocks in the middle (90 days: at
most 19 blocks, usually ~10); the parts of a period that are not whole UTC days (a report in a
viewer's time zone, or up to a datetime) are read from the outcomes themselves.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

#: Buckets per doubling of the business time.
PER_DOUBLING = 8
#: The largest relative error of a median or p90 read from the buckets (times >= 1 s).
RELATIVE_ERROR = 2 ** (1 / (2 * PER_DOUBLING)) - 1
#: The largest absolute error under one second (bucket 0's middle).
ABSOLUTE_ERROR = 0.5
#: Tiers of blocks: 1, 4, 16 and 64 UTC days.
TIERS = 4
EPOCH = date(1970, 1, 1)


def bucket_of(seconds: float) -> int:
    """The bucket of a business time (the migration's ``sla_seconds_bucket`` computes the
    same in SQL)."""
    if seconds < 1:
        return 0
    return 1 + math.floor(math.log2(seconds) * PER_DOUBLING)


def bucket_bounds(bucket: int) -> tuple[float, float]:
    """``[low, high)`` seconds of a bucket."""
    if bucket == 0:
        return 0.0, 1.0
    return 2 ** ((bucket - 1) / PER_DOUBLING), 2 ** (bucket / PER_DOUBLING)


def bucket_middle(bucket: int) -> float:
    """The time a bucket stands for: its geometric middle (0.5 s for bucket 0)."""
    if bucket == 0:
        return ABSOLUTE_ERROR
    return float(2 ** ((bucket - 0.5) / PER_DOUBLING))


def percentile(counts: Mapping[int, int], fraction: float) -> float | None:
    """``percentile_cont(fraction)`` of the times counted per bucket, within the module's error
    bound; None when nothing was counted."""
    ordered = sorted((bucket, n) for bucket, n in counts.items() if n > 0)
    total = sum(n for _, n in ordered)
    if total == 0:
        return None
    position = fraction * (total - 1)
    low_rank = math.floor(position)
    high_rank = min(low_rank + 1, total - 1)
    low, high = _at_rank(ordered, low_rank), _at_rank(ordered, high_rank)
    return low + (position - low_rank) * (high - low)


def _at_rank(ordered: list[tuple[int, int]], rank: int) -> float:
    """The time of the ``rank``-th smallest (from 0) of the counted times."""
    seen = 0
    for bucket, n in ordered:
        seen += n
        if rank < seen:
            return bucket_middle(bucket)
    raise ValueError(f"rank {rank} beyond the {seen} times counted")


@dataclass(frozen=True)
class PeriodParts:
    """A period ``[start, end)`` as the rollup reads it: ``blocks`` (tier, block) of whole UTC
    days, and ``edges``, the parts that are not whole UTC days, read from the outcomes."""

    blocks: tuple[tuple[int, int], ...]
    edges: tuple[tuple[datetime, datetime], ...]


def day_number(day: date) -> int:
    return (day - EPOCH).days


def blocks_of(first: int, end: int) -> list[tuple[int, int]]:
    """The fewest blocks covering days ``[first, end)`` (day numbers since 1970-01-01): the
    largest block that starts at the next day and fits, each time."""
    blocks = []
    day = first
    while day < end:
        tier = TIERS - 1
        while tier > 0 and (day % 4**tier or day + 4**tier > end):
            tier -= 1
        blocks.append((tier, day >> (2 * tier)))
        day += 4**tier
    return blocks


def split_period(start: datetime, end: datetime) -> PeriodParts:
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    first_whole = start.date() + timedelta(days=0 if start.timetz() == time(tzinfo=UTC) else 1)
    end_whole = end.date()
    if first_whole >= end_whole:
        return PeriodParts((), ((start, end),) if start < end else ())
    edges: list[tuple[datetime, datetime]] = []
    whole_start = datetime.combine(first_whole, time(), UTC)
    whole_end = datetime.combine(end_whole, time(), UTC)
    if start < whole_start:
        edges.append((start, whole_start))
    if whole_end < end:
        edges.append((whole_end, end))
    blocks = blocks_of(day_number(first_whole), day_number(end_whole))
    return PeriodParts(tuple(blocks), tuple(edges))


def days_of_block(tier: int, block: int) -> Iterable[int]:
    """The day numbers a block covers."""
    return range(block << (2 * tier), (block + 1) << (2 * tier))
