"""``ticket_views.resolved_at`` and the reports' "solved per day" from it: a ticket solved
without any SLA policy counts, Solved → Closed keeps the time it was solved, a reopened ticket
does not count until it is solved again, and the day is the report's local day."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from helpdesk_events import Actor, ActorKind, DomainEvent, EventEnvelope, StatusChanged
from helpdesk_events.tickets import TicketCreated
from ticket_service.adapters.activity_reports import ActivityReports
from ticket_service.adapters.event_store import create_pool
from ticket_service.adapters.migrate import upgrade
from ticket_service.adapters.ticket_projection import TicketsProjection
from ticket_service.service_layer.event_store import LogPosition, RecordedEvent

from .conftest import bearer
from .test_sla_reports import a_quiet_day, invite_agent, open_ticket, team_with

pytestmark = pytest.mark.integration


class TicketHistory:
    """One ticket's events, applied to the projection at the times the test chooses."""

    def __init__(self, pool: asyncpg.Pool, team_id: uuid.UUID) -> None:
        self._pool = pool
        self._projection = TicketsProjection()
        self.ticket_id = uuid.uuid4()
        self.team_id = team_id
        self._version = 0
        self._status = "Open"

    async def _apply(self, event: DomainEvent, at: datetime) -> None:
        self._version += 1
        envelope = EventEnvelope(
            event_id=uuid.uuid4(),
            event_type=event.event_type,
            schema_version=event.schema_version,
            stream_id=self.ticket_id,
            stream_type="ticket",
            stream_version=self._version,
            occurred_at=at,
            actor=Actor(kind=ActorKind.AGENT, id="sari"),
            correlation_id=uuid.uuid4(),
            data=event.model_dump(mode="json"),
        )
        recorded = RecordedEvent(envelope, LogPosition(0, 0), None)
        async with self._pool.acquire() as connection, connection.transaction():
            await self._projection.apply(connection, recorded)

    async def created(self, at: datetime, status: str = "Open") -> None:
        self._status = status
        event = TicketCreated(
            subject="Printer jammed", channel="email", status=status, priority="High",
            team_id=self.team_id,
        )  # fmt: skip
        await self._apply(event, at)

    async def status(self, to: str, at: datetime) -> None:
        event = StatusChanged(from_status=self._status, to_status=to)
        self._status = to
        await self._apply(event, at)

    async def resolved_at(self) -> datetime | None:
        value: datetime | None = await self._pool.fetchval(
            "SELECT resolved_at FROM ticket_views WHERE ticket_id = $1", self.ticket_id
        )
        return value


@pytest.fixture(scope="module")
async def projection_pool(make_database: Callable[[str], str]) -> AsyncIterator[asyncpg.Pool]:
    """A database of this module's own: :class:`TicketHistory` applies events to the projection
    without writing them to the log, and on the shared database a rebuild from the log (another
    module's test) would find rows no event explains."""
    url = make_database("resolved_at")
    await asyncio.to_thread(upgrade, url)
    pool = await create_pool(url, min_size=1, max_size=4)
    yield pool
    await pool.close()


async def test_resolved_at_follows_solving_closing_and_reopening(
    projection_pool: asyncpg.Pool,
) -> None:
    pool = projection_pool
    day = a_quiet_day()
    team = uuid.uuid4()
    hour = timedelta(hours=1)
    ticket = TicketHistory(pool, team)
    await ticket.created(day)
    assert await ticket.resolved_at() is None
    await ticket.status("Solved", day + 2 * hour)
    assert await ticket.resolved_at() == day + 2 * hour
    await ticket.status("Closed", day + 5 * hour)  # closing keeps when it was solved
    assert await ticket.resolved_at() == day + 2 * hour
    await ticket.status("Open", day + 6 * hour)  # reopened: not solved any more
    assert await ticket.resolved_at() is None
    await ticket.status("Pending", day + 7 * hour)
    assert await ticket.resolved_at() is None
    await ticket.status("Closed", day + 18 * hour)  # closed straight from open: solved now
    assert await ticket.resolved_at() == day + 18 * hour

    born_closed = TicketHistory(pool, team)  # e.g. a ticket logged after the fact
    await born_closed.created(day + 3 * hour, status="Closed")
    assert await born_closed.resolved_at() == day + 3 * hour

    # Solved per day, from resolved_at, in the report's time zone: 18:00 UTC is 01:00 the next
    # day in Jakarta; neither ticket has an SLA policy.
    reports = ActivityReports(pool)
    days = await reports.per_day(
        "team", day, day + timedelta(days=3), "Asia/Jakarta", frozenset({team})
    )
    assert [(d.day, d.created, d.solved) for d in days] == [
        (day.date(), 2, 1),  # both created; the born-closed one solved at 10:00 local
        ((day + timedelta(days=1)).date(), 0, 1),  # the first one, solved at 01:00 local
    ]
    in_utc = await reports.per_day("team", day, day + timedelta(days=3), "UTC", frozenset({team}))
    assert [(d.day, d.created, d.solved) for d in in_utc] == [(day.date(), 2, 2)]


async def test_a_ticket_solved_without_an_sla_policy_is_counted(
    api: httpx.AsyncClient,
    token: Callable[..., str],
    caught_up: Callable[[], Awaitable[int]],
) -> None:
    manager = bearer(token("manager"))
    agent = bearer(token("agent"))
    sari = await invite_agent(api, manager, "sari")
    team = await team_with(api, manager, sari)
    solved = await open_ticket(api, agent, team_id=team, assignee_id=sari)
    reopened = await open_ticket(api, agent, team_id=team, assignee_id=sari)
    await open_ticket(api, agent, team_id=team)
    for ticket, statuses in ((solved, ("Solved", "Closed")), (reopened, ("Solved", "Open"))):
        for status in statuses:
            changed = await api.post(
                f"/tickets/{ticket}/status", json={"status": status}, headers=agent
            )
            assert changed.status_code == 200, changed.text
    await caught_up()

    today = datetime.now(UTC).date()
    params = {
        "from": (today - timedelta(days=1)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat(),
        "group_by": "assignee",
        "time_zone": "UTC",
    }
    response = await api.get("/reports/volume", params=params, headers=manager)
    assert response.status_code == 200, response.text
    mine = [d for d in response.json()["days"] if d["group_id"] == sari]
    assert sum(d["created"] for d in mine) == 2
    assert sum(d["solved"] for d in mine) == 1  # solved then closed: once; the reopened: not
    assert [d["day"] for d in mine if d["solved"]] == [today.isoformat()]
