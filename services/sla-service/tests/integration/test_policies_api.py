"""The SLA policies API on the real Kafka: policies chosen per ticket, kept as events.

The worker runs as a subprocess (``python -m sla_service worker``). The policies topic is shared
by every test of the session (one stream), so each test reads the version first and its
policies match only tickets tagged with the test's own tag.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from helpdesk_devstack.procs import free_port
from helpdesk_devstack.tokens import mint_token
from helpdesk_devstack.topic_reader import read_topic
from helpdesk_devstack.worker_process import WorkerProcess
from helpdesk_events import (
    Actor,
    ActorKind,
    DomainEvent,
    EventEnvelope,
    StatusCategory,
    TicketCreated,
    decode_envelope,
    encode_envelope,
    kafka_headers,
)
from helpdesk_events.tickets import TagsChanged
from helpdesk_events.topics import SLA, TICKETS

pytestmark = pytest.mark.integration

#: The built-in default of the worker: 2 h / 8 h around the clock.
BUILT_IN = {
    "name": "Built-in",
    "default_priority": "Medium",
    "targets": {
        "Urgent": {"first_response": 2 * 3600, "resolution": 8 * 3600},
        "Medium": {"first_response": 4 * 3600, "resolution": 16 * 3600},
    },
}


def worker_process(bootstrap: str, app_id: str, data_dir: Path, public_key: Path) -> WorkerProcess:
    """``python -m sla_service worker`` on a free port, configured for these tests."""
    port = free_port()
    env = {
        **os.environ,
        "HELPDESK_KAFKA_BOOTSTRAP": bootstrap,
        "HELPDESK_SLA_APP_ID": app_id,
        "HELPDESK_SLA_HTTP_PORT": str(port),
        "HELPDESK_SLA_DATA_DIR": str(data_dir / app_id),
        "HELPDESK_SLA_CALENDAR": '{"time_zone": "UTC", "always_open": true}',
        "HELPDESK_SLA_POLICY": orjson.dumps(BUILT_IN).decode(),
        "HELPDESK_SLA_SESSION_TIMEOUT": "6",
        "HELPDESK_SLA_TIMER_INTERVAL": "0.1",
        "HELPDESK_JWT_PUBLIC_KEY_FILE": str(public_key),
    }
    return WorkerProcess(
        "sla_service", env, data_dir / f"worker-{app_id}-{time.monotonic_ns()}.log", port
    )


@pytest.fixture(scope="module")
def worker_factory(
    kafka_bootstrap: str,
    tmp_path_factory: pytest.TempPathFactory,
    dev_keys: tuple[Path, Path],
) -> Iterator[Callable[[str], WorkerProcess]]:
    started: list[WorkerProcess] = []
    base = tmp_path_factory.mktemp("sla-policies")

    def make(app_id: str) -> WorkerProcess:
        worker = worker_process(kafka_bootstrap, app_id, base, dev_keys[1])
        started.append(worker)
        return worker

    yield make
    for worker in started:
        worker.stop()


@pytest.fixture(scope="module")
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


def bearer(dev_keys: tuple[Path, Path], role: str) -> dict[str, str]:
    token = mint_token(dev_keys[0].read_bytes(), role, f"{role}-1", timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


class Ticket:
    """Writes one ticket's events, numbering its stream versions."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.id = uuid.uuid4()
        self.version = 0
        self.producer = producer

    async def emit(self, event: DomainEvent, at: datetime) -> EventEnvelope:
        self.version += 1
        envelope = EventEnvelope(
            event_id=uuid.uuid4(),
            event_type=event.event_type,
            schema_version=event.schema_version,
            stream_id=self.id,
            stream_type="ticket",
            stream_version=self.version,
            occurred_at=at,
            actor=Actor(kind=ActorKind.AGENT, id="agent-1"),
            correlation_id=self.id,
            data=event.model_dump(mode="json"),
        )
        await self.producer.send_and_wait(
            TICKETS,
            encode_envelope(envelope),
            key=str(self.id).encode(),
            headers=kafka_headers(envelope, None),
        )
        return envelope

    async def create(self, priority: str, tags: tuple[str, ...], at: datetime) -> None:
        await self.emit(
            TicketCreated(
                subject="VPN down",
                channel="email",
                status="New",
                status_category=StatusCategory.NEW,
                priority=priority,
                tags=tags,
            ),
            at,
        )


