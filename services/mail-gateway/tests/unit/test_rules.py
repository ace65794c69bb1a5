"""The threading, loop and parsing rules of issue #14, without servers."""

from __future__ import annotations

import uuid
from email.message import EmailMessage

import pytest

from helpdesk_devstack.images import png
from helpdesk_platform.mail_branding import Logo, MailBranding
from mail_gateway.adapters.imap import fetched_messages
from mail_gateway.domain.loops import Kind, classify
from mail_gateway.domain.outgoing import OutgoingMail, compose, solved_text
from mail_gateway.domain.parsing import Unparsable, fallback_message_id, parse
from mail_gateway.domain.threading import (
    TicketThread,
    may_join,
    participants_of,
    reference_chain,
    reply_subject,
    subject_number,
)

OWN = "helpdesk.local"


def raw(headers: dict[str, str], body: str = "Hello.") -> bytes:
    message = EmailMessage()
    message["From"] = "Budi <budi@customer.example>"
    message["To"] = "support@helpdesk.local"
    message["Subject"] = "Help"
    message["Message-ID"] = "<m1@customer.example>"
    for name, value in headers.items():
        del message[name]
        if value:
            message[name] = value
    message.set_content(body)
    return bytes(message)


def kind(headers: dict[str, str]) -> Kind:
    return classify(parse(raw(headers)), OWN)[0]


def test_a_persons_mail_is_human() -> None:
    assert kind({}) is Kind.HUMAN
    assert kind({"Auto-Submitted": "no"}) is Kind.HUMAN


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Auto-Submitted": "auto-replied"}, Kind.AUTO_REPLY),
        ({"Auto-Submitted": "auto-generated; x=1"}, Kind.AUTO_REPLY),
        ({"X-Auto-Response-Suppress": "All"}, Kind.AUTO_REPLY),
        ({"Precedence": "auto_reply"}, Kind.AUTO_REPLY),
        ({"Precedence": "bulk"}, Kind.BULK),
        ({"Precedence": "list"}, Kind.BULK),
        ({"Precedence": "junk"}, Kind.BULK),
        ({"List-Id": "<news.shop.example>"}, Kind.BULK),
        ({"List-Unsubscribe": "<mailto:u@shop.example>"}, Kind.BULK),
        ({"Return-Path": "<>"}, Kind.LOOP),
        ({"X-Loop": "support@helpdesk.local"}, Kind.LOOP),
        ({"Message-ID": "<abc@helpdesk.local>"}, Kind.LOOP),
        ({"From": "MAILER-DAEMON@mx.example"}, Kind.BOUNCE),
    ],
)
def test_machine_mail_is_recognised(headers: dict[str, str], expected: Kind) -> None:
    assert kind(headers) is expected


def test_a_delivery_status_report_is_a_bounce() -> None:
    data = (
        b"From: postmaster@mx.example\r\nSubject: Undeliverable\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n"
    )
    assert classify(parse(data), OWN)[0] is Kind.BOUNCE


def test_threading_looks_at_in_reply_to_then_references_newest_first() -> None:
    mail = parse(raw({"In-Reply-To": "<c@x>", "References": "<a@x> <b@x> <c@x>"}))
    assert reference_chain(mail) == ["<c@x>", "<b@x>", "<a@x>"]
    assert reference_chain(parse(raw({"References": "<a@x> <b@x>"}))) == ["<b@x>", "<a@x>"]


def test_the_subject_token_names_a_ticket_number() -> None:
    assert subject_number("Re: [#1042] Cannot log in") == 1042
    assert subject_number("Re: #1042 Cannot log in") is None
    assert subject_number("[#x] nope") is None


def test_only_the_customer_participants_and_agents_join_a_thread() -> None:
    thread = TicketThread(
        uuid.uuid4(), 7, "Help", "budi@customer.example", frozenset({"rekan@customer.example"})
    )
    assert may_join(thread, "Budi@Customer.example")
    assert may_join(thread, "rekan@customer.example")
    assert may_join(thread, "agent@helpdesk.local", frozenset({"agent@helpdesk.local"}))
    assert not may_join(thread, "stranger@elsewhere.example")


def test_participants_are_to_and_cc_besides_the_support_addresses_and_the_sender() -> None:
    mail = parse(
        raw({"To": "support@helpdesk.local, boss@customer.example",
             "Cc": "rekan@customer.example, budi@customer.example"})
    )  # fmt: skip
    own = frozenset({"support@helpdesk.local"})
    assert participants_of(mail, own) == ("boss@customer.example", "rekan@customer.example")


def test_reply_subjects_carry_one_token_and_one_re() -> None:
    assert reply_subject(1042, "Cannot log in") == "Re: [#1042] Cannot log in"
    assert reply_subject(1042, "Re: [#1042] Cannot log in") == "Re: [#1042] Cannot log in"
    assert reply_subject(1042, "AW: Fwd: Cannot log in") == "Re: [#1042] Cannot log in"


