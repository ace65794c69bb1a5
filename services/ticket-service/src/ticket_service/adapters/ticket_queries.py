"""Queries over the ticket read models: views, filters, full-text search, the conversation."""

from __future__ import annotations

import re
import uuid
from typing import Any

import asyncpg

from ticket_service.adapters.ticket_projection import TICKET_COLUMNS
from ticket_service.service_layer.ticket_filter import SortKey, TicketFilter, View

__all__ = ["SortKey", "TicketFilter", "TicketQueries", "View"]

VIEW_CATEGORIES: dict[str, tuple[str, ...] | None] = {
    "unsolved": ("new", "active", "paused"),
    "new": ("new",),
    "solved": ("resolved",),
    "closed": ("closed",),
    "newest": None,
    "all": None,
}
#: Ticket rows with the SLA state the SLA service published for them (if any yet).
FROM_VIEWS = "ticket_views LEFT JOIN ticket_sla s USING (ticket_id)"
SLA_COLUMNS = (
    "s.first_response_due, s.resolution_due,"
    " coalesce(cardinality(s.breached_metrics) > 0, false) AS sla_breached"
)
PUBLIC_COUNT_COLUMNS = TICKET_COLUMNS.replace(
    " message_count,",
    " (SELECT count(*) FROM ticket_messages pm WHERE pm.ticket_id = ticket_views.ticket_id"
    " AND pm.visibility = 'public')::int AS message_count,",
)
assert PUBLIC_COUNT_COLUMNS != TICKET_COLUMNS
SORT_COLUMNS: dict[str, str] = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "priority": "priority_rank",
    "number": "number",
    "first_response_due": "s.first_response_due",
    "resolution_due": "s.resolution_due",
}


class _Where:
    """The SQL of a :class:`TicketFilter`: its clauses with numbered parameters."""

    def __init__(self, where: TicketFilter) -> None:
        self.filter = where
        self._where: list[str] = []
        self._args: list[Any] = []

    def _add(self, clause: str, *args: Any) -> None:
        for arg in args:
            self._args.append(arg)
            clause = clause.replace("?", f"${len(self._args)}", 1)
        self._where.append(clause)

    def sql(self) -> tuple[str, list[Any]]:
        self._where, self._args = [], []
        categories = VIEW_CATEGORIES[self.filter.view]
        if categories is not None:
            self._add("status_category = ANY(?::text[])", list(categories))
        if not self.filter.include_merged:
            self._where.append("merged_into IS NULL")
        for column, value in (
            ("status", self.filter.status),
            ("team_id", self.filter.team_id),
            ("assignee_id", self.filter.assignee_id),
            ("customer_id", self.filter.customer_id),
            ("priority", self.filter.priority),
        ):
            if value is not None:
                self._add(f"{column} = ?", value)
        if self.filter.unassigned:
            self._where.append("assignee_id IS NULL")
        if self.filter.requester_email:
            self._add("lower(requester_email) = lower(?)", self.filter.requester_email)
        if self.filter.tag:
            self._add("tags @> ARRAY[?::text]", self.filter.tag.strip().lower())
        if self.filter.custom:
            self._add("custom_fields @> ?::jsonb", self.filter.custom)
        if self.filter.owner is not None:
            customer_id, email = self.filter.owner
            if self.filter.owner_company is not None:
                self._add("company_id = ?", self.filter.owner_company)
            else:
                self._add(
                    "(customer_id = ? OR lower(requester_email) = lower(?))", customer_id, email
                )
        if self.filter.breached is not None:
            self._where.append(
                ("" if self.filter.breached else "NOT ")
                + "coalesce(cardinality(s.breached_metrics) > 0, false)"
            )
        if self.filter.text:
            self._text_clause(self.filter.text.strip())
        where = " AND ".join(self._where) or "true"
        return where, self._args

    def _text_clause(self, text: str) -> None:
        number = re.fullmatch(r"#?(\d{1,9})", text)
        clauses = []
        args: list[Any] = [text]
        clauses.append("search @@ plainto_tsquery('simple', ?)")
        # Messages count too; a customer's search never looks into internal notes.
        visibility = "" if self.filter.owner is None else " AND m.visibility = 'public'"
        clauses.append(
            "EXISTS (SELECT 1 FROM ticket_messages m WHERE m.ticket_id = ticket_views.ticket_id"  # noqa: S608
            f" AND m.search @@ plainto_tsquery('simple', ?){visibility})"
        )
        args.append(text)
        clauses.append("lower(requester_email) = lower(?)")
        args.append(text)
        if number:
            clauses.append("number = ?")
            args.append(int(number.group(1)))
        self._add("(" + " OR ".join(clauses) + ")", *args)


