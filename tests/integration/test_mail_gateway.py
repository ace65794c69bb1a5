"""The mail gateway on the real stack: customers write to the support address over SMTP
(GreenMail), the gateway reads it over IMAP IDLE and the ticket API shows the result; agents'
replies reach the customer's mailbox threaded, also when an agent answers from their own
mailbox; managers configure accounts and the quarantine."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import asyncpg
import pytest

from helpdesk_devstack import mailbox
from helpdesk_devstack.images import png
from helpdesk_devstack.topic_reader import read_topic
from helpdesk_events.topics import MAIL_ACCOUNTS

from .mail_stack import (
    MailStack,
    account_body,
    customer_mail,
    eventually,
    mail_account,
    mail_stack_fixture,
    send_raw,
    tickets_of,
)

pytestmark = pytest.mark.integration


stack = mail_stack_fixture()


def someone(name: str = "budi") -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@customer.example"


async def one_ticket(stack: MailStack, email: str) -> dict[str, Any]:
    async with stack.tickets() as client:
        found = await eventually(lambda: tickets_of(client, email))
    assert len(found) == 1, found
    return found[0]


async def opened_their_own(
    stack: MailStack, sender: str, ticket: dict[str, Any], *, messages: int = 1
) -> None:
    """``sender``'s mail opened a ticket of their own: ``ticket`` kept its ``messages``."""
    theirs = await one_ticket(stack, sender)
    assert theirs["id"] != ticket["id"]
    assert len(await conversation(stack, ticket["id"])) == messages


async def conversation(stack: MailStack, ticket_id: str) -> list[dict[str, Any]]:
    async with stack.tickets() as client:
        answer = await client.get(f"/tickets/{ticket_id}/messages")
        answer.raise_for_status()
        return answer.json()  # type: ignore[no-any-return]


async def test_a_mail_becomes_a_ticket_with_the_mail_as_its_first_message(
    stack: MailStack,
) -> None:
    sender = someone()
    mailbox.send(stack.mail, customer_mail(stack, sender, "Cannot log in", "The portal says no."))
    ticket = await one_ticket(stack, sender)
    assert ticket["subject"] == "Cannot log in"
    assert ticket["channel"] == "email"
    messages = await eventually(lambda: conversation(stack, ticket["id"]))
    assert "The portal says no." in messages[0]["body_text"]
    async with stack.tickets() as client:
        timeline = (await client.get(f"/tickets/{ticket['id']}/timeline")).json()
    received = [e for e in timeline if e["event_type"] == "EmailReceived"]
    assert received[0]["data"]["from_address"] == sender
    assert received[0]["data"]["account"] == stack.support
    # The acknowledgement reaches the customer, threaded and marked automatic.
    ack = await asyncio.to_thread(mailbox.wait_for, stack.mail, sender, timeout=30)
    assert f"[#{ticket['number']}]" in str(ack["Subject"])
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == received[0]["data"]["email_message_id"]


async def timeline(stack: MailStack, ticket_id: str) -> list[dict[str, Any]]:
    async with stack.tickets() as client:
        answer = await client.get(f"/tickets/{ticket_id}/timeline")
        answer.raise_for_status()
        return answer.json()  # type: ignore[no-any-return]


async def events_of(stack: MailStack, ticket_id: str, event_type: str) -> list[dict[str, Any]]:
    return [e for e in await timeline(stack, ticket_id) if e["event_type"] == event_type]


async def wait_messages(stack: MailStack, ticket_id: str, count: int) -> list[dict[str, Any]]:
    async def enough() -> list[dict[str, Any]] | None:
        found = await conversation(stack, ticket_id)
        return found if len(found) >= count else None

    return await eventually(enough)  # type: ignore[no-any-return]


async def opened(stack: MailStack, sender: str, subject: str, **kwargs: Any) -> dict[str, Any]:
    """Send a first mail and return its ticket (with the mail's Message-ID under `mid`)."""
    mail = customer_mail(stack, sender, subject, "First mail.", **kwargs)
    mailbox.send(stack.mail, mail)
    ticket = await one_ticket(stack, sender)
    await wait_messages(stack, ticket["id"], 1)
    return ticket | {"mid": str(mail["Message-ID"])}


async def set_status(stack: MailStack, ticket_id: str, status: str) -> None:
    async with stack.tickets() as client:
        answer = await client.post(f"/tickets/{ticket_id}/status", json={"status": status})
        assert answer.status_code == 200, answer.text


async def quarantined(stack: MailStack, predicate: Callable[[dict[str, Any]], bool]) -> Any:
    async def find() -> dict[str, Any] | None:
        async with stack.manager() as client:
            answer = await client.get("/quarantine")
            answer.raise_for_status()
            return next((q for q in answer.json() if predicate(q)), None)

    return await eventually(find)


