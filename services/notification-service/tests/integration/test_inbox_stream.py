"""In-app notifications end to end: events on Kafka → stored → pushed over SSE, listed, read;
resume with Last-Event-ID; a replayed event notifies nobody twice; nobody reads another's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import orjson

from helpdesk_events import (
    Actor,
    ActorKind,
    MessageAdded,
    StatusChanged,
    TicketAssigned,
    TicketCreated,
    Visibility,
)
from helpdesk_events.sla import SlaBreached, SlaMetricName, SlaWarning

from .conftest import Harness, SseReader, bearer, eventually


def agent_actor(person_id: str, name: str) -> Actor:
    return Actor(kind=ActorKind.AGENT, id=person_id, role="agent", display_name=name)


async def test_what_happens_on_a_ticket_reaches_its_agent_live(
    api: httpx.AsyncClient, harness: Harness
) -> None:
    sari = await harness.agent("Sari Dewi")
    budi = await harness.agent("Budi Santoso")
    lead = await harness.agent("Lina Lead")
    team = await harness.team("Billing L1", lead, [sari, budi])
    ticket = uuid.uuid4()

    async with api.stream(
        "GET", "/notifications/stream", headers=bearer(sari), timeout=60
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = SseReader(response)

        await harness.emit(
            TicketCreated(
                subject="Cannot log in",
                channel="email",
                status="New",
                priority="High",
                number=4242,
                team_id=uuid.UUID(team.id),
            ),
            ticket,
        )
        await harness.emit(TicketAssigned(assignee_id=uuid.UUID(sari.id)), ticket)
        routed = await stream.next_event()  # created unassigned in her team, then assigned
        assigned = await stream.next_event()
        assert routed["event"] == "notification"
        assert orjson.loads(routed["data"])["kind"] == "team_routed"
        first = orjson.loads(assigned["data"])
        assert first["kind"] == "assigned"
        assert first["title"] == "#4242 Cannot log in was assigned to you"
        assert first["ticket_id"] == str(ticket) and first["read"] is False
        assert int(assigned["id"]) == first["seq"] > int(routed["id"])

        customer = Actor(kind=ActorKind.CUSTOMER, id=str(uuid.uuid4()), display_name="Andi")
        await harness.emit(
            MessageAdded(
                message_id=uuid.uuid4(),
                visibility=Visibility.PUBLIC,
                body_html="<p>Still broken</p>",
                body_text="Still broken",
            ),
            ticket,
            customer,
        )
        replied = orjson.loads((await stream.next_event())["data"])
        assert replied["kind"] == "customer_replied"
        assert replied["title"] == "Andi replied on #4242 Cannot log in"
        assert replied["body"] == "Still broken"

        await harness.emit(
            MessageAdded(
                message_id=uuid.uuid4(),
                visibility=Visibility.INTERNAL,
                body_html="",
                body_text=f"@{sari.name} the SSO logs show it; cc @{lead.email}",
            ),
            ticket,
            agent_actor(budi.id, budi.name),
        )
        mentioned = orjson.loads((await stream.next_event())["data"])
        assert mentioned["kind"] == "mentioned"
        assert mentioned["title"] == "Budi Santoso mentioned you on #4242 Cannot log in"

        await harness.emit(
            SlaWarning(
                ticket_id=ticket,
                metric=SlaMetricName.FIRST_RESPONSE,
                due_at=datetime.now(UTC) + timedelta(minutes=30),
                threshold=0.75,
                lead_seconds=1800,
            ),
            ticket,
            Actor(kind=ActorKind.SERVICE, id="sla-service"),
        )
        warning = await stream.next_event()
        assert orjson.loads(warning["data"])["kind"] == "sla_warning"
        last_seen = warning["id"]

    # Offline for a while: a breach (to Sari and the lead) and a status change Budi follows.
    await harness.emit(
        SlaBreached(
            ticket_id=ticket,
            metric=SlaMetricName.FIRST_RESPONSE,
            due_at=datetime.now(UTC),
            target_seconds=3600,
        ),
        ticket,
        Actor(kind=ActorKind.SERVICE, id="sla-service"),
    )
    await harness.emit(
        StatusChanged(from_status="New", to_status="Pending"),
        ticket,
        agent_actor(sari.id, sari.name),
    )

    async def lead_told() -> bool:
        page = (await api.get("/notifications", headers=bearer(lead))).json()
        return any(n["kind"] == "sla_breached" for n in page["items"])

    await eventually(lead_told)

    # Reconnecting with Last-Event-ID: what was missed comes first, nothing seen before.
    async with api.stream(
        "GET",
        "/notifications/stream",
        headers={**bearer(sari), "Last-Event-ID": last_seen},
        timeout=60,
    ) as response:
        missed = orjson.loads((await SseReader(response).next_event())["data"])
        assert missed["kind"] == "sla_breached"
        assert missed["seq"] > int(last_seen)

    budi_page = (await api.get("/notifications", headers=bearer(budi))).json()
    budi_kinds = [n["kind"] for n in budi_page["items"]]
    # Budi: routed to his team; then he wrote a note, so he follows the ticket's status
    assert budi_kinds == ["followed_status_changed", "team_routed"]
    assert budi_page["items"][0]["title"] == "#4242 Cannot log in is now Pending"

    # Listing, unread, reading one and all; nobody marks another person's.
    page = (await api.get("/notifications?unread=true", headers=bearer(sari))).json()
    assert [n["kind"] for n in page["items"]] == [
        "sla_breached",
        "sla_warning",
        "mentioned",
        "customer_replied",
        "assigned",
        "team_routed",
    ]
    assert page["unread_count"] == 6
    newest = page["items"][0]["id"]
    denied = await api.post(f"/notifications/{newest}/read", headers=bearer(budi))
    assert denied.status_code == 404
    assert (
        await api.post(f"/notifications/{newest}/read", headers=bearer(sari))
    ).status_code == 204
    page = (await api.get("/notifications?unread=true&limit=2", headers=bearer(sari))).json()
    assert page["unread_count"] == 5 and len(page["items"]) == 2
    older = (
        await api.get(
            f"/notifications?unread=true&limit=10&before={page['next_before']}",
            headers=bearer(sari),
        )
    ).json()
    assert [n["kind"] for n in older["items"]] == ["customer_replied", "assigned", "team_routed"]
    marked = (await api.post("/notifications/read-all", headers=bearer(sari))).json()
    assert marked == {"marked": 5}
    page = (await api.get("/notifications?unread=true", headers=bearer(sari))).json()
    assert page == {"items": [], "unread_count": 0, "next_before": None}
    everything = (await api.get("/notifications", headers=bearer(sari))).json()
    assert len(everything["items"]) == 6 and all(n["read"] for n in everything["items"])


async def test_a_replayed_event_notifies_nobody_twice(
    api: httpx.AsyncClient, harness: Harness
) -> None:
    agent = await harness.agent("Rudi")
    ticket = uuid.uuid4()
    envelope = harness.envelope(TicketAssigned(assignee_id=uuid.UUID(agent.id)), ticket)
    await harness.send(envelope)
    topic, partition, offset = await harness.send(envelope)  # the same event id again
    await harness.consumed(topic, partition, offset)
    page = (await api.get("/notifications", headers=bearer(agent))).json()
    assert [n["event_id"] for n in page["items"]] == [str(envelope.event_id)]


async def test_the_stream_accepts_a_short_lived_token_in_the_url_only(
    api: httpx.AsyncClient, harness: Harness
) -> None:
    agent = await harness.agent("Wati")
    short = harness.token(agent.id, ttl=timedelta(minutes=5))
    long = harness.token(agent.id, ttl=timedelta(hours=8))
    ticket = uuid.uuid4()
    async with api.stream("GET", f"/notifications/stream?access_token={short}") as response:
        assert response.status_code == 200
        await harness.emit(TicketAssigned(assignee_id=uuid.UUID(agent.id)), ticket)
        event = await SseReader(response).next_event()
        assert orjson.loads(event["data"])["kind"] == "assigned"
    refused = await api.get(f"/notifications/stream?access_token={long}")
    assert refused.status_code == 401 and "expire within" in refused.json()["detail"]
    assert (await api.get(f"/notifications?access_token={short}")).status_code == 401
    assert (await api.get("/notifications/stream")).status_code == 401
    bad_resume = await api.get(
        "/notifications/stream", headers={**bearer(agent), "Last-Event-ID": "yesterday"}
    )
    assert bad_resume.status_code == 400


async def test_preferences_and_follows(api: httpx.AsyncClient, harness: Harness) -> None:
    agent = await harness.agent("Dewi")
    other = await harness.agent("Eko")
    defaults = (await api.get("/notifications/preferences", headers=bearer(agent))).json()
    by_kind = {p["kind"]: p for p in defaults}
    assert by_kind["assigned"] == {
        "kind": "assigned",
        "channel": "both",
        "digest": False,
        "digest_allowed": False,
    }
    assert by_kind["followed_status_changed"]["digest_allowed"] is True

    changed = await api.put(
        "/notifications/preferences",
        headers=bearer(agent),
        json={
            "preferences": {
                "assigned": {"channel": "none"},
                "followed_status_changed": {"channel": "email", "digest": True},
            }
        },
    )
    assert changed.status_code == 200
    refused = await api.put(
        "/notifications/preferences",
        headers=bearer(agent),
        json={"preferences": {"mentioned": {"channel": "email", "digest": True}}},
    )
    assert refused.status_code == 422 and "low-priority" in refused.json()["detail"]
    unknown = await api.put(
        "/notifications/preferences",
        headers=bearer(agent),
        json={"preferences": {"everything": {"channel": "email"}}},
    )
    assert unknown.status_code == 422

    # "none" for assignments: an assignment stores nothing for her; "both" (default) for Eko.
    ticket = uuid.uuid4()
    await harness.emit(TicketAssigned(assignee_id=uuid.UUID(agent.id)), ticket)
    envelope = await harness.emit(TicketAssigned(assignee_id=uuid.UUID(other.id)), ticket)

    async def eko_told() -> bool:
        page = (await api.get("/notifications", headers=bearer(other))).json()
        return len(page["items"]) == 1

    await eventually(eko_told)
    assert (await api.get("/notifications", headers=bearer(agent))).json()["items"] == []
    emails = await harness.fetch(
        "SELECT recipient_id FROM emails WHERE ticket_id = $1 ORDER BY created_at", ticket
    )
    assert [r["recipient_id"] for r in emails] == [other.id]
    assert envelope.event_id

    # An explicit follow: a status change reaches her (by email, as a digest, per her choice).
    followed = uuid.uuid4()
    put = await api.put(f"/notifications/follows/{followed}", headers=bearer(agent))
    assert put.status_code == 204
    listed = (await api.get("/notifications/follows", headers=bearer(agent))).json()
    assert [(f["ticket_id"], f["source"]) for f in listed] == [(str(followed), "explicit")]
    await harness.emit(StatusChanged(from_status="Open", to_status="Solved"), followed)

    async def digest_queued() -> bool:
        rows = await harness.fetch(
            "SELECT kind, digest FROM emails WHERE recipient_id = $1 AND ticket_id = $2",
            agent.id,
            followed,
        )
        return [(r["kind"], r["digest"]) for r in rows] == [("followed_status_changed", True)]

    await eventually(digest_queued)
    assert (
        await api.delete(f"/notifications/follows/{followed}", headers=bearer(agent))
    ).status_code == 204
    assert (
        await api.delete(f"/notifications/follows/{followed}", headers=bearer(agent))
    ).status_code == 404
