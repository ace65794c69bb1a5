"""Tickets as support teams work them, through the HTTP API on the real PostgreSQL: views and
search, edits, the conversation and its lifecycle rules, merge and unmerge, the configurable
options, the timeline, and read models rebuilt from the log."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from .conftest import bearer

pytestmark = pytest.mark.integration

CaughtUp = Callable[[], Awaitable[int]]


@pytest.fixture
def agent(token: Callable[..., str]) -> dict[str, str]:
    return bearer(token("agent", subject=str(uuid.uuid4()), name="Agent Ani"))


def customer_headers(token: Callable[..., str], email: str) -> dict[str, str]:
    return bearer(token("customer", subject=str(uuid.uuid4()), email=email, name="Customer"))


async def open_ticket(api: httpx.AsyncClient, headers: dict[str, str], **fields: Any) -> dict:
    body = {"subject": "Printer jams on tray 2", "priority": "Medium"} | fields
    response = await api.post("/tickets", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def listing(api: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[dict]:
    response = await api.get("/tickets", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def ids(items: list[dict]) -> set[str]:
    return {item["id"] for item in items}


async def test_numbers_views_filters_and_search(
    api: httpx.AsyncClient, agent: dict[str, str], caught_up: CaughtUp
) -> None:
    marker = uuid.uuid4().hex[:8]
    first = await open_ticket(api, agent, subject=f"Scanner {marker} offline", tags=["scanner"])
    second = await open_ticket(
        api, agent, subject=f"Invoice {marker}", priority="Urgent", category="Complaint"
    )
    assert second["number"] > first["number"] >= 1001
    solved = await open_ticket(api, agent, subject=f"Solved {marker}")
    await api.post(f"/tickets/{solved['id']}/status", json={"status": "Solved"}, headers=agent)
    await caught_up()

    unsolved = ids(await listing(api, agent, q=marker))
    assert unsolved == {first["id"], second["id"]}
    assert ids(await listing(api, agent, q=marker, view="all")) == unsolved | {solved["id"]}
    assert ids(await listing(api, agent, q=marker, view="solved")) == {solved["id"]}
    assert ids(await listing(api, agent, q=marker, tag="scanner")) == {first["id"]}
    assert ids(await listing(api, agent, q=marker, priority="Urgent")) == {second["id"]}
    by_priority = await listing(api, agent, q=marker, sort="-priority")
    assert [t["id"] for t in by_priority] == [second["id"], first["id"]]
    assert ids(await listing(api, agent, q=f"#{second['number']}")) == {second["id"]}
    page = (await api.get("/tickets", params={"q": marker, "page_size": 1}, headers=agent)).json()
    assert (page["total"], len(page["items"])) == (2, 1)
    bad_sort = await api.get("/tickets", params={"sort": "colour"}, headers=agent)
    assert bad_sort.status_code == 422


async def test_edit_many_fields_at_once_with_optimistic_concurrency(
    api: httpx.AsyncClient, agent: dict[str, str], token: Callable[..., str]
) -> None:
    ticket = await open_ticket(api, agent, tags=["printer"])
    edited = await api.patch(
        f"/tickets/{ticket['id']}",
        json={
            "subject": "Printer jams on tray 2 and 3",
            "type": "Incident",
            "priority": "High",
            "status": "In Progress",
            "add_tags": ["Hardware"],
            "remove_tags": ["printer"],
        },
        headers=agent | {"If-Match": '"1"'},
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["subject"], body["type"], body["priority"], body["status"]) == (
        "Printer jams on tray 2 and 3",
        "Incident",
        "High",
        "In Progress",
    )
    assert body["tags"] == ["hardware"]
    assert body["version"] == 5  # fields, priority, tags, status: one event each
    stale = await api.patch(
        f"/tickets/{ticket['id']}", json={"priority": "Low"}, headers=agent | {"If-Match": '"1"'}
    )
    assert stale.status_code == 409
    technician = bearer(token("technician"))
    reassign = await api.patch(
        f"/tickets/{ticket['id']}", json={"assignee_id": str(uuid.uuid4())}, headers=technician
    )
    assert reassign.status_code == 403
    unknown_agent = await api.patch(
        f"/tickets/{ticket['id']}", json={"assignee_id": str(uuid.uuid4())}, headers=agent
    )
    assert unknown_agent.status_code == 422
    bad = await api.patch(f"/tickets/{ticket['id']}", json={"category": "Gossip"}, headers=agent)
    assert bad.status_code == 422
    assert "use one of" in bad.json()["detail"]


async def test_conversation_lifecycle_and_privacy_of_internal_notes(
    api: httpx.AsyncClient, agent: dict[str, str], token: Callable[..., str], caught_up: CaughtUp
) -> None:
    email = f"rina-{uuid.uuid4().hex[:6]}@example.co.id"
    customer = customer_headers(token, email)
    ticket = await open_ticket(api, customer, subject="Order 778 never arrived")
    assert ticket["requester_email"] == email

    # An agent's first public reply opens the ticket; "reply and set Waiting on Customer".
    reply = await api.post(
        f"/tickets/{ticket['id']}/messages",
        json={"body": "<p>Checking with the courier.</p><script>alert(1)</script>"},
        headers=agent,
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["ticket"]["status"] == "Open"
    note = await api.post(
        f"/tickets/{ticket['id']}/messages",
        json={"body": "Courier says lost; refund likely", "visibility": "internal"},
        headers=agent,
    )
    assert note.json()["ticket"]["status"] == "Open"
    waiting = await api.post(
        f"/tickets/{ticket['id']}/messages",
        json={"body": "Can you confirm your address?", "set_status": "Waiting on Customer"},
        headers=agent,
    )
    assert waiting.json()["ticket"]["status"] == "Waiting on Customer"
    # The customer's answer reopens it.
    answer = await api.post(
        f"/tickets/{ticket['id']}/messages", json={"body": "Jl. Merdeka 1"}, headers=customer
    )
    assert answer.json()["ticket"]["status"] == "Open"
    await caught_up()

    staff_view = (await api.get(f"/tickets/{ticket['id']}/messages", headers=agent)).json()
    assert [m["visibility"] for m in staff_view] == ["public", "internal", "public", "public"]
    assert "<script>" not in staff_view[0]["body_html"]
    assert staff_view[0]["body_text"] == "Checking with the courier."
    customer_view = (await api.get(f"/tickets/{ticket['id']}/messages", headers=customer)).json()
    assert [m["visibility"] for m in customer_view] == ["public"] * 3
    timeline = (await api.get(f"/tickets/{ticket['id']}/timeline", headers=customer)).json()
    assert "refund" not in str(timeline)
    assert "refund" in str(
        (await api.get(f"/tickets/{ticket['id']}/timeline", headers=agent)).json()
    )
    # Search never leads a customer to an internal note.
    assert ids(await listing(api, agent, q="refund")) >= {ticket["id"]}
    assert ids(await listing(api, customer, q="refund")) == set()
    assert ids(await listing(api, customer, q="courier")) == {ticket["id"]}
    # Customers cannot write internal notes or change status.
    internal = await api.post(
        f"/tickets/{ticket['id']}/messages",
        json={"body": "x", "visibility": "internal"},
        headers=customer,
    )
    assert internal.status_code == 403
    other = customer_headers(token, "someone@example.com")
    assert (await api.get(f"/tickets/{ticket['id']}/messages", headers=other)).status_code == 404


async def test_a_customer_message_to_a_closed_ticket_opens_a_follow_up(
    api: httpx.AsyncClient, agent: dict[str, str], token: Callable[..., str]
) -> None:
    email = f"joko-{uuid.uuid4().hex[:6]}@example.co.id"
    customer = customer_headers(token, email)
    ticket = await open_ticket(api, customer, subject="Wifi password")
    closed = await api.post(
        f"/tickets/{ticket['id']}/status", json={"status": "Closed"}, headers=agent
    )
    assert closed.json()["status"] == "Closed"
    later = await api.post(
        f"/tickets/{ticket['id']}/messages",
        json={"body": "It stopped working again"},
        headers=customer,
    )
    assert later.status_code == 201
    follow_up = later.json()["follow_up"]
    assert follow_up["follow_up_of"] == ticket["id"]
    assert (follow_up["subject"], follow_up["status"]) == ("Wifi password", "New")
    assert follow_up["description"] == "It stopped working again"
    still_closed = (await api.get(f"/tickets/{ticket['id']}", headers=agent)).json()
    assert (still_closed["status"], still_closed["version"]) == ("Closed", 2)
    by_agent = await api.post(
        f"/tickets/{ticket['id']}/messages", json={"body": "hello"}, headers=agent
    )
    assert by_agent.status_code == 422


async def test_merge_and_unmerge(
    api: httpx.AsyncClient, agent: dict[str, str], caught_up: CaughtUp
) -> None:
    parent = await open_ticket(api, agent, subject="Email down for the whole floor")
    child_a = await open_ticket(api, agent, subject="Outlook won't connect")
    child_b = await open_ticket(api, agent, subject="No new mail since 9am")
    await api.post(f"/tickets/{child_a['id']}/status", json={"status": "Pending"}, headers=agent)
    await api.post(
        f"/tickets/{child_b['id']}/messages", json={"body": "Started at 9:02"}, headers=agent
    )
    merged = await api.post(
        f"/tickets/{parent['id']}/merge",
        json={"children": [child_a["id"], child_b["id"]]},
        headers=agent,
    )
    assert merged.status_code == 200, merged.text
    assert set(merged.json()["merged_children"]) == {child_a["id"], child_b["id"]}
    a_now = (await api.get(f"/tickets/{child_a['id']}", headers=agent)).json()
    assert (a_now["status"], a_now["merged_into"]) == ("Closed", parent["id"])
    await caught_up()

    conversation = (await api.get(f"/tickets/{parent['id']}/messages", headers=agent)).json()
    texts = " | ".join(m["body_text"] for m in conversation)
    assert "Started at 9:02" in texts  # the child's messages show on the parent
    assert f"#{child_a['number']}" in texts and f"#{child_b['number']}" in texts
    child_notes = (await api.get(f"/tickets/{child_a['id']}/messages", headers=agent)).json()
    assert any(f"#{parent['number']}" in m["body_text"] for m in child_notes)
    unsolved = ids(await listing(api, agent, q="Outlook"))
    assert child_a["id"] not in unsolved  # merged tickets leave the lists

    for refused in (
        {"children": [parent["id"]]},  # into itself
        {"children": [child_a["id"]]},  # already merged
    ):
        response = await api.post(f"/tickets/{parent['id']}/merge", json=refused, headers=agent)
        assert response.status_code == 422, refused
    into_merged = await api.post(
        f"/tickets/{child_a['id']}/merge", json={"children": [parent["id"]]}, headers=agent
    )
    assert into_merged.status_code == 422

    restored = await api.post(
        f"/tickets/{parent['id']}/unmerge", json={"child_id": child_a["id"]}, headers=agent
    )
    assert restored.status_code == 200, restored.text
    assert (restored.json()["status"], restored.json()["merged_into"]) == ("Pending", None)
    parent_now = (await api.get(f"/tickets/{parent['id']}", headers=agent)).json()
    assert parent_now["merged_children"] == [child_b["id"]]


async def test_options_are_configurable_by_managers_only(
    api: httpx.AsyncClient, agent: dict[str, str], token: Callable[..., str], app: FastAPI
) -> None:
    manager = bearer(token("manager"))
    read = await api.get("/ticket-options", headers=agent)
    current, etag = read.json(), read.headers["ETag"]
    assert current["priorities"] == ["Low", "Medium", "High", "Urgent"]
    wanted = current | {
        "types": [*current["types"], "Change Request"],
        "business_units": [{"name": "Retail", "brands": ["Acme"]}],
    }
    assert (await api.put("/ticket-options", json=wanted, headers=agent)).status_code == 403
    # Item 9: a change names the version it was decided on, so two managers never overwrite
    # each other: 428 without If-Match, 409 with a stale one.
    unversioned = await api.put("/ticket-options", json=wanted, headers=manager)
    assert unversioned.status_code == 428 and "If-Match" in unversioned.json()["detail"]
    versioned = manager | {"If-Match": etag}
    broken = current | {"statuses": [s for s in current["statuses"] if s["name"] != "Closed"]}
    refused = await api.put("/ticket-options", json=broken, headers=versioned)
    assert refused.status_code == 422
    assert "Closed" in refused.json()["detail"]
    saved = await api.put("/ticket-options", json=wanted, headers=versioned)
    assert saved.status_code == 200, saved.text
    assert saved.headers["ETag"] == f'"{int(etag.strip(chr(34))) + 1}"'
    stale = await api.put("/ticket-options", json=wanted, headers=versioned)
    assert stale.status_code == 409
    app.state.tickets._options = None  # do not wait for the one-second cache in a test
    ticket = await open_ticket(
        api, agent, type="Change Request", business_unit="Retail", brand="Acme"
    )
    assert (ticket["type"], ticket["brand"]) == ("Change Request", "Acme")


async def test_timeline_shows_who_did_what(api: httpx.AsyncClient, agent: dict[str, str]) -> None:
    ticket = await open_ticket(api, agent)
    await api.patch(f"/tickets/{ticket['id']}", json={"priority": "High"}, headers=agent)
    timeline = (await api.get(f"/tickets/{ticket['id']}/timeline", headers=agent)).json()
    assert [entry["event_type"] for entry in timeline] == ["TicketCreated", "PriorityChanged"]
    assert timeline[1]["data"] == {"from_priority": "Medium", "to_priority": "High"}
    assert timeline[1]["actor"]["display_name"] == "Agent Ani"


async def test_read_models_rebuild_from_the_log_identically(
    api: httpx.AsyncClient, agent: dict[str, str], app: FastAPI, pool: asyncpg.Pool
) -> None:
    ticket = await open_ticket(api, agent, tags=["rebuild"])
    await api.post(f"/tickets/{ticket['id']}/messages", json={"body": "hi"}, headers=agent)
    await app.state.projector.catch_up()

    async def snapshot() -> tuple[list[Any], list[Any]]:
        views = await pool.fetch("SELECT * FROM ticket_views ORDER BY ticket_id")
        messages = await pool.fetch("SELECT * FROM ticket_messages ORDER BY message_id")
        return [dict(r) for r in views], [dict(r) for r in messages]

    before = await snapshot()
    assert any(row["ticket_id"] == uuid.UUID(ticket["id"]) for row in before[0])
    applied = await app.state.projector.rebuild()
    assert applied > 0
    assert await snapshot() == before


async def test_tickets_name_their_contact_and_a_contacts_tickets_are_listed(
    api: httpx.AsyncClient, agent: dict[str, str], caught_up: CaughtUp
) -> None:
    email = f"Budi.{uuid.uuid4().hex[:6]}@Example.co.id"
    first = await open_ticket(api, agent, requester={"email": email, "name": "Budi"})
    second = await open_ticket(api, agent, requester={"email": email.lower()})
    assert first["customer_id"] is not None
    assert second["customer_id"] == first["customer_id"]  # contacts are unique by email
    contact = await api.get(f"/customers/{first['customer_id']}", headers=agent)
    assert contact.status_code == 200
    assert contact.json()["name"] == "Budi"
    await caught_up()
    listed = ids(await listing(api, agent, customer_id=first["customer_id"], view="all"))
    assert listed == {first["id"], second["id"]}
    unknown = await api.post(
        "/tickets", json={"subject": "x", "customer_id": str(uuid.uuid4())}, headers=agent
    )
    assert unknown.status_code == 422
    assert "no customer" in unknown.json()["detail"]


async def test_assignment_follows_the_directory(
    api: httpx.AsyncClient, agent: dict[str, str], token: Callable[..., str], caught_up: CaughtUp
) -> None:
    manager = bearer(token("manager"))

    async def invite(name: str) -> str:
        response = await api.post(
            "/agents",
            json={
                "email": f"{name}-{uuid.uuid4().hex[:6]}@example.com",
                "name": name,
                "role": "agent",
            },
            headers=manager,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    sari, joko = await invite("Sari"), await invite("Joko")
    team = await api.post("/teams", json={"name": f"L1 {uuid.uuid4().hex[:6]}"}, headers=manager)
    team_id = team.json()["id"]
    assert (await api.put(f"/teams/{team_id}/members/{sari}", headers=manager)).status_code == 200

    ticket = await open_ticket(api, agent, team_id=team_id, assignee_id=sari)
    assert (ticket["team_id"], ticket["assignee_id"]) == (team_id, sari)
    as_sari = bearer(token("agent", subject=sari))
    await caught_up()
    assert ticket["id"] in ids(await listing(api, as_sari, assignee="me"))
    assert ticket["id"] not in ids(await listing(api, agent, assignee="none"))
    outsider = await api.patch(
        f"/tickets/{ticket['id']}", json={"assignee_id": joko}, headers=agent
    )
    assert outsider.status_code == 422
    assert "not a member" in outsider.json()["detail"]
    # Moving the ticket to a team Sari is not in clears her as assignee.
    other = await api.post("/teams", json={"name": f"L2 {uuid.uuid4().hex[:6]}"}, headers=manager)
    await api.put(f"/teams/{other.json()['id']}/members/{joko}", headers=manager)
    moved = await api.patch(
        f"/tickets/{ticket['id']}",
        json={"team_id": other.json()["id"], "assignee_id": joko},
        headers=agent,
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["team_id"], moved.json()["assignee_id"]) == (other.json()["id"], joko)
    timeline = (await api.get(f"/tickets/{ticket['id']}/timeline", headers=agent)).json()
    assert [e["event_type"] for e in timeline][-3:] == [
        "TeamChanged",
        "TicketUnassigned",
        "TicketAssigned",
    ]
    await api.patch(f"/agents/{joko}", json={"active": False}, headers=manager)
    deactivated = await open_ticket(api, agent)
    refused = await api.patch(
        f"/tickets/{deactivated['id']}", json={"assignee_id": joko}, headers=agent
    )
    assert refused.status_code == 422