async def test_a_reply_threads_by_in_reply_to(stack: MailStack) -> None:
    sender = someone()
    ticket = await opened(stack, sender, "Printer jam")
    reply = customer_mail(
        stack, sender, "Re: Printer jam (no token)", "Still jammed.",
        headers={"In-Reply-To": ticket["mid"]},
    )  # fmt: skip
    mailbox.send(stack.mail, reply)
    messages = await wait_messages(stack, ticket["id"], 2)
    assert "Still jammed." in messages[1]["body_text"]
    async with stack.tickets() as client:
        assert len(await tickets_of(client, sender)) == 1


async def test_a_reply_threads_by_references_alone(stack: MailStack) -> None:
    sender = someone()
    ticket = await opened(stack, sender, "VPN down")
    reply = customer_mail(
        stack, sender, "VPN", "More details.",
        headers={"References": f"<unknown@elsewhere.example> {ticket['mid']}"},
    )  # fmt: skip
    mailbox.send(stack.mail, reply)
    messages = await wait_messages(stack, ticket["id"], 2)
    assert "More details." in messages[1]["body_text"]


async def test_a_reply_threads_by_the_subject_token(stack: MailStack) -> None:
    sender = someone()
    ticket = await opened(stack, sender, "Invoice missing")
    reply = customer_mail(stack, sender, f"Re: [#{ticket['number']}] Invoice missing", "Any news?")
    mailbox.send(stack.mail, reply)
    messages = await wait_messages(stack, ticket["id"], 2)
    assert "Any news?" in messages[1]["body_text"]


async def test_a_stranger_quoting_a_ticket_number_opens_a_ticket_of_their_own(
    stack: MailStack,
) -> None:
    owner, stranger = someone("owner"), someone("stranger")
    ticket = await opened(stack, owner, "Private matter")
    mailbox.send(
        stack.mail,
        customer_mail(
            stack, stranger, f"Re: [#{ticket['number']}] Private matter", "Let me in.",
            headers={"In-Reply-To": ticket["mid"]},
        ),
    )  # fmt: skip
    await opened_their_own(stack, stranger, ticket)


async def test_cc_participants_are_recorded_and_may_answer(stack: MailStack) -> None:
    sender, colleague = someone(), someone("rekan")
    ticket = await opened(stack, sender, "Shared problem", cc=[colleague])
    added = await eventually(lambda: events_of(stack, ticket["id"], "TicketParticipantsAdded"))
    assert added[0]["data"]["addresses"] == [colleague]
    mailbox.send(
        stack.mail,
        customer_mail(stack, colleague, f"Re: [#{ticket['number']}] Shared problem", "Me too."),
    )
    messages = await wait_messages(stack, ticket["id"], 2)
    assert "Me too." in messages[1]["body_text"]
    async with stack.tickets() as client:
        assert await tickets_of(client, colleague) == []


async def test_auto_replies_never_open_or_reopen_tickets(stack: MailStack) -> None:
    robot = someone("ooo")
    mailbox.send(
        stack.mail,
        customer_mail(
            stack, robot, "Out of office", "I am away.",
            headers={"Auto-Submitted": "auto-replied"},
        ),
    )  # fmt: skip
    sender = someone()
    ticket = await opened(stack, sender, "Password reset")
    await set_status(stack, ticket["id"], "Solved")
    mailbox.send(
        stack.mail,
        customer_mail(
            stack, sender, f"Re: [#{ticket['number']}] Password reset", "I am on leave.",
            headers={"Auto-Submitted": "auto-replied", "In-Reply-To": ticket["mid"]},
        ),
    )  # fmt: skip
    notes = await eventually(lambda: events_of(stack, ticket["id"], "EmailReceived"))
    await eventually(lambda: len(notes) >= 1)

    async def noted() -> list[dict[str, Any]]:
        found = await events_of(stack, ticket["id"], "MessageAdded")
        return [m for m in found if m["data"]["automated"] and m["data"]["channel"] == "email"]

    note = (await eventually(noted))[0]
    assert note["data"]["visibility"] == "internal"
    async with stack.tickets() as client:
        current = (await client.get(f"/tickets/{ticket['id']}")).json()
        assert current["status"] == "Solved"
        assert await tickets_of(client, robot) == []


async def test_newsletters_never_become_tickets(stack: MailStack) -> None:
    sender = someone("news")
    mailbox.send(
        stack.mail,
        customer_mail(
            stack, sender, "Our December deals", "Buy now.",
            headers={"List-Id": "<deals.shop.example>", "Precedence": "bulk"},
        ),
    )  # fmt: skip
    marker = someone("marker")  # a later mail: once it is a ticket, the newsletter was read
    await opened(stack, marker, "Marker")
    async with stack.tickets() as client:
        assert await tickets_of(client, sender) == []


