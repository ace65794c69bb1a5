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


def gateway_token(dev_keys: tuple[Path, Path], subject: str = "mail-gateway") -> str:
    """The gateway's own staff token (``subject``: another staff token the gateway minted)."""
    now = int(time.time())
    claims = {
        "sub": subject, "role": "agent", "via": "mail-gateway", "iss": "helpdesk-local",
        "aud": "helpdesk", "iat": now, "exp": now + 300,
    }  # fmt: skip
    return jwt.encode(claims, dev_keys[0].read_bytes(), algorithm="RS256")


async def test_a_batch_of_mails_answers_each_as_the_single_routes_and_changes_nothing_twice(
    api: httpx.AsyncClient, dev_keys: tuple[Path, Path]
) -> None:
    """``POST /mail/tickets/batch``: new tickets and messages of many senders in one request
    of the gateway's own token; each item as its single route would answer it (a stranger's
    message refused 404, the rest go on), one sender's in order, and the batch sent again
    changes nothing."""
    gateway = gateway_token(dev_keys)
    senders = [f"batch-{i}-{uuid.uuid4().hex[:6]}@customer.example" for i in range(3)]
    opened = await post(
        api, "/mail/tickets", mail_token(dev_keys, senders[0]), mail_body(senders[0], subject="Old")
    )
    old_ticket = opened.json()["ticket_id"]
    stranger = f"orang-{uuid.uuid4().hex[:6]}@elsewhere.example"

    def item(body: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return body | {"idempotency_key": f"key-{body['email']['email_message_id']}"} | extra

    new_one = item(mail_body(senders[1], subject="Printer on fire"))
    answer_to_old = item(mail_body(senders[0]), ticket_id=old_ticket)
    not_theirs = item(mail_body(stranger), ticket_id=old_ticket)
    second_new = item(mail_body(senders[2], subject="Scanner too", participants=[stranger]))
    later_of_same = item(mail_body(senders[1], subject="And the fax"))
    items = [new_one, answer_to_old, not_theirs, second_new, later_of_same]

    first = await api.post("/mail/tickets/batch", json={"items": items}, headers=bearer(gateway))
    assert first.status_code == 200, first.text
    answers = first.json()["items"]
    assert [a["status"] for a in answers] == [201, 201, 404, 201, 201]
    assert answers[2]["outcome"] is None and answers[2]["detail"]
    created = [a["outcome"] for a in answers if a["outcome"] and a["outcome"]["created"]]
    assert len(created) == 3
    assert answers[1]["outcome"]["ticket_id"] == old_ticket
    assert answers[1]["outcome"]["created"] is False
    assert answers[0]["outcome"]["ticket"]["requester_email"] == senders[1]
    assert answers[0]["outcome"]["ticket"]["channel"] == "email"
    # One sender's mails land in the order given.
    assert answers[0]["outcome"]["ticket"]["number"] < answers[4]["outcome"]["ticket"]["number"]

    # A mail of the batch through the single route with its key, and the batch again: nothing
    # new.
    alone = dict(new_one)
    key = alone.pop("idempotency_key")
    replay_alone = await api.post(
        "/mail/tickets",
        json=alone,
        headers={**bearer(mail_token(dev_keys, senders[1])), "Idempotency-Key": key},
    )
    assert replay_alone.status_code == 201, replay_alone.text
    assert replay_alone.json()["ticket_id"] == answers[0]["outcome"]["ticket_id"]
    assert replay_alone.json()["replayed"] is True
    again = await api.post("/mail/tickets/batch", json={"items": items}, headers=bearer(gateway))
    assert [a["status"] for a in again.json()["items"]] == [201, 201, 404, 201, 201]
    assert all(a["outcome"]["replayed"] for a in again.json()["items"] if a["outcome"])
    assert [a["outcome"]["ticket_id"] for a in again.json()["items"] if a["outcome"]] == [
        a["outcome"]["ticket_id"] for a in answers if a["outcome"]
    ]
    timeline = await api.get(f"/tickets/{old_ticket}/timeline", headers=bearer(gateway))
    assert [e["event_type"] for e in timeline.json()].count("EmailReceived") == 2
    for answer, subject in ((answers[0], "Printer on fire"), (answers[4], "And the fax")):
        ticket_id = answer["outcome"]["ticket_id"]
        mine = await api.get(
            f"/tickets/{ticket_id}", headers=bearer(mail_token(dev_keys, senders[1]))
        )
        assert mine.status_code == 200, mine.text
        assert mine.json()["subject"] == subject


async def test_only_the_gateways_own_token_sends_a_batch(
    api: httpx.AsyncClient, dev_keys: tuple[Path, Path]
) -> None:
    sender = f"budi-{uuid.uuid4().hex[:6]}@customer.example"
    body = mail_body(sender, subject="Hi") | {"idempotency_key": f"key-{uuid.uuid4()}"}
    for token in (
        mail_token(dev_keys, sender),  # the sender's own customer token
        gateway_token(dev_keys, subject=str(uuid.uuid4())),  # an agent's token the gateway minted
        mail_token(dev_keys, sender, via=None),  # a portal token
    ):
        refused = await api.post(
            "/mail/tickets/batch", json={"items": [body]}, headers=bearer(token)
        )
        assert refused.status_code == 403, refused.text
    no_subject = {k: v for k, v in body.items() if k != "subject"}
    bad = await api.post(
        "/mail/tickets/batch", json={"items": [no_subject]}, headers=bearer(gateway_token(dev_keys))
    )
    assert bad.status_code == 422
    empty = await api.post(
        "/mail/tickets/batch", json={"items": []}, headers=bearer(gateway_token(dev_keys))
    )
    assert empty.status_code == 422
