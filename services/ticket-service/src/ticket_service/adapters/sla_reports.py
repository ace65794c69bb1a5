"""SLA reports over ``sla_outcomes`` (see migration 0007): per team or assignee and metric, and
per ticket.

Per team or assignee the figures are read from the rollup ``sla_report_buckets`` (migration
0013; ``domain/sla_histogram.py`` says why and how): counts, compliance and averages exact, the
median and p90 within the error bound stated there. Grouped by a custom field, or asked for
``exact=True``, they are computed from every outcome of the period (``percentile_cont``).

An outcome counts in a period when its ``at`` falls in it: when the metric was met, or, while it
is breached and not met, when it broke. A breached metric met later therefore moves from the
period it broke in (``breached_open``) to the period it was met in (``met_late``). Groups are the
ticket's *current* team or assignee (``ticket_views``), not the one it had when the metric ended;
``None`` for tickets without one (or not in ``ticket_views``). Grouped by a custom field
(``custom.<key>``), a group is a value the tickets hold now; a multi-select ticket counts once
under each of its choices, and tickets without a value form the ``None`` group.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import asyncpg

from ticket_service.domain.sla_histogram import percentile, split_period

GroupBy = Literal["team", "assignee"]
GROUP_COLUMNS: dict[str, str] = {"team": "v.team_id", "assignee": "v.assignee_id"}
#: The values of custom field $4 of each ticket: its choices for a multi-select, else its one
#: value; none (a null) for a ticket without it.
CUSTOM_VALUES = (
    " LEFT JOIN LATERAL jsonb_array_elements(CASE jsonb_typeof(v.custom_fields -> $4::text)"
    " WHEN 'array' THEN v.custom_fields -> $4::text"
    " ELSE jsonb_build_array(v.custom_fields -> $4::text) END) AS g(value) ON true"
)
METRICS = ("first_response", "next_response", "resolution")
#: Memory for the report's sorts (grouping, then each group's median and p90), set for its
#: transaction only: 90 days of outcomes at ~1,000 tickets a day are ~400,000 rows, ~40 MB to
#: sort; with PostgreSQL's default ``work_mem`` (4 MB) the sort spilled to disk (an external
#: merge), measured in ``bench/reports_1m.py``.
REPORT_WORK_MEM = "64MB"


@dataclass(frozen=True)
class MetricFigures:
    met_within: int = 0
    met_late: int = 0
    breached_open: int = 0
    #: met within target / all counted, in percent (2 decimals); None when nothing counted.
    compliance: float | None = None
    #: Mean business seconds of the metrics met (within and late); None when none was met.
    average_business_seconds: float | None = None
    #: Median and 90th percentile business seconds of the metrics met; None when none was met.
    median_business_seconds: float | None = None
    p90_business_seconds: float | None = None


@dataclass(frozen=True)
class GroupFigures:
    group_id: uuid.UUID | None
    metrics: dict[str, MetricFigures]
    #: Grouped by a custom field: the value (None: tickets without one).
    value: Any = None


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(float(seconds), 3)


#: Per group (the rollup's ``team_id`` or ``assignee_id``) and metric: the counts, the sum of
#: the met times, and the histogram (buckets and their counts, ascending) - from the blocks of
#: whole UTC days ($1 tiers, $2 blocks) in the rollup, and the rest of the period (ranges $3 to
#: $4) from the outcomes, binned as the rollup bins them; of teams $5 (all: null). One row per
#: group and metric: building the histograms here, not from a row per bucket in Python, halved
#: the by-assignee report's time on the loaded bench machine.
ROLLUP_QUERY = """
WITH parts AS (
    SELECT b.team_id, b.assignee_id, b.metric, b.bucket, b.met_within, b.met_late,
        b.breached_open, b.met_seconds
    FROM unnest($1::smallint[], $2::integer[]) AS u(tier, block)
    JOIN sla_report_buckets b ON b.tier = u.tier AND b.block = u.block
    UNION ALL
    SELECT v.team_id, v.assignee_id, o.metric, sla_outcome_bucket(o.met, o.elapsed_seconds),
        (o.met AND o.within_target)::int, (o.met AND NOT o.within_target)::int,
        (NOT o.met)::int,
        CASE WHEN o.met AND o.elapsed_seconds IS NOT NULL THEN o.elapsed_seconds ELSE 0 END
    FROM unnest($3::timestamptz[], $4::timestamptz[]) AS e(first, until)
    JOIN sla_outcomes o ON o.at >= e.first AND o.at < e.until
    LEFT JOIN ticket_views v USING (ticket_id)
), buckets AS (
    SELECT {column} AS group_id, metric, bucket, sum(met_within) AS met_within,
        sum(met_late) AS met_late, sum(breached_open) AS breached_open,
        sum(met_seconds) AS met_seconds
    FROM parts WHERE $5::uuid[] IS NULL OR team_id = ANY($5)
    GROUP BY 1, 2, 3 HAVING sum(met_within) + sum(met_late) + sum(breached_open) > 0
)
SELECT group_id, metric, sum(met_within)::int AS met_within, sum(met_late)::int AS met_late,
    sum(breached_open)::int AS breached_open,
    sum(met_seconds) FILTER (WHERE bucket >= 0) AS met_seconds,
    array_agg(bucket ORDER BY bucket) FILTER (WHERE bucket >= 0) AS buckets,
    array_agg((met_within + met_late)::int ORDER BY bucket) FILTER (WHERE bucket >= 0) AS counts
