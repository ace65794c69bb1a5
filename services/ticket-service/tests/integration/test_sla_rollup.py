"""The SLA report from its rollup (migration 0013) says what the exact query over every outcome
says: the same groups, counts, compliance and averages, the median and p90 within the bound of
``domain/sla_histogram.py`` - by team and by assignee, over whole UTC days and over local days
(parts of UTC days), for a manager and for a team's lead. The outcomes arrive before and after
their tickets, tickets change team and assignee afterwards, some of it concurrently, and a
rebuild of the rollup from the rows (the migration again) gives the same rows as the triggers
kept, and so does emptying ``ticket_views`` (as a projection rebuild does)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from alembic import command

from helpdesk_events import DomainEvent, TeamChanged, TicketAssigned
from ticket_service.adapters.event_store import create_pool
from ticket_service.adapters.migrate import alembic_config, upgrade
from ticket_service.adapters.sla_reports import GroupFigures, SlaReports
from ticket_service.domain.sla_histogram import ABSOLUTE_ERROR, RELATIVE_ERROR

from .test_resolved_at import TicketHistory
from .test_sla_reports import FIRST, NEXT, RESOLUTION, apply, breached, met

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, tzinfo=UTC)
DAYS = 75
ROLLUP_ROWS = (
    "SELECT tier, block, metric, team_id, assignee_id, met_within, met_late, breached_open,"
    " round(met_seconds::numeric, 3) AS met_seconds, counts, array_lower(counts, 1) AS first"
    " FROM sla_report_buckets ORDER BY tier, block, metric, team_id, assignee_id"
)


def _rows(records: list[asyncpg.Record]) -> list[tuple[object, ...]]:
    """The rollup's rows that count something, each histogram as its buckets in use (a row the
    triggers emptied, or a bucket, may stay as zeros)."""
    rows = []
    for r in records:
        counts = {b: n for b, n in enumerate(r["counts"] or (), r["first"] or 0) if n}
        if r["met_within"] or r["met_late"] or r["breached_open"]:
            rows.append((*tuple(r)[:9], counts))
    return rows


#: Two transactions moving counts between the same groups in opposite orders deadlock;
#: PostgreSQL fails one, which the projectors retry (the whole batch) - and so do these.
RETRIES = 5


async def _retrying(write: Callable[[], Awaitable[None]]) -> None:
    for _ in range(RETRIES - 1):
        try:
            return await write()
        except asyncpg.DeadlockDetectedError:
            continue
    await write()


class Ticket(TicketHistory):
    async def _apply(self, event: DomainEvent, at: datetime) -> None:
        version = self._version

        async def write() -> None:
            self._version = version
            await super(Ticket, self)._apply(event, at)

        await _retrying(write)

    async def assigned(self, agent: uuid.UUID, at: datetime) -> None:
        await self._apply(TicketAssigned(assignee_id=agent, method="manual"), at)

    async def moved(self, team: uuid.UUID, at: datetime) -> None:
        await self._apply(TeamChanged(from_team_id=self.team_id, to_team_id=team), at)
        self.team_id = team


@pytest.fixture(scope="module")
async def url(make_database: Callable[[str], str]) -> str:
    url = make_database("sla_rollup")
    await asyncio.to_thread(upgrade, url)
    return url


@pytest.fixture(scope="module")
async def pool(url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(url, min_size=1, max_size=8)
    yield pool
    await pool.close()


async def _outcomes(pool: asyncpg.Pool, rng: random.Random, ticket_id: uuid.UUID) -> None:
    """A ticket's SLA life at a random time of the period: first response met (in time or
    late, from under a second to days), next responses, resolution met late or still breached."""
    created = START + timedelta(seconds=rng.uniform(0, DAYS * 86_400))
    first = rng.choice([0.3, 45.0, *(rng.expovariate(1 / 7200) for _ in range(3))])
    events = [met(ticket_id, FIRST, created + timedelta(seconds=first), first, within=first < 3600)]
    at = created + timedelta(seconds=first)
    for _ in range(rng.randrange(3)):
        at += timedelta(hours=rng.uniform(1, 30))
        seconds = rng.expovariate(1 / 5000)
        events.append(met(ticket_id, NEXT, at, seconds, within=seconds < 7200))
    due = created + timedelta(days=1)
    if rng.random() < 0.4:
        events.append(breached(ticket_id, RESOLUTION, due))
    if rng.random() < 0.8:
        seconds = rng.lognormvariate(11, 1)
        events.append(
            met(ticket_id, RESOLUTION, created + timedelta(seconds=seconds), seconds, within=True)
        )
    for event in events:
        await _retrying(lambda event=event: apply(pool, event))


async def _history(pool: asyncpg.Pool) -> tuple[list[uuid.UUID], dict[uuid.UUID, list[uuid.UUID]]]:
    rng = random.Random(1913)
    teams = [uuid.uuid4() for _ in range(3)]
    agents = {team: [uuid.uuid4() for _ in range(3)] for team in teams}

    async def one(i: int) -> None:
        team = teams[i % 3]
        ticket = Ticket(pool, team)
        late_ticket = i % 4 == 0  # its outcomes are recorded before the ticket is projected
        if late_ticket:
            await _outcomes(pool, rng, ticket.ticket_id)
        await ticket.created(START)
        if i % 5:  # a fifth stay unassigned
            await ticket.assigned(rng.choice(agents[team]), START)
        if not late_ticket:
            # Concurrently with the ticket's moves below: neither may miss the other.
            recording = asyncio.create_task(_outcomes(pool, rng, ticket.ticket_id))
        if i % 3 == 1:
            other = teams[(i + 1) % 3]
            await ticket.moved(other, START)
            await ticket.assigned(rng.choice(agents[other]), START)
        if not late_ticket:
            await recording

    for first in range(0, 240, 24):
        await asyncio.gather(*(one(i) for i in range(first, first + 24)))
    # Outcomes of a ticket never projected: the group "none".
    await _outcomes(pool, rng, uuid.uuid4())
    return teams, agents


def _assert_close(rollup: list[GroupFigures], exact: list[GroupFigures], case: object) -> None:
    assert [g.group_id for g in rollup] == [g.group_id for g in exact], case
    for ours, theirs in zip(rollup, exact, strict=True):
        for metric, figures in theirs.metrics.items():
            mine = ours.metrics[metric]
            where = (case, ours.group_id, metric)
            assert mine.met_within == figures.met_within, where
            assert mine.met_late == figures.met_late, where
            assert mine.breached_open == figures.breached_open, where
            assert mine.compliance == figures.compliance, where
            if figures.average_business_seconds is None:
                assert mine.average_business_seconds is None, where
                assert mine.median_business_seconds is None, where
                continue
            assert mine.average_business_seconds == pytest.approx(
                figures.average_business_seconds, abs=0.002
            ), where
            for estimate, value in (
                (mine.median_business_seconds, figures.median_business_seconds),
                (mine.p90_business_seconds, figures.p90_business_seconds),
            ):
                assert estimate is not None and value is not None, where
                # The bound, and the 3 decimals both are rounded to.
                bound = max(ABSOLUTE_ERROR, RELATIVE_ERROR * value) + 0.002
                assert abs(estimate - value) <= bound, (where, estimate, value)


async def test_the_rollup_reports_what_every_outcome_says(pool: asyncpg.Pool, url: str) -> None:
    teams, agents = await _history(pool)
    reports = SlaReports(pool)
    jakarta, amsterdam = ZoneInfo("Asia/Jakarta"), ZoneInfo("Europe/Amsterdam")
    periods = [
        (START, START + timedelta(days=DAYS + 3)),  # everything, whole UTC days
        (START + timedelta(days=10), START + timedelta(days=40)),
        (START + timedelta(days=62), START + timedelta(days=69)),
        # Local days: parts of UTC days at both ends (Amsterdam's summer time starts 29 March).
        (datetime(2026, 3, 10, tzinfo=jakarta), datetime(2026, 4, 9, tzinfo=jakarta)),
        (datetime(2026, 3, 20, tzinfo=amsterdam), datetime(2026, 4, 5, tzinfo=amsterdam)),
        # Less than a UTC day, and up to a datetime.
        (datetime(2026, 4, 1, 5, tzinfo=UTC), datetime(2026, 4, 1, 23, 30, tzinfo=UTC)),
        (START + timedelta(days=3, hours=7), START + timedelta(days=50, minutes=13)),
    ]
    compared = 0
    for start, end in periods:
        for group_by in ("team", "assignee"):
            for scope in (None, frozenset(teams[1:2])):
                case = (start, end, group_by, scope)
                exact = await reports.by_group(group_by, start, end, scope, exact=True)
                rollup = await reports.by_group(group_by, start, end, scope)
                _assert_close(rollup, exact, case)
                compared += sum(
                    f.met_within + f.met_late + f.breached_open
                    for g in exact
                    for f in g.metrics.values()
                )
    assert compared > 2000  # the comparisons compared something
    everything = await reports.by_group("assignee", START, START + timedelta(days=DAYS + 3))
    groups = {g.group_id for g in everything}
    assert None in groups  # unassigned tickets and the ticket never projected
    assert groups - {None} <= {a for members in agents.values() for a in members}

    # A rebuild from the rows (the migration run again) gives the rows the triggers kept.
    kept = _rows(await pool.fetch(ROLLUP_ROWS))
    config = alembic_config(url)
    await asyncio.to_thread(command.downgrade, config, "0012")
    await asyncio.to_thread(command.upgrade, config, "0013")
    connection = await asyncpg.connect(url)  # no statement prepared before the rebuild
    try:
        rebuilt = _rows(await connection.fetch(ROLLUP_ROWS))
    finally:
        await connection.close()
    assert rebuilt == kept

    # A projection rebuild empties ticket_views (TRUNCATE: no row trigger): every outcome then
    # has no group, until the replay moves it to its ticket's.
    await pool.execute("TRUNCATE ticket_views")
    period = (START, START + timedelta(days=DAYS + 3))
    for group_by in ("team", "assignee"):
        exact = await reports.by_group(group_by, *period, exact=True)
        rollup = await reports.by_group(group_by, *period)
        assert [g.group_id for g in exact] == [None]
        _assert_close(rollup, exact, ("emptied", group_by))
    assert len(kept) > 500
