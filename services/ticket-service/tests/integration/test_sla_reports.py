"""SLA outcomes for reports: recorded from SlaMet / SlaBreached once per event id, one outcome per
metric (per exchange for next response), and the reports over them by team and by assignee."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from helpdesk_events import Actor, ActorKind, EventEnvelope
from helpdesk_events.sla import SlaBreached, SlaMet, SlaMetricName
from ticket_service.adapters.sla_projection import apply_sla_event
from ticket_service.domain.sla_histogram import ABSOLUTE_ERROR, RELATIVE_ERROR

from .conftest import bearer

pytestmark = pytest.mark.integration

FIRST = SlaMetricName.FIRST_RESPONSE
NEXT = SlaMetricName.NEXT_RESPONSE
RESOLUTION = SlaMetricName.RESOLUTION


def envelope(event: SlaMet | SlaBreached, at: datetime) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=event.ticket_id,
        stream_type="sla",
        stream_version=1,
        occurred_at=at,
        actor=Actor(kind=ActorKind.SERVICE, id="sla-service"),
        correlation_id=uuid.uuid4(),
        data=event.model_dump(mode="json"),
    )


def met(
    ticket_id: uuid.UUID, metric: SlaMetricName, at: datetime, seconds: float, *, within: bool
) -> EventEnvelope:
    event = SlaMet(
        ticket_id=ticket_id, metric=metric, met_at=at, elapsed_seconds=seconds, within_target=within
    )
    return envelope(event, at)


def breached(ticket_id: uuid.UUID, metric: SlaMetricName, due: datetime) -> EventEnvelope:
    event = SlaBreached(ticket_id=ticket_id, metric=metric, due_at=due, target_seconds=3600)
    return envelope(event, due)


async def apply(pool: asyncpg.Pool, *envelopes: EventEnvelope) -> None:
    async with pool.acquire() as connection, connection.transaction():
        for item in envelopes:
            await apply_sla_event(connection, item)


async def outcomes(pool: asyncpg.Pool, ticket_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT metric, exchange, at, met, within_target, elapsed_seconds, due_at"
        " FROM sla_outcomes WHERE ticket_id = $1 ORDER BY metric, exchange",
        ticket_id,
    )
    return [dict(row) for row in rows]


_DAYS = itertools.count(random.randrange(100_000))


def a_quiet_day() -> datetime:
    """A day in the future no other test (nor run) reports on: a report counts only its own."""
    return datetime(2100, 1, 1, tzinfo=UTC) + timedelta(days=next(_DAYS))


async def test_outcomes_once_per_event_and_per_exchange(pool: asyncpg.Pool) -> None:
    ticket = uuid.uuid4()
    t0 = a_quiet_day()
    events = [
        met(ticket, FIRST, t0 + timedelta(minutes=30), 1800, within=True),
        # next response: exchange 1 met in time; exchange 2 breached, then met late
        met(ticket, NEXT, t0 + timedelta(hours=1), 600, within=True),
        breached(ticket, NEXT, t0 + timedelta(hours=3)),
        met(ticket, NEXT, t0 + timedelta(hours=4), 5400, within=False),
        # exchange 3 breached and still open
        breached(ticket, NEXT, t0 + timedelta(hours=6)),
        # resolution breached, then met (late, although the event says within)
        breached(ticket, RESOLUTION, t0 + timedelta(hours=8)),
        met(ticket, RESOLUTION, t0 + timedelta(hours=9), 30000, within=True),
    ]
    await apply(pool, *events)
    await apply(pool, *events)  # a redelivery changes nothing
    await apply(pool, events[1], events[3])  # nor does a late duplicate of an older event

    rows = await outcomes(pool, ticket)
    summary = [
        (r["metric"], r["exchange"], r["met"], r["within_target"], r["elapsed_seconds"])
        for r in rows
    ]
    assert summary == [
        ("first_response", 1, True, True, 1800),
        ("next_response", 1, True, True, 600),
        ("next_response", 2, True, False, 5400),
        ("next_response", 3, False, False, None),
        ("resolution", 1, True, False, 30000),
    ]
    assert rows[2]["at"] == t0 + timedelta(hours=4)  # ended when met
    assert rows[2]["due_at"] == t0 + timedelta(hours=3)  # the breach is kept
    assert rows[3]["at"] == rows[3]["due_at"] == t0 + timedelta(hours=6)  # broke, still open
    recorded = await pool.fetchval(
        "SELECT count(*) FROM sla_outcome_events WHERE ticket_id = $1", ticket
    )
    assert recorded == len(events)


async def test_resolution_met_again_after_reopen_is_one_outcome(pool: asyncpg.Pool) -> None:
    ticket = uuid.uuid4()
    t0 = a_quiet_day()
    await apply(pool, met(ticket, RESOLUTION, t0, 3000, within=True))
    await apply(pool, breached(ticket, RESOLUTION, t0 + timedelta(hours=2)))  # reopened, overdue
    assert [(r["met"], r["within_target"]) for r in await outcomes(pool, ticket)] == [
        (False, False)
    ]
    await apply(pool, met(ticket, RESOLUTION, t0 + timedelta(hours=3), 9000, within=False))
    rows = await outcomes(pool, ticket)
    assert [(r["exchange"], r["met"], r["within_target"], r["at"]) for r in rows] == [
        (1, True, False, t0 + timedelta(hours=3))
    ]


# --- the reports -------------------------------------------------------------------------------


async def invite_agent(api: httpx.AsyncClient, manager: dict[str, str], name: str) -> str:
    response = await api.post(
        "/agents",
        json={"email": f"{name}-{uuid.uuid4().hex[:6]}@example.com", "name": name, "role": "agent"},
        headers=manager,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def team_with(api: httpx.AsyncClient, manager: dict[str, str], member: str) -> str:
    team = await api.post("/teams", json={"name": f"T {uuid.uuid4().hex[:8]}"}, headers=manager)
    assert team.status_code == 201, team.text
    team_id = str(team.json()["id"])
    joined = await api.put(f"/teams/{team_id}/members/{member}", headers=manager)
    assert joined.status_code == 200, joined.text
    return team_id


async def open_ticket(api: httpx.AsyncClient, agent: dict[str, str], **fields: Any) -> uuid.UUID:
    body = {"subject": "VPN drops every hour", "priority": "High"} | fields
    response = await api.post("/tickets", json=body, headers=agent)
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


def figures(
    within: int,
    late: int,
    open_: int,
    compliance: float | None,
    average: float | None,
    *,
    median: float | None = None,
    p90: float | None = None,
) -> dict[str, Any]:
    """The figures of one metric; median and p90 are the average's unless given (one value),
    read from the report's rollup within its error bound (``domain/sla_histogram.py``)."""
    median = average if median is None else median
    p90 = average if p90 is None else p90
    return {
        "met_within": within,
        "met_late": late,
        "breached_open": open_,
        "compliance": compliance,
        "average_business_seconds": average,
        "median_business_seconds": _within_bound(median),
        "p90_business_seconds": _within_bound(p90),
    }


