"""Presence on a ticket and its live feed, end to end on the real service process: heartbeats
from two agents' pages, the per-ticket SSE stream, leaving, and an event on Kafka reaching the
viewers of the ticket as ``changed``."""

from __future__ import annotations

import uuid

import httpx
import orjson

from helpdesk_events import StatusChanged

from .conftest import Harness, SseReader, bearer, eventually


async def _presence(stream: SseReader) -> list[dict[str, object]]:
    event = await stream.next_event(within=15)
    assert event["event"] == "presence", event
    value: list[dict[str, object]] = orjson.loads(event["data"])
    return value


async def test_two_agents_see_each_other_viewing_replying_and_leaving(
    api: httpx.AsyncClient, harness: Harness
) -> None:
    ayu = await harness.agent("Ayu Lestari")
    dimas = await harness.agent("Dimas Pratama")
    ticket = uuid.uuid4()
    dimas_page = str(uuid.uuid4())

    async def known() -> bool:  # names come from the directory (the token's until it knows)
        return bool(await harness.fetchval("SELECT name FROM agents WHERE agent_id = $1", dimas.id))

    await eventually(known)
    path = f"/presence/tickets/{ticket}"

    async with api.stream("GET", f"{path}/stream", headers=bearer(ayu), timeout=60) as response:
        assert response.status_code == 200
        stream = SseReader(response)
        assert await _presence(stream) == []  # nobody else yet

        # Ayu's own heartbeat shows her nothing about herself.
        mine = {"session": str(uuid.uuid4()), "activity": "viewing"}
        assert (await api.put(path, json=mine, headers=bearer(ayu))).status_code == 204

        body = {"session": dimas_page, "activity": "viewing"}
        assert (await api.put(path, json=body, headers=bearer(dimas))).status_code == 204
        [viewing] = await _presence(stream)
        assert viewing["agent_id"] == dimas.id and viewing["name"] == "Dimas Pratama"
        assert viewing["activity"] == "viewing"

        # A renewing heartbeat sends nothing; starting to reply does.
        assert (await api.put(path, json=body, headers=bearer(dimas))).status_code == 204
        replying = body | {"activity": "replying"}
        assert (await api.put(path, json=replying, headers=bearer(dimas))).status_code == 204
        [now] = await _presence(stream)
        assert now["activity"] == "replying" and now["since"] == viewing["since"]

        listed = (await api.get(path, headers=bearer(dimas))).json()
        assert [p["agent_id"] for p in listed] == [ayu.id]  # Dimas sees Ayu, not himself

        gone = await api.delete(path, params={"session": dimas_page}, headers=bearer(dimas))
        assert gone.status_code == 204
        assert await _presence(stream) == []
        again = await api.delete(path, params={"session": dimas_page}, headers=bearer(dimas))
        assert again.status_code == 204  # leaving twice is fine


async def test_every_change_to_a_viewed_ticket_reaches_its_viewers(
    api: httpx.AsyncClient, harness: Harness
) -> None:
    rina = await harness.agent("Rina Wijaya")
    ticket = uuid.uuid4()
    path = f"/presence/tickets/{ticket}"
    async with api.stream("GET", f"{path}/stream", headers=bearer(rina), timeout=60) as response:
        stream = SseReader(response)
        assert await _presence(stream) == []
        page = {"session": str(uuid.uuid4()), "activity": "viewing"}
        assert (await api.put(path, json=page, headers=bearer(rina))).status_code == 204
        # A status change that notifies nobody (no assignee, no followers) still reaches her.
        await harness.emit(StatusChanged(from_status="New", to_status="Open"), ticket)
        event = await stream.next_event(within=30)
        assert event["event"] == "changed"
        assert orjson.loads(event["data"]) == {"ticket_id": str(ticket)}


async def test_presence_is_for_staff_and_refuses_bad_input(
    api: httpx.AsyncClient, harness: Harness
) -> None:
    path = f"/presence/tickets/{uuid.uuid4()}"
    customer = harness.token(str(uuid.uuid4()), "customer")
    body = {"session": str(uuid.uuid4()), "activity": "viewing"}
    assert (await api.put(path, json=body, headers=bearer(customer))).status_code == 403
    assert (await api.get(f"{path}/stream", headers=bearer(customer))).status_code == 403
    assert (await api.put(path, json=body)).status_code == 401
    agent = harness.token(str(uuid.uuid4()))
    for bad in (
        {"session": "x", "activity": "viewing"},
        {"session": str(uuid.uuid4()), "activity": "typing"},
        {"session": str(uuid.uuid4()), "activity": "viewing", "agent_id": "someone-else"},
    ):
        assert (await api.put(path, json=bad, headers=bearer(agent))).status_code == 422
    assert (
        await api.put("/presence/tickets/42", json=body, headers=bearer(agent))
    ).status_code == 422
    assert (await api.delete(path, headers=bearer(agent))).status_code == 422  # no session
