"""Activity reports over the read models: tickets created and solved per day, and the workload
(open tickets per team and assignee).

Created comes from ``ticket_views.created_at``; solved from ``ticket_views.resolved_at`` (when
the ticket's current resolution began: a ticket solved, reopened and solved again counts once,
on the day of its last resolution; a reopened one not at all), so every solved ticket counts,
whether or not an SLA policy measured it (a ticket merged into another is not counted). Both
are projections kept by the service, never a scan of the event log per request. Groups are
the ticket's *current* team or assignee, as in the SLA report.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from ticket_service.adapters.sla_reports import GROUP_COLUMNS, GroupBy


@dataclass(frozen=True)
class DayFigures:
    day: date
    group_id: uuid.UUID | None
    created: int
    solved: int


@dataclass(frozen=True)
class WorkloadFigures:
    team_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    open: int
    breached: int


class ActivityReports:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def per_day(
        self,
        group_by: GroupBy,
        start: datetime,
        end: datetime,
        time_zone: str,
        teams: frozenset[uuid.UUID] | None = None,
    ) -> list[DayFigures]:
        """Per local day (``time_zone``) and group, tickets created and solved in
        ``start <= t < end``; days without either are left out."""
        column = GROUP_COLUMNS[group_by]
        rows = await self._pool.fetch(
            "WITH created AS ("  # noqa: S608 - a column of ours
            f" SELECT (v.created_at AT TIME ZONE $3)::date AS day, {column} AS group_id,"
            "  count(*) AS n FROM ticket_views v"
            "  WHERE v.created_at >= $1 AND v.created_at < $2"
            "  AND ($4::uuid[] IS NULL OR v.team_id = ANY($4)) GROUP BY 1, 2),"
            " solved AS ("
            f" SELECT (v.resolved_at AT TIME ZONE $3)::date AS day, {column} AS group_id,"
            "  count(*) AS n FROM ticket_views v"
            "  WHERE v.resolved_at >= $1 AND v.resolved_at < $2 AND v.merged_into IS NULL"
            "  AND ($4::uuid[] IS NULL OR v.team_id = ANY($4)) GROUP BY 1, 2)"
            " SELECT day, group_id, coalesce(c.n, 0) AS created, coalesce(s.n, 0) AS solved"
            " FROM created c FULL JOIN solved s USING (day, group_id)"
            " ORDER BY day, group_id NULLS LAST",
            start,
            end,
            time_zone,
            None if teams is None else sorted(teams),
        )
        return [
            DayFigures(row["day"], row["group_id"], row["created"], row["solved"]) for row in rows
        ]

    async def workload(self, teams: frozenset[uuid.UUID] | None = None) -> list[WorkloadFigures]:
        """Open tickets (not resolved, closed or merged) per team and assignee, with how many of
        them breached an SLA."""
        # The breach is looked up per open ticket (by ``ticket_sla``'s key): a join made
        # PostgreSQL read all of ``ticket_sla`` (a row for every ticket ever) for a few hundred
        # open ones. No row, or no breach: not counted, as with the join.
        rows = await self._pool.fetch(
            "SELECT v.team_id, v.assignee_id, count(*) AS open,"
            " count(*) FILTER (WHERE (SELECT cardinality(s.breached_metrics) > 0"
            "  FROM ticket_sla s WHERE s.ticket_id = v.ticket_id)) AS breached"
            " FROM ticket_views v"
            " WHERE v.status_category NOT IN ('resolved', 'closed') AND v.merged_into IS NULL"
            " AND ($1::uuid[] IS NULL OR v.team_id = ANY($1))"
            " GROUP BY 1, 2 ORDER BY 1 NULLS LAST, 2 NULLS LAST",
            None if teams is None else sorted(teams),
        )
        return [
            WorkloadFigures(row["team_id"], row["assignee_id"], row["open"], row["breached"])
            for row in rows
        ]
