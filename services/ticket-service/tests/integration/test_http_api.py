"""The ticket HTTP API on the real PostgreSQL: create, read, status, idempotency, errors."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from .conftest import bearer

pytestmark = pytest.mark.integration

NEW_TICKET = {
    "subject": "Cannot log in to the portal",
    "description": "Since this morning the login page says 'invalid token'.",
    "requester": {"email": "budi@example.co.id", "name": "Budi"},
    "channel": "email",
    "priority": "High",
    "tags": ["Login", "portal"],
}


async def create(api: httpx.AsyncClient, token: str, **headers: str) -> httpx.Response:
    return await api.post("/tickets", json=NEW_TICKET, headers=bearer(token) | headers)


async def test_create_then_get(api: httpx.AsyncClient, token: Callable[..., str]) -> None:
    created = await create(api, token("agent"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "New" and body["version"] == 1 and body["tags"] == ["login", "portal"]
    assert created.headers["Location"] == f"/tickets/{body['id']}"
    assert created.headers["ETag"] == '"1"'
    fetched = await api.get(f"/tickets/{body['id']}", headers=bearer(token("agent")))
    assert fetched.status_code == 200
    assert fetched.json() == body


async def test_status_change_and_history_as_of(
    api: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    agent = bearer(token("agent"))
    ticket = (await create(api, token("agent"))).json()
    before_change = datetime.now(UTC).isoformat()
    changed = await api.post(
        f"/tickets/{ticket['id']}/status", json={"status": "Open"}, headers=agent
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["status"], changed.json()["version"]) == ("Open", 2)
    past = await api.get(f"/tickets/{ticket['id']}", params={"as_of": before_change}, headers=agent)
    assert (past.json()["status"], past.json()["version"]) == ("New", 1)


async def test_stale_version_is_409_with_a_message(
    api: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    agent = bearer(token("agent"))
    ticket = (await create(api, token("agent"))).json()
    first = await api.post(
        f"/tickets/{ticket['id']}/status",
        json={"status": "Open"},
        headers=agent | {"If-Match": '"1"'},
    )
    assert first.status_code == 200
    stale = await api.post(
        f"/tickets/{ticket['id']}/status",
        json={"status": "Pending", "expected_version": 1},
        headers=agent,
    )
    assert stale.status_code == 409
    assert "is at version 2, not 1" in stale.json()["detail"]


async def test_idempotency_key_returns_the_same_ticket(
    api: httpx.AsyncClient, token: Callable[..., str], pool: asyncpg.Pool
) -> None:
    key = str(uuid.uuid4())
    agent = token("agent")
    first = await create(api, agent, **{"Idempotency-Key": key})
    again = await create(api, agent, **{"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    # Concurrent twins with a fresh key also make exactly one ticket.
    twin_key = str(uuid.uuid4())
    twins = await asyncio.gather(
        *(create(api, agent, **{"Idempotency-Key": twin_key}) for _ in range(8))
    )
    assert {t.status_code for t in twins} == {201}
    assert len({t.json()["id"] for t in twins}) == 1
    created = await pool.fetchval(
        "SELECT count(*) FROM events WHERE event_type = 'TicketCreated' AND stream_id = $1",
        uuid.UUID(twins[0].json()["id"]),
    )
    assert created == 1


async def test_idempotency_key_reused_for_another_request_is_422(
    api: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    key = str(uuid.uuid4())
    await create(api, token("agent"), **{"Idempotency-Key": key})
    other = await api.post(
        "/tickets",
        json=NEW_TICKET | {"subject": "Something else"},
        headers=bearer(token("agent")) | {"Idempotency-Key": key},
    )
    assert other.status_code == 422
    assert "already used with a different request" in other.json()["detail"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "x", "priority": "Whenever"}, "unknown priority"),
        ({"subject": "x", "requester": {"email": "not-an-email"}}, "email"),
        ({"subject": "x", "colour": "red"}, "colour"),
    ],
)
async def test_bad_input_is_a_clear_422(
    api: httpx.AsyncClient, token: Callable[..., str], body: dict[str, object], fragment: str
) -> None:
    response = await api.post("/tickets", json=body, headers=bearer(token("agent")))
    assert response.status_code == 422
    assert fragment in response.text


async def test_text_the_database_cannot_store_is_a_422_not_a_500(
    api: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    agent = bearer(token("agent"))
    body = await api.post("/tickets", json={"subject": "null \x00 byte"}, headers=agent)
    assert body.status_code == 422
    assert "NUL" in body.json()["detail"]
    query = await api.get("/tickets", params={"q": "a\x00b"}, headers=agent)
    assert query.status_code == 422


async def test_refused_transition_is_422(api: httpx.AsyncClient, token: Callable[..., str]) -> None:
    agent = bearer(token("agent"))
    ticket = (await create(api, token("agent"))).json()
    closed = await api.post(
        f"/tickets/{ticket['id']}/status", json={"status": "Closed"}, headers=agent
    )
    assert closed.status_code == 200
    reopen = await api.post(
        f"/tickets/{ticket['id']}/status", json={"status": "Open"}, headers=agent
    )
    assert reopen.status_code == 422
    assert "follow-up" in reopen.json()["detail"]


async def test_auth_is_required_and_roles_are_checked(
    api: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    assert (await api.post("/tickets", json=NEW_TICKET)).status_code == 401
    garbage = await api.post("/tickets", json=NEW_TICKET, headers=bearer("not.a.jwt"))
    assert garbage.status_code == 401
    customer = token("customer", subject="cust-1", email="sari@example.co.id", name="Sari")
    # Customers set no channel or tags (issue #11: they drive SLA and assignment) …
    refused = await api.post("/tickets", json=NEW_TICKET, headers=bearer(customer))
    assert refused.status_code == 403
    assert "customers cannot set tags, channel" in refused.json()["detail"]
    as_customer = {k: v for k, v in NEW_TICKET.items() if k not in ("channel", "tags")}
    mine = await api.post("/tickets", json=as_customer, headers=bearer(customer))
    assert mine.status_code == 201
    assert mine.json()["requester_email"] == "sari@example.co.id"  # not the body's requester
    forbidden = await api.post(
        f"/tickets/{mine.json()['id']}/status", json={"status": "Open"}, headers=bearer(customer)
    )
    assert forbidden.status_code == 403
    assert (
        await api.get(f"/tickets/{mine.json()['id']}", headers=bearer(customer))
    ).status_code == 200
    someone_else = token("customer", subject="cust-2", email="other@example.com")
    hidden = await api.get(f"/tickets/{mine.json()['id']}", headers=bearer(someone_else))
    assert hidden.status_code == 404


async def test_unknown_ticket_is_404(api: httpx.AsyncClient, token: Callable[..., str]) -> None:
    missing = await api.get(f"/tickets/{uuid.uuid4()}", headers=bearer(token("agent")))
    assert missing.status_code == 404
    malformed = await api.get("/tickets/not-a-uuid", headers=bearer(token("agent")))
    assert malformed.status_code == 422


async def test_health_and_openapi(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    assert (await api.get("/readyz")).json() == {"status": "ready"}
    spec = (await api.get("/openapi.json")).json()
    assert {"/tickets", "/tickets/{ticket_id}", "/tickets/{ticket_id}/status"} <= set(spec["paths"])
