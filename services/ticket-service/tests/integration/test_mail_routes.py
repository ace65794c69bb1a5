"""The mail gateway's routes: only tokens the gateway minted (``via: mail-gateway``) may put
email headers on tickets; a mail is one ticket however often it is sent; only the customer and
the thread's participants may answer by mail."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from .conftest import bearer

pytestmark = pytest.mark.integration


def mail_token(dev_keys: tuple[Path, Path], email: str, via: str | None = "mail-gateway") -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": f"mail:{email}", "role": "customer", "email": email, "name": email,
        "iss": "helpdesk-local", "aud": "helpdesk", "iat": now, "exp": now + 300,
    }  # fmt: skip
    if via:
        claims["via"] = via
    return jwt.encode(claims, dev_keys[0].read_bytes(), algorithm="RS256")


def mail_body(sender: str, **extra: Any) -> dict[str, Any]:
    """A message by mail; a new ticket's body also has a ``subject``."""
    return {
        "body_html": "<p>It is on fire.</p>",
        "email": {
            "email_message_id": f"<{uuid.uuid4().hex}@customer.example>",
            "account": "support@helpdesk.local",
            "from_address": sender,
        },
        **extra,
    }


async def post(api: httpx.AsyncClient, path: str, token: str, body: dict[str, Any]) -> Any:
    key = body["email"]["email_message_id"]
    return await api.post(path, json=body, headers={**bearer(token), "Idempotency-Key": key})


async def test_portal_tokens_cannot_record_email(
    api: httpx.AsyncClient, dev_keys: tuple[Path, Path]
) -> None:
    sender = f"budi-{uuid.uuid4().hex[:6]}@customer.example"
    body = mail_body(sender, subject="Hello")
    answer = await post(api, "/mail/tickets", mail_token(dev_keys, sender, via=None), body)
    assert answer.status_code == 403
    other = await post(api, "/mail/tickets", mail_token(dev_keys, sender, via="portal"), body)
    assert other.status_code == 403


async def test_a_mail_is_one_ticket_and_only_its_thread_may_answer(
    api: httpx.AsyncClient, dev_keys: tuple[Path, Path]
) -> None:
    sender = f"budi-{uuid.uuid4().hex[:6]}@customer.example"
    colleague = f"rekan-{uuid.uuid4().hex[:6]}@customer.example"
    body = mail_body(sender, participants=[colleague], subject="Printer on fire")
    first = await post(api, "/mail/tickets", mail_token(dev_keys, sender), body)
    assert first.status_code == 201, first.text
    again = await post(api, "/mail/tickets", mail_token(dev_keys, sender), body)
    assert again.status_code == 201
    assert again.json()["ticket_id"] == first.json()["ticket_id"]
    assert again.json()["replayed"] is True
    # The first answer's ticket is the append's result, the replay's is read from the stream.
    assert again.json()["ticket"] == first.json()["ticket"]
    ticket_id = first.json()["ticket_id"]
    path = f"/mail/tickets/{ticket_id}/messages"

    stranger = f"orang-{uuid.uuid4().hex[:6]}@elsewhere.example"
    refused = await post(api, path, mail_token(dev_keys, stranger), mail_body(stranger))
    assert refused.status_code == 404
    answered_body = mail_body(colleague)
    answered = await post(api, path, mail_token(dev_keys, colleague), answered_body)
    assert answered.status_code == 201, answered.text
    assert answered.json()["ticket_id"] == ticket_id
    answered_again = await post(api, path, mail_token(dev_keys, colleague), answered_body)
    assert answered_again.json()["replayed"] is True
    assert answered_again.json()["ticket"] == answered.json()["ticket"]
    assert answered.json()["ticket"]["version"] > first.json()["ticket"]["version"]
    # Email records are staff history: the customer's own timeline is their public history only.
    agent = jwt.encode(
        {"sub": "agent-mail-test", "role": "agent", "iss": "helpdesk-local", "aud": "helpdesk",
         "iat": int(time.time()), "exp": int(time.time()) + 300},
        dev_keys[0].read_bytes(), algorithm="RS256",
    )  # fmt: skip
    timeline = await api.get(f"/tickets/{ticket_id}/timeline", headers=bearer(agent))
    types = [e["event_type"] for e in timeline.json()]
    customer_view = await api.get(
        f"/tickets/{ticket_id}/timeline", headers=bearer(mail_token(dev_keys, sender))
    )
    assert "EmailReceived" not in [e["event_type"] for e in customer_view.json()]
    assert types.count("EmailReceived") == 2
    assert types.count("TicketParticipantsAdded") == 1


