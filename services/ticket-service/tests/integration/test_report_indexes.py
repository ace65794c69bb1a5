"""The reports' indexes (migration 0012) and the SLA report's sort memory change how PostgreSQL
reads, never what a report says: the same queries over the same rows, once made to use the
indexes and once with index scans turned off, give the same figures - across the day Europe's
summer time ends (a 25-hour local day) - and the figures are the ones counted here by hand."""

from __future__ import annotations

import contextlib
import statistics
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from ticket_service.adapters.activity_reports import ActivityReports
from ticket_service.adapters.sla_reports import SlaReports

from .conftest import explain as _plan
from .test_resolved_at import TicketHistory
from .test_sla_reports import FIRST, apply, breached, met

pytestmark = pytest.mark.integration

#: Europe/Amsterdam leaves summer time on 2026-10-25 at 03:00 local (01:00 UTC): that local day
#: runs from 2026-10-24 22:00 UTC to 2026-10-25 23:00 UTC.
DST_END = datetime(2026, 10, 25, 1, tzinfo=UTC)


async def _history(pool: asyncpg.Pool, teams: list[uuid.UUID]) -> list[TicketHistory]:
    """90 tickets created every 47 minutes from two days before the change to summer time's end
    to two days after; a third solved, a third closed, a third solved and reopened."""
    tickets = []
    hour = timedelta(hours=1)
    for i in range(90):
        ticket = TicketHistory(pool, teams[i % len(teams)])
        created = DST_END - timedelta(days=2) + i * timedelta(minutes=47)
        await ticket.created(created)
        if i % 3 == 0:
            await ticket.status("Solved", created + 5 * hour)
        elif i % 3 == 1:
            await ticket.status("Closed", created + 9 * hour)
        else:
            await ticket.status("Solved", created + 2 * hour)
            await ticket.status("Open", created + 3 * hour)
            # Open tickets: some breached, some met in time, some with no SLA row at all.
            if i % 9 == 2:
                await apply(pool, breached(ticket.ticket_id, FIRST, created + hour))
            elif i % 9 == 5:
                await apply(pool, met(ticket.ticket_id, FIRST, created + hour, 60, within=True))
        tickets.append(ticket)
    return tickets


#: The indexes of migration 0012.
REPORT_INDEXES = [
    "ticket_views_open_by_group",
    "ticket_views_created_by_group",
    "ticket_views_solved_by_group",
    "ticket_views_groups",
]