def _within_bound(seconds: float | None) -> object:
    if seconds is None:
        return None
    return pytest.approx(seconds, rel=RELATIVE_ERROR, abs=ABSOLUTE_ERROR + 0.001)


NOTHING = figures(0, 0, 0, None, None)


async def test_compliance_and_averages_by_team_and_assignee(
    api: httpx.AsyncClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    caught_up: Callable[[], Awaitable[int]],
) -> None:
    manager = bearer(token("manager"))
    agent = bearer(token("agent"))
    sari, joko = await invite_agent(api, manager, "sari"), await invite_agent(api, manager, "joko")
    team_a, team_b = await team_with(api, manager, sari), await team_with(api, manager, joko)
    on_time = await open_ticket(api, agent, team_id=team_a, assignee_id=sari)
    late = await open_ticket(api, agent, team_id=team_a, assignee_id=sari)
    elsewhere = await open_ticket(api, agent, team_id=team_b, assignee_id=joko)
    nobody = await open_ticket(api, agent)
    after = await open_ticket(api, agent, team_id=team_a, assignee_id=sari)
    await caught_up()

    day = a_quiet_day()
    await apply(
        pool,
        met(on_time, FIRST, day + timedelta(hours=1), 600, within=True),
        met(on_time, RESOLUTION, day + timedelta(hours=5), 3600, within=True),
        breached(late, FIRST, day + timedelta(hours=2)),
        met(late, FIRST, day + timedelta(hours=3), 7200, within=False),
        breached(late, RESOLUTION, day + timedelta(hours=6)),
        met(elsewhere, FIRST, day + timedelta(hours=1), 1201, within=True),
        breached(nobody, FIRST, day + timedelta(hours=4)),
        met(after, FIRST, day + timedelta(days=2), 60, within=True),  # after the period
    )

    async def report(group_by: str, **period: str) -> dict[str, Any]:
        params = {"from": day.date().isoformat(), "to": day.date().isoformat()} | period
        response = await api.get(
            "/reports/sla", params=params | {"group_by": group_by}, headers=manager
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    by_team = await report("team")
    assert datetime.fromisoformat(by_team["from"]) == day
    assert datetime.fromisoformat(by_team["to"]) == day + timedelta(days=1)  # the whole day
    assert all(group.pop("value") is None for group in by_team["groups"])  # custom fields only
    groups = {group.pop("group_id"): group for group in by_team["groups"]}
    team_a_figures = {
        # 600 and 7200 s: the median between them, p90 at 0.9 of the way (interpolated)
        "first_response": figures(1, 1, 0, 50.0, 3900.0, median=3900.0, p90=6540.0),
        "next_response": NOTHING,
        "resolution": figures(1, 0, 1, 50.0, 3600.0),
    }
    team_b_figures = {
        "first_response": figures(1, 0, 0, 100.0, 1201.0),
        "next_response": NOTHING,
        "resolution": NOTHING,
    }
    no_one_figures = {
        "first_response": figures(0, 0, 1, 0.0, None),
        "next_response": NOTHING,
        "resolution": NOTHING,
    }
    assert groups == {team_a: team_a_figures, team_b: team_b_figures, None: no_one_figures}
    assert by_team["groups"][-1] is groups[None]  # the group without a team comes last

    by_assignee = await report("assignee")
    assert all(group.pop("value") is None for group in by_assignee["groups"])
    groups = {group.pop("group_id"): group for group in by_assignee["groups"]}
    assert groups == {sari: team_a_figures, joko: team_b_figures, None: no_one_figures}

    # Item 10: agents read no reports; a team's lead reads their own teams' only.
    params = {"from": day.date().isoformat(), "to": day.date().isoformat()}
    assert (await api.get("/reports/sla", params=params, headers=agent)).status_code == 403
    led = await api.put(f"/teams/{team_a}/lead", json={"agent_id": sari}, headers=manager)
    assert led.status_code == 200, led.text
    await caught_up()
    lead = bearer(token("agent", subject=sari))
    as_lead = await api.get("/reports/sla", params=params | {"group_by": "team"}, headers=lead)
    assert as_lead.status_code == 200, as_lead.text
    assert [g["group_id"] for g in as_lead.json()["groups"]] == [team_a]
    joko_token = bearer(token("agent", subject=joko))
    assert (await api.get("/reports/sla", params=params, headers=joko_token)).status_code == 403

    # A datetime period (here ending after the later outcome) counts it too.
    wider = await report(
        "team", to=(day + timedelta(days=2, hours=1)).isoformat().replace("+00:00", "Z")
    )
    first_response = next(g for g in wider["groups"] if g["group_id"] == team_a)["first_response"]
    assert first_response == figures(
        2, 1, 0, 66.67, (600 + 7200 + 60) / 3, median=600.0, p90=600 + 0.8 * 6600
    )

    times = await api.get(f"/tickets/{late}/sla-times", headers=agent)
    assert times.status_code == 200, times.text
    body = times.json()
    assert (body["first_response_business_seconds"], body["resolution_business_seconds"]) == (
        7200,
        None,
    )
    assert [(o["metric"], o["met"], o["within_target"]) for o in body["outcomes"]] == [
        ("first_response", True, False),
        ("resolution", False, False),
    ]
    on_time_times = (await api.get(f"/tickets/{on_time}/sla-times", headers=agent)).json()
    assert on_time_times["resolution_business_seconds"] == 3600


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ({"from": "2026-03-01", "to": "2026-02-01"}, "must be after from"),
        ({"from": "2026-03-01T10:00:00Z", "to": "2026-03-01T10:00:00Z"}, "must be after from"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "at most 366 days"),
        ({"from": "yesterday", "to": "2026-02-01"}, "from must be an ISO 8601 date"),
        ({"from": "2026-01-01", "to": "2026-02-30"}, "to must be an ISO 8601 date"),
    ],
)
async def test_a_bad_period_is_refused(
    api: httpx.AsyncClient, token: Callable[..., str], period: dict[str, str], message: str
) -> None:
    response = await api.get("/reports/sla", params=period, headers=bearer(token("manager")))
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]


async def test_customers_see_no_reports(api: httpx.AsyncClient, token: Callable[..., str]) -> None:
    agent = bearer(token("agent"))
    customer = bearer(token("customer", email="rina@example.com"))
    ticket = await open_ticket(api, customer)
    period = {"from": "2026-01-01", "to": "2026-01-31"}
    assert (await api.get("/reports/sla", params=period, headers=customer)).status_code == 403
    assert (await api.get(f"/tickets/{ticket}/sla-times", headers=customer)).status_code == 403
    missing = await api.get(f"/tickets/{uuid.uuid4()}/sla-times", headers=agent)
    assert missing.status_code == 404
    assert (await api.get("/reports/sla", params=period)).status_code == 401
