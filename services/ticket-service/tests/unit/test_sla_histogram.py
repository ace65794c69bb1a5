"""The SLA rollup's rules (``domain/sla_histogram.py``): buckets, the median and p90 read from
them within the stated error bound of the exact ``percentile_cont``, and a period cut into
blocks of whole UTC days plus the parts that are not."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ticket_service.domain.sla_histogram import (
    ABSOLUTE_ERROR,
    RELATIVE_ERROR,
    blocks_of,
    bucket_bounds,
    bucket_middle,
    bucket_of,
    day_number,
    days_of_block,
    percentile,
    split_period,
)


def exact_percentile(values: list[float], fraction: float) -> float:
    """PostgreSQL's ``percentile_cont``: linear between the two ranks around f * (n - 1)."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def within_bound(estimate: float, exact: float) -> bool:
    return abs(estimate - exact) <= max(ABSOLUTE_ERROR, RELATIVE_ERROR * exact) + 1e-9


def test_a_time_lies_in_its_bucket_and_the_middle_is_within_the_bound() -> None:
    rng = random.Random(7)
    for seconds in [0.0, 0.2, 0.999, 1.0, 1.5, 2.0, 59.9, 3600.0, 86_400 * 30.5] + [
        rng.lognormvariate(8, 3) for _ in range(2000)
    ]:
        bucket = bucket_of(seconds)
        low, high = bucket_bounds(bucket)
        assert low <= seconds < high, (seconds, bucket)
        assert within_bound(bucket_middle(bucket), seconds), seconds
    assert bucket_of(0.5) == 0
    assert bucket_of(1.0) == 1
    assert bucket_of(2.0) == 9  # eight buckets per doubling
    assert abs(RELATIVE_ERROR - 0.0443) < 1e-4


@pytest.mark.parametrize("fraction", [0.5, 0.9])
@pytest.mark.parametrize(
    "draw",
    [
        lambda rng: rng.expovariate(1 / 7200),  # first responses, hours
        lambda rng: rng.lognormvariate(11, 1.5),  # resolutions, days, long tail
        lambda rng: rng.choice([0.0, 0.4, 3.0, 3.0, 90.0]),  # ties and times under a second
        lambda rng: rng.uniform(0, 2),  # all near the low end
    ],
)
def test_percentiles_from_buckets_are_within_the_bound(
    draw: Callable[[random.Random], float], fraction: float
) -> None:
    rng = random.Random(19)
    for size in (1, 2, 3, 10, 101, 5000):
        values = [draw(rng) for _ in range(size)]
        counts = Counter(bucket_of(v) for v in values)
        estimate = percentile(counts, fraction)
        assert estimate is not None
        exact = exact_percentile(values, fraction)
        assert within_bound(estimate, exact), (size, estimate, exact)


def test_nothing_counted_has_no_percentile() -> None:
    assert percentile({}, 0.5) is None
    assert percentile({12: 0}, 0.9) is None


def test_blocks_cover_each_day_once_and_are_few() -> None:
    rng = random.Random(3)
    for _ in range(500):
        first = rng.randrange(20_000, 21_000)
        end = first + rng.randrange(1, 367)
        blocks = blocks_of(first, end)
        days = [day for tier, block in blocks for day in days_of_block(tier, block)]
        assert days == list(range(first, end))
        if end - first <= 90:
            assert len(blocks) <= 19
    assert blocks_of(64, 128) == [(3, 1)]
    assert blocks_of(63, 70) == [(0, 63), (1, 16), (0, 68), (0, 69)]


def test_a_period_of_whole_utc_days_is_blocks_only() -> None:
    parts = split_period(datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    assert parts.edges == ()
    days = [d for tier, block in parts.blocks for d in days_of_block(tier, block)]
    assert days == list(range(day_number(datetime(2026, 9, 1).date()), days[-1] + 1))
    assert len(days) == 91


def test_the_parts_of_a_local_period_that_are_not_whole_utc_days_are_edges() -> None:
    jakarta = timezone(timedelta(hours=7))
    start = datetime(2026, 11, 1, tzinfo=jakarta)  # 2026-10-31 17:00 UTC
    end = datetime(2026, 12, 1, tzinfo=jakarta)
    parts = split_period(start, end)
    assert parts.edges == (
        (start, datetime(2026, 11, 1, tzinfo=UTC)),
        (datetime(2026, 11, 30, tzinfo=UTC), end),
    )
    days = [d for tier, block in parts.blocks for d in days_of_block(tier, block)]
    assert len(days) == 29
    # Shorter than a UTC day: edges only.
    short = split_period(datetime(2026, 11, 1, 3, tzinfo=UTC), datetime(2026, 11, 2, 2, tzinfo=UTC))
    assert short.blocks == ()
    assert short.edges == (
        (datetime(2026, 11, 1, 3, tzinfo=UTC), datetime(2026, 11, 2, 2, tzinfo=UTC)),
    )