def test_encoded_words_and_charsets_are_decoded() -> None:
    data = (
        b"From: =?iso-8859-1?q?Jos=E9?= <jose@customer.example>\r\n"
        b"Subject: =?utf-8?b?S2Fmw6kgZGluZ2lu?=\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\nCaf\xe9 froid\r\n"
    )
    mail = parse(data)
    assert mail.from_name == "José"
    assert mail.subject == "Kafé dingin"
    assert "Café froid" in mail.text


def test_html_is_sanitised_with_the_text_kept() -> None:
    message = EmailMessage()
    message["From"] = "budi@customer.example"
    message.set_content("plain")
    message.add_alternative("<p onclick=x()>Hi</p><script>alert(1)</script>", subtype="html")
    mail = parse(bytes(message))
    assert mail.body_html == "<p>Hi</p>"
    assert mail.text.strip() == "plain"


def test_quoted_history_is_stripped_from_replies() -> None:
    mail = parse(raw({}, "Thanks, works now.\n\nOn Mon, Support wrote:\n> Restart it\n"))
    html, cut = mail.reply_html()
    assert cut
    assert "Thanks, works now." in html
    assert "Restart it" not in html


def test_mail_without_a_usable_sender_is_unparsable() -> None:
    with pytest.raises(Unparsable, match="sender"):
        parse(b"Subject: who?\r\n\r\nbody\r\n")
    with pytest.raises(Unparsable, match="sender"):
        parse(b"From: not an address\r\n\r\nbody\r\n")


def test_broken_mime_is_unparsable_unless_released() -> None:
    data = (
        b"From: budi@customer.example\r\nSubject: Broken\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="never"\r\n\r\nno parts here\r\n'
    )
    with pytest.raises(Unparsable, match="MIME"):
        parse(data)
    assert "no parts here" in parse(data, strict=False).text


def test_a_mail_without_message_id_gets_a_stable_one() -> None:
    data = b"From: budi@customer.example\r\nSubject: x\r\n\r\nbody\r\n"
    assert parse(data).message_id == parse(data).message_id == fallback_message_id(data)


def test_attachments_and_inline_images_are_kept() -> None:
    message = EmailMessage()
    message["From"] = "budi@customer.example"
    message.set_content("see attached")
    message.add_attachment(b"%PDF-1", maintype="application", subtype="pdf", filename="a.pdf")
    message.add_attachment(b"\x89PNG", maintype="image", subtype="png", disposition="inline")
    found = parse(bytes(message)).attachments
    assert [(a.filename, a.content_type, a.inline) for a in found] == [
        ("a.pdf", "application/pdf", False),
        ("attachment-2.png", "image/png", True),
    ]


def test_outgoing_mail_is_threaded_and_automatic_mail_is_marked() -> None:
    mail = OutgoingMail(
        from_address="support@helpdesk.local", from_name="Support",
        to=("budi@customer.example",), cc=("rekan@customer.example",),
        subject="Re: [#7] Help", body_html="<p>Hi</p>", body_text="Hi",
        message_id="<r1@helpdesk.local>", in_reply_to="<m1@customer.example>",
        references=("<m1@customer.example>",), signature="Support team",
    )  # fmt: skip
    message = compose(mail)
    assert message["In-Reply-To"] == "<m1@customer.example>"
    assert message["References"] == "<m1@customer.example>"
    assert message["Auto-Submitted"] is None
    assert "Support team" in message.get_body(preferencelist=("plain",)).get_content()
    ack = compose(OutgoingMail(**{**mail.__dict__, "automated": True}))
    assert ack["Auto-Submitted"] == "auto-replied"


def test_outgoing_mail_is_laid_out_in_the_helpdesks_branding() -> None:
    mail = OutgoingMail(
        from_address="support@helpdesk.local", from_name="Support", to=("budi@customer.example",),
        cc=(), subject="Re: [#7] Help", body_html="<p>Hi</p>", body_text="Hi",
        message_id="<r1@helpdesk.local>", signature="Support team",
    )  # fmt: skip
    logo = png()
    message = compose(mail, branding=MailBranding("Toko", "#2b8a3e", Logo("image/png", logo)))
    page = message.get_body(preferencelist=("html",)).get_content()
    assert "<p>Hi</p>" in page and "Support team" in page
    assert "border-top:4px solid #2b8a3e" in page
    (image,) = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert image.get_payload(decode=True) == logo
    assert str(image["Content-ID"]).endswith("@helpdesk.local>")  # our Message-ID domain


def test_a_batch_fetch_response_gives_each_uid_its_message() -> None:
    lines = [
        b"1 FETCH (UID 21 BODY[] {5}", bytearray(b"first"), b")",
        b"2 FETCH (UID 22 BODY[] {6}", bytearray(b"second"), b")",
        b"FETCH completed.",
    ]  # fmt: skip
    assert fetched_messages(lines) == [(21, b"first"), (22, b"second")]


def test_the_solved_mail_links_the_ratings_on_the_portal() -> None:
    ticket_id = uuid.uuid4()
    text = solved_text(1042, "https://help.example.co.id/portal/", ticket_id)
    page = f"https://help.example.co.id/portal/tickets/{ticket_id}"
    assert "#1042" in text
    assert f"{page}?rate=good" in text and f"{page}?rate=bad" in text and f"{page}?rate=5" in text
    assert "Reply to this mail" in text
