"""SLA reports over ``sla_outcomes`` (see migration 0007): per team or assignee and metric, and
per ticket.

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
from typing import Any, Literal

import asyncpg

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
    ) -> list[GroupFigures]:
        """Per group, per metric, the outcomes with ``start <= at < end`` (of tickets of
        ``teams`` when given); groups by id (or by the value of custom field ``custom_key``),
        then the one without (``None``) last; every metric present (zeros when it had none)."""
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
