"""Customers, companies, agents and teams through the HTTP API on the real PostgreSQL: records,
search, uniqueness (also under concurrency), roles, availability, team rules, optimistic
concurrency, bad input, the events in the log, and read models rebuilt from it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest

from helpdesk_events import Actor, ActorKind
from helpdesk_events.directory import AgentRole
from ticket_service.adapters.claims import Claims
from ticket_service.adapters.directory_projections import DIRECTORY_PROJECTIONS
from ticket_service.adapters.event_store import LogPosition, PostgresEventStore
from ticket_service.adapters.projections import Projector
from ticket_service.domain.customers import CustomerNotFound, InvalidCustomerData
from ticket_service.service_layer.context import CommandContext
from ticket_service.service_layer.customers import CustomerApplication, NewCustomer
from ticket_service.service_layer.directory import (
    AgentEdit,
    DirectoryApplication,
    NewAgent,
    NewTeam,
)

from .conftest import bearer, wait_for

pytestmark = pytest.mark.integration

Headers = dict[str, str]
Projected = Callable[[], Awaitable[None]]


def unique(local: str) -> str:
    return f"{local}.{uuid.uuid4().hex[:10]}@example.co.id"


@pytest.fixture
def staff_headers(token: Callable[..., str]) -> Callable[[str], Headers]:
    def make(role: str = "agent") -> Headers:
        return bearer(token(role, subject=str(uuid.uuid4()), name=f"Test {role}"))

    return make


@pytest.fixture
def agent(staff_headers: Callable[[str], Headers]) -> Headers:
    return staff_headers("agent")


@pytest.fixture
def manager(staff_headers: Callable[[str], Headers]) -> Headers:
    return staff_headers("manager")


@pytest.fixture
def projected(store: PostgresEventStore, pool: asyncpg.Pool) -> Projected:
    """Bring the directory read models up to every event committed so far.

    A projector of their own (the app's may not feed them yet); projections are idempotent, so
    running beside the app's is safe. Repeats until its checkpoint passes the last event: a
    catch-up reads only below transactions still running and may stop short once.
    """
    projector = Projector(store, pool, DIRECTORY_PROJECTIONS, name="directory-tests")

    async def catch_up() -> None:
        row = await pool.fetchrow(
            "SELECT transaction_id, position FROM events"
            " ORDER BY transaction_id DESC, position DESC LIMIT 1"
        )
        target = LogPosition(row["transaction_id"], row["position"])

        async def reached() -> bool:
            await projector.catch_up()
            checkpoint: LogPosition = await store.load_checkpoint("projector:directory-tests")
            return checkpoint >= target

        await wait_for(reached, timeout=15)

    return catch_up


async def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body = dict(response.json())
    assert response.headers["ETag"] == f'"{body["version"]}"'
    return body


async def new_customer(api: httpx.AsyncClient, headers: Headers, **fields: Any) -> dict[str, Any]:
    body = {"name": "Budi Santoso", "email": unique("budi")} | fields
    return await created(await api.post("/customers", json=body, headers=headers))


async def invite(
    api: httpx.AsyncClient, manager: Headers, name: str = "Rina", role: str = "agent"
) -> dict[str, Any]:
    body = {"email": unique(name.lower()), "name": name, "role": role}
    return await created(await api.post("/agents", json=body, headers=manager))


# --- customers and companies ------------------------------------------------------------------


async def test_create_read_and_search_customers_and_companies(
    api: httpx.AsyncClient, agent: Headers, projected: Projected
) -> None:
    marker = uuid.uuid4().hex[:8]
    company = await created(
        await api.post(
            "/companies",
            json={"name": f"PT Maju {marker}", "city": "Bandung", "website": "maju.co.id"},
            headers=agent,
        )
    )
    email = unique(f"Budi{marker}").upper()
    customer = await new_customer(
        api,
        agent,
        name=f"Budi {marker}",
        email=email,
        phone="+62 812-5550-1234",
        tags=["VIP", "vip", "Jakarta"],
        ip_address="10.1.2.3",
        company_id=company["id"],
        job_title="IT lead",
        role="buyer",
    )
    assert customer["email"] == email.lower()
    assert customer["tags"] == ["vip", "jakarta"]
    assert customer["company_name"] == f"PT Maju {marker}"
    fetched = await api.get(f"/customers/{customer['id']}", headers=agent)
    assert fetched.status_code == 200 and fetched.json() == customer
    assert fetched.headers["ETag"] == '"1"'
    other = await new_customer(api, agent, name=f"Sari {marker}", phone="0813 9999")

    await projected()

    async def search(**params: Any) -> list[str]:
        response = await api.get("/customers", params=params, headers=agent)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await search(q=marker) == [customer["id"], other["id"]]  # by name, sorted
    assert await search(q=email.split("@")[0].lower()) == [customer["id"]]  # by email
    assert await search(q=f"{marker} 812 5550") == []  # words are not split: "contains"
    assert customer["id"] in await search(q="5550-1234")  # phone as typed
    assert customer["id"] in await search(q="81255501234")  # phone digits only
    assert await search(company_id=company["id"]) == [customer["id"]]
    assert await search(q=marker, tag="VIP") == [customer["id"]]
    assert await search(q="100%_") == []  # wildcards are taken literally
    listed = await api.get("/customers", params={"q": marker, "page_size": 1}, headers=agent)
    assert listed.json()["total"] == 2 and len(listed.json()["items"]) == 1
    item = listed.json()["items"][0]
    assert {k: item[k] for k in customer} == customer  # the list shows what the record does

    companies = await api.get("/companies", params={"q": f"maju {marker}"}, headers=agent)
    assert [c["id"] for c in companies.json()["items"]] == [company["id"]]
    assert (await api.get(f"/companies/{company['id']}", headers=agent)).json() == company


async def test_duplicate_email_is_409_naming_the_existing_contact(
    api: httpx.AsyncClient, agent: Headers, pool: asyncpg.Pool
) -> None:
    email = unique("dup")
    first = await new_customer(api, agent, email=email)
    again = await api.post(
        "/customers", json={"name": "Someone Else", "email": email.upper()}, headers=agent
    )
    assert again.status_code == 409, again.text
    assert f"contact with this email exists: {first['id']}" in again.json()["detail"]
    assert again.headers["Location"] == f"/customers/{first['id']}"
    registered = await pool.fetchval(
        "SELECT count(*) FROM events WHERE event_type = 'CustomerRegistered'"
        " AND data->>'email' = $1",
        email,
    )
    assert registered == 1


async def test_concurrent_creates_with_one_email_make_exactly_one_contact(
    api: httpx.AsyncClient, agent: Headers, pool: asyncpg.Pool
) -> None:
    email = unique("race")
    responses = await asyncio.gather(
        *(
            api.post("/customers", json={"name": f"Racer {n}", "email": email}, headers=agent)
            for n in range(10)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 9, [r.text for r in responses]
    winner = next(r.json()["id"] for r in responses if r.status_code == 201)
    assert {r.headers["Location"] for r in responses} == {f"/customers/{winner}"}
    registered = await pool.fetch(
        "SELECT stream_id FROM events WHERE event_type = 'CustomerRegistered'"
        " AND data->>'email' = $1",
        email,
    )
    assert [row["stream_id"] for row in registered] == [uuid.UUID(winner)]
    owner = await pool.fetchval(
        "SELECT owner_id FROM directory_claims WHERE kind = 'contact-email' AND key = $1", email
    )
    assert owner == uuid.UUID(winner)


async def test_edit_customer_with_if_match_tags_and_email_uniqueness(
    api: httpx.AsyncClient, agent: Headers, pool: asyncpg.Pool
) -> None:
    budi = await new_customer(api, agent, tags=["a", "b"])
    sari = await new_customer(api, agent, name="Sari")
    url = f"/customers/{budi['id']}"
    changed = await api.patch(
        url,
        json={"phone": "0812", "tags": ["b", "c"], "gender": "male"},
        headers=agent | {"If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["tags"], changed.json()["phone"], changed.json()["version"]) == (
        ["b", "c"],
        "0812",
        3,  # a profile change and a tags change
    )
    assert changed.headers["ETag"] == '"3"'
    stale = await api.patch(url, json={"phone": "0000"}, headers=agent | {"If-Match": '"1"'})
    assert stale.status_code == 409
    assert "is at version 3, not 1" in stale.json()["detail"]
    malformed = await api.patch(url, json={"phone": "1"}, headers=agent | {"If-Match": "three"})
    assert malformed.status_code == 400
    nothing = await api.patch(url, json={}, headers=agent)
    assert nothing.status_code == 422 and "nothing to change" in nothing.json()["detail"]
    unchanged = await api.patch(url, json={"phone": "0812"}, headers=agent)
    assert unchanged.status_code == 200 and unchanged.json()["version"] == 3  # no event

    # Taking another contact's email is refused, and nothing is recorded.
    taken = await api.patch(
        f"/customers/{sari['id']}", json={"email": budi["email"].upper()}, headers=agent
    )
    assert taken.status_code == 409
    assert budi["id"] in taken.json()["detail"]
    recorded = await pool.fetchval(
        "SELECT count(*) FROM events WHERE stream_id = $1", uuid.UUID(sari["id"])
    )
    assert recorded == 1
    # Once Budi moves to another address, his old one is free for Sari.
    moved = await api.patch(url, json={"email": unique("budi.new")}, headers=agent)
    assert moved.status_code == 200
    freed = await api.patch(
        f"/customers/{sari['id']}", json={"email": budi["email"]}, headers=agent
    )
    assert freed.status_code == 200, freed.text
    assert freed.json()["email"] == budi["email"]
    unknown = await api.patch(f"/customers/{uuid.uuid4()}", json={"phone": "1"}, headers=agent)
    assert unknown.status_code == 404


async def test_customers_see_only_themselves(
    api: httpx.AsyncClient, agent: Headers, token: Callable[..., str]
) -> None:
    budi = await new_customer(api, agent)
    sari = await new_customer(api, agent, name="Sari")
    by_email = bearer(token("customer", subject="idp|budi", email=budi["email"].upper()))
    assert (await api.get(f"/customers/{budi['id']}", headers=by_email)).json() == budi
    assert (await api.get("/customers/me", headers=by_email)).json() == budi
    assert (await api.get(f"/customers/{sari['id']}", headers=by_email)).status_code == 404
    by_subject = bearer(token("customer", subject=sari["id"]))
    assert (await api.get("/customers/me", headers=by_subject)).json()["id"] == sari["id"]
    stranger = bearer(token("customer", subject="idp|x", email=unique("stranger")))
    assert (await api.get("/customers/me", headers=stranger)).status_code == 404
    for method, url in [
        ("GET", "/customers"),
        ("POST", "/customers"),
        ("PATCH", f"/customers/{budi['id']}"),
        ("GET", "/companies"),
        ("POST", "/companies"),
        ("GET", "/agents"),
        ("GET", "/teams"),
        ("POST", "/teams"),
    ]:
        response = await api.request(method, url, json={"name": "x"}, headers=by_email)
        assert response.status_code == 403, (method, url, response.text)
    assert (await api.get("/customers")).status_code == 401


def system_context() -> CommandContext:
    return CommandContext(
        actor=Actor(kind=ActorKind.AGENT, id="manager-1", role="manager"),
        correlation_id=uuid.uuid4(),
    )


async def test_resolve_customer_for_a_new_ticket(
    pool: asyncpg.Pool, store: PostgresEventStore
) -> None:
    customers = CustomerApplication(store, Claims(pool, store))
    context = system_context()
    email = unique("resolve")
    # Eight tickets opened at once for one new customer: one contact, everyone gets its id.
    ids = await asyncio.gather(
        *(
            customers.resolve_customer(
                context, new_customer=NewCustomer(name=f"Dewi {n}", email=email)
            )
            for n in range(8)
        )
    )
    assert len(set(ids)) == 1
    dewi = await customers.get_customer(ids[0])
    assert dewi.email == email
    # A known email (in any case) resolves to that contact; its details are not changed.
    again = await customers.resolve_customer(
        context, new_customer=NewCustomer(name="Another Name", email=email.upper())
    )
    assert again == dewi.id
    assert (await customers.get_customer(dewi.id)).version == 1
    assert await customers.resolve_customer(context, customer_id=dewi.id) == dewi.id
    with pytest.raises(CustomerNotFound):
        await customers.resolve_customer(context, customer_id=uuid.uuid4())
    with pytest.raises(InvalidCustomerData, match="either customer_id"):
        await customers.resolve_customer(context)
    with pytest.raises(InvalidCustomerData, match="either customer_id"):
        await customers.resolve_customer(
            context, customer_id=dewi.id, new_customer=NewCustomer(name="x")
        )
    # Without an email there is nothing to deduplicate on: each call is a new contact.
    phone_only = NewCustomer(name="WhatsApp user", phone="+62 811")
    first = await customers.resolve_customer(context, new_customer=phone_only)
    second = await customers.resolve_customer(context, new_customer=phone_only)
    assert first != second
    with pytest.raises(InvalidCustomerData, match="name"):
        await customers.resolve_customer(context, new_customer=NewCustomer(name=" "))


# --- agents -----------------------------------------------------------------------------------


async def test_what_ticket_commands_ask_the_directory(
    pool: asyncpg.Pool, store: PostgresEventStore
) -> None:
    """DirectoryApplication answers service_layer.tickets.Directory from the streams."""
    directory = DirectoryApplication(store, Claims(pool, store))
    context = system_context()
    rina = await directory.invite_agent(
        NewAgent(email=unique("rina"), name="Rina", role=AgentRole.AGENT), context
    )
    dewi = await directory.invite_agent(
        NewAgent(email=unique("dewi"), name="Dewi", role=AgentRole.TECHNICIAN), context
    )
    team = await directory.create_team(
        NewTeam(name=f"Ops {uuid.uuid4().hex[:6]}", member_ids=(rina.id,)), context
    )
    assert await directory.team_exists(team.id)
    assert not await directory.team_exists(uuid.uuid4())
    assert not await directory.team_exists(rina.id)  # an agent's id is not a team's
    assert await directory.team_members(team.id) == frozenset({rina.id})
    assert await directory.team_members(uuid.uuid4()) == frozenset()
    assert await directory.agent_assignable(dewi.id)
    await directory.change_agent(dewi.id, AgentEdit(active=False), context)
    assert not await directory.agent_assignable(dewi.id)
    assert not await directory.agent_assignable(uuid.uuid4())


async def test_only_managers_invite_and_configure_agents(
    api: httpx.AsyncClient, staff_headers: Callable[[str], Headers], manager: Headers
) -> None:
    body = {"email": unique("rina"), "name": "Rina", "role": "Technician"}
    for role in ("agent", "technician"):
        refused = await api.post("/agents", json=body, headers=staff_headers(role))
        assert refused.status_code == 403
        assert "only managers" in refused.json()["detail"]
    rina = await created(await api.post("/agents", json=body, headers=manager))
    assert (rina["role"], rina["active"], rina["availability"]) == ("technician", True, "active")
    duplicate = await api.post(
        "/agents", json=body | {"email": body["email"].upper()}, headers=manager
    )
    assert duplicate.status_code == 409 and rina["id"] in duplicate.json()["detail"]
    for role in ("agent", "technician"):  # everyone on staff reads the directory
        read = await api.get(f"/agents/{rina['id']}", headers=staff_headers(role))
        assert read.status_code == 200 and read.json() == rina
    url = f"/agents/{rina['id']}"
    assert (
        await api.patch(url, json={"role": "manager"}, headers=staff_headers("agent"))
    ).status_code == 403
    promoted = await api.patch(url, json={"role": "manager"}, headers=manager)
    assert promoted.status_code == 200 and promoted.json()["role"] == "manager"
    same = await api.patch(url, json={"role": "manager"}, headers=manager)
    assert same.status_code == 422 and "already a manager" in same.json()["detail"]
    deactivated = await api.patch(
        url, json={"active": False}, headers=manager | {"If-Match": '"2"'}
    )
    assert deactivated.status_code == 200 and deactivated.json()["active"] is False
    stale = await api.patch(url, json={"active": True}, headers=manager | {"If-Match": '"2"'})
    assert stale.status_code == 409
    assert (await api.get(f"/agents/{uuid.uuid4()}", headers=manager)).status_code == 404


async def test_agents_change_their_own_availability_managers_anyones(
    api: httpx.AsyncClient, token: Callable[..., str], manager: Headers
) -> None:
    rina = await invite(api, manager, "Rina")
    dewi = await invite(api, manager, "Dewi")
    as_rina = bearer(token("agent", subject=rina["id"]))  # token subject = agent id
    as_dewi = bearer(token("technician", subject="idp|dewi", email=dewi["email"]))  # by email
    me = await api.get("/agents/me", headers=as_dewi)
    assert me.status_code == 200 and me.json()["id"] == dewi["id"]

    rina_url = f"/agents/{rina['id']}/availability"
    away = await api.put(rina_url, json={"availability": "Away"}, headers=as_rina)
    assert away.status_code == 200, away.text
    assert (away.json()["availability"], away.headers["ETag"]) == ("away", '"2"')
    again = await api.put(rina_url, json={"availability": "away"}, headers=as_rina)
    assert again.status_code == 422 and "already away" in again.json()["detail"]
    others = await api.put(rina_url, json={"availability": "active"}, headers=as_dewi)
    assert others.status_code == 403 and "only your own" in others.json()["detail"]
    own = await api.put(
        f"/agents/{dewi['id']}/availability", json={"availability": "unavailable"}, headers=as_dewi
    )
    assert own.status_code == 200 and own.json()["availability"] == "unavailable"
    by_manager = await api.put(rina_url, json={"availability": "unavailable"}, headers=manager)
    assert by_manager.status_code == 200
    customer = bearer(token("customer", subject=rina["id"], email=rina["email"]))
    assert (
        await api.put(rina_url, json={"availability": "active"}, headers=customer)
    ).status_code == 403
    # A deactivated agent's availability is frozen until a manager reactivates them.
    await api.patch(f"/agents/{rina['id']}", json={"active": False}, headers=manager)
    frozen = await api.put(rina_url, json={"availability": "active"}, headers=manager)
    assert frozen.status_code == 422 and "reactivate" in frozen.json()["detail"]


# --- teams ------------------------------------------------------------------------------------


async def test_team_membership_rules(
    api: httpx.AsyncClient, agent: Headers, manager: Headers, projected: Projected
) -> None:
    rina, dewi, sari = await asyncio.gather(
        *(invite(api, manager, name) for name in ("Rina", "Dewi", "Sari"))
    )
    name = f"L1 Support {uuid.uuid4().hex[:6]}"
    refused = await api.post("/teams", json={"name": name}, headers=agent)
    assert refused.status_code == 403
    team = await created(
        await api.post(
            "/teams",
            json={"name": name, "tier": 1, "member_ids": [rina["id"]], "lead_id": dewi["id"]},
            headers=manager,
        )
    )
    assert [m["id"] for m in team["members"]] == [rina["id"], dewi["id"]]  # the lead joined
    assert (team["lead_id"], team["version"]) == (dewi["id"], 4)
    assert team["members"][0]["name"] == "Rina"
    url = f"/teams/{team['id']}"

    clash = await api.post("/teams", json={"name": f"  {name.upper()} "}, headers=manager)
    assert clash.status_code == 409 and team["id"] in clash.json()["detail"]
    duplicate = await api.put(f"{url}/members/{rina['id']}", headers=manager)
    assert duplicate.status_code == 422 and "already a member" in duplicate.json()["detail"]
    await api.patch(f"/agents/{sari['id']}", json={"active": False}, headers=manager)
    inactive = await api.put(f"{url}/members/{sari['id']}", headers=manager)
    assert inactive.status_code == 422 and "deactivated" in inactive.json()["detail"]
    inactive_lead = await api.put(f"{url}/lead", json={"agent_id": sari["id"]}, headers=manager)
    assert inactive_lead.status_code == 422 and "deactivated" in inactive_lead.json()["detail"]
    assert (await api.put(f"{url}/members/{uuid.uuid4()}", headers=manager)).status_code == 404
    assert (
        await api.put(f"/teams/{uuid.uuid4()}/members/{rina['id']}", headers=manager)
    ).status_code == 404

    # Removing the lead leaves the team without one; a non-member made lead joins the team.
    without_lead = await api.delete(f"{url}/members/{dewi['id']}", headers=manager)
    assert without_lead.status_code == 200, without_lead.text
    assert without_lead.json()["lead_id"] is None
    assert [m["id"] for m in without_lead.json()["members"]] == [rina["id"]]
    again = await api.delete(f"{url}/members/{dewi['id']}", headers=manager)
    assert again.status_code == 422 and "not a member" in again.json()["detail"]
    led = await api.put(f"{url}/lead", json={"agent_id": dewi["id"]}, headers=manager)
    assert led.json()["lead_id"] == dewi["id"]
    assert [m["id"] for m in led.json()["members"]] == [rina["id"], dewi["id"]]
    assert (await api.get(url, headers=agent)).json() == led.json()

    await projected()
    listed = await api.get("/teams", params={"q": name.lower()}, headers=agent)
    assert listed.status_code == 200
    (item,) = listed.json()["items"]
    assert item == led.json()  # the read model agrees with the stream
    by_agent = await api.get("/teams", params={"agent_id": dewi["id"]}, headers=agent)
    assert team["id"] in [t["id"] for t in by_agent.json()["items"]]
    members = await api.get("/agents", params={"team_id": team["id"]}, headers=agent)
    assert {a["id"] for a in members.json()["items"]} == {rina["id"], dewi["id"]}
    inactive_agents = await api.get(
        "/agents", params={"active": "false", "q": sari["email"]}, headers=agent
    )
    assert [a["id"] for a in inactive_agents.json()["items"]] == [sari["id"]]


async def test_team_edits_names_escalation_and_stale_versions(
    api: httpx.AsyncClient, manager: Headers
) -> None:
    suffix = uuid.uuid4().hex[:6]
    l1 = await created(await api.post("/teams", json={"name": f"L1 {suffix}"}, headers=manager))
    l2 = await created(
        await api.post(
            "/teams", json={"name": f"L2 {suffix}", "escalates_to": l1["id"]}, headers=manager
        )
    )
    url = f"/teams/{l1['id']}"
    loop = await api.patch(url, json={"escalates_to": l2["id"]}, headers=manager)
    assert loop.status_code == 422 and "escalation loop" in loop.json()["detail"]
    renamed = await api.patch(
        url, json={"name": f"First line {suffix}", "description": "triage"}, headers=manager
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["version"]) == (f"First line {suffix}", 2)
    # The old name is free again; the new one is taken.
    reuse = await api.post("/teams", json={"name": f"l1 {suffix}"}, headers=manager)
    assert reuse.status_code == 201
    taken = await api.patch(
        f"/teams/{l2['id']}", json={"name": f"FIRST LINE {suffix}"}, headers=manager
    )
    assert taken.status_code == 409
    stale = await api.patch(
        url, json={"description": "changed"}, headers=manager | {"If-Match": '"1"'}
    )
    assert stale.status_code == 409 and "not 1" in stale.json()["detail"]
    current = await api.patch(url, json={"description": ""}, headers=manager | {"If-Match": '"2"'})
    assert current.status_code == 200 and current.json()["description"] is None
    unknown = await api.post(
        "/teams", json={"name": f"L3 {suffix}", "escalates_to": str(uuid.uuid4())}, headers=manager
    )
    assert unknown.status_code == 422 and "escalates_to: no team" in unknown.json()["detail"]
    unknown_member = await api.post(
        "/teams", json={"name": f"L4 {suffix}", "member_ids": [str(uuid.uuid4())]}, headers=manager
    )
    assert unknown_member.status_code == 422 and "member_ids" in unknown_member.json()["detail"]


async def test_concurrent_member_changes_are_all_kept(
    api: httpx.AsyncClient, manager: Headers
) -> None:
    """Without If-Match, a change that meets a concurrent one is retried, not lost."""
    team = await created(
        await api.post("/teams", json={"name": f"Crowd {uuid.uuid4().hex[:6]}"}, headers=manager)
    )
    agents = await asyncio.gather(*(invite(api, manager, f"A{n}") for n in range(3)))
    added = await asyncio.gather(
        *(api.put(f"/teams/{team['id']}/members/{a['id']}", headers=manager) for a in agents)
    )
    assert [r.status_code for r in added] == [200] * 3, [r.text for r in added]
    final = await api.get(f"/teams/{team['id']}", headers=manager)
    assert {m["id"] for m in final.json()["members"]} == {a["id"] for a in agents}
    assert final.json()["version"] == 4


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "body", "fragment"),
    [
        ("POST", "/customers", {"name": ""}, "name"),
        ("POST", "/customers", {"name": "B", "email": "budi-at-example"}, "email"),
        ("POST", "/customers", {"name": "B", "ip_address": "999.0.0.1"}, "ip_address"),
        ("POST", "/customers", {"name": "B", "shoe_size": 44}, "shoe_size"),
        ("POST", "/customers", {"name": "B", "tags": ["x" * 51]}, "tags"),
        ("POST", "/customers", {"name": "B", "company_id": str(uuid.uuid4())}, "no company"),
        ("POST", "/customers", {"name": "  "}, "needs a name"),
        ("POST", "/companies", {"website": "x.id"}, "name"),
        ("POST", "/agents", {"email": "r@example.com", "name": "R", "role": "boss"}, "role"),
        ("POST", "/agents", {"email": "r@example.com"}, "name"),
        ("POST", "/teams", {"name": "T", "tier": 12}, "tier"),
        ("POST", "/teams", {"name": "T", "member_ids": ["not-a-uuid"]}, "member_ids"),
        ("GET", "/customers?page=0", None, "page"),
        ("GET", "/agents?availability=sleeping", None, "availability"),
        ("GET", "/customers/not-a-uuid", None, "customer_id"),
    ],
)
async def test_bad_input_is_a_clear_422(
    api: httpx.AsyncClient,
    manager: Headers,
    method: str,
    url: str,
    body: dict[str, Any] | None,
    fragment: str,
) -> None:
    response = await api.request(method, url, json=body, headers=manager)
    assert response.status_code == 422, response.text
    assert fragment in response.text


async def test_bad_input_on_existing_records_is_a_clear_422(
    api: httpx.AsyncClient, manager: Headers
) -> None:
    rina = await invite(api, manager)
    customer = await new_customer(api, manager)
    team = await created(
        await api.post("/teams", json={"name": f"T {uuid.uuid4().hex[:6]}"}, headers=manager)
    )
    for method, url, body, fragment in [
        ("PATCH", f"/agents/{rina['id']}", {}, "nothing to change"),
        ("PATCH", f"/agents/{rina['id']}", {"role": "king"}, "role"),
        ("PUT", f"/agents/{rina['id']}/availability", {"availability": "asleep"}, "availability"),
        ("PATCH", f"/customers/{customer['id']}", {"name": None}, "needs a name"),
        ("PATCH", f"/customers/{customer['id']}", {"ip_address": "home"}, "ip_address"),
        ("PATCH", f"/teams/{team['id']}", {"tier": 0}, "tier"),
        ("PATCH", f"/teams/{team['id']}", {"name": None}, "needs a name"),
        ("PUT", f"/teams/{team['id']}/lead", {}, "agent_id"),
        ("PUT", f"/teams/{team['id']}/lead", {"agent_id": None}, "no lead to clear"),
        ("PUT", f"/teams/{team['id']}/lead", {"agent_id": str(uuid.uuid4())}, "invite the agent"),
    ]:
        response = await api.request(method, url, json=body, headers=manager)
        assert response.status_code == 422, (method, url, body, response.text)
        assert fragment in response.text, (method, url, body, response.text)


# --- the log and the read models ----------------------------------------------------------------


async def test_events_land_in_the_log_with_their_stream_types_and_actor(
    api: httpx.AsyncClient, token: Callable[..., str], pool: asyncpg.Pool
) -> None:
    subject = str(uuid.uuid4())
    manager = bearer(token("manager", subject=subject, name="Maya"))
    company = await created(await api.post("/companies", json={"name": "PT A"}, headers=manager))
    customer = await new_customer(api, manager, company_id=company["id"])
    await api.patch(f"/customers/{customer['id']}", json={"tags": ["x"]}, headers=manager)
    rina = await invite(api, manager)
    team = await created(
        await api.post(
            "/teams",
            json={"name": f"T {uuid.uuid4().hex[:6]}", "lead_id": rina["id"]},
            headers=manager | {"X-Correlation-Id": str(uuid.uuid4())},
        )
    )
    rows = await pool.fetch(
        "SELECT stream_id, stream_type, stream_version, event_type, actor FROM events"
        " WHERE stream_id = ANY($1::uuid[]) ORDER BY stream_id, stream_version",
        [company["id"], customer["id"], rina["id"], team["id"]],
    )
    by_stream: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        by_stream.setdefault(str(row["stream_id"]), []).append(
            (row["stream_type"], row["event_type"])
        )
        assert (row["actor"]["id"], row["actor"]["kind"]) == (subject, "agent")
    assert by_stream == {
        company["id"]: [("company", "CompanyRegistered")],
        customer["id"]: [("customer", "CustomerRegistered"), ("customer", "CustomerTagsChanged")],
        rina["id"]: [("agent", "AgentInvited")],
        team["id"]: [
            ("team", "TeamCreated"),
            ("team", "TeamMemberAdded"),
            ("team", "TeamLeadChanged"),
        ],
    }


async def test_read_models_rebuilt_from_the_log_are_the_same(
    api: httpx.AsyncClient,
    manager: Headers,
    store: PostgresEventStore,
    pool: asyncpg.Pool,
    projected: Projected,
) -> None:
    """Replaying the whole log from scratch gives the same rows as following it did."""
    customer = await new_customer(api, manager, tags=["a"])
    await api.patch(f"/customers/{customer['id']}", json={"tags": ["b", "a"]}, headers=manager)
    await api.patch(
        f"/customers/{customer['id']}", json={"tags": ["b", "c"], "phone": "1"}, headers=manager
    )
    rina = await invite(api, manager)
    await api.put(
        f"/agents/{rina['id']}/availability", json={"availability": "away"}, headers=manager
    )
    team = await created(
        await api.post(
            "/teams", json={"name": f"R {uuid.uuid4().hex[:6]}", "lead_id": rina["id"]},
            headers=manager,
        )
    )  # fmt: skip
    await api.delete(f"/teams/{team['id']}/members/{rina['id']}", headers=manager)
    await projected()

    tables = [t for projection in DIRECTORY_PROJECTIONS for t in projection.tables]

    async def snapshot() -> dict[str, list[dict[str, Any]]]:
        return {
            table: [dict(r) for r in await pool.fetch(f"SELECT * FROM {table} ORDER BY 1, 2")]
            for table in tables
        }

    followed = await snapshot()
    row = next(
        r for r in followed["customer_views"] if r["customer_id"] == uuid.UUID(customer["id"])
    )
    # registered, +b, (+c -a) and the phone: four versions
    assert (row["tags"], row["phone"], row["version"]) == (["b", "c"], "1", 4)
    assert not [m for m in followed["team_members"] if m["team_id"] == uuid.UUID(team["id"])]

    # Applying every event a second time (a replay over existing rows) changes nothing ...
    again = Projector(store, pool, DIRECTORY_PROJECTIONS, name=f"replay-{uuid.uuid4().hex[:6]}")
    await again.catch_up()
    assert await snapshot() == followed
    # ... and neither does rebuilding from empty tables.
    await again.rebuild()
    assert await snapshot() == followed


async def test_projections_skip_events_older_than_the_row(
    api: httpx.AsyncClient,
    manager: Headers,
    store: PostgresEventStore,
    pool: asyncpg.Pool,
    projected: Projected,
) -> None:
    """A late duplicate (another projector, a retried batch) never undoes a newer change."""
    rina = await invite(api, manager)
    team = await created(
        await api.post(
            "/teams",
            json={"name": f"Late {uuid.uuid4().hex[:6]}", "member_ids": [rina["id"]]},
            headers=manager,
        )
    )
    await api.delete(f"/teams/{team['id']}/members/{rina['id']}", headers=manager)
    customer = await new_customer(api, manager, tags=["old"])
    await api.patch(f"/customers/{customer['id']}", json={"tags": ["new"]}, headers=manager)
    await projected()
    team_events = await store.read_stream(uuid.UUID(team["id"]))
    customer_events = await store.read_stream(uuid.UUID(customer["id"]))
    assert [e.envelope.event_type for e in team_events] == [
        "TeamCreated",
        "TeamMemberAdded",
        "TeamMemberRemoved",
    ]
    async with pool.acquire() as connection, connection.transaction():
        for recorded in [team_events[1], customer_events[0], customer_events[1]]:
            for projection in DIRECTORY_PROJECTIONS:
                await projection.apply(connection, recorded)
        members = await connection.fetchval(
            "SELECT count(*) FROM team_members WHERE team_id = $1", uuid.UUID(team["id"])
        )
        view = await connection.fetchrow(
            "SELECT version, tags FROM customer_views WHERE customer_id = $1",
            uuid.UUID(customer["id"]),
        )
        version = await connection.fetchval(
            "SELECT version FROM team_views WHERE team_id = $1", uuid.UUID(team["id"])
        )
        assert (members, version) == (0, 3)
        assert (view["version"], view["tags"]) == (2, ["new"])
