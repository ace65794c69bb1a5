"""Regression tests for security issue #11 (the ticket service's part), one per item, through
the HTTP API on the real PostgreSQL: each reproduced the problem before its fix."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest

from helpdesk_devstack.tokens import mint_token

from .conftest import bearer

pytestmark = pytest.mark.integration

Headers = dict[str, str]


def customer(token: Callable[..., str], name: str) -> tuple[Headers, str]:
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.co.id"
    return bearer(token("customer", subject=str(uuid.uuid4()), email=email, name=name)), email


async def open_ticket(api: httpx.AsyncClient, headers: Headers, **body: Any) -> dict[str, Any]:
    response = await api.post("/tickets", json={"subject": "Help", **body}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def upload(api: httpx.AsyncClient, headers: Headers, name: str, content: bytes) -> str:
    response = await api.post(
        "/attachments",
        params={"filename": name},
        content=content,
        headers=headers | {"Content-Type": "text/plain"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["attachment_id"])


# --- item 2: a merge across customers -----------------------------------------------------------


async def test_a_merge_never_shows_one_customer_another_customers_conversation(
    api: httpx.AsyncClient, token: Callable[..., str], caught_up: Callable[[], Awaitable[int]]
) -> None:
    agent = bearer(token("agent", subject=str(uuid.uuid4())))
    alice, _ = customer(token, "alice")
    bob, _ = customer(token, "bob")
    a_ticket = await open_ticket(api, alice, description="Alice's printer")
    b_ticket = await open_ticket(api, bob, description="Bob's payroll")
    secret = f"bob-salary-{uuid.uuid4().hex}"
    attachment = await upload(api, bob, f"{secret}.txt", b"salary slip")
    sent = await api.post(
        f"/tickets/{b_ticket['id']}/messages",
        json={"body": f"My salary is {secret}", "attachment_ids": [attachment]},
        headers=bob,
    )
    assert sent.status_code == 201, sent.text

    merged = await api.post(
        f"/tickets/{a_ticket['id']}/merge", json={"children": [b_ticket["id"]]}, headers=agent
    )
    assert merged.status_code == 200, merged.text
    await caught_up()

    # Staff see the merged conversation …
    staff_view = await api.get(f"/tickets/{a_ticket['id']}/messages", headers=agent)
    assert secret in staff_view.text
    # … the parent's customer sees none of the other customer's messages, ids or numbers.
    b_id, b_number = b_ticket["id"], str(b_ticket["number"])
    for url in (
        f"/tickets/{a_ticket['id']}/messages",
        f"/tickets/{a_ticket['id']}/timeline",
        f"/tickets/{a_ticket['id']}",
        "/tickets?view=all&include_merged=true",
    ):
        response = await api.get(url, headers=alice)
        assert response.status_code == 200, (url, response.text)
        assert secret not in response.text, url
        assert b_id not in response.text, url
        assert f'"child_number":{b_number}' not in response.text.replace(" ", ""), url
    assert (await api.get(f"/attachments/{attachment}", headers=alice)).status_code == 404

    # The child's customer is not told the other customer's ticket either …
    for url in (f"/tickets/{b_id}", f"/tickets/{b_id}/timeline"):
        response = await api.get(url, headers=bob)
        assert response.status_code == 200
        assert a_ticket["id"] not in response.text, url
    # … and writing to their merged ticket opens a follow-up of their own, not a message in
    # (or an answer with) the other customer's ticket.
    wrote = await api.post(f"/tickets/{b_id}/messages", json={"body": "any news?"}, headers=bob)
    assert wrote.status_code == 201, wrote.text
    assert wrote.json()["follow_up"] is not None
    assert a_ticket["id"] not in wrote.text and "Alice" not in wrote.text
    await caught_up()
    alice_sees = await api.get(f"/tickets/{a_ticket['id']}/messages", headers=alice)
    assert "any news?" not in alice_sees.text


# --- item 3: stored XSS through PATCH -----------------------------------------------------------

XSS = "<script>alert(1)</script><img src=x onerror=alert(1)><b>bold</b>"


async def test_an_edited_description_is_sanitised_like_a_new_one(
    api: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    agent = bearer(token("agent", subject=str(uuid.uuid4())))
    alice, _ = customer(token, "alice")
    ticket = await open_ticket(api, alice)
    edited = await api.patch(f"/tickets/{ticket['id']}", json={"description": XSS}, headers=agent)
    assert edited.status_code == 200, edited.text
    for response in (edited, await api.get(f"/tickets/{ticket['id']}", headers=alice)):
        description = response.json()["description"]
        assert "<script" not in description and "onerror" not in description, description
        assert "<b>bold</b>" in description
    created = await open_ticket(api, agent, description=XSS)
    assert "<script" not in created["description"]


@pytest.mark.parametrize(
    "website", ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>"]
)
async def test_a_company_website_must_be_http(
    api: httpx.AsyncClient, token: Callable[..., str], website: str
) -> None:
    agent = bearer(token("agent"))
    made = await api.post("/companies", json={"name": "PT X", "website": website}, headers=agent)
    assert made.status_code == 422, made.text
    assert "website" in made.json()["detail"]
    good = await api.post(
        "/companies",
        json={"name": f"PT {uuid.uuid4().hex[:6]}", "website": "x.co.id"},
        headers=agent,
    )
    assert good.status_code == 201
    assert good.json()["website"] == "https://x.co.id"
    changed = await api.patch(
        f"/companies/{good.json()['id']}", json={"website": website}, headers=agent
    )
    assert changed.status_code == 422


# --- item 4: attachment names outside Latin-1 ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("файл.txt", "download.txt"),
        ("報告.pdf", "download.pdf"),
        ("café menu.txt", "cafe menu.txt"),
    ],
)
async def test_any_attachment_name_can_be_downloaded(
    api: httpx.AsyncClient, token: Callable[..., str], name: str, fallback: str
) -> None:
    agent = bearer(token("agent"))
    attachment = await upload(api, agent, name, b"content")
    downloaded = await api.get(f"/attachments/{attachment}", headers=agent)
    assert downloaded.status_code == 200, downloaded.text
    disposition = downloaded.headers["content-disposition"]
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition
    assert f'filename="{fallback}"' in disposition
    assert downloaded.content == b"content"


# --- item 7: what a customer's timeline shows ---------------------------------------------------


async def test_a_customer_timeline_is_the_public_history_without_gaps(
    api: httpx.AsyncClient, token: Callable[..., str], caught_up: Callable[[], Awaitable[int]]
) -> None:
    agent = bearer(token("agent", subject=str(uuid.uuid4())))
    alice, _ = customer(token, "alice")
    ticket = await open_ticket(api, alice)
    url = f"/tickets/{ticket['id']}"
    reason = f"reason-{uuid.uuid4().hex}"
    for note in range(3):
        await api.post(
            f"{url}/messages",
            json={"body": f"note {note}", "visibility": "internal"},
            headers=agent,
        )
    await api.post(f"{url}/status", json={"status": "Pending", "reason": reason}, headers=agent)
    await api.patch(url, json={"add_tags": ["difficult-customer"]}, headers=agent)
    await api.post(f"{url}/messages", json={"body": "We are on it"}, headers=agent)

    timeline = (await api.get(f"{url}/timeline", headers=alice)).json()
    assert [e["version"] for e in timeline] == list(range(1, len(timeline) + 1))
    assert [e["event_type"] for e in timeline] == ["TicketCreated", "StatusChanged", "MessageAdded"]
    text = str(timeline)
    assert reason not in text and "difficult-customer" not in text and "note 0" not in text
    seen = await api.get(url, headers=alice)
    assert seen.json()["version"] == len(timeline) == int(seen.headers["etag"].strip('"'))
    assert seen.json()["tags"] == []  # labels are the team's, not the customer's
    staff_timeline = (await api.get(f"{url}/timeline", headers=agent)).json()
    assert reason in str(staff_timeline) and len(staff_timeline) > len(timeline)
    await caught_up()
    listed = (await api.get("/tickets?view=all", headers=alice)).json()["items"]
    assert [(t["message_count"], t["tags"]) for t in listed if t["id"] == ticket["id"]] == [(1, [])]


# --- item 8: what each role may set -------------------------------------------------------------


async def test_customers_set_only_customer_fields_on_their_own_company(
    api: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    agent = bearer(token("agent", subject=str(uuid.uuid4())))
    alice, _ = customer(token, "alice")
    first = await open_ticket(api, alice, priority="High", type="Incident")
    assert first["priority"] == "High" and first["company_id"] is None
    own = (
        await api.post("/companies", json={"name": f"PT {uuid.uuid4().hex}"}, headers=agent)
    ).json()
    other = (
        await api.post("/companies", json={"name": f"PT {uuid.uuid4().hex}"}, headers=agent)
    ).json()
    joined = await api.patch(
        f"/customers/{first['customer_id']}", json={"company_id": own["id"]}, headers=agent
    )
    assert joined.status_code == 200, joined.text

    refused = {
        "company_id": other["id"],
        "tags": ["vip"],
        "priority": "Urgent",
        "channel": "phone",
        "team_id": str(uuid.uuid4()),
        "status": "Open",
        "brand": "Acme",
    }
    for name, value in refused.items():
        response = await api.post("/tickets", json={"subject": "x", name: value}, headers=alice)
        assert response.status_code == 403, (name, response.text)
    assert (await open_ticket(api, alice))["company_id"] == own["id"]
    assert (await open_ticket(api, alice, company_id=own["id"]))["company_id"] == own["id"]

    technician = bearer(token("technician"))
    team = await api.post(
        "/tickets", json={"subject": "x", "team_id": str(uuid.uuid4())}, headers=technician
    )
    assert team.status_code == 403, team.text
    assert (
        await api.post("/tickets", json={"subject": "x", "tags": ["vpn"]}, headers=technician)
    ).status_code == 201


# --- item 9: hardening --------------------------------------------------------------------------


async def test_concurrent_messages_without_a_version_all_succeed(
    api: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    agent = bearer(token("agent"))
    ticket = await open_ticket(api, agent)
    answers = await asyncio.gather(
        *(
            api.post(
                f"/tickets/{ticket['id']}/messages", json={"body": f"reply {i}"}, headers=agent
            )
            for i in range(20)
        )
    )
    assert [a.status_code for a in answers] == [201] * 20, [
        a.text for a in answers if a.status_code != 201
    ]
    edits = await asyncio.gather(
        *(
            api.patch(f"/tickets/{ticket['id']}", json={"add_tags": [f"t{i}"]}, headers=agent)
            for i in range(10)
        )
    )
    assert [e.status_code for e in edits] == [200] * 10
    tags = (await api.get(f"/tickets/{ticket['id']}", headers=agent)).json()["tags"]
    assert sorted(tags) == sorted(f"t{i}" for i in range(10))
    stale = await api.patch(
        f"/tickets/{ticket['id']}", json={"priority": "High"}, headers=agent | {"If-Match": '"1"'}
    )
    assert stale.status_code == 409


async def test_long_lived_tokens_are_refused(
    api: httpx.AsyncClient, dev_keys: tuple[Path, Path]
) -> None:
    private = dev_keys[0].read_bytes()
    century = mint_token(private, "agent", "agent-1", timedelta(days=36500))
    refused = await api.get("/tickets", headers=bearer(century))
    assert refused.status_code == 401
    assert "lifetime" in refused.json()["detail"]
    now = int(time.time())
    claims = {"sub": "a", "role": "agent", "iss": "helpdesk-local", "aud": "helpdesk", "iat": now}
    no_expiry = jwt.encode(claims, private, algorithm="RS256")
    assert (await api.get("/tickets", headers=bearer(no_expiry))).status_code == 401
    day = mint_token(private, "agent", "agent-1", timedelta(hours=24))
    assert (await api.get("/tickets", headers=bearer(day))).status_code == 200


async def test_a_nul_in_a_search_is_a_422_in_our_words(
    api: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    response = await api.get("/tickets", params={"q": "a\x00b"}, headers=bearer(token("agent")))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "NUL" in detail
    for database_words in ("UTF8", "0x00", "invalid byte sequence", "CharacterNotInRepertoire"):
        assert database_words not in detail


async def test_the_docs_load_nothing_from_a_cdn(api: httpx.AsyncClient) -> None:
    page = await api.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    script = await api.get("/docs-static/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
