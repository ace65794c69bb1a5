"""Seed steps of issue #20 on the real PostgreSQL and Kafka: a PATCH that re-sends the form
(item 14), the contact's name on a customer's ticket (16), the ticket detail with SLA due
times and attachments (12), and the customer context from the directory (5)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from helpdesk_events import Actor, ActorKind, EventEnvelope, encode_envelope, kafka_headers
from helpdesk_events.sla import SlaClockState, SlaMetricName, SlaTarget, SlaTargetsSet
from helpdesk_events.topics import CUSTOMERS, TICKETS
from ticket_service.adapters.customer_context_consumer import CustomerContextConsumer
from ticket_service.adapters.customer_context_queries import CustomerContextQueries
from ticket_service.adapters.event_store import PostgresEventStore
from ticket_service.adapters.idempotency import IdempotentAppender
from ticket_service.adapters.sla_projection import apply_sla_event
from ticket_service.domain.customers import Company, Customer
from ticket_service.domain.ticket import NewTicket
from ticket_service.service_layer.context import CommandContext
from ticket_service.service_layer.customer_context import CustomerContextFollower
from ticket_service.service_layer.customers import CustomerApplication
from ticket_service.service_layer.tickets import TicketApplication

from .conftest import bearer, wait_for
from .test_sla_projection import sla_envelope

pytestmark = pytest.mark.integration

CaughtUp = Callable[[], Awaitable[int]]


@pytest.fixture
def agent(token: Callable[..., str]) -> dict[str, str]:
    return bearer(token("agent", subject=str(uuid.uuid4()), name="Agent Ani"))


async def created(response: Awaitable[httpx.Response]) -> dict[str, object]:
    answer = await response
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


# --- item 14 -------------------------------------------------------------------------------------


async def test_a_patch_resending_the_whole_form_saves_only_what_changed(
    api: httpx.AsyncClient, agent: dict[str, str]
) -> None:
    ticket = await created(
        api.post("/tickets", json={"subject": "Form", "priority": "Medium"}, headers=agent)
    )
    form = {
        "subject": "Form",
        "priority": "Medium",  # unchanged: was "already has priority 'Medium'" (422)
        "status": "New",  # unchanged
        "type": "Question",  # changed
    }
    saved = await api.patch(f"/tickets/{ticket['id']}", json=form, headers=agent)
    assert saved.status_code == 200, saved.text
    assert (saved.json()["type"], saved.json()["version"]) == ("Question", 2)
    timeline = (await api.get(f"/tickets/{ticket['id']}/timeline", headers=agent)).json()
    assert [entry["event_type"] for entry in timeline] == ["TicketCreated", "TicketFieldsChanged"]
    again = await api.patch(f"/tickets/{ticket['id']}", json=form, headers=agent)
    assert (again.status_code, again.json()["version"]) == (200, 2)  # nothing to save


# --- item 16 -------------------------------------------------------------------------------------


async def test_a_customers_ticket_shows_the_contacts_name_from_the_directory(
    api: httpx.AsyncClient, agent: dict[str, str], token: Callable[..., str]
) -> None:
    email = f"sari-{uuid.uuid4().hex[:8]}@example.co.id"
    await created(
        api.post("/customers", json={"name": "Sari Wulandari", "email": email}, headers=agent)
    )
    customer = bearer(token("customer", subject=str(uuid.uuid4()), email=email))  # "Dev Customer"
    ticket = await created(api.post("/tickets", json={"subject": "Invoice"}, headers=customer))
    assert ticket["requester_name"] == "Sari Wulandari"
    staff_view = (await api.get(f"/tickets/{ticket['id']}", headers=agent)).json()
    assert (staff_view["requester_name"], staff_view["requester_email"]) == (
        "Sari Wulandari",
        email,
    )


# --- item 12 -------------------------------------------------------------------------------------


async def test_the_ticket_detail_carries_sla_due_times_and_attachments(
    api: httpx.AsyncClient, agent: dict[str, str], token: Callable[..., str], pool: asyncpg.Pool
) -> None:
    upload = await api.post(
        "/attachments",
        params={"filename": "screen.png"},
        content=b"\x89PNG fake",
        headers=agent | {"Content-Type": "image/png"},
    )
    assert upload.status_code == 201, upload.text
    attachment_id = upload.json()["attachment_id"]
    ticket = await created(
        api.post(
            "/tickets",
            json={
                "subject": "Broken screen",
                "requester": {"email": f"{uuid.uuid4().hex[:8]}@example.com"},
                "attachment_ids": [attachment_id],
            },
            headers=agent,
        )
    )
    ticket_id = uuid.UUID(str(ticket["id"]))
    now = datetime.now(UTC).replace(microsecond=0)
    due = {
        SlaMetricName.FIRST_RESPONSE: now + timedelta(hours=1),
        SlaMetricName.NEXT_RESPONSE: now + timedelta(hours=2),
        SlaMetricName.RESOLUTION: now + timedelta(hours=8),
    }
    event = SlaTargetsSet(
        ticket_id=ticket_id,
        policy="Default",
        priority="Medium",
        targets=tuple(
            SlaTarget(
                metric=metric,
                target_seconds=(at - now).total_seconds(),
                elapsed_seconds=0,
                state=SlaClockState.RUNNING,
                due_at=at,
            )
            for metric, at in due.items()
        ),
    )
    envelope = sla_envelope(ticket_id, event)
    async with pool.acquire() as connection:
        await apply_sla_event(connection, envelope)
    detail = (await api.get(f"/tickets/{ticket_id}", headers=agent)).json()
    assert [a["attachment_id"] for a in detail["attachments"]] == [attachment_id]
    assert datetime.fromisoformat(detail["first_response_due"]) == due[SlaMetricName.FIRST_RESPONSE]
    assert datetime.fromisoformat(detail["next_response_due"]) == due[SlaMetricName.NEXT_RESPONSE]
    assert datetime.fromisoformat(detail["resolution_due"]) == due[SlaMetricName.RESOLUTION]


# --- item 5 --------------------------------------------------------------------------------------


async def enterprise_customer(
    api: httpx.AsyncClient, agent: dict[str, str]
) -> tuple[dict[str, object], dict[str, object]]:
    company = await created(
        api.post(
            "/companies",
            json={"name": f"PT {uuid.uuid4().hex[:6]}", "tier": "SMB", "country": "in",
                  "tags": ["Retail"]},
            headers=agent,
        )
    )  # fmt: skip
    assert (company["country"], company["tier"], company["tags"]) == ("IN", "SMB", ["retail"])
    customer = await created(
        api.post(
            "/customers",
            json={"name": "Rahul", "email": f"rahul-{uuid.uuid4().hex[:8]}@example.in",
                  "company_id": company["id"], "country": "IN", "tags": ["vip"],
                  "language": "HI"},
            headers=agent,
        )
    )  # fmt: skip
    assert (customer["country"], customer["language"]) == ("IN", "hi")
    return company, customer


async def test_a_ticket_takes_company_email_and_context_from_its_customer(
    api: httpx.AsyncClient, agent: dict[str, str], caught_up: CaughtUp
) -> None:
    company, customer = await enterprise_customer(api, agent)
    ticket = await created(
        api.post("/tickets", json={"subject": "VPN", "customer_id": customer["id"]}, headers=agent)
    )
    assert ticket["company_id"] == company["id"]  # was null
    assert ticket["requester_email"] == customer["email"]  # was null
    assert ticket["customer_context"] == {
        "customer_tags": ["vip"],
        "customer_country": "IN",
        "company_tags": ["retail"],
        "company_tier": "SMB",
        "company_country": "IN",
        "customer_language": "hi",
    }
    await caught_up()
    by_email = await api.get(
        "/tickets", params={"q": customer["email"], "view": "all"}, headers=agent
    )
    assert [item["id"] for item in by_email.json()["items"]] == [ticket["id"]]


async def test_the_directory_refuses_a_country_that_is_not_iso_alpha_2(
    api: httpx.AsyncClient, agent: dict[str, str]
) -> None:
    refused = await api.post("/companies", json={"name": "PT X", "country": "XX"}, headers=agent)
    assert refused.status_code == 422 and "ISO 3166-1" in refused.text
    _, customer = await enterprise_customer(api, agent)
    patched = await api.patch(f"/customers/{customer['id']}", json={"country": "QQ"}, headers=agent)
    assert patched.status_code == 422 and "country" in patched.json()["detail"]
    speaks = await api.patch(f"/customers/{customer['id']}", json={"language": "xx"}, headers=agent)
    assert speaks.status_code == 422 and "ISO 639-1" in speaks.json()["detail"]


@pytest.fixture
def follower(app: FastAPI, pool: asyncpg.Pool) -> CustomerContextFollower:
    """The customer-context follower as ``ticket-service commands`` runs it."""
    return CustomerContextFollower(
        app.state.tickets,
        app.state.customer_application,
        CustomerContextQueries(pool),
        catch_up=app.state.projector.catch_up,
    )


async def publish(bootstrap: str, topic: str, envelopes: list[EventEnvelope]) -> None:
    """The envelopes as the relay publishes them."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for envelope in envelopes:
            await producer.send_and_wait(
                topic,
                encode_envelope(envelope),
                key=str(envelope.stream_id).encode(),
                headers=kafka_headers(envelope, None),
            )
    finally:
        await producer.stop()


