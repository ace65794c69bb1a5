"""Which tickets follow a contact, and which contacts a company has (read models), for the
customer-context follower (``service_layer/customer_context.py``)."""

from __future__ import annotations

import uuid

import asyncpg


class CustomerContextQueries:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def open_tickets_of(self, customer_id: uuid.UUID) -> list[uuid.UUID]:
        """The contact's tickets that are not Closed or merged (the others keep their record)."""
        rows = await self._pool.fetch(
            "SELECT ticket_id FROM ticket_views WHERE customer_id = $1"
            " AND status_category <> 'closed' AND merged_into IS NULL ORDER BY ticket_id",
            customer_id,
        )
        return [row["ticket_id"] for row in rows]

    async def customers_of(self, company_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self._pool.fetch(
            "SELECT customer_id FROM customer_views WHERE company_id = $1 ORDER BY customer_id",
            company_id,
        )
        return [row["customer_id"] for row in rows]