class TicketQueries:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def sla_due(self, ticket_id: uuid.UUID) -> dict[str, Any]:
        """The ticket's due times as the SLA service last published them (none: all None)."""
        row = await self._pool.fetchrow(
            "SELECT first_response_due, next_response_due, resolution_due FROM ticket_sla"
            " WHERE ticket_id = $1",
            ticket_id,
        )
        names = ("first_response_due", "next_response_due", "resolution_due")
        return {name: row[name] if row else None for name in names}

    async def search(self, where: TicketFilter) -> tuple[list[asyncpg.Record], int]:
        clause, args = _Where(where).sql()
        direction = "DESC" if where.descending else "ASC"
        order = f"{SORT_COLUMNS[where.sort]} {direction} NULLS LAST"
        query_args = list(args)
        if where.sort_custom is not None:
            # jsonb orders numbers as numbers, ISO dates and text as text; tickets without a
            # value come last whatever the direction.
            query_args.append(where.sort_custom)
            order = f"custom_fields -> ${len(query_args)}::text {direction} NULLS LAST"
        offset = (where.page - 1) * where.page_size
        # A customer's count is of the messages they can read (internal notes stay uncounted).
        columns = TICKET_COLUMNS if where.owner is None else PUBLIC_COUNT_COLUMNS
        # The page and the count in one snapshot, as two queries: a count over the page's rows
        # (``count(*) OVER ()``) made PostgreSQL build every matching row, all columns, before
        # it kept 25 - 1.6 s for the 50,000 Solved of 100,000 tickets (bench/reports_1m.py).
        async with (
            self._pool.acquire() as connection,
            connection.transaction(isolation="repeatable_read", readonly=True),
        ):
            rows = await connection.fetch(
                f"SELECT {columns}, {SLA_COLUMNS}"  # noqa: S608
                f" FROM {FROM_VIEWS} WHERE {clause} ORDER BY {order}, ticket_id"
                f" LIMIT {where.page_size}"
                f" OFFSET {offset}",
                *query_args,
            )
            total = await self._count(clause, args, connection, sla=where.breached is not None)
        return list(rows), total

    async def _count(
        self,
        clause: str,
        args: list[Any],
        connection: asyncpg.Connection | None = None,
        *,
        sla: bool = False,
    ) -> int:
        """The rows matching ``clause``; joined to ``ticket_sla`` only when it reads it
        (``sla``): the unused join kept PostgreSQL from counting from an index alone (migration
        0014)."""
        source = FROM_VIEWS if sla else "ticket_views"
        return int(
            await (connection or self._pool).fetchval(
                f"SELECT count(*) FROM {source} WHERE {clause}",  # noqa: S608 - built above
                *args,
            )
        )

    async def merged_descriptions(self, ticket_id: uuid.UUID) -> list[asyncpg.Record]:
        """The original descriptions of the tickets merged into this one (not empty), with who
        opened each and when."""
        return list(
            await self._pool.fetch(
                "SELECT ticket_id, number, description, customer_id, requester_email,"
                " requester_name, channel, created_at FROM ticket_views"
                " WHERE merged_into = $1 AND description <> '' ORDER BY created_at, ticket_id",
                ticket_id,
            )
        )

    async def conversation(
        self, ticket_id: uuid.UUID, *, include_internal: bool
    ) -> list[asyncpg.Record]:
        """The ticket's messages and those of the tickets merged into it, oldest first, with
        the customer of the ticket each was written on (``owner_customer_id``,
        ``owner_email``), for the access policy."""
        visibility = "" if include_internal else " AND m.visibility = 'public'"
        return list(
            await self._pool.fetch(
                "SELECT m.*, v.number AS ticket_number, v.customer_id AS owner_customer_id,"  # noqa: S608
                " v.requester_email AS owner_email FROM ticket_messages m"
                " JOIN ticket_views v ON v.ticket_id = m.ticket_id"
                " WHERE (m.ticket_id = $1 OR v.merged_into = $1)"
                f"{visibility} ORDER BY m.created_at, m.message_id",
                ticket_id,
            )
        )