async def test_the_same_mail_twice_makes_one_ticket(stack: MailStack) -> None:
    sender = someone()
    mail = customer_mail(stack, sender, "Twice", "Sent twice by a flaky client.")
    mailbox.send(stack.mail, mail)
    mailbox.send(stack.mail, mail)
    ticket = await one_ticket(stack, sender)
    marker = someone("marker")
    await opened(stack, marker, "Marker")
    await asyncio.sleep(1)
    async with stack.tickets() as client:
        assert len(await tickets_of(client, sender)) == 1
    assert len(await conversation(stack, ticket["id"])) == 1


async def test_a_reply_to_a_merged_ticket_lands_on_its_parent(stack: MailStack) -> None:
    sender = someone()
    parent = await opened(stack, sender, "Laptop broken")
    child_mail = customer_mail(stack, sender, "Laptop still broken", "Again.")
    mailbox.send(stack.mail, child_mail)

    async def two() -> list[dict[str, Any]] | None:
        async with stack.tickets() as client:
            found = await tickets_of(client, sender)
        return found if len(found) == 2 else None

    child = next(t for t in await eventually(two) if t["id"] != parent["id"])
    await wait_messages(stack, child["id"], 1)
    async with stack.tickets() as client:
        merged = await client.post(
            f"/tickets/{parent['id']}/merge", json={"children": [child["id"]]}
        )
        assert merged.status_code == 200, merged.text
    mailbox.send(
        stack.mail,
        customer_mail(
            stack, sender, "Re: Laptop still broken", "Reply to the child.",
            headers={"In-Reply-To": str(child_mail["Message-ID"])},
        ),
    )  # fmt: skip

    async def on_parent() -> bool:
        return any(
            "Reply to the child." in m["body_text"] and m["ticket_id"] == parent["id"]
            for m in await conversation(stack, parent["id"])
        )

    await eventually(on_parent)


async def test_a_reply_to_a_closed_ticket_opens_a_linked_follow_up(stack: MailStack) -> None:
    sender = someone()
    ticket = await opened(stack, sender, "Old issue")
    await set_status(stack, ticket["id"], "Closed")
    mailbox.send(
        stack.mail,
        customer_mail(
            stack, sender, "Re: Old issue", "It is back.", headers={"In-Reply-To": ticket["mid"]}
        ),
    )

    async def follow_up() -> dict[str, Any] | None:
        async with stack.tickets() as client:
            found = [t for t in await tickets_of(client, sender) if t["id"] != ticket["id"]]
            if not found:
                return None
            full: dict[str, Any] = (await client.get(f"/tickets/{found[0]['id']}")).json()
            return full

    new = await eventually(follow_up)
    assert new["follow_up_of"] == ticket["id"]
    messages = await wait_messages(stack, new["id"], 1)
    assert "It is back." in messages[0]["body_text"]


async def test_a_reply_to_a_solved_ticket_reopens_it(stack: MailStack) -> None:
    sender = someone()
    ticket = await opened(stack, sender, "Slow wifi")
    await set_status(stack, ticket["id"], "Solved")
    mailbox.send(
        stack.mail,
        customer_mail(
            stack, sender, f"Re: [#{ticket['number']}] Slow wifi", "Not fixed after all."
        ),
    )

    async def reopened() -> bool:
        async with stack.tickets() as client:
            return bool((await client.get(f"/tickets/{ticket['id']}")).json()["status"] == "Open")

    await eventually(reopened)


async def test_a_solved_ticket_mails_its_customer_the_rating_links(stack: MailStack) -> None:
    sender = someone()
    ticket = await opened(stack, sender, "Broken mouse")
    await set_status(stack, ticket["id"], "Solved")

    def rating_mail() -> Any:
        return mailbox.wait_for(
            stack.mail,
            sender,
            lambda m: (
                f"[#{ticket['number']}]" in str(m["Subject"])
                and "rate=good" in m.get_body(preferencelist=("plain",)).get_content()
            ),
            timeout=60,
        )

    mail = await asyncio.to_thread(rating_mail)
    text = mail.get_body(preferencelist=("plain",)).get_content()
    page = f"http://127.0.0.1:8080/portal/tickets/{ticket['id']}"
    assert f"{page}?rate=good" in text and f"{page}?rate=bad" in text
    assert str(mail["Subject"]) == f"Re: [#{ticket['number']}] Broken mouse"
    assert mail["Auto-Submitted"] == "auto-replied"  # automatic: never answered by a robot
    assert ticket["mid"] in str(mail["References"])