async def targets_sets(
    bootstrap: str, ticket: Ticket, count: int = 1, max_wait: float = 30.0
) -> list[dict[str, Any]]:
    """The ``data`` of the ticket's ``SlaTargetsSet`` events, once there are ``count``.

    Every worker of the module follows every ticket, so an event may be there twice (same id).
    """

    def mine(records: list[Any]) -> list[dict[str, Any]]:
        key = str(ticket.id).encode()
        envelopes = [decode_envelope(r.value) for r in records if r.key == key and r.value]
        unique = {e.event_id: e for e in envelopes if e.event_type == "SlaTargetsSet"}
        return [e.data for e in sorted(unique.values(), key=lambda e: e.stream_version)]

    records = await read_topic(bootstrap, SLA, lambda rs: len(mine(rs)) >= count, max_wait=max_wait)
    found = mine(records)
    assert len(found) >= count, found
    return found


def dues(targets_set: dict[str, Any]) -> dict[str, datetime]:
    return {t["metric"]: datetime.fromisoformat(t["due_at"]) for t in targets_set["targets"]}


def vip_policy(tag: str) -> dict[str, Any]:
    return {
        "name": "VIP customers",
        "position": 10,
        "condition": f'priority == "Urgent" && "{tag}" in tags',
        "calendar": {"time_zone": "UTC", "always_open": True},
        "targets": {"Urgent": {"first_response": "PT10M", "resolution": "PT1H"}},
        "default_priority": "Urgent",
    }


async def version_of(client: httpx.AsyncClient) -> int:
    listed = await client.get("/policies")
    assert listed.status_code == 200, listed.text
    return int(listed.headers["ETag"].strip('"'))


@pytest.fixture(scope="module")
async def worker(worker_factory: Callable[[str], WorkerProcess]) -> AsyncIterator[WorkerProcess]:
    process = worker_factory(f"sla-policies-{uuid.uuid4().hex[:8]}")
    process.start()
    await process.wait_ready()
    yield process
    process.stop()


async def test_policies_api_refuses_what_it_must(
    worker: WorkerProcess, dev_keys: tuple[Path, Path]
) -> None:
    policy_id = f"vip-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=worker.url) as anonymous:
        assert (await anonymous.get("/policies")).status_code == 401
        agent = await anonymous.get("/policies", headers=bearer(dev_keys, "agent"))
        assert agent.status_code == 403
        assert "only managers" in agent.json()["detail"]
        spec = (await anonymous.get("/openapi.json")).json()
        assert {"/policies", "/policies/{policy_id}"} <= set(spec["paths"])

    async with httpx.AsyncClient(
        base_url=worker.url, headers=bearer(dev_keys, "manager")
    ) as client:
        listed = await client.get("/policies")
        assert listed.status_code == 200
        body = listed.json()
        assert listed.headers["ETag"] == f'"{body["version"]}"'
        default = body["policies"][-1]
        assert default["is_default"] is True
        if default["policy_id"] == "default":  # unless another test saved a default
            assert default["saved"] is False
            assert default["name"] == "Built-in"
        version = body["version"]
        policy = vip_policy("vip")

        missing = await client.put(f"/policies/{policy_id}", json=policy)
        assert missing.status_code == 428
        malformed = await client.put(
            f"/policies/{policy_id}", json=policy, headers={"If-Match": "latest"}
        )
        assert malformed.status_code == 400
        bad = await client.put(
            f"/policies/{policy_id}",
            json={**policy, "condition": 'prority == "Urgent"'},
            headers={"If-Match": f'"{version}"'},
        )
        assert bad.status_code == 422
        assert "unknown field 'prority' (did you mean 'priority'?)" in bad.json()["detail"]
        invalid = await client.put(
            f"/policies/{policy_id}",
            json={**policy, "targets": {}},
            headers={"If-Match": f'"{version}"'},
        )
        assert invalid.status_code == 422
        assert "targets" in invalid.json()["detail"]
        assert await version_of(client) == version  # nothing refused was written

        saved = await client.put(
            f"/policies/{policy_id}", json=policy, headers={"If-Match": f'"{version}"'}
        )
        assert saved.status_code == 200, saved.text
        assert saved.headers["ETag"] == f'"{version + 1}"'
        ids = [p["policy_id"] for p in saved.json()["policies"]]
        assert policy_id in ids
        stale = await client.put(
            f"/policies/{policy_id}", json=policy, headers={"If-Match": f'"{version}"'}
        )
        assert stale.status_code == 409

        one = await client.get(f"/policies/{policy_id}")
        assert one.status_code == 200
        assert one.json()["condition"] == policy["condition"]
        assert one.json()["saved"] is True
        assert (await client.get("/policies/nope")).status_code == 404

        current = {"If-Match": f'"{version + 1}"'}
        second_default = await client.put(
            f"/policies/{policy_id}-d",
            json={**policy, "condition": None, "is_default": True},
            headers=current,
        )
        if default["policy_id"] != "default":  # a saved default exists: a second is refused
            assert second_default.status_code == 422
        else:  # make it the default, then it cannot be deleted; hand the role back
            assert second_default.status_code == 200, second_default.text
            current = {"If-Match": f'"{version + 2}"'}
            refused = await client.delete(f"/policies/{policy_id}-d", headers=current)
            assert refused.status_code == 422
            assert "is the default and cannot be deleted" in refused.json()["detail"]
            given_up = await client.put(
                f"/policies/{policy_id}-d", json={**policy, "is_default": False}, headers=current
            )
            assert given_up.status_code == 200, given_up.text
            current = {"If-Match": f'"{version + 3}"'}
            deleted = await client.delete(f"/policies/{policy_id}-d", headers=current)
            assert deleted.status_code == 200, deleted.text
            current = {"If-Match": deleted.headers["ETag"]}
        built_in = await client.delete("/policies/default", headers=current)
        assert built_in.status_code == 422
        assert "cannot be deleted" in built_in.json()["detail"]
        assert (await client.delete("/policies/nope", headers=current)).status_code == 404


