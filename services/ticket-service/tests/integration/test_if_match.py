"""One If-Match rule for every versioned record of the ticket service (tickets, ticket options,
contacts, companies, agents, teams), read by ``helpdesk_platform.config_http.if_match_version``:
optional here (absent or ``*``: the change applies to the record as it is), a version names the
ETag the caller read (a stale one is a 409), anything else is a 400 saying what to send."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest

from .conftest import bearer

pytestmark = pytest.mark.integration


async def _ticket(api: httpx.AsyncClient, agent: dict[str, str]) -> tuple[str, str]:
    created = await api.post(
        "/tickets",
        json={"subject": "If-Match rules", "requester": {"email": f"{uuid.uuid4()}@example.com"}},
        headers=agent,
    )
    assert created.status_code == 201, created.text
    return f"/tickets/{created.json()['id']}", created.headers["ETag"]


async def test_a_ticket_edit_takes_its_etag_any_or_none(
    api: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    agent = bearer(token("agent"))
    url, etag = await _ticket(api, agent)
    assert etag == '"1"'

    pinned = await api.patch(url, json={"priority": "High"}, headers=agent | {"If-Match": etag})
    assert pinned.status_code == 200, pinned.text
    assert pinned.headers["ETag"] == '"2"'

    weak = await api.patch(url, json={"priority": "Low"}, headers=agent | {"If-Match": 'W/"2"'})
    assert weak.status_code == 200 and weak.headers["ETag"] == '"3"'

    stale = await api.patch(url, json={"priority": "Urgent"}, headers=agent | {"If-Match": etag})
    assert stale.status_code == 409

    anything = await api.patch(url, json={"priority": "Urgent"}, headers=agent | {"If-Match": "*"})
    assert anything.status_code == 200, anything.text
    unpinned = await api.post(f"{url}/status", json={"status": "Open"}, headers=agent)
    assert unpinned.status_code == 200, unpinned.text
    assert unpinned.headers["ETag"] == '"5"'


@pytest.mark.parametrize("header", ["three", '"-1"', '"1", "2"'])
async def test_a_malformed_if_match_is_400_everywhere(
    api: httpx.AsyncClient, token: Callable[..., str], header: str
) -> None:
    agent, manager = bearer(token("agent")), bearer(token("manager"))
    url, _ = await _ticket(api, agent)
    team = await api.post("/teams", json={"name": f"If-Match {uuid.uuid4()}"}, headers=manager)
    assert team.status_code == 201, team.text
    writes = [
        api.patch(url, json={"priority": "High"}, headers=agent | {"If-Match": header}),
        api.post(f"{url}/escalate", json={}, headers=agent | {"If-Match": header}),
        api.patch(
            f"/teams/{team.json()['id']}",
            json={"description": "x"},
            headers=manager | {"If-Match": header},
        ),
    ]
    for write in writes:
        answer = await write
        assert answer.status_code == 400, answer.text
        assert answer.json()["detail"].startswith('If-Match must be one version, e.g. "3"')


async def test_a_team_takes_any_version_with_a_star(
    api: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    manager = bearer(token("manager"))
    team = await api.post("/teams", json={"name": f"Star {uuid.uuid4()}"}, headers=manager)
    assert team.status_code == 201 and team.headers["ETag"] == '"1"'
    assert team.headers["Location"] == f"/teams/{team.json()['id']}"
    changed = await api.patch(
        team.headers["Location"], json={"description": "any"}, headers=manager | {"If-Match": "*"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == '"2"'


async def test_the_list_gives_staff_each_tickets_version_for_bulk_edits(
    api: httpx.AsyncClient, token: Callable[..., str], caught_up: Callable[[], Awaitable[int]]
) -> None:
    """A bulk edit sends If-Match per ticket: the version the agent saw in the list. A
    customer's rows carry none (their view's version counts public events only)."""
    agent = bearer(token("agent"))
    url, _ = await _ticket(api, agent)
    await api.patch(url, json={"priority": "High"}, headers=agent)
    await caught_up()
    number = (await api.get(url, headers=agent)).json()["number"]
    listed = await api.get("/tickets", params={"q": f"#{number}"}, headers=agent)
    assert listed.status_code == 200, listed.text
    (row,) = listed.json()["items"]
    assert row["version"] == 2
    stale = await api.patch(url, json={"priority": "Low"}, headers=agent | {"If-Match": '"1"'})
    assert stale.status_code == 409
    pinned = await api.patch(
        url, json={"priority": "Low"}, headers=agent | {"If-Match": f'"{row["version"]}"'}
    )
    assert pinned.status_code == 200, pinned.text

    email = f"{uuid.uuid4()}@example.com"
    customer = bearer(token("customer", email=email))
    mine = await api.post(
        "/tickets", json={"subject": "Mine", "description": "x"}, headers=customer
    )
    assert mine.status_code == 201, mine.text
    await caught_up()
    own = await api.get("/tickets", headers=customer)
    assert own.status_code == 200, own.text
    assert own.json()["items"] and all(item["version"] is None for item in own.json()["items"])