async def test_latin_1_encoded_words_and_bodies_are_decoded(stack: MailStack) -> None:
    sender = someone("jose")
    raw = (
        f"From: =?iso-8859-1?q?Jos=E9_Mar=EDa?= <{sender}>\r\n"
        f"To: {stack.support}\r\n"
        "Subject: =?iso-8859-1?q?Caf=E9_cr=E8me_br=FBl=E9e?=\r\n"
        "Message-ID: <latin1-" + uuid.uuid4().hex + "@customer.example>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        "Le caf=E9 est froid.\r\n"
    ).encode("ascii")
    send_raw(stack, raw, envelope_from=sender)
    ticket = await one_ticket(stack, sender)
    assert ticket["subject"] == "Café crème brûlée"
    messages = await wait_messages(stack, ticket["id"], 1)
    assert "Le café est froid." in messages[0]["body_text"]


async def test_html_is_sanitised(stack: MailStack) -> None:
    sender = someone()
    mail = customer_mail(stack, sender, "Styled", "plain version")
    mail.add_alternative(
        "<p onclick='steal()'>Hello <b>there</b></p><script>alert(1)</script>", subtype="html"
    )
    mailbox.send(stack.mail, mail)
    ticket = await one_ticket(stack, sender)
    html = (await wait_messages(stack, ticket["id"], 1))[0]["body_html"]
    assert "<b>there</b>" in html
    assert "script" not in html and "onclick" not in html


async def test_malformed_mime_is_quarantined_and_can_be_released(stack: MailStack) -> None:
    sender = someone("broken")
    raw = (
        f"From: {sender}\r\nTo: {stack.support}\r\nSubject: Broken\r\n"
        f"Message-ID: <broken-{uuid.uuid4().hex}@customer.example>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="never-used"\r\n\r\n'
        "This body has no boundary at all.\r\n"
    ).encode()
    send_raw(stack, raw, envelope_from=sender)
    held = await quarantined(stack, lambda q: q["sender"] == sender)
    assert "MIME" in held["reason"]
    async with stack.manager() as client:
        original = await client.get(f"/quarantine/{held['quarantine_id']}/raw")
        assert (
            original.content.replace(b"\r\n", b"\n")
            .strip()
            .endswith(b"This body has no boundary at all.")
        )
        released = await client.post(f"/quarantine/{held['quarantine_id']}/release")
        assert released.status_code == 200, released.text
        assert released.json()["state"] == "released"
    ticket = await one_ticket(stack, sender)
    assert ticket["subject"] == "Broken"


async def test_mail_without_a_sender_is_quarantined_and_can_be_discarded(
    stack: MailStack,
) -> None:
    subject = f"Anonymous {uuid.uuid4().hex[:6]}"
    raw = f"To: {stack.support}\r\nSubject: {subject}\r\n\r\nWho am I?\r\n".encode()
    send_raw(stack, raw, envelope_from="nobody@customer.example")
    held = await quarantined(stack, lambda q: q["subject"] == subject)
    assert "sender" in held["reason"]
    async with stack.manager() as client:
        discarded = await client.post(f"/quarantine/{held['quarantine_id']}/discard")
        assert discarded.json()["state"] == "discarded"
        again = await client.post(f"/quarantine/{held['quarantine_id']}/discard")
        assert again.status_code == 409
        customer = await client.get("/quarantine", headers=stack.headers("customer"))
        assert customer.status_code == 403
        listed = await client.get("/quarantine", params={"state": "discarded"})
        assert held["quarantine_id"] in {q["quarantine_id"] for q in listed.json()}
        unknown = await client.get("/quarantine", params={"state": "held\x00"})
        assert unknown.status_code == 422  # a state that does not exist, not a database error


async def test_a_delivery_report_is_recorded_on_the_ticket_and_opens_nothing(
    stack: MailStack,
) -> None:
    sender = someone("gone")
    ticket = await opened(stack, sender, "Mailbox full?")
    ack = await asyncio.to_thread(mailbox.wait_for, stack.mail, sender, timeout=30)
    ack_id = str(ack["Message-ID"])
    boundary = "dsn-" + uuid.uuid4().hex
    raw = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>\r\n"
        f"To: {stack.support}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <dsn-{uuid.uuid4().hex}@mx.customer.example>\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.customer.example\r\n\r\n"
        f"Final-Recipient: rfc822; {sender}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {stack.support}\r\nTo: {sender}\r\nMessage-ID: {ack_id}\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    send_raw(stack, raw, envelope_from="postmaster@mx.customer.example")
    bounced = (await eventually(lambda: events_of(stack, ticket["id"], "EmailBounced")))[0]
    assert bounced["data"]["address"] == sender
    assert bounced["data"]["email_message_id"] == ack_id
    assert bounced["data"]["permanent"] is True
    async with stack.tickets() as client:
        assert len(await tickets_of(client, sender)) == 1
        assert await tickets_of(client, "mailer-daemon@mx.customer.example") == []