async def test_each_ticket_gets_its_policy_and_policies_survive_a_restart(
    worker_factory: Callable[[str], WorkerProcess],
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    dev_keys: tuple[Path, Path],
) -> None:
    tag = f"vip-{uuid.uuid4().hex[:8]}"
    policy_id = f"policy-{tag}"
    app_id = f"sla-policies-{uuid.uuid4().hex[:8]}"
    first = worker_factory(app_id)
    first.start()
    await first.wait_ready()
    headers = bearer(dev_keys, "manager")
    async with httpx.AsyncClient(base_url=first.url, headers=headers) as client:
        version = await version_of(client)
        saved = await client.put(
            f"/policies/{policy_id}", json=vip_policy(tag), headers={"If-Match": f'"{version}"'}
        )
        assert saved.status_code == 200, saved.text

    # Dated ahead, so that no timer fires while the test runs.
    t0 = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    vip, plain, other_priority = Ticket(producer), Ticket(producer), Ticket(producer)
    await vip.create("Urgent", (tag, "vpn"), t0)
    await plain.create("Urgent", ("vpn",), t0)
    await other_priority.create("Medium", (tag,), t0)

    (vip_set,) = await targets_sets(kafka_bootstrap, vip)
    assert vip_set["policy"] == policy_id
    assert dues(vip_set) == {
        "first_response": t0 + timedelta(minutes=10),
        "resolution": t0 + timedelta(hours=1),
    }
    (other_set,) = await targets_sets(kafka_bootstrap, other_priority)
    assert other_set["policy"] != policy_id
    (plain_set,) = await targets_sets(kafka_bootstrap, plain)
    assert plain_set["policy"] != policy_id
    if plain_set["policy"] == "default":  # the built-in default (no other test saved one)
        assert dues(plain_set)["resolution"] == t0 + timedelta(hours=8)

    # Tagging the plain ticket 30 min in switches it, keeping the 30 min used.
    await plain.emit(TagsChanged(added=(tag,)), t0 + timedelta(minutes=30))
    switched = (await targets_sets(kafka_bootstrap, plain, count=2))[1]
    assert switched["policy"] == policy_id
    resolution = next(t for t in switched["targets"] if t["metric"] == "resolution")
    assert resolution["elapsed_seconds"] == 30 * 60
    assert datetime.fromisoformat(resolution["due_at"]) == t0 + timedelta(hours=1)

    first.stop()
    second = worker_factory(app_id)
    second.start()
    await second.wait_ready()
    async with httpx.AsyncClient(base_url=second.url, headers=headers) as client:
        listed = (await client.get("/policies")).json()
        assert policy_id in [p["policy_id"] for p in listed["policies"]]
        late = Ticket(producer)
        await late.create("Urgent", (tag,), datetime.now(UTC))
        (late_set,) = await targets_sets(kafka_bootstrap, late)
        assert late_set["policy"] == policy_id
        # The state of the tickets came back too.
        sla = await client.get(f"/tickets/{vip.id}/sla")
        assert sla.status_code == 200
        assert sla.json()["policy"] == policy_id

        # Deleting the policy: its tickets fall back to the default at once (a timer tick),
        # keeping the business time used.
        deleted = await client.delete(
            f"/policies/{policy_id}", headers={"If-Match": f'"{listed["version"]}"'}
        )
        assert deleted.status_code == 200, deleted.text
        fallback = (await targets_sets(kafka_bootstrap, late, count=2))[1]
        assert fallback["policy"] != policy_id
        resolution = next(t for t in fallback["targets"] if t["metric"] == "resolution")
        assert resolution["elapsed_seconds"] > 0
        # (Another worker of the module may have published it first: wait for this one's.)
        deadline = time.monotonic() + 30
        while (await client.get(f"/tickets/{late.id}/sla")).json()["policy"] == policy_id:
            assert time.monotonic() < deadline, "the ticket kept the deleted policy"
            await asyncio.sleep(0.2)
        fell_back = await client.get(f"/tickets/{late.id}/sla")
        assert fell_back.json()["policy"] == fallback["policy"]