async def follow_until(
    follower: CustomerContextFollower, bootstrap: str, condition: Callable[[], Awaitable[bool]]
) -> None:
    """Run the follower's consumer in a new group (from the topics' start) until ``condition``."""
    stop = asyncio.Event()
    group = f"test-context-{uuid.uuid4()}"
    consumer = CustomerContextConsumer(follower.follow, bootstrap, group_id=group)
    running = asyncio.create_task(consumer.run(stop))
    try:
        await wait_for(condition, 60)
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)


async def test_company_changes_follow_onto_open_tickets_through_kafka_once(
    api: httpx.AsyncClient,
    agent: dict[str, str],
    follower: CustomerContextFollower,
    store: PostgresEventStore,
    kafka_bootstrap: str,
    caught_up: CaughtUp,
) -> None:
    company, customer = await enterprise_customer(api, agent)
    open_ticket = await created(
        api.post("/tickets", json={"subject": "open", "customer_id": customer["id"]}, headers=agent)
    )
    closed = await created(
        api.post("/tickets", json={"subject": "done", "customer_id": customer["id"]}, headers=agent)
    )
    await api.post(f"/tickets/{closed['id']}/status", json={"status": "Closed"}, headers=agent)
    changed = await api.patch(
        f"/companies/{company['id']}",
        json={"tier": "Enterprise", "tags": ["retail", "priority"]},
        headers=agent,
    )
    assert changed.status_code == 200, changed.text
    await caught_up()

    # The company's events as the relay publishes them, delivered twice (at least once).
    recorded = await store.read_stream(uuid.UUID(str(company["id"])))
    await publish(kafka_bootstrap, CUSTOMERS, [r.envelope for r in recorded] * 2)

    async def context_events(ticket_id: object) -> list[dict[str, object]]:
        timeline = (await api.get(f"/tickets/{ticket_id}/timeline", headers=agent)).json()
        return [e["data"] for e in timeline if e["event_type"] == "TicketCustomerContextChanged"]

    async def followed() -> bool:
        return len(await context_events(open_ticket["id"])) == 1

    await follow_until(follower, kafka_bootstrap, followed)
    detail = (await api.get(f"/tickets/{open_ticket['id']}", headers=agent)).json()
    assert detail["customer_context"]["company_tier"] == "Enterprise"
    assert detail["customer_context"]["company_tags"] == ["retail", "priority"]
    assert len(await context_events(open_ticket["id"])) == 1
    assert await context_events(closed["id"]) == []  # a closed ticket keeps its record

    # A restart of the follower in a new group reads the topic again: nothing appended twice.
    seen = await follower.follow(recorded[-1].envelope)
    assert seen == 0
    await follow_until(follower, kafka_bootstrap, followed)
    assert len(await context_events(open_ticket["id"])) == 1


