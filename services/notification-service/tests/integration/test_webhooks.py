"""Webhooks to a real HTTP receiver: signed (verified with the ``standardwebhooks`` package),
every event once and in order per ticket, retried while the receiver fails (honouring its
Retry-After), a delivery log and redelivery, 410 disables, private targets refused."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from standardwebhooks import Webhook

from helpdesk_events import (
    PriorityChanged,
    StatusChanged,
    TicketAssigned,
    TicketCreated,
)
from notification_service.adapters.database import create_pool
from notification_service.domain.webhooks import TargetRefused
from notification_service.service_layer.webhooks import Webhooks

from .conftest import Harness, Receiver, bearer, eventually


async def subscribe(
    api: httpx.AsyncClient, harness: Harness, receiver: Receiver, **extra: object
) -> dict[str, object]:
    manager = harness.token(f"manager-{uuid.uuid4().hex[:6]}", "manager")
    created = await api.post(
        "/webhooks",
        headers=bearer(manager),
        json={
            "url": receiver.url,
            "event_types": ["TicketCreated", "TicketAssigned", "StatusChanged", "PriorityChanged"],
            **extra,
        },
    )
    assert created.status_code == 201, created.text
    body: dict[str, object] = created.json()
    body["manager"] = manager
    return body


def verified(secret: str, headers: dict[str, str], body: bytes) -> dict[str, object]:
    payload: dict[str, object] = Webhook(secret).verify(body, headers)
    return payload


async def test_signed_deliveries_arrive_once_in_order_per_ticket_despite_failures(
    api: httpx.AsyncClient, harness: Harness, receiver: Receiver
) -> None:
    # Other tests' tickets reach the shared Kafka too: the condition keeps to this test's.
    subject = f"Hook me {uuid.uuid4().hex[:8]}"
    hook = await subscribe(
        api, harness, receiver, condition=f'priority != "Spam" && subject == "{subject}"'
    )
    secret = str(hook["secret"])
    assert secret.startswith("whsec_")
    receiver.failures = 6  # the receiver is down for a while; it asks to come back in 1 s
    agent = await harness.agent("Hooked Agent")
    tickets = [uuid.uuid4() for _ in range(3)]
    sent: dict[uuid.UUID, list[str]] = {t: [] for t in tickets}
    for ticket in tickets:
        envelope = await harness.emit(
            TicketCreated(subject=subject, channel="web", status="New", priority="Low"), ticket
        )
        sent[ticket].append(str(envelope.event_id))
    for step in range(3):  # interleaved: ticket events of several tickets at once
        for ticket in tickets:
            event = (
                TicketAssigned(assignee_id=uuid.UUID(agent.id))
                if step == 0
                else PriorityChanged(from_priority="Low", to_priority=f"P{step}")
                if step == 1
                else StatusChanged(from_status="New", to_status="Open")
            )
            sent[ticket].append(str((await harness.emit(event, ticket)).event_id))
    expected = sum(len(ids) for ids in sent.values())

    async def all_accepted() -> bool:
        return len(receiver.accepted) >= expected

    await eventually(all_accepted, within=120)
    await asyncio.sleep(1)  # anything extra would show up now
    # Each event exactly once: a delivered message is never sent again (#16).
    assert len(receiver.accepted) == expected
    assert len({headers["webhook-id"] for headers, _ in receiver.accepted}) == expected

    got: dict[uuid.UUID, list[str]] = {t: [] for t in tickets}
    for headers, body in receiver.accepted:
        envelope = verified(secret, headers, body)
        got[uuid.UUID(str(envelope["stream_id"]))].append(str(envelope["event_id"]))
        assert headers["content-type"] == "application/json"
    assert got == sent  # every event, in order, per ticket
    webhook_ids = [headers["webhook-id"] for headers, _ in receiver.accepted]
    # A tampered body does not verify.
    headers, body = receiver.accepted[0]
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify(body.replace(b"Hook me", b"Hack me"), headers)
    # The failed attempts were retried with the same webhook-id.
    failed_ids = {h["webhook-id"] for h, _ in receiver.received[:6]}
    assert failed_ids <= set(webhook_ids)

    log = await api.get(
        f"/webhooks/{hook['id']}/deliveries?limit=200", headers=bearer(str(hook["manager"]))
    )
    assert log.status_code == 200
    deliveries = log.json()
    assert len(deliveries) == expected
    assert all(d["status"] == "delivered" for d in deliveries)
    retried = [
        d for d in deliveries if d["attempts"] > 1 and d["attempt_log"][0]["status_code"] == 503
    ]
    assert retried, "some deliveries needed more than one attempt"
    attempt = retried[0]["attempt_log"][0]
    assert attempt["response_ms"] >= 0
    assert retried[0]["attempt_log"][-1]["status_code"] == 204

    # Manual redelivery: the same message again, same webhook-id.
    first = deliveries[-1]
    again = await api.post(
        f"/webhooks/{hook['id']}/deliveries/{first['id']}/redeliver",
        headers=bearer(str(hook["manager"])),
    )
    assert again.status_code == 202
    before = len(receiver.accepted)

    async def redelivered() -> bool:
        return len(receiver.accepted) > before

    await eventually(redelivered)
    assert receiver.accepted[-1][0]["webhook-id"] == first["id"]


async def test_gone_disables_the_subscription_and_rotation_keeps_old_receivers(
    api: httpx.AsyncClient, harness: Harness, receiver: Receiver
) -> None:
    hook = await subscribe(api, harness, receiver, condition='priority == "Urgent"')
    manager = str(hook["manager"])
    rotated = await api.post(f"/webhooks/{hook['id']}/rotate-secret", headers=bearer(manager))
    assert rotated.status_code == 200
    new_secret, old_secret = rotated.json()["secret"], str(hook["secret"])
    assert new_secret != old_secret

    await harness.emit(
        TicketCreated(subject="Low one", channel="web", status="New", priority="Low"),
        uuid.uuid4(),
    )
    urgent = await harness.emit(
        TicketCreated(subject="Urgent one", channel="web", status="New", priority="Urgent"),
        uuid.uuid4(),
    )

    async def one() -> bool:
        return len(receiver.accepted) >= 1

    await eventually(one)
    headers, body = receiver.accepted[0]
    # Signed with both secrets during the overlap: either verifies.
    assert verified(new_secret, headers, body)["event_id"] == str(urgent.event_id)
    assert verified(old_secret, headers, body)["event_id"] == str(urgent.event_id)

    receiver.failures, receiver.fail_with, receiver.retry_after = 1, 410, None
    await harness.emit(StatusChanged(from_status="New", to_status="Open"), urgent.stream_id)

    async def disabled() -> bool:
        got = (await api.get(f"/webhooks/{hook['id']}", headers=bearer(manager))).json()
        return got["enabled"] is False

    await eventually(disabled)
    got = (await api.get(f"/webhooks/{hook['id']}", headers=bearer(manager))).json()
    assert "410" in got["disabled_reason"]
    assert len(receiver.accepted) == 1  # the low-priority ticket never matched


async def test_managing_webhooks(api: httpx.AsyncClient, harness: Harness) -> None:
    manager = harness.token("manager-admin", "manager")
    agent = harness.token("an-agent", "agent")
    body = {"url": "https://hooks.example.com/x", "event_types": ["SlaBreached"]}
    assert (await api.post("/webhooks", headers=bearer(agent), json=body)).status_code == 403
    bad_type = await api.post(
        "/webhooks", headers=bearer(manager), json={**body, "event_types": ["Nope"]}
    )
    assert bad_type.status_code == 422 and "Nope" in bad_type.json()["detail"]
    bad_condition = await api.post(
        "/webhooks", headers=bearer(manager), json={**body, "condition": "priorty == 'x'"}
    )
    assert bad_condition.status_code == 422 and "priorty" in bad_condition.json()["detail"]
    not_http = await api.post(
        "/webhooks", headers=bearer(manager), json={**body, "url": "ftp://example.com/x"}
    )
    assert not_http.status_code == 422
    missing = await api.get(f"/webhooks/{uuid.uuid4()}", headers=bearer(manager))
    assert missing.status_code == 404

    made = await api.post(
        "/webhooks",
        headers=bearer(manager),
        json={**body, "url": "http://127.0.0.1:9/x", "description": "on-call"},
    )
    assert made.status_code == 201
    hook_id = made.json()["id"]
    listed = (await api.get("/webhooks", headers=bearer(manager))).json()
    assert hook_id in [h["id"] for h in listed]
    assert all("secret" not in h for h in listed)
    patched = await api.patch(
        f"/webhooks/{hook_id}",
        headers=bearer(manager),
        json={"event_types": ["SlaBreached", "SlaWarning"], "enabled": False},
    )
    assert patched.status_code == 200
    assert patched.json()["event_types"] == ["SlaBreached", "SlaWarning"]
    assert patched.json()["enabled"] is False
    assert (await api.delete(f"/webhooks/{hook_id}", headers=bearer(manager))).status_code == 204
    assert (await api.delete(f"/webhooks/{hook_id}", headers=bearer(manager))).status_code == 404


async def test_private_and_loopback_targets_are_refused_unless_allowed(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        strict = Webhooks(pool, allow_private=False, overlap=timedelta(hours=1))
        for url in (
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://10.0.0.5/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/hook",
        ):
            with pytest.raises(TargetRefused):
                await strict.create(
                    "m", url=url, event_types=["*"], condition=None, description=None
                )
        allowed = Webhooks(pool, allow_private=True, overlap=timedelta(hours=1))
        made = await allowed.create(
            "m", url="http://127.0.0.1:9/hook", event_types=["*"], condition=None, description=None
        )
        assert made["url"] == "http://127.0.0.1:9/hook" and made["enabled"] is True
        await allowed.delete(made["id"])
    finally:
        await pool.close()