# --- outbound ------------------------------------------------------------------------------------


def replies_to(stack: MailStack, address: str, number: int) -> list[Any]:
    """Mail in ``address``'s mailbox about ticket ``number`` that a person wrote (no acks)."""
    return [
        m
        for m in mailbox.messages(stack.mail, address)
        if f"[#{number}]" in str(m["Subject"]) and m["Auto-Submitted"] is None
    ]


async def test_an_agent_reply_reaches_the_customer_threaded_and_the_answer_comes_back(
    stack: MailStack,
) -> None:
    sender, colleague = someone(), someone("rekan")
    ticket = await opened(stack, sender, "Cannot print", cc=[colleague])
    async with stack.tickets() as client:
        upload = await client.post(
            "/attachments", params={"filename": "steps.txt"}, content=b"1. Restart",
            headers={"Content-Type": "text/plain"},
        )  # fmt: skip
        assert upload.status_code == 201, upload.text
        note = await client.post(
            f"/tickets/{ticket['id']}/messages",
            json={"body": "Internal: printer driver is broken", "visibility": "internal"},
        )
        assert note.status_code == 201, note.text
        reply = await client.post(
            f"/tickets/{ticket['id']}/messages",
            json={
                "body": "<p>Please restart the printer.</p>",
                "set_status": "Waiting on Customer",
                "attachment_ids": [upload.json()["attachment_id"]],
            },
        )
        assert reply.status_code == 201, reply.text

    def arrived() -> list[Any]:
        return replies_to(stack, sender, ticket["number"])

    answer = (await eventually(lambda: asyncio.to_thread(arrived)))[0]
    assert str(answer["Subject"]) == f"Re: [#{ticket['number']}] Cannot print"
    assert str(answer["Message-ID"]).endswith("@helpdesk.local>")
    assert ticket["mid"] in str(answer["References"])
    assert str(answer["In-Reply-To"]) in str(answer["References"])
    assert colleague in str(answer["Cc"])
    text = answer.get_body(preferencelist=("plain",)).get_content()
    assert "Please restart the printer." in text
    assert "Helpdesk Support" in text  # the account's signature
    assert "Internal" not in text
    assert [a.get_filename() for a in answer.iter_attachments()] == ["steps.txt"]
    await asyncio.sleep(1)
    assert len(replies_to(stack, sender, ticket["number"])) == 1  # the note was never sent

    sent = await eventually(lambda: events_of(stack, ticket["id"], "EmailDeliveryRecorded"))
    assert {e["data"]["state"] for e in sent} >= {"sent"}
    # The customer answers from their mailbox: it lands on the same ticket and reopens it.
    mailbox.send(
        stack.mail,
        customer_mail(
            stack, sender, f"Re: {answer['Subject']}",
            "Restarted, works now.\n\nOn Monday Support wrote:\n> Please restart the printer.",
            headers={"In-Reply-To": str(answer["Message-ID"]),
                     "References": f"{answer['References']} {answer['Message-ID']}"},
        ),
    )  # fmt: skip

    async def reopened() -> bool:
        async with stack.tickets() as client:
            current = (await client.get(f"/tickets/{ticket['id']}")).json()
        return bool(current["status"] == "Open")

    await eventually(reopened)
    last = (await conversation(stack, ticket["id"]))[-1]
    assert "Restarted, works now." in last["body_text"]
    assert "Please restart the printer" not in last["body_text"]  # quoted history stripped
    assert [a["filename"] for a in last["attachments"]] == ["original.eml"]


async def test_a_mail_accounts_team_is_the_team_of_its_new_tickets(stack: MailStack) -> None:
    """Issue #20 item 1: a default team per email account - mail to the billing address opens
    tickets in the Billing team (where its assignment rules take them)."""
    async with stack.tickets() as tickets:
        team = await tickets.post(
            "/teams",
            json={"name": f"Billing {uuid.uuid4().hex[:6]}"},
            headers=stack.headers("manager"),
        )
        assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    address = f"billing-{uuid.uuid4().hex[:6]}@helpdesk.local"
    body = account_body(stack, address, team_id=team_id, secrets={"imap_password": "billing-pw"})
    async with mail_account(stack, body):
        sender = someone("rina")
        message = customer_mail(stack, sender, "Tagihan dobel", "Ditagih dua kali.")
        message.replace_header("To", address)
        mailbox.send(stack.mail, message, to=[address])
        ticket = await one_ticket(stack, sender)
        assert ticket["team_id"] == team_id


