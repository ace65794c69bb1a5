"""Issue #18 on the real PostgreSQL: a customer confirms the resolution and rates it once per
resolution, agents see the rating and the CSAT report counts it; a company shares its tickets
with its customers (and stops); the branding is readable without a token, its images are
checked and served with caching."""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from .conftest import bearer

pytestmark = pytest.mark.integration

Token = Callable[..., str]


def png(width: int = 1, height: int = 1) -> bytes:
    """A real (tiny) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x1c\x7e\xd6" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def customer(token: Token, email: str, subject: str | None = None) -> dict[str, str]:
    return bearer(token("customer", subject=subject or f"c-{email}", email=email, name=email))


async def ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json()


async def test_customer_resolves_rates_once_per_resolution_and_csat_counts_it(
    api: httpx.AsyncClient, token: Token, caught_up: Callable[[], Awaitable[int]]
) -> None:
    agent, manager = bearer(token("agent")), bearer(token("manager"))
    team = await ok(
        await api.post("/teams", json={"name": f"CSAT {uuid.uuid4().hex[:8]}"}, headers=manager),
        201,
    )
    email = f"rater-{uuid.uuid4().hex[:8]}@example.co.id"
    me = customer(token, email)
    ticket = await ok(
        await api.post(
            "/tickets", json={"subject": "Printer", "description": "Jammed"}, headers=me
        ),
        201,
    )
    tid = ticket["id"]
    await ok(await api.patch(f"/tickets/{tid}", json={"team_id": team["id"]}, headers=agent))
    rating = {"scale": "good_bad", "score": 1, "comment": "Quick!"}

    # Not solved yet: no rating; staff cannot rate; a stranger cannot even see the ticket.
    assert (
        await api.post(f"/tickets/{tid}/satisfaction", json=rating, headers=me)
    ).status_code == 422
    assert (
        await api.post(f"/tickets/{tid}/satisfaction", json=rating, headers=agent)
    ).status_code == 403
    stranger = customer(token, f"other-{uuid.uuid4().hex[:8]}@example.co.id")
    assert (await api.post(f"/tickets/{tid}/resolve", headers=stranger)).status_code == 404
    assert (await api.get(f"/tickets/{tid}/satisfaction", headers=stranger)).status_code == 404

    # "My issue is resolved" → Solved; then one rating for this resolution.
    solved = await ok(await api.post(f"/tickets/{tid}/resolve", headers=me))
    assert solved["status"] == "Solved"
    assert (await api.post(f"/tickets/{tid}/resolve", headers=me)).status_code == 422
    bad_score = {"scale": "good_bad", "score": 3}
    assert (
        await api.post(f"/tickets/{tid}/satisfaction", json=bad_score, headers=me)
    ).status_code == 422
    first = await ok(await api.post(f"/tickets/{tid}/satisfaction", json=rating, headers=me), 201)
    assert (first["resolution"], first["satisfied"], first["team_id"]) == (1, True, team["id"])
    again = await api.post(f"/tickets/{tid}/satisfaction", json=rating, headers=me)
    assert again.status_code == 409

    # A reply reopens it; solved again by the agent, it may be rated again (1-5 stars).
    await ok(await api.post(f"/tickets/{tid}/messages", json={"body": "Again!"}, headers=me), 201)
    reopened = await ok(await api.get(f"/tickets/{tid}", headers=me))
    assert reopened["status"] == "Open"
    await ok(await api.post(f"/tickets/{tid}/status", json={"status": "Solved"}, headers=agent))
    stars = {"scale": "one_to_five", "score": 2, "comment": "Slow the second time"}
    second = await ok(await api.post(f"/tickets/{tid}/satisfaction", json=stars, headers=me), 201)
    assert (second["resolution"], second["satisfied"]) == (2, False)

    await caught_up()
    seen = await ok(await api.get(f"/tickets/{tid}/satisfaction", headers=agent))
    assert [(r["resolution"], r["score"], r["comment"]) for r in seen] == [
        (1, 1, "Quick!"),
        (2, 2, "Slow the second time"),
    ]
    timeline = await ok(await api.get(f"/tickets/{tid}/timeline", headers=agent))
    assert [e["event_type"] for e in timeline].count("SatisfactionRated") == 2

    report = await ok(
        await api.get(
            "/reports/csat", params={"from": "2000-01-01", "to": "2000-12-31"}, headers=manager
        )
    )
    assert all(group["group_id"] != team["id"] for group in report["groups"])
    today = solved["updated_at"][:10]
    params = {"from": today, "to": today, "group_by": "team"}
    report = await ok(await api.get("/reports/csat", params=params, headers=manager))
    mine = [group for group in report["groups"] if group["group_id"] == team["id"]]
    assert mine == [
        {"group_id": team["id"], "ratings": 2, "satisfied": 1, "csat": 50.0, "average_stars": 2.0}
    ]
    assert (await api.get("/reports/csat", params=params, headers=me)).status_code == 403
    # Reports are the managers' (#20 item 10): an agent leading no team is refused.
    assert (await api.get("/reports/csat", params=params, headers=agent)).status_code == 403
    bad_period = {"from": "2026-02-01", "to": "2026-01-01"}
    assert (await api.get("/reports/csat", params=bad_period, headers=manager)).status_code == 422


async def test_company_shares_its_tickets_with_its_customers_and_stops(
    api: httpx.AsyncClient, token: Token, caught_up: Callable[[], Awaitable[int]]
) -> None:
    agent, manager = bearer(token("agent")), bearer(token("manager"))
    company = await ok(
        await api.post(
            "/companies", json={"name": f"PT Maju {uuid.uuid4().hex[:6]}"}, headers=agent
        ),
        201,
    )
    people = []
    for name in ("ani", "budi"):
        email = f"{name}-{uuid.uuid4().hex[:8]}@maju.co.id"
        contact = await ok(
            await api.post(
                "/customers",
                json={"name": name, "email": email, "company_id": company["id"]},
                headers=agent,
            ),
            201,
        )
        people.append(customer(token, email, subject=contact["id"]))
    ani, budi = people
    ticket = await ok(await api.post("/tickets", json={"subject": "VPN down"}, headers=ani), 201)
    tid = ticket["id"]
    assert ticket["company_id"] == company["id"]
    await ok(
        await api.post(
            f"/tickets/{tid}/messages",
            json={"body": "Secret", "visibility": "internal"},
            headers=agent,
        ),
        201,
    )
    await ok(await api.post(f"/tickets/{tid}/messages", json={"body": "On it"}, headers=agent), 201)
    await caught_up()

    company_list = {"scope": "company", "view": "all"}
    assert (await api.get("/tickets", params=company_list, headers=budi)).status_code == 403
    assert (await api.get(f"/tickets/{tid}", headers=budi)).status_code == 404
    sharing = f"/companies/{company['id']}/portal-sharing"
    on = {"customers_see_company_tickets": True}
    assert (await api.put(sharing, json=on, headers=agent)).status_code == 403
    assert (await api.put(sharing, json=on, headers=budi)).status_code == 403
    await ok(await api.put(sharing, json=on, headers=manager))
    await caught_up()
    assert (await ok(await api.get(sharing, headers=agent)))["customers_see_company_tickets"]

    listed = await ok(await api.get("/tickets", params=company_list, headers=budi))
    assert [item["id"] for item in listed["items"]] == [tid]
    own_only = await ok(await api.get("/tickets", params={"view": "all"}, headers=budi))
    assert own_only["items"] == []
    seen = await ok(await api.get(f"/tickets/{tid}", headers=budi))
    assert seen["team_id"] is None and seen["tags"] == []
    messages = await ok(await api.get(f"/tickets/{tid}/messages", headers=budi))
    assert [m["body_text"] for m in messages] == ["On it"]
    # Budi may see Ani's ticket but not rate it or resolve it: that is Ani's.
    assert (await api.post(f"/tickets/{tid}/resolve", headers=budi)).status_code == 404
    stranger = customer(token, f"x-{uuid.uuid4().hex[:8]}@other.example")
    assert (await api.get("/tickets", params=company_list, headers=stranger)).status_code == 403
    assert (await api.get(f"/tickets/{tid}", headers=stranger)).status_code == 404

    await ok(await api.put(sharing, json={"customers_see_company_tickets": False}, headers=manager))
    await caught_up()
    assert (await api.get("/tickets", params=company_list, headers=budi)).status_code == 403
    assert (await api.get(f"/tickets/{tid}", headers=budi)).status_code == 404
    unknown = f"/companies/{uuid.uuid4()}/portal-sharing"
    assert (await api.put(unknown, json=on, headers=manager)).status_code == 404


async def test_branding_is_public_validated_and_cached(
    api: httpx.AsyncClient, token: Token
) -> None:
    manager, agent = bearer(token("manager")), bearer(token("agent"))
    public = await ok(await api.get("/branding"))
    assert public["helpdesk_name"] and public["accent_color"].startswith("#")

    name = f"Bantuan {uuid.uuid4().hex[:6]}"
    assert (
        await api.put("/branding", json={"helpdesk_name": name}, headers=agent)
    ).status_code == 403
    bad = await api.put("/branding", json={"accent_color": "red"}, headers=manager)
    assert bad.status_code == 422 and "#rrggbb" in bad.json()["detail"]
    changed = await ok(
        await api.put(
            "/branding", json={"helpdesk_name": name, "accent_color": "#AA3300"}, headers=manager
        )
    )
    assert (changed["helpdesk_name"], changed["accent_color"]) == (name, "#aa3300")

    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    refused = await api.put("/branding/logo", content=svg, headers=manager)
    assert refused.status_code == 422 and "SVG" in refused.json()["detail"]
    too_big = png() + b"\x00" * (101 * 1024)
    assert (await api.put("/branding/favicon", content=too_big, headers=manager)).status_code == 413
    assert (await api.put("/branding/logo", content=png(), headers=agent)).status_code == 403

    image = png(4, 4)
    branded = await ok(await api.put("/branding/logo", content=image, headers=manager))
    assert branded["logo_url"].startswith("branding/logo?v=")
    assert branded["helpdesk_name"] == name

    logo = await api.get("/branding/logo")
    assert logo.status_code == 200 and logo.content == image
    assert logo.headers["content-type"] == "image/png"
    assert "max-age" in logo.headers["cache-control"]
    cached = await api.get("/branding/logo", headers={"If-None-Match": logo.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""

    public = await ok(await api.get("/branding"))
    assert public["logo_url"] == branded["logo_url"] and public["helpdesk_name"] == name
    removed = await ok(await api.put("/branding", json={"remove": ["logo"]}, headers=manager))
    assert removed["logo_url"] is None
    assert (await api.get("/branding/logo")).status_code == 404
