"""Lists and searches over the customer and directory read models (see directory_projections).

The read models follow the log a moment behind; single records are read from their streams
instead (the service layer), so a record is always current and carries its stream version.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    page_size: int = 25

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own % and _ taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class _Where:
    """Conditions with numbered parameters, built up filter by filter."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.args: list[Any] = []

    def add(self, condition: str, *values: Any) -> None:
        """``condition`` names its parameters {0}, {1}, … in the order of ``values``."""
        numbers = [f"${len(self.args) + i}" for i in range(1, len(values) + 1)]
        self.conditions.append(condition.format(*numbers))
        self.args.extend(values)

    def search(self, column: str, q: str | None) -> None:
        """Case-insensitive "contains" on ``column``; for digits, also ignoring separators
        (phones are written many ways). Trigram indexes serve both."""
        if q is None or not q.strip():
            return
        digits = re.sub(r"\D", "", q)
        if len(digits) >= 3 and digits != q.strip():
            self.add(f"({column} LIKE {{0}} OR {column} LIKE {{1}})", contains_pattern(q.strip()),
                     contains_pattern(digits))  # fmt: skip
        else:
            self.add(f"{column} LIKE {{0}}", contains_pattern(q.strip()))

    @property
    def sql(self) -> str:
        return " WHERE " + " AND ".join(self.conditions) if self.conditions else ""


class DirectoryQueries:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def teams_led_by(self, agent_id: uuid.UUID) -> frozenset[uuid.UUID]:
        rows = await self._pool.fetch("SELECT team_id FROM team_views WHERE lead_id = $1", agent_id)
        return frozenset(row["team_id"] for row in rows)

    async def _page(
        self, select: str, from_where: str, order: str, where: _Where, page: PageRequest
    ) -> tuple[list[asyncpg.Record], int]:
        """A page of rows and the count of all that match. SQL fragments are constants."""
        total = await self._pool.fetchval(f"SELECT count(*) {from_where}", *where.args)
        n = len(where.args)
        rows = await self._pool.fetch(
            f"SELECT {select} {from_where} ORDER BY {order} LIMIT ${n + 1} OFFSET ${n + 2}",
            *where.args,
            page.page_size,
            page.offset,
        )
        return rows, int(total)

    async def customers(
        self,
        page: PageRequest,
        *,
        q: str | None = None,
        company_id: uuid.UUID | None = None,
        tag: str | None = None,
    ) -> tuple[list[asyncpg.Record], int]:
        where = _Where()
        where.search("c.search", q)
        if company_id is not None:
            where.add("c.company_id = {0}", company_id)
        if tag is not None:
            where.add("c.tags @> ARRAY[{0}::text]", tag.strip().lower())
        return await self._page(
            "c.*, co.name AS company_name",
            "FROM customer_views c LEFT JOIN company_views co USING (company_id)" + where.sql,
            "lower(c.name), c.customer_id",
            where,
            page,
        )

    async def companies(
        self, page: PageRequest, *, q: str | None = None
    ) -> tuple[list[asyncpg.Record], int]:
        where = _Where()
        where.search("search", q)
        return await self._page(
            "*", "FROM company_views" + where.sql, "lower(name), company_id", where, page
        )

    async def agents(
        self,
        page: PageRequest,
        *,
        q: str | None = None,
        role: str | None = None,
        active: bool | None = None,
        availability: str | None = None,
        team_id: uuid.UUID | None = None,
    ) -> tuple[list[asyncpg.Record], int]:
        where = _Where()
        if q is not None and q.strip():
            where.add("(lower(a.name) LIKE {0} OR a.email LIKE {0})", contains_pattern(q.strip()))
        if role is not None:
            where.add("a.role = {0}", role)
        if active is not None:
            where.add("a.active = {0}", active)
        if availability is not None:
            where.add("a.availability = {0}", availability)
        if team_id is not None:
            where.add(
                "EXISTS (SELECT 1 FROM team_members m WHERE m.agent_id = a.agent_id"
                " AND m.team_id = {0})",
                team_id,
            )
        return await self._page(
            "a.*", "FROM agent_views a" + where.sql, "lower(a.name), a.agent_id", where, page
        )

    async def teams(
        self,
        page: PageRequest,
        *,
        q: str | None = None,
        agent_id: uuid.UUID | None = None,
    ) -> tuple[list[asyncpg.Record], int]:
        """Teams with their members (id, name, email, role, active, availability)."""
        where = _Where()
        if q is not None and q.strip():
            where.add("lower(t.name) LIKE {0}", contains_pattern(q.strip()))
        if agent_id is not None:
            where.add(
                "EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = t.team_id"
                " AND m.agent_id = {0})",
                agent_id,
            )
        members = (
            "coalesce((SELECT jsonb_agg(jsonb_build_object('id', m.agent_id, 'name', a.name,"
            " 'email', a.email, 'role', a.role, 'active', a.active,"
            " 'availability', a.availability) ORDER BY m.added_at, m.agent_id)"
            " FROM team_members m LEFT JOIN agent_views a USING (agent_id)"
            " WHERE m.team_id = t.team_id), '[]'::jsonb) AS members"
        )
        return await self._page(
            f"t.*, {members}", "FROM team_views t" + where.sql, "lower(t.name), t.team_id", where,
            page,
        )  # fmt: skip