async def test_handled_mail_moves_to_the_accounts_archive_folder(stack: MailStack) -> None:
    """An account with an archive folder: each mail, once its ticket is in, is moved there
    (the folder is made when missing), so the inbox keeps only mail not yet handled."""
    address = f"archive-{uuid.uuid4().hex[:6]}@helpdesk.local"
    body = account_body(
        stack, address, archive_folder="Helpdesk/Handled", secrets={"imap_password": "pw"}
    )
    async with stack.manager() as client:
        same = await client.post("/accounts", json=body | {"archive_folder": "inbox"})
        assert same.status_code == 422, same.text
        assert "archive_folder must differ from imap_folder" in same.text
    async with mail_account(stack, body):
        senders = [someone("wulan"), someone("yudi")]
        for sender in senders:
            message = customer_mail(stack, sender, "Arsip", f"Dari {sender}.")
            message.replace_header("To", address)
            mailbox.send(stack.mail, message, to=[address])
        for sender in senders:
            await one_ticket(stack, sender)

        def archived() -> list[EmailMessage] | None:
            inbox = mailbox.messages(stack.mail, address)
            moved = mailbox.messages(stack.mail, address, "Helpdesk/Handled")
            return moved if not inbox and len(moved) == len(senders) else None

        moved = await eventually(archived, timeout=20)
        assert sorted(str(m["From"]) for m in moved) == sorted(senders)


async def test_mail_goes_out_in_the_helpdesks_branding(stack: MailStack) -> None:
    """Issue #18: outgoing mail shows the branding a manager set - the logo inline and the
    accent colour in the HTML part; an inbox without a display name of its own sends in the
    helpdesk's name."""
    name = f"Toko Sinar {uuid.uuid4().hex[:4]}"
    logo = png((0x2B, 0x8A, 0x3E))
    async with stack.tickets() as tickets:
        manager = stack.headers("manager")
        branded = await tickets.put(
            "/branding", json={"helpdesk_name": name, "accent_color": "#2b8a3e"}, headers=manager
        )
        assert branded.status_code == 200, branded.text
        uploaded = await tickets.put(
            "/branding/logo", content=logo, headers={**manager, "Content-Type": "image/png"}
        )
        assert uploaded.status_code == 200, uploaded.text
    address = f"sales-{uuid.uuid4().hex[:6]}@helpdesk.local"
    body = account_body(stack, address, display_name="", secrets={"imap_password": "sales-pw"})
    async with mail_account(stack, body):
        sender = someone("sari")
        message = customer_mail(stack, sender, "Harga grosir", "Berapa harga grosirnya?")
        message.replace_header("To", address)
        mailbox.send(stack.mail, message, to=[address])
        ticket = await one_ticket(stack, sender)
        # The acknowledgement comes from the new inbox (sent while it exists).
        ack = await asyncio.to_thread(mailbox.wait_for, stack.mail, sender, timeout=30)
        assert f"[#{ticket['number']}]" in str(ack["Subject"])
    assert str(ack["From"]) in (f'"{name}" <{address}>', f"{name} <{address}>")
    page = ack.get_body(preferencelist=("html",)).get_content()
    assert "border-top:4px solid #2b8a3e" in page
    images = [part for part in ack.walk() if part.get_content_type() == "image/png"]
    assert [part.get_payload(decode=True) for part in images] == [logo]
    assert f'src="cid:{str(images[0]["Content-ID"]).strip("<>")}"' in page
    assert f'alt="{name}"' in page


# --- accounts and status -------------------------------------------------------------------------