class GatedCustomers:
    """The directory as ticket creation reads it, held after the read until released: a ticket
    opened at the very instant of a directory change, deterministically."""

    def __init__(self, customers: CustomerApplication) -> None:
        self._customers = customers
        self.read = asyncio.Event()
        self.release = asyncio.Event()

    async def resolve_customer(self, *args: Any, **kwargs: Any) -> uuid.UUID:
        return await self._customers.resolve_customer(*args, **kwargs)

    async def get_customer(self, customer_id: uuid.UUID) -> Customer:
        return await self._customers.get_customer(customer_id)

    async def get_company(self, company_id: uuid.UUID) -> Company:
        company = await self._customers.get_company(company_id)
        self.read.set()
        await self.release.wait()
        return company


async def test_a_ticket_opened_at_the_instant_of_a_directory_change_still_follows_it(
    api: httpx.AsyncClient, agent: dict[str, str], app: FastAPI, pool: asyncpg.Pool,
    follower: CustomerContextFollower, kafka_bootstrap: str,
) -> None:  # fmt: skip
    """The race: the ticket reads the company (SMB), the company becomes Enterprise and the
    follower lists the contact's open tickets (none yet), then the ticket commits with SMB.
    The ticket's TicketCreated, re-checked by the follower, brings it to Enterprise."""
    company, customer = await enterprise_customer(api, agent)
    gated = GatedCustomers(app.state.customer_application)
    store = PostgresEventStore(pool)
    opening = TicketApplication(store, IdempotentAppender(pool, store), customers=gated)
    who = Actor(kind=ActorKind.AGENT, id=str(uuid.uuid4()), role="agent")
    new = NewTicket(subject="Instant", customer_id=uuid.UUID(str(customer["id"])))
    context = CommandContext(actor=who, correlation_id=uuid.uuid4())
    creating = asyncio.create_task(opening.create_ticket(new, context))
    await asyncio.wait_for(gated.read.wait(), 30)

    changed = await api.patch(
        f"/companies/{company['id']}", json={"tier": "Enterprise"}, headers=agent
    )
    assert changed.status_code == 200, changed.text
    change = (await store.read_stream(uuid.UUID(str(company["id"]))))[-1].envelope
    assert await follower.follow(change) == 0  # the ticket is not there yet: the race
    gated.release.set()
    ticket, _ = await asyncio.wait_for(creating, 30)
    stale = ticket.customer_context
    assert stale is not None and stale.company_tier == "SMB"

    # Its TicketCreated, as the relay publishes it, through the follower's consumer.
    (opened,) = [r.envelope for r in await store.read_stream(ticket.id)]
    await publish(kafka_bootstrap, TICKETS, [opened])

    async def followed() -> bool:
        detail = (await api.get(f"/tickets/{ticket.id}", headers=agent)).json()
        return bool(detail["customer_context"]["company_tier"] == "Enterprise")

    await follow_until(follower, kafka_bootstrap, followed)
    assert await follower.follow(opened) == 0  # a redelivery appends nothing
    events = [r.envelope.event_type for r in await store.read_stream(ticket.id)]
    assert events == ["TicketCreated", "TicketCustomerContextChanged"]

    # A ticket for which staff named another company keeps it: its re-check appends nothing.
    other, _ = await enterprise_customer(api, agent)
    named = await created(
        api.post(
            "/tickets",
            json={"subject": "Other", "customer_id": customer["id"], "company_id": other["id"]},
            headers=agent,
        )
    )
    (recorded,) = await store.read_stream(uuid.UUID(str(named["id"])))
    assert await follower.follow(recorded.envelope) == 0
    after = (await api.get(f"/tickets/{named['id']}", headers=agent)).json()
    assert after["company_id"] == other["id"]


