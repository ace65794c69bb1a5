"""Queries over the portal read models: a ticket's ratings, CSAT per team or agent over a
period, and whether a company shares its tickets with its customers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from ticket_service.domain.satisfaction import CsatGroupBy

_GROUP_COLUMNS = {"team": "team_id", "assignee": "assignee_id"}


@dataclass(frozen=True)
class CsatFigures:
    group_id: uuid.UUID | None
    ratings: int
    satisfied: int
    #: satisfied / ratings in percent (2 decimals).
    csat: float
    #: Mean score of the 1-5 ratings; None when every rating was good / bad.
    average_stars: float | None


class PortalQueries:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ratings(self, ticket_id: uuid.UUID) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._pool.fetch(
            "SELECT * FROM ticket_ratings WHERE ticket_id = $1 ORDER BY resolution", ticket_id
        )
        return rows

    async def csat(
        self, group_by: CsatGroupBy, start: datetime, end: datetime
    ) -> list[CsatFigures]:
        """Per team or assignee (who had the ticket when it was rated), the ratings given in
        ``start <= rated_at < end``; groups by id, the one without (None) last."""
        column = _GROUP_COLUMNS[group_by]
        rows = await self._pool.fetch(
            f"SELECT {column} AS group_id, count(*) AS ratings,"  # noqa: S608 - a column of ours
            " count(*) FILTER (WHERE satisfied) AS satisfied,"
            " round(100.0 * count(*) FILTER (WHERE satisfied) / count(*), 2) AS csat,"
            " round(avg(score) FILTER (WHERE scale = 'one_to_five'), 2) AS average_stars"
            " FROM ticket_ratings WHERE rated_at >= $1 AND rated_at < $2"
            " GROUP BY 1 ORDER BY 1 NULLS LAST",
            start,
            end,
        )
        return [
            CsatFigures(
                group_id=row["group_id"],
                ratings=row["ratings"],
                satisfied=row["satisfied"],
                csat=float(row["csat"]),
                average_stars=None if row["average_stars"] is None else float(row["average_stars"]),
            )
            for row in rows
        ]

    async def company_shares_tickets(self, company_id: uuid.UUID) -> bool:
        shared = await self._pool.fetchval(
            "SELECT customers_see_company_tickets FROM company_portal_settings"
            " WHERE company_id = $1",
            company_id,
        )
        return bool(shared)