@contextlib.asynccontextmanager
async def only_the_report_indexes(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection on which ``ticket_views`` has only its key and the reports' indexes, and
    scans it by index wherever one applies: the plans read the new indexes or nothing (the
    other indexes are dropped in a transaction rolled back afterwards)."""
    async with pool.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        try:
            others = await connection.fetch(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'ticket_views'"
                " AND indexname <> ALL($1::text[]) AND indexname <> 'ticket_views_pkey'",
                REPORT_INDEXES,
            )
            for row in others:
                await connection.execute(f'DROP INDEX "{row["indexname"]}"')
            await connection.execute("SET LOCAL enable_seqscan = off")
            yield connection
        finally:
            await transaction.rollback()


async def test_the_reports_read_the_same_with_and_without_the_indexes(
    index_pools: tuple[asyncpg.Pool, asyncpg.Pool, asyncpg.Pool],
) -> None:
    writer, indexed, plain = index_pools
    teams = [uuid.uuid4(), uuid.uuid4()]
    tickets = await _history(writer, teams)
    await writer.execute("ANALYZE ticket_views")
    start, end = DST_END - timedelta(days=3), DST_END + timedelta(days=3)

    cases = [
        (group_by, zone, scope)
        for zone in ("Europe/Amsterdam", "Asia/Jakarta", "UTC")
        for group_by in ("team", "assignee")
        for scope in (None, frozenset(teams[:1]))
    ]
    # Read without indexes first: the connection below locks the table while it runs.
    plain_days = [
        await ActivityReports(plain).per_day(g, start, end, z, scope) for g, z, scope in cases
    ]
    scopes = (None, frozenset(teams[1:]))
    plain_workloads = [await ActivityReports(plain).workload(scope) for scope in scopes]
    # The workload as the query before migration 0012 computed it (a join to ticket_sla).
    joined = await plain.fetch(
        "SELECT v.team_id, v.assignee_id, count(*) AS open,"
        " count(*) FILTER (WHERE cardinality(s.breached_metrics) > 0) AS breached"
        " FROM ticket_views v LEFT JOIN ticket_sla s USING (ticket_id)"
        " WHERE v.status_category NOT IN ('resolved', 'closed') AND v.merged_into IS NULL"
        " GROUP BY 1, 2 ORDER BY 1 NULLS LAST, 2 NULLS LAST"
    )
    assert [(w.team_id, w.assignee_id, w.open, w.breached) for w in plain_workloads[0]] == [
        tuple(row) for row in joined
    ]
    mine = [w for w in plain_workloads[0] if w.team_id in teams]
    assert sum(w.open for w in mine) == 30  # the reopened third
    assert sum(w.breached for w in mine) == 10  # every ninth, from the third on
    async with only_the_report_indexes(indexed) as connection:
        reports = ActivityReports(connection)
        for (group_by, zone, scope), without in zip(cases, plain_days, strict=True):
            with_indexes = await reports.per_day(group_by, start, end, zone, scope)
            assert with_indexes == without, (zone, group_by, scope)
            assert with_indexes, (zone, group_by, scope)
        for scope, without in zip(scopes, plain_workloads, strict=True):
            workload = await reports.workload(scope)
            assert workload == without
            assert workload
        # Those plans read the new indexes (the comparison compared two ways of reading).
        open_plan = await _plan(
            connection,
            "SELECT team_id, count(*) FROM ticket_views WHERE status_category NOT IN"
            " ('resolved', 'closed') AND merged_into IS NULL GROUP BY 1",
        )
        assert "ticket_views_open_by_group" in open_plan, open_plan
        for column, index in (
            ("resolved_at", "ticket_views_solved_by_group"),
            ("created_at", "ticket_views_created_by_group"),
        ):
            plan = await _plan(
                connection,
                f"SELECT team_id FROM ticket_views WHERE {column} >= $1"
                f" AND {column} < $2 AND merged_into IS NULL",
                start,
                end,
            )
            assert index in plan, plan

    # The 25-hour day in Amsterdam, counted here: created on it, and solved on it (the reopened
    # ones not).
    amsterdam = ZoneInfo("Europe/Amsterdam")
    day = DST_END.astimezone(amsterdam).date()
    days = await ActivityReports(indexed).per_day("team", start, end, "Europe/Amsterdam")
    created = {t.ticket_id for t in tickets}
    by_day = {(d.day, d.group_id): (d.created, d.solved) for d in days}
    rows = await indexed.fetch(
        "SELECT ticket_id, team_id, created_at, resolved_at FROM ticket_views"
        " WHERE ticket_id = ANY($1::uuid[])",
        list(created),
    )
    for team in teams:
        mine = [r for r in rows if r["team_id"] == team]
        made = sum(r["created_at"].astimezone(amsterdam).date() == day for r in mine)
        solved = sum(
            r["resolved_at"] is not None and r["resolved_at"].astimezone(amsterdam).date() == day
            for r in mine
        )
        assert by_day[(day, team)] == (made, solved)
        assert made in (15, 16)  # 25 hours / 47 minutes, half of them this team's


async def test_the_sla_report_median_and_p90(
    index_pools: tuple[asyncpg.Pool, asyncpg.Pool, asyncpg.Pool],
) -> None:
    """Median and p90 as PostgreSQL's percentile_cont computes them (linear between the two
    nearest values), in the report's own transaction with its sort memory."""
    writer, _, plain = index_pools
    team = uuid.uuid4()
    tickets = [TicketHistory(writer, team) for _ in range(40)]
    at = DST_END + timedelta(days=10)
    seconds = [float((i * 7919) % 86_400) + 0.25 for i in range(len(tickets))]
    for ticket, elapsed in zip(tickets, seconds, strict=True):
        await ticket.created(at - timedelta(hours=1))
        await apply(writer, met(ticket.ticket_id, FIRST, at, elapsed, within=elapsed < 3600))
    args = ("team", at - timedelta(days=1), at + timedelta(days=1), frozenset({team}))
    # The exact query (the rollup's bound: test_sla_rollup.py).
    figures = await SlaReports(writer).by_group(*args, exact=True)
    assert figures == await SlaReports(plain).by_group(*args, exact=True)
    [group] = figures
    first = group.metrics["first_response"]
    assert group.group_id == team
    assert first.met_within == sum(s < 3600 for s in seconds)
    assert first.median_business_seconds == round(statistics.median(seconds), 3)
    p90 = statistics.quantiles(seconds, n=10, method="inclusive")[8]
    assert first.p90_business_seconds == pytest.approx(p90, abs=0.001)