# --- item 6 --------------------------------------------------------------------------------------

FIELDS = [
    {"key": "account_manager", "label": "Account manager", "kind": "user"},
    {"key": "seats", "label": "Seats", "kind": "number"},
    {"key": "modules", "label": "Modules", "kind": "multi_select", "options": ["HR", "Payroll"]},
    {
        "key": "device",
        "label": "Device",
        "kind": "select",
        "options": ["Laptop", "Phone"],
        "forms": ["agent", "portal"],
        "customer_settable": True,
    },
]


async def test_custom_fields_defined_set_filtered_and_shown(
    api: httpx.AsyncClient,
    agent: dict[str, str],
    token: Callable[..., str],
    app: FastAPI,
    caught_up: CaughtUp,
) -> None:
    manager = bearer(token("manager", subject=str(uuid.uuid4())))
    current = await api.get("/custom-fields", headers=manager)
    etag = current.headers["ETag"]
    assert (
        await api.put("/custom-fields", json={"fields": FIELDS}, headers=agent)
    ).status_code == 403
    unversioned = await api.put("/custom-fields", json={"fields": FIELDS}, headers=manager)
    assert unversioned.status_code == 428
    saved = await api.put(
        "/custom-fields", json={"fields": FIELDS}, headers=manager | {"If-Match": etag}
    )
    assert saved.status_code == 200, saved.text
    stale = await api.put(
        "/custom-fields", json={"fields": []}, headers=manager | {"If-Match": etag}
    )
    assert stale.status_code == 409
    try:
        member = await created(
            api.post(
                "/agents",
                json={"email": f"am-{uuid.uuid4().hex[:8]}@helpdesk.example", "name": "AM"},
                headers=manager,
            )
        )
        marker = uuid.uuid4().hex[:8]
        ticket = await created(
            api.post(
                "/tickets",
                json={"subject": f"Seats {marker}",
                      "custom_fields": {"seats": 25, "account_manager": member["id"],
                                        "modules": ["HR"]}},
                headers=agent,
            )
        )  # fmt: skip
        assert ticket["custom_fields"] == {
            "seats": 25,
            "account_manager": member["id"],
            "modules": ["HR"],
        }
        bad = await api.post(
            "/tickets", json={"subject": "x", "custom_fields": {"seats": "many"}}, headers=agent
        )
        assert bad.status_code == 422 and "'seats' (Seats, number): expected a number" in bad.text
        nobody = await api.post(
            "/tickets",
            json={"subject": "x", "custom_fields": {"account_manager": str(uuid.uuid4())}},
            headers=agent,
        )
        assert nobody.status_code == 422 and "no active agent" in nobody.text

        edited = await api.patch(
            f"/tickets/{ticket['id']}",
            json={"custom_fields": {"seats": 30, "modules": None}},
            headers=agent,
        )
        assert edited.status_code == 200, edited.text
        assert edited.json()["custom_fields"] == {"seats": 30, "account_manager": member["id"]}
        timeline = (await api.get(f"/tickets/{ticket['id']}/timeline", headers=agent)).json()
        assert timeline[-1]["event_type"] == "CustomFieldsChanged"

        await caught_up()
        listed = await api.get(
            "/tickets", params={"q": marker, "custom.seats": "30"}, headers=agent
        )
        assert [item["id"] for item in listed.json()["items"]] == [ticket["id"]]
        none = await api.get("/tickets", params={"q": marker, "custom.seats": "25"}, headers=agent)
        assert none.json()["items"] == []
        unknown = await api.get("/tickets", params={"custom.nope": "1"}, headers=agent)
        assert unknown.status_code == 422

        # Customers set only customer-settable fields and see only the portal form's.
        email = f"cf-{uuid.uuid4().hex[:8]}@example.co.id"
        customer = bearer(token("customer", subject=str(uuid.uuid4()), email=email))
        portal = (await api.get("/custom-fields", headers=customer)).json()
        assert [f["key"] for f in portal["fields"]] == ["device"]
        refused = await api.post(
            "/tickets", json={"subject": "x", "custom_fields": {"seats": 1}}, headers=customer
        )
        assert refused.status_code == 403
        mine = await created(
            api.post(
                "/tickets",
                json={"subject": "Laptop", "custom_fields": {"device": "Laptop"}},
                headers=customer,
            )
        )
        await api.patch(
            f"/tickets/{mine['id']}", json={"custom_fields": {"seats": 2}}, headers=agent
        )
        seen = (await api.get(f"/tickets/{mine['id']}", headers=customer)).json()
        assert seen["custom_fields"] == {"device": "Laptop"}
        staff = (await api.get(f"/tickets/{mine['id']}", headers=agent)).json()
        assert staff["custom_fields"] == {"device": "Laptop", "seats": 2}
    finally:
        await clear_custom_fields(api, manager, app)