async def test_delivery_states_of_a_batch_are_recorded_once_each(
    api: httpx.AsyncClient, dev_keys: tuple[Path, Path]
) -> None:
    sender = f"budi-{uuid.uuid4().hex[:6]}@customer.example"
    opened = await post(
        api, "/mail/tickets", mail_token(dev_keys, sender), mail_body(sender, subject="Hi")
    )
    ticket_id = opened.json()["ticket_id"]
    gateway = jwt.encode(
        {"sub": "mail-gateway", "role": "agent", "via": "mail-gateway", "iss": "helpdesk-local",
         "aud": "helpdesk", "iat": int(time.time()), "exp": int(time.time()) + 300},
        dev_keys[0].read_bytes(), algorithm="RS256",
    )  # fmt: skip

    def item(ticket: str, state: str, message_id: str) -> dict[str, Any]:
        return {
            "ticket_id": ticket, "idempotency_key": f"delivery-{message_id}-{state}",
            "email_message_id": message_id, "state": state, "account": "support@helpdesk.local",
            "to": [sender.upper()], "subject": "Re: [#1] Hi", "automated": True,
        }  # fmt: skip

    ack = f"<{uuid.uuid4().hex}@helpdesk.local>"
    reply = f"<{uuid.uuid4().hex}@helpdesk.local>"
    nowhere = str(uuid.uuid4())
    items = [
        item(ticket_id, "sent", ack),
        item(nowhere, "sent", ack),
        item(ticket_id, "failed", reply),
    ]
    first = await api.post("/mail/deliveries", json={"items": items}, headers=bearer(gateway))
    assert first.status_code == 202, first.text
    assert [(i["recorded"], i["found"]) for i in first.json()["items"]] == [
        (True, True), (False, False), (True, True),
    ]  # fmt: skip
    # The batch again, and one of its records alone: nothing new.
    again = await api.post("/mail/deliveries", json={"items": items}, headers=bearer(gateway))
    assert [i["recorded"] for i in again.json()["items"]] == [False, False, False]
    alone = await api.post("/mail/deliveries", json={"items": items[:1]}, headers=bearer(gateway))
    assert alone.status_code == 202, alone.text
    assert alone.json()["items"] == [{"ticket_id": ticket_id, "recorded": False, "found": True}]

    timeline = await api.get(f"/tickets/{ticket_id}/timeline", headers=bearer(gateway))
    recorded = [e["data"] for e in timeline.json() if e["event_type"] == "EmailDeliveryRecorded"]
    assert sorted((d["email_message_id"], d["state"]) for d in recorded) == sorted(
        [(ack, "sent"), (reply, "failed")]
    )
    assert all(d["to"] == [sender] for d in recorded)
    bad = await api.post("/mail/deliveries", json={"items": []}, headers=bearer(gateway))
    assert bad.status_code == 422
    portal = await api.post(
        "/mail/deliveries", json={"items": items}, headers=bearer(mail_token(dev_keys, sender))
    )
    assert portal.status_code in (403, 404)


async def test_only_staff_write_an_internal_note_by_mail(
    api: httpx.AsyncClient, dev_keys: tuple[Path, Path]
) -> None:
    """An agent's answer to a notification about an internal note (issue #14) is an internal
    note: the customer never reads it; a customer token cannot write one."""
    sender = f"budi-{uuid.uuid4().hex[:6]}@customer.example"
    opened = await post(
        api, "/mail/tickets", mail_token(dev_keys, sender), mail_body(sender, subject="Hi")
    )
    ticket_id = opened.json()["ticket_id"]
    path = f"/mail/tickets/{ticket_id}/messages"
    refused = await post(
        api, path, mail_token(dev_keys, sender), mail_body(sender, visibility="internal")
    )
    assert refused.status_code == 403, refused.text
    agent_email = f"agen-{uuid.uuid4().hex[:6]}@helpdesk.example"
    agent = jwt.encode(
        {"sub": str(uuid.uuid4()), "role": "agent", "via": "mail-gateway", "email": agent_email,
         "name": "Agen", "iss": "helpdesk-local", "aud": "helpdesk",
         "iat": int(time.time()), "exp": int(time.time()) + 300},
        dev_keys[0].read_bytes(), algorithm="RS256",
    )  # fmt: skip
    note_body = mail_body(agent_email, visibility="internal")
    note_body["body_html"] = "<p>Between us: the printer is beyond repair.</p>"
    noted = await post(api, path, agent, note_body)
    assert noted.status_code == 201, noted.text
    timeline = await api.get(f"/tickets/{ticket_id}/timeline", headers=bearer(agent))
    added = [e for e in timeline.json() if e["event_type"] == "MessageAdded"]
    assert [m["data"]["visibility"] for m in added] == ["public", "internal"]
    customer_view = await api.get(
        f"/tickets/{ticket_id}/timeline", headers=bearer(mail_token(dev_keys, sender))
    )
    assert "beyond repair" not in customer_view.text
    bad = await post(api, path, agent, mail_body(agent_email, visibility="secret"))
    assert bad.status_code == 422