FROM buckets GROUP BY 1, 2 ORDER BY 1 NULLS LAST, 2
"""


def _compliance(within: int, total: int) -> float:
    """``round(100.0 * within / total, 2)`` as PostgreSQL rounds it (halves away from zero)."""
    ratio = Decimal(100 * within) / Decimal(total)
    return float(ratio.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _from_histogram(row: asyncpg.Record) -> MetricFigures:
    """One group's and metric's figures from its row of ``ROLLUP_QUERY``."""
    within, late, open_ = row["met_within"], row["met_late"], row["breached_open"]
    counts = dict(zip(row["buckets"] or (), row["counts"] or (), strict=True))
    timed = sum(counts.values())
    return MetricFigures(
        met_within=within,
        met_late=late,
        breached_open=open_,
        compliance=_compliance(within, within + late + open_),
        average_business_seconds=_rounded(row["met_seconds"] / timed if timed else None),
        median_business_seconds=_rounded(percentile(counts, 0.5)),
        p90_business_seconds=_rounded(percentile(counts, 0.9)),
    )


class SlaReports:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def by_group(
        self,
        group_by: GroupBy,
        start: datetime,
        end: datetime,
        teams: frozenset[uuid.UUID] | None = None,
        *,
        custom_key: str | None = None,
        exact: bool = False,
    ) -> list[GroupFigures]:
        """Per group, per metric, the outcomes with ``start <= at < end`` (of tickets of
        ``teams`` when given); groups by id (or by the value of custom field ``custom_key``),
        then the one without (``None``) last; every metric present (zeros when it had none).
        By team or assignee from the rollup unless ``exact``."""
        if custom_key is None and not exact:
            return await self._from_rollup(group_by, start, end, teams)
        column = GROUP_COLUMNS[group_by]
        join, args = "", []
        if custom_key is not None:
            column, join, args = "nullif(g.value, 'null'::jsonb)", CUSTOM_VALUES, [custom_key]
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
            rows = await self._by_group(connection, column, join, start, end, teams, args)
        groups: dict[Any, dict[str, MetricFigures]] = {}
        for row in rows:
            # A custom field's values are scalars of one kind (choices, numbers, ...): hashable.
            metrics = groups.setdefault(row["group_id"], {m: MetricFigures() for m in METRICS})
            average = row["average_business_seconds"]
            median, p90 = row["percentiles"] or (None, None)
            metrics[row["metric"]] = MetricFigures(
                met_within=row["met_within"],
                met_late=row["met_late"],
                breached_open=row["breached_open"],
                compliance=float(row["compliance"]),
                average_business_seconds=_rounded(average),
                median_business_seconds=_rounded(median),
                p90_business_seconds=_rounded(p90),
            )
        if custom_key is not None:
            return [GroupFigures(None, metrics, value) for value, metrics in groups.items()]
        return [GroupFigures(group_id, metrics) for group_id, metrics in groups.items()]

    async def _from_rollup(
        self,
        group_by: GroupBy,
        start: datetime,
        end: datetime,
        teams: frozenset[uuid.UUID] | None,
    ) -> list[GroupFigures]:
        parts = split_period(start, end)
        column = {"team": "team_id", "assignee": "assignee_id"}[group_by]
        async with self._pool.acquire() as connection, connection.transaction():
            # ~60,000 rows for 90 days by assignee, grouped in memory; in one process (parallel
            # workers cost more than they save at this size).
            await connection.execute(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
            await connection.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            rows = await connection.fetch(
                ROLLUP_QUERY.format(column=column),
                [tier for tier, _ in parts.blocks],
                [block for _, block in parts.blocks],
                [first for first, _ in parts.edges],
                [until for _, until in parts.edges],
                None if teams is None else sorted(teams),
            )
        groups: dict[Any, dict[str, MetricFigures]] = {}
        for row in rows:
            metrics = groups.setdefault(row["group_id"], {m: MetricFigures() for m in METRICS})
            metrics[row["metric"]] = _from_histogram(row)
        return [GroupFigures(group_id, metrics) for group_id, metrics in groups.items()]

    @staticmethod
    async def _by_group(
        connection: asyncpg.Connection,
        column: str,
        join: str,
        start: datetime,
        end: datetime,
        teams: frozenset[uuid.UUID] | None,
        args: list[str],
    ) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await connection.fetch(
            f"SELECT {column} AS group_id, o.metric,"  # noqa: S608 - a column of ours
            " count(*) FILTER (WHERE o.met AND o.within_target) AS met_within,"
            " count(*) FILTER (WHERE o.met AND NOT o.within_target) AS met_late,"
            " count(*) FILTER (WHERE NOT o.met) AS breached_open,"
            " round(100.0 * count(*) FILTER (WHERE o.met AND o.within_target) / count(*), 2)"
            "  AS compliance,"
            " avg(o.elapsed_seconds) FILTER (WHERE o.met) AS average_business_seconds,"
            # Median and p90 from one sort of the group's times (not one sort each).
            " percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY o.elapsed_seconds)"
            "  FILTER (WHERE o.met) AS percentiles"
            f" FROM sla_outcomes o LEFT JOIN ticket_views v USING (ticket_id){join}"
            " WHERE o.at >= $1 AND o.at < $2 AND ($3::uuid[] IS NULL OR v.team_id = ANY($3))"
            " GROUP BY 1, 2 ORDER BY 1 NULLS LAST, 2",
            start,
            end,
            None if teams is None else sorted(teams),
            *args,
        )
        return rows

    async def of_ticket(self, ticket_id: uuid.UUID) -> list[asyncpg.Record]:
        """The ticket's outcomes, by metric and exchange."""
        rows: list[asyncpg.Record] = await self._pool.fetch(
            "SELECT metric, exchange, at, met, within_target, elapsed_seconds, met_at, due_at,"
            " breached_at FROM sla_outcomes WHERE ticket_id = $1 ORDER BY metric, exchange",
            ticket_id,
        )
        return rows
