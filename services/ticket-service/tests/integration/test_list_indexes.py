"""The agent list's indexes (migration 0014) and its total without the unused join to
``ticket_sla`` change how PostgreSQL reads a list, never what it shows: the same pages and
totals with the indexes and with index scans turned off, the totals the ones counted here, and
the plans of "all" read the new index (the page) and no table (the total). Which index a
filtered total reads depends on the data's size: measured in ``bench/reports_1m.py``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from ticket_service.adapters.ticket_queries import FROM_VIEWS, SLA_COLUMNS, TicketQueries
from ticket_service.service_layer.ticket_filter import TicketFilter

from .conftest import explain as _plan
from .test_resolved_at import TicketHistory
from .test_sla_reports import FIRST, apply, breached

pytestmark = pytest.mark.integration

STATUSES = ("Open", "Solved", "Closed", "Waiting on Customer")


async def test_the_list_reads_the_same_with_and_without_the_indexes(
    index_pools: tuple[asyncpg.Pool, asyncpg.Pool, asyncpg.Pool],
) -> None:
    writer, indexed, plain = index_pools
    teams = [uuid.uuid4(), uuid.uuid4()]
    start = datetime(2026, 6, 1, tzinfo=UTC)
    tickets = []
    for i in range(60):
        ticket = TicketHistory(writer, teams[i % 2])
        # Two tickets per minute: ties on created_at are ordered by ticket id.
        await ticket.created(start + timedelta(minutes=i // 2))
        if i % 4:
            await ticket.status(STATUSES[i % 4], start + timedelta(hours=1))
        if i % 5 == 0:
            await apply(writer, breached(ticket.ticket_id, FIRST, start + timedelta(hours=2)))
        tickets.append(ticket)
    merged = [t.ticket_id for t in tickets[::12]]  # 5 merged into the next one
    await writer.execute(
        "UPDATE ticket_views SET merged_into = $2 WHERE ticket_id = ANY($1::uuid[])",
        merged,
        tickets[1].ticket_id,
    )
    await writer.execute("VACUUM ANALYZE ticket_views")

    filters = [
        TicketFilter(view="all"),
        TicketFilter(view="unsolved"),
        TicketFilter(view="new"),
        TicketFilter(view="all", status="Solved"),
        TicketFilter(view="all", team_id=teams[1]),
        TicketFilter(view="unsolved", breached=True),
        TicketFilter(view="all", breached=False),
        TicketFilter(view="all", descending=False),
        TicketFilter(view="all", sort="priority"),
    ]
    compared = 0
    for where in filters:
        for page in (1, 2, 4):
            query = TicketFilter(**{**where.__dict__, "page": page, "page_size": 7})
            with_indexes = await TicketQueries(indexed).search(query)
            without = await TicketQueries(plain).search(query)
            assert [dict(r) for r in with_indexes[0]] == [dict(r) for r in without[0]], query
            assert with_indexes[1] == without[1], query
            compared += len(without[0])
    assert compared > 100

    # The totals, counted here: 60 tickets, 5 merged; every fifth breached.
    mine = {t.ticket_id for t in tickets} - set(merged)
    assert (await TicketQueries(indexed).search(TicketFilter(view="all")))[1] == len(mine) == 55
    breached_total = (await TicketQueries(indexed).search(TicketFilter(view="all", breached=True)))[
        1
    ]
    assert breached_total == len([t for i, t in enumerate(tickets) if i % 5 == 0 and i % 12])

    # "all": the page walks the newest-first index, the total reads no table.
    page_plan = await _plan(
        indexed,
        f"SELECT ticket_id, {SLA_COLUMNS} FROM {FROM_VIEWS} WHERE merged_into IS NULL"
        " ORDER BY created_at DESC NULLS LAST, ticket_id LIMIT 25 OFFSET 475",
    )
    assert "ticket_views_list_newest" in page_plan, page_plan
    count_plan = await _plan(indexed, "SELECT count(*) FROM ticket_views WHERE merged_into IS NULL")
    assert "Index Only Scan" in count_plan, count_plan
