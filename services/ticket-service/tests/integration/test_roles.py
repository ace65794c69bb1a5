"""Who may do what, as a matrix over the roles, and the promise that nothing a customer can
fetch ever contains an internal note."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from .conftest import bearer

pytestmark = pytest.mark.integration

SECRET = f"internal-{uuid.uuid4().hex}"  # appears only in an internal note


@dataclass
class World:
    headers: dict[str, dict[str, str]]
    own_ticket: str
    other_ticket: str


@pytest.fixture(scope="module")
async def world(api: httpx.AsyncClient, token: Callable[..., str], app: Any) -> World:
    email = f"cust-{uuid.uuid4().hex[:6]}@example.co.id"
    headers = {
        "customer": bearer(token("customer", subject=str(uuid.uuid4()), email=email)),
        "agent": bearer(token("agent", subject=str(uuid.uuid4()))),
        "technician": bearer(token("technician", subject=str(uuid.uuid4()))),
        "manager": bearer(token("manager", subject=str(uuid.uuid4()))),
    }
    own = (await api.post("/tickets", json={"subject": "Mine"}, headers=headers["customer"])).json()
    other = await api.post(
        "/tickets",
        json={"subject": "Someone else's", "requester": {"email": "other@example.com"}},
        headers=headers["agent"],
    )
    note = await api.post(
        f"/tickets/{own['id']}/messages",
        json={"body": f"Customer is on the watch list {SECRET}", "visibility": "internal"},
        headers=headers["agent"],
    )
    assert note.status_code == 201
    await api.post(
        f"/tickets/{own['id']}/messages", json={"body": "We are on it"}, headers=headers["agent"]
    )
    await app.state.projector.catch_up()
    return World(headers, own["id"], other.json()["id"])


OPTIONS = {
    "priorities": ["Low", "Medium", "High", "Urgent"],
    "statuses": [
        {"name": n, "category": c}
        for n, c in (
            ("New", "new"),
            ("Open", "active"),
            ("In Progress", "active"),
            ("Pending", "paused"),
            ("Waiting on Customer", "paused"),
            ("Solved", "resolved"),
            ("Closed", "closed"),
        )
    ],
    "types": ["Question", "Incident", "Problem", "Checking Issue"],
    "categories": ["Problem", "Complaint", "Support"],
}

# (name, method, path, body, {role: expected status})
MATRIX: list[tuple[str, str, str, Any, dict[str, int]]] = [
    ("read own ticket", "GET", "/tickets/{own}", None,
     {"customer": 200, "agent": 200, "technician": 200, "manager": 200}),
    ("read someone else's ticket", "GET", "/tickets/{other}", None,
     {"customer": 404, "agent": 200, "technician": 200, "manager": 200}),
    ("read someone else's conversation", "GET", "/tickets/{other}/messages", None,
     {"customer": 404, "agent": 200, "technician": 200, "manager": 200}),
    ("edit fields", "PATCH", "/tickets/{own}", {"add_tags": ["x"]},
     {"customer": 403, "agent": 200, "technician": 200, "manager": 200}),
    ("reassign", "PATCH", "/tickets/{own}", {"assignee_id": None},
     {"customer": 403, "agent": 200, "technician": 403, "manager": 200}),
    ("change status", "POST", "/tickets/{fresh}/status", {"status": "In Progress"},
     {"customer": 403, "agent": 200, "technician": 200, "manager": 200}),
    ("internal note", "POST", "/tickets/{own}/messages",
     {"body": "note", "visibility": "internal"},
     {"customer": 403, "agent": 201, "technician": 201, "manager": 201}),
    ("public reply", "POST", "/tickets/{own}/messages", {"body": "reply"},
     {"customer": 201, "agent": 201, "technician": 201, "manager": 201}),
    ("merge", "POST", "/tickets/{fresh}/merge", {"children": ["{fresh_child}"]},
     {"customer": 403, "agent": 200, "technician": 403, "manager": 200}),
    ("configure options", "PUT", "/ticket-options", OPTIONS,
     {"customer": 403, "agent": 403, "technician": 403, "manager": 200}),
    ("read options", "GET", "/ticket-options", None,
     {"customer": 200, "agent": 200, "technician": 200, "manager": 200}),
    ("list customers", "GET", "/customers", None,
     {"customer": 403, "agent": 200, "technician": 200, "manager": 200}),
    ("invite an agent", "POST", "/agents",
     {"email": "new.agent@example.com", "name": "New", "role": "agent"},
     {"customer": 403, "agent": 403, "technician": 403}),
]  # fmt: skip

ROLES = ("customer", "technician", "agent", "manager")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("action", "method", "path", "body", "expected"), MATRIX)
async def test_role_matrix(
    api: httpx.AsyncClient,
    world: World,
    role: str,
    action: str,
    method: str,
    path: str,
    body: Any,
    expected: dict[str, int],
) -> None:
    if role not in expected:
        pytest.skip(f"{action}: covered elsewhere for {role}")
    ids = {"own": world.own_ticket, "other": world.other_ticket}
    if "{fresh" in path or "{fresh" in str(body):  # a change that can happen only once
        for name in ("fresh", "fresh_child"):
            made = await api.post(
                "/tickets", json={"subject": name}, headers=world.headers["agent"]
            )
            ids[name] = made.json()["id"]
    url = path.format(**ids)
    payload = _fill(body, ids)
    headers = dict(world.headers[role])
    if (method, path) == ("PUT", "/ticket-options"):  # names the version it changes (else 428)
        current = await api.get(path, headers=world.headers["manager"])
        headers["If-Match"] = current.headers["ETag"]
    response = await api.request(method, url, json=payload, headers=headers)
    assert response.status_code == expected[role], f"{role} {action}: {response.text}"


def _fill(body: Any, ids: dict[str, str]) -> Any:
    if isinstance(body, dict):
        return {k: _fill(v, ids) for k, v in body.items()}
    if isinstance(body, list):
        return [_fill(v, ids) for v in body]
    if isinstance(body, str) and body.startswith("{") and body.endswith("}"):
        return ids[body[1:-1]]
    return body


async def test_no_customer_facing_response_contains_an_internal_note(
    api: httpx.AsyncClient, world: World, caught_up: Callable[[], Awaitable[int]]
) -> None:
    await caught_up()
    customer, agent = world.headers["customer"], world.headers["agent"]
    ticket = world.own_ticket
    reads = [
        f"/tickets/{ticket}",
        f"/tickets/{ticket}/messages",
        f"/tickets/{ticket}/timeline",
        "/tickets",
        "/tickets?view=all",
        f"/tickets?q={SECRET}",
        "/tickets?q=watch",
    ]
    for url in reads:
        response = await api.get(url, headers=customer)
        assert response.status_code == 200, url
        assert SECRET not in response.text, f"{url} leaked an internal note"
    # A customer's reply answers with the ticket, never its notes.
    replied = await api.post(f"/tickets/{ticket}/messages", json={"body": "ok"}, headers=customer)
    assert SECRET not in replied.text
    # The same reads as staff do show it: the check above is not vacuous.
    staff_view = await api.get(f"/tickets/{ticket}/messages", headers=agent)
    assert SECRET in staff_view.text
    staff_search = await api.get("/tickets", params={"q": SECRET}, headers=agent)
    assert ticket in staff_search.text
