"""Activity reports: tickets created and solved per local day, and open tickets per team and
agent, from the read models; managers read them, agents do not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from .conftest import bearer
from .test_sla_reports import invite_agent, open_ticket, team_with

pytestmark = pytest.mark.integration


async def test_created_and_solved_per_day_and_the_workload(
    api: httpx.AsyncClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    caught_up: Callable[[], Awaitable[int]],
) -> None:
    manager = bearer(token("manager"))
    agent = bearer(token("agent"))
    sari = await invite_agent(api, manager, "sari")
    team = await team_with(api, manager, sari)
    await open_ticket(api, agent, team_id=team, assignee_id=sari)
    second = await open_ticket(api, agent, team_id=team, assignee_id=sari)
    await open_ticket(api, agent, team_id=team)  # open, nobody assigned
    await caught_up()
    # Solved: the second ticket is closed now (no SLA policy measures it); the report counts it
    # on the local day in Jakarta (test_resolved_at.py: the day boundary and reopening).
    now = datetime.now(UTC)
    resolved = await api.post(f"/tickets/{second}/status", json={"status": "Closed"}, headers=agent)
    assert resolved.status_code == 200, resolved.text
    await caught_up()

    today = now.date()
    params = {
        "from": today.isoformat(),
        "to": (today + timedelta(days=2)).isoformat(),
        "group_by": "team",
        "time_zone": "Asia/Jakarta",
    }
    response = await api.get("/reports/volume", params=params, headers=manager)
    assert response.status_code == 200, response.text
    days: dict[str, dict[str, Any]] = {
        d["day"]: d for d in response.json()["days"] if d["group_id"] == team
    }
    assert sum(d["created"] for d in days.values()) == 3
    solved_day = (datetime.now(UTC) + timedelta(hours=7)).date().isoformat()  # Jakarta's today
    assert days[solved_day]["solved"] == 1

    by_agent = await api.get(
        "/reports/volume", params=params | {"group_by": "assignee"}, headers=manager
    )
    assert by_agent.status_code == 200, by_agent.text
    assert sum(d["created"] for d in by_agent.json()["days"] if d["group_id"] == sari) == 2

    workload = await api.get("/reports/workload", headers=manager)
    assert workload.status_code == 200, workload.text
    mine = {
        row["assignee_id"]: row["open"] for row in workload.json()["rows"] if row["team_id"] == team
    }
    assert mine == {sari: 1, None: 1}  # the closed ticket is not open any more

    # Agents read no reports; bad input is a clear 422
    assert (await api.get("/reports/workload", headers=agent)).status_code == 403
    assert (await api.get("/reports/volume", params=params, headers=agent)).status_code == 403
    bad_zone = await api.get(
        "/reports/volume", params=params | {"time_zone": "Mars/Olympus"}, headers=manager
    )
    assert bad_zone.status_code == 422
    assert "IANA" in bad_zone.json()["detail"]