async def clear_custom_fields(
    api: httpx.AsyncClient, manager: dict[str, str], app: FastAPI
) -> None:
    """No custom fields again (the definitions are the whole service's)."""
    latest = await api.get("/custom-fields", headers=manager)
    await api.put(
        "/custom-fields",
        json={"fields": []},
        headers=manager | {"If-Match": latest.headers["ETag"]},
    )
    app.state.tickets.custom_fields._cached = None


# --- item 13 -------------------------------------------------------------------------------------


async def test_merged_childrens_descriptions_show_in_the_parents_conversation(
    api: httpx.AsyncClient, agent: dict[str, str], token: Callable[..., str], caught_up: CaughtUp
) -> None:
    mine, other = (f"{name}-{uuid.uuid4().hex[:8]}@example.co.id" for name in ("ani", "eko"))

    async def opened(email: str, subject: str, description: str) -> dict[str, object]:
        return await created(
            api.post(
                "/tickets",
                json={"subject": subject, "description": description,
                      "requester": {"email": email}},
                headers=agent,
            )
        )  # fmt: skip

    parent = await opened(mine, "Printer", "<p>The printer is offline.</p>")
    child = await opened(mine, "Printer again", "<p>Still offline on floor 3.</p>")
    strangers = await opened(other, "Printer too", "<p>Ours jams.</p>")
    merged = await api.post(
        f"/tickets/{parent['id']}/merge",
        json={"children": [child["id"], strangers["id"]]},
        headers=agent,
    )
    assert merged.status_code == 200, merged.text
    await caught_up()

    staff = (await api.get(f"/tickets/{parent['id']}/messages", headers=agent)).json()
    originals = [m for m in staff if m["merged_description"]]
    assert [(m["ticket_number"], m["body_text"]) for m in originals] == [
        (child["number"], "Still offline on floor 3."),
        (strangers["number"], "Ours jams."),
    ]
    assert all(m["visibility"] == "public" and m["ticket_id"] != parent["id"] for m in originals)

    customer = bearer(token("customer", subject=str(uuid.uuid4()), email=mine))
    seen = (await api.get(f"/tickets/{parent['id']}/messages", headers=customer)).json()
    assert [m["body_text"] for m in seen if m["merged_description"]] == [
        "Still offline on floor 3."
    ]  # another customer's ticket stays theirs


