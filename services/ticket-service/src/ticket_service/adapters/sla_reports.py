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
from dataclasses import dataclass, field
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


#: Rows of counts, met-time sums and histograms (``counts``, subscripts from ``first``) to add
#: up per group (the rollup's ``team_id`` or ``assignee_id``) and metric: the rollup's blocks of
#: whole UTC days ($1 tiers, $2 blocks), and the rest of the period (ranges $3 to $4) from the
#: outcomes, binned as the rollup bins them; of teams $5 (all: null). The histograms are added
#: up here, in Python: PostgreSQL has no sum of arrays, and unnesting them cost more than
#: reading them (~1,350 rows of ~70 buckets for 90 days by assignee).
ROLLUP_QUERY = """
WITH parts AS (
    SELECT b.team_id, b.assignee_id, b.metric, b.met_within, b.met_late, b.breached_open,
        b.met_seconds, b.counts
    FROM unnest($1::smallint[], $2::integer[]) AS u(tier, block)
    JOIN sla_report_buckets b ON b.tier = u.tier AND b.block = u.block
    UNION ALL
    SELECT v.team_id, v.assignee_id, o.metric,
        count(*) FILTER (WHERE o.met AND o.within_target)::int,
        count(*) FILTER (WHERE o.met AND NOT o.within_target)::int,
        count(*) FILTER (WHERE NOT o.met)::int,
        coalesce(sum(o.elapsed_seconds) FILTER (WHERE o.met), 0),
        sla_histogram_of(array_agg(sla_outcome_bucket(o.met, o.elapsed_seconds)))
    FROM unnest($3::timestamptz[], $4::timestamptz[]) AS e(first, until)
    JOIN sla_outcomes o ON o.at >= e.first AND o.at < e.until
    LEFT JOIN ticket_views v USING (ticket_id)
    GROUP BY 1, 2, 3
)
SELECT {column} AS group_id, metric, met_within, met_late, breached_open, met_seconds, counts,
    array_lower(counts, 1) AS first
FROM parts WHERE $5::uuid[] IS NULL OR team_id = ANY($5)
"""


def _compliance(within: int, total: int) -> float:
    """``round(100.0 * within / total, 2)`` as PostgreSQL rounds it (halves away from zero)."""
    ratio = Decimal(100 * within) / Decimal(total)
    return float(ratio.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@dataclass
class _Sums:
    """One group's and metric's rows of ``ROLLUP_QUERY``, added up."""

    met_within: int = 0
    met_late: int = 0
    breached_open: int = 0
    met_seconds: float = 0.0
    counts: dict[int, int] = field(default_factory=dict)

    def add(self, row: asyncpg.Record) -> None:
        self.met_within += row["met_within"]
        self.met_late += row["met_late"]
        self.breached_open += row["breached_open"]
        self.met_seconds += row["met_seconds"]
        counts = self.counts
        for bucket, n in enumerate(row["counts"] or (), row["first"] or 0):
            if n:
                counts[bucket] = counts.get(bucket, 0) + n

    def figures(self) -> MetricFigures:
        within, late, open_ = self.met_within, self.met_late, self.breached_open
        timed = sum(self.counts.values())
        return MetricFigures(
            met_within=within,
            met_late=late,
            breached_open=open_,
            compliance=_compliance(within, within + late + open_),
            average_business_seconds=_rounded(self.met_seconds / timed if timed else None),
            median_business_seconds=_rounded(percentile(self.counts, 0.5)),
            p90_business_seconds=_rounded(percentile(self.counts, 0.9)),
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
        rows = await self._pool.fetch(
            ROLLUP_QUERY.format(column=column),
            [tier for tier, _ in parts.blocks],
            [block for _, block in parts.blocks],
            [first for first, _ in parts.edges],
            [until for _, until in parts.edges],
            None if teams is None else sorted(teams),
        )
        sums: dict[Any, dict[str, _Sums]] = {}
        for row in rows:
            sums.setdefault(row["group_id"], {}).setdefault(row["metric"], _Sums()).add(row)
        # As the exact query orders them: by id, the group without one last.
        ordered = sorted(sums, key=lambda group: (group is None, group or uuid.UUID(int=0)))
        results = []
        for group_id in ordered:
            metrics = {m: MetricFigures() for m in METRICS}
            for metric, total in sums[group_id].items():
                if total.met_within + total.met_late + total.breached_open:
                    metrics[metric] = total.figures()
            if any(f != MetricFigures() for f in metrics.values()):
                results.append(GroupFigures(group_id, metrics))
        return results

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