async def test_accounts_are_managed_with_versions_and_secrets_stay_encrypted(
    stack: MailStack,
) -> None:
    address = f"billing-{uuid.uuid4().hex[:6]}@helpdesk.local"
    body = account_body(
        stack,
        address,
        signature="Billing team",
        secrets={"imap_password": "s3cret-billing-pw"},
    )
    async with stack.manager() as client:
        created = await client.post("/accounts", json=body)
        assert created.status_code == 201, created.text
        account = created.json()
        assert "secrets" not in account and "s3cret" not in created.text
        assert created.headers["ETag"] == '"1"'
        account_id = account["account_id"]
        no_version = await client.put(f"/accounts/{account_id}", json=body)
        assert no_version.status_code == 428
        changed = await client.put(
            f"/accounts/{account_id}",
            json={**body, "signature": "Billing", "secrets": None},
            headers={"If-Match": '"1"'},
        )
        assert changed.status_code == 200, changed.text
        assert changed.headers["ETag"] == '"2"'
        stale = await client.put(f"/accounts/{account_id}", json=body, headers={"If-Match": '"1"'})
        assert stale.status_code == 412
        twin = await client.post("/accounts", json=body)
        assert twin.status_code == 409
        as_agent = await client.get("/accounts", headers=stack.headers("agent"))
        assert as_agent.status_code == 403

        async def connected() -> bool:
            status = await client.get(f"/accounts/{account_id}/status")
            return bool(status.json()["connected"])

        await eventually(connected)
        ready = await client.get("/readyz")
        assert ready.json()["accounts"][address] in ("idle", "fetching")
        removed = await client.delete(f"/accounts/{account_id}", headers={"If-Match": '"2"'})
        assert removed.status_code == 204
    connection = await asyncpg.connect(stack.gateway_env["HELPDESK_MAIL_DATABASE_URL"])
    try:
        rows = await connection.fetch("SELECT secret, settings::text AS s FROM mail_accounts")
    finally:
        await connection.close()
    assert rows, "the support account is kept"
    assert all(b"support" not in bytes(r["secret"]) for r in rows)
    assert all("password" not in r["s"] for r in rows)
    # Every change is an event on helpdesk.mail-accounts.v1, without secrets.
    key = account_id.encode()
    records = await read_topic(
        stack.gateway_env["HELPDESK_KAFKA_BOOTSTRAP"], MAIL_ACCOUNTS,
        lambda seen: sum(r.key == key for r in seen) >= 3, max_wait=30,
    )  # fmt: skip
    mine = [r for r in records if r.key == key]
    assert [dict(r.headers)["event_type"] for r in mine] == [
        b"EmailAccountSaved", b"EmailAccountSaved", b"EmailAccountDeleted",
    ]  # fmt: skip
    assert all(b"s3cret" not in (r.value or b"") for r in mine)


# --- agents answering by email ------------------------------------------------------------------


async def gateway_knows(stack: MailStack, email: str, *, active: bool) -> None:
    """Wait until the gateway has folded the directory's latest word on this agent."""

    async def known() -> bool:
        connection = await asyncpg.connect(stack.gateway_env["HELPDESK_MAIL_DATABASE_URL"])
        try:
            state = await connection.fetchval(
                "SELECT active FROM mail_agents WHERE email = $1", email
            )
        finally:
            await connection.close()
        return state is active

    await eventually(known)


async def new_agent(stack: MailStack, name: str) -> tuple[str, str]:
    """An agent invited through the ticket API and known to the gateway: (id, address)."""
    email = f"{name}-{uuid.uuid4().hex[:8]}@staff.example"
    async with stack.tickets() as client:
        answer = await client.post(
            "/agents",
            json={"email": email, "name": name.title(), "role": "agent"},
            headers=stack.headers("manager"),
        )
        assert answer.status_code == 201, answer.text
    await gateway_knows(stack, email, active=True)
    return str(answer.json()["id"]), email


def agent_mail(
    stack: MailStack, agent: str, subject: str, body: str, answered: EmailMessage | str
) -> EmailMessage:
    """What an agent's mail client sends to the support address when they answer
    ``answered`` (a mail, or the Message-ID of one)."""
    mail = customer_mail(stack, agent, subject, body, message_id=make_msgid(domain="staff.example"))
    if isinstance(answered, str):
        mail["In-Reply-To"] = answered
    else:
        mail["In-Reply-To"] = str(answered["Message-ID"])
        mail["References"] = f"{answered['References'] or ''} {answered['Message-ID']}".strip()
    return mail


def plain_text(mail: EmailMessage) -> str:
    return str(mail.get_body(preferencelist=("plain",)).get_content())


async def test_an_agent_answers_from_their_mailbox_and_the_customer_gets_the_reply(
    stack: MailStack,
) -> None:
    agent_id, agent = await new_agent(stack, "sari")
    customer = someone()
    # The customer copies the agent they know: the agent gets the acknowledgement too.
    ticket = await opened(stack, customer, "Cannot log in", cc=[agent])

    def acknowledged() -> EmailMessage | None:
        return next(
            (m for m in mailbox.messages(stack.mail, agent)
             if f"[#{ticket['number']}]" in str(m["Subject"])),
            None,
        )  # fmt: skip

    ack = await eventually(lambda: asyncio.to_thread(acknowledged))
    assert ack["Auto-Submitted"] == "auto-replied"
    mailbox.send(
        stack.mail,
        agent_mail(
            stack, agent, f"Re: {ack['Subject']}",
            "Please clear your browser's cookies and try again.\n\n"
            "On Monday Helpdesk Support wrote:\n> Thank you for writing to us.",
            ack,
        ),
    )  # fmt: skip
    reply = (await wait_messages(stack, ticket["id"], 2))[-1]
    assert reply["visibility"] == "public"
    assert reply["author"]["kind"] == "agent" and reply["author"]["id"] == agent_id
    assert "clear your browser's cookies" in reply["body_text"]
    assert "Thank you for writing" not in reply["body_text"]  # quoted history stripped
    async with stack.tickets() as client:
        current = (await client.get(f"/tickets/{ticket['id']}")).json()
        assert current["status"] == "Open"  # an agent's public reply opens a New ticket
        assert await tickets_of(client, agent) == []  # no ticket of the agent's own
        assert len(await tickets_of(client, customer)) == 1

    def arrived() -> list[Any]:
        return replies_to(stack, customer, ticket["number"])

    sent = (await eventually(lambda: asyncio.to_thread(arrived)))[0]
    assert str(sent["Message-ID"]).endswith("@helpdesk.local>")
    assert ticket["mid"] in str(sent["References"])
    assert str(ack["Message-ID"]) in str(sent["References"])
    assert str(sent["In-Reply-To"]) in str(sent["References"])
    assert agent not in str(sent["Cc"] or "") and agent not in str(sent["To"])
    assert "clear your browser's cookies" in plain_text(sent)
    await asyncio.sleep(1)
    assert len(replies_to(stack, customer, ticket["number"])) == 1
    # The agent never gets their own reply back (they are a participant of the thread).
    own = await asyncio.to_thread(mailbox.messages, stack.mail, agent)
    assert not any("clear your browser's cookies" in plain_text(m) for m in own)