# --- item 15 -------------------------------------------------------------------------------------


async def test_the_seeds_views_newest_across_statuses_and_by_status_alone(
    api: httpx.AsyncClient, agent: dict[str, str], caught_up: CaughtUp
) -> None:
    marker = uuid.uuid4().hex[:8]
    older = await created(api.post("/tickets", json={"subject": f"{marker} a"}, headers=agent))
    solved = await created(api.post("/tickets", json={"subject": f"{marker} b"}, headers=agent))
    await api.post(f"/tickets/{solved['id']}/status", json={"status": "Solved"}, headers=agent)
    await caught_up()

    async def listed(**params: str) -> list[object]:
        answer = await api.get("/tickets", params={"q": marker, **params}, headers=agent)
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()["items"]]

    assert await listed(view="newest") == [solved["id"], older["id"]]  # newest first, any status
    assert await listed(view="new") == [older["id"]]  # today's meaning: status New
    assert await listed(status="Solved") == [solved["id"]]  # was empty without view=all
    assert await listed(status="Solved", view="unsolved") == []  # an explicit view still counts


# --- item 11 -------------------------------------------------------------------------------------


async def test_a_regional_team_has_time_zone_languages_and_calendar(
    api: httpx.AsyncClient, token: Callable[..., str], caught_up: CaughtUp
) -> None:
    manager = bearer(token("manager", subject=str(uuid.uuid4())))
    name = f"India L1 {uuid.uuid4().hex[:6]}"
    team = await created(
        api.post(
            "/teams",
            json={"name": name, "time_zone": "Asia/Kolkata", "languages": ["EN", "hi"],
                  "business_calendar_id": "india"},
            headers=manager,
        )
    )  # fmt: skip
    assert (team["time_zone"], team["languages"], team["business_calendar_id"]) == (
        "Asia/Kolkata",
        ["en", "hi"],
        "india",
    )
    bad = await api.patch(f"/teams/{team['id']}", json={"time_zone": "Mars/Base"}, headers=manager)
    assert bad.status_code == 422 and "IANA" in bad.text
    moved = await api.patch(
        f"/teams/{team['id']}", json={"languages": ["id"], "name": f"{name} ID"}, headers=manager
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["time_zone"], moved.json()["languages"]) == ("Asia/Kolkata", ["id"])
    await caught_up()
    listed = await api.get("/teams", params={"q": name}, headers=manager)
    row = next(t for t in listed.json()["items"] if t["id"] == team["id"])
    assert (row["time_zone"], row["languages"]) == ("Asia/Kolkata", ["id"])