async def test_a_draft_is_previewed_in_its_calendar_and_checked_as_a_save_is(
    worker: WorkerProcess, dev_keys: tuple[Path, Path]
) -> None:
    """``POST /policies/{id}/preview``: the form's "would be due" line and its check as the
    manager types; nothing is written."""
    policy_id = f"office-{uuid.uuid4().hex[:8]}"
    office = {
        "name": "Office hours",
        "position": 20,
        "condition": f'priority == "High" && "{policy_id}" in tags',
        "calendar": {
            "time_zone": "Asia/Jakarta",
            "weekly_hours": {
                day: [{"start": "08:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]
                for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
            },
            "holidays": [{"kind": "date", "on": "2030-01-01"}],
        },
        "targets": {"High": {"first_response": "PT1H", "next_response": "PT2H"}},
        "default_priority": "High",
    }
    path = f"/policies/{policy_id}/preview"
    async with httpx.AsyncClient(base_url=worker.url) as anonymous:
        assert (await anonymous.post(path, json=office)).status_code == 401
        agent = await anonymous.post(path, json=office, headers=bearer(dev_keys, "agent"))
        assert agent.status_code == 403
        assert (
            path.replace(policy_id, "{policy_id}")
            in (await anonymous.get("/openapi.json")).json()["paths"]
        )

    async with httpx.AsyncClient(
        base_url=worker.url, headers=bearer(dev_keys, "manager")
    ) as client:
        version = await version_of(client)
        before = datetime.now(UTC)
        previewed = await client.post(path, json=office)
        assert previewed.status_code == 200, previewed.text
        body = previewed.json()
        assert body["time_zone"] == "Asia/Jakarta"
        created = datetime.fromisoformat(body["created_at"])
        assert before <= created <= datetime.now(UTC)
        [high] = body["priorities"]
        assert high["priority"] == "High"
        assert high["target_seconds"] == {
            "first_response": 3600,
            "next_response": 7200,
            "resolution": None,
        }
        due = datetime.fromisoformat(high["due_at"]["first_response"])
        assert high["due_at"]["resolution"] is None
        # One business hour after creation, in working time in Jakarta: Monday-Friday, 08-12 or
        # 13-17 (an hour that begins in a window's last minutes ends in the next one).
        local = due.astimezone(ZoneInfo("Asia/Jakarta"))
        assert local.weekday() < 5
        hour = local.time()
        assert wall_time(8) < hour <= wall_time(12) or wall_time(13) < hour <= wall_time(17)
        assert due >= created + timedelta(hours=1)

        bad = await client.post(path, json={**office, "condition": 'prority == "High"'})
        assert bad.status_code == 422
        assert "did you mean 'priority'?" in bad.json()["detail"]
        mixed = await client.post(path, json={**office, "policy_id": "another"})
        assert mixed.status_code == 422
        no_work = {**office, "calendar": {"time_zone": "UTC", "weekly_hours": {}}}
        assert (await client.post(path, json=no_work)).status_code == 422
        assert await version_of(client) == version  # a preview writes nothing
        assert (await client.get(f"/policies/{policy_id}")).status_code == 404