async def test_a_deactivated_agents_mail_is_anyones(stack: MailStack) -> None:
    agent_id, former = await new_agent(stack, "dewi")
    async with stack.tickets() as client:
        gone = await client.patch(
            f"/agents/{agent_id}", json={"active": False}, headers=stack.headers("manager")
        )
        assert gone.status_code == 200, gone.text
    await gateway_knows(stack, former, active=False)
    customer = someone("ani")
    ticket = await opened(stack, customer, "Printer offline")
    mailbox.send(
        stack.mail,
        agent_mail(stack, former, f"Re: [#{ticket['number']}] Printer offline",
                   "I can still answer, can't I?", ticket["mid"]),
    )  # fmt: skip
    # Not the customer, no participant, no agent any more: a ticket of their own (no hijack).
    await opened_their_own(stack, former, ticket)


async def test_an_agents_mail_naming_a_ticket_only_by_its_subject_token_is_anyones(
    stack: MailStack,
) -> None:
    """A From: header is easily forged and a ticket number easily guessed: an agent's reply
    must answer a message of the thread (In-Reply-To / References), else the mail is anyone's."""
    _, agent = await new_agent(stack, "budi")
    customer = someone("wulan")
    ticket = await opened(stack, customer, "VPN down")
    token_only = customer_mail(
        stack, agent, f"Re: [#{ticket['number']}] VPN down", "Restart the router.",
        message_id=make_msgid(domain="staff.example"),
    )  # fmt: skip
    mailbox.send(stack.mail, token_only)
    await opened_their_own(stack, agent, ticket)


async def test_an_agents_mail_the_ticket_service_refuses_is_quarantined(
    stack: MailStack,
) -> None:
    _, agent = await new_agent(stack, "rudi")
    customer = someone("tono")
    ticket = await opened(stack, customer, "Old laptop")
    await set_status(stack, ticket["id"], "Closed")
    mailbox.send(
        stack.mail, agent_mail(stack, agent, "Re: Old laptop", "One more thing.", ticket["mid"])
    )
    held = await quarantined(stack, lambda q: q["sender"] == agent)
    assert "Closed" in held["reason"]
    # Neither a customer's message (no follow-up for the customer) nor a ticket of the agent's.
    async with stack.tickets() as client:
        assert len(await tickets_of(client, customer)) == 1
        assert await tickets_of(client, agent) == []
    assert len(await conversation(stack, ticket["id"])) == 1


async def test_an_agents_auto_reply_stays_machine_mail(stack: MailStack) -> None:
    _, agent = await new_agent(stack, "wati")
    customer = someone("eko")
    ticket = await opened(stack, customer, "Scanner", cc=[agent])
    out_of_office = agent_mail(stack, agent, "Out of office", "I am away.", ticket["mid"])
    out_of_office["Auto-Submitted"] = "auto-replied"
    mailbox.send(stack.mail, out_of_office)

    async def noted() -> list[dict[str, Any]]:
        found = await events_of(stack, ticket["id"], "MessageAdded")
        return [m for m in found if m["data"]["automated"] and m["data"]["channel"] == "email"]

    note = (await eventually(noted))[0]
    assert note["data"]["visibility"] == "internal" and note["actor"]["kind"] == "agent"
    await asyncio.sleep(1)
    async with stack.tickets() as client:
        assert (await client.get(f"/tickets/{ticket['id']}")).json()["status"] == "New"
        assert await tickets_of(client, agent) == []
    assert replies_to(stack, customer, ticket["number"]) == []  # never sent on