# --- item 10 -------------------------------------------------------------------------------------


async def test_a_teams_lead_assigns_within_their_team_whatever_their_role(
    api: httpx.AsyncClient, token: Callable[..., str], caught_up: CaughtUp
) -> None:
    manager = bearer(token("manager", subject=str(uuid.uuid4())))

    async def invited(role: str) -> str:
        made = await created(
            api.post(
                "/agents",
                json={"email": f"{role}-{uuid.uuid4().hex[:8]}@helpdesk.example", "name": role,
                      "role": role},
                headers=manager,
            )
        )  # fmt: skip
        return str(made["id"])

    lead, other_technician, member = (
        await invited("technician"),
        await invited("technician"),
        await invited("agent"),
    )
    team = await created(
        api.post(
            "/teams",
            json={"name": f"Field {uuid.uuid4().hex[:6]}", "member_ids": [member],
                  "lead_id": lead},
            headers=manager,
        )
    )  # fmt: skip
    await caught_up()
    ticket = await created(
        api.post("/tickets", json={"subject": "Onsite", "team_id": team["id"]}, headers=manager)
    )
    outsider = bearer(token("technician", subject=other_technician))
    refused = await api.patch(
        f"/tickets/{ticket['id']}", json={"assignee_id": member}, headers=outsider
    )
    assert refused.status_code == 403
    as_lead = bearer(token("technician", subject=lead))
    assigned = await api.patch(
        f"/tickets/{ticket['id']}", json={"assignee_id": member}, headers=as_lead
    )
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["assignee_id"] == member
    moved = await api.patch(f"/tickets/{ticket['id']}", json={"team_id": None}, headers=as_lead)
    assert moved.status_code == 403  # routing out of the team stays with agents and managers
