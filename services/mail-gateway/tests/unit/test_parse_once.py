"""The header cache of :data:`~mail_gateway.domain.parsing.PARSE_ONCE`: the same answers as
``policy.default``, each distinct header parsed once (read, and set when composing)."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage

import pytest

from mail_gateway.domain.outgoing import OutgoingMail, compose, mailbox
from mail_gateway.domain.parsing import PARSE_ONCE, HeaderClassesOnce, parse

RAW = (
    b"Return-Path: <siti@customer.example>\r\n"
    b"From: =?iso-8859-1?q?Jos=E9_Garc=EDa?= <Jose@Customer.Example>\r\n"
    b"To: support@helpdesk.local, =?utf-8?b?U2l0aQ==?= <siti@customer.example>\r\n"
    b"Cc: ana@customer.example\r\n"
    b"Subject: =?utf-8?q?Tidak_bisa_masuk_=E2=9C=93?=\r\n"
    b"Message-ID: <a1@customer.example>\r\n"
    b"References: <r1@helpdesk.local>\r\n <r2@helpdesk.local>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: text/plain; charset="iso-8859-1"\r\n'
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"\r\n"
    b"Ol=E1, n=E3o consigo entrar.\r\n"
)


def test_headers_read_as_policy_default_reads_them() -> None:
    cached = message_from_bytes(RAW, policy=PARSE_ONCE)
    plain = message_from_bytes(RAW, policy=policy.default)
    for name in plain:
        assert str(cached[name]) == str(plain[name])
        assert type(cached[name]).__name__ == type(plain[name]).__name__
    assert cached["To"].addresses == plain["To"].addresses
    assert cached.get_content_type() == "text/plain"
    assert cached.get_content() == plain.get_content()
    assert cached.as_bytes() == plain.as_bytes()


def test_a_header_is_parsed_once_and_shared() -> None:
    first = message_from_bytes(RAW, policy=PARSE_ONCE)
    second = message_from_bytes(RAW, policy=PARSE_ONCE)
    assert first["Subject"] is first["Subject"]
    assert first["Content-Type"] is second["Content-Type"]
    assert str(first["Subject"]) == "Tidak bisa masuk \u2713"


def test_a_long_header_is_parsed_but_not_kept() -> None:
    references = " ".join(f"<r{n}@helpdesk.local>" for n in range(200)).encode()
    raw = RAW.replace(
        b"References: <r1@helpdesk.local>\r\n <r2@helpdesk.local>", b"References: " + references
    )
    message = message_from_bytes(raw, policy=PARSE_ONCE)
    assert message["References"] is not message["References"]
    mail = parse(raw)
    assert len(mail.references) == 200
    assert mail.from_address == "jose@customer.example"
    assert mail.from_name == "Jos\u00e9 Garc\u00eda"
    assert mail.text.startswith("Ol\u00e1, n\u00e3o consigo entrar.")


def test_a_composed_mail_reads_back_the_same() -> None:
    outgoing = OutgoingMail(
        from_address="support@helpdesk.local", from_name="Layanan Pelanggan \u2713",
        to=("siti@customer.example",), cc=("ana@customer.example",),
        subject="Re: [#7] Tidak bisa masuk \u2713", body_html="<p>Halo</p>", body_text="Halo",
        message_id="<m7@helpdesk.local>", in_reply_to="<a1@customer.example>",
        references=("<a1@customer.example>",), signature="Tim", automated=True,
    )  # fmt: skip
    for _ in range(2):  # the second time from the cache
        composed = compose(outgoing, datetime(2026, 12, 7, tzinfo=UTC))
        read = message_from_bytes(composed.as_bytes(), policy=policy.default)
        assert str(read["Subject"]) == outgoing.subject
        assert read["From"].addresses[0].display_name == "Layanan Pelanggan \u2713"
        assert str(read["Cc"]) == "ana@customer.example"
        assert str(read["Auto-Submitted"]) == "auto-replied"
        assert str(read["References"]) == "<a1@customer.example>"
        assert read.get_body(preferencelist=("plain",)).get_content().startswith("Halo")


def test_header_classes_are_built_once_and_are_the_stdlibs() -> None:
    registry = HeaderClassesOnce()
    assert registry["Subject"] is registry["subject"]
    assert registry["To"] is not registry["Subject"]
    stdlib = HeaderRegistry()
    for name, value in [
        ("Subject", "Re: [#7] Tidak bisa masuk \u2713"),
        ("To", "Siti <siti@customer.example>, ana@customer.example"),
        ("Content-Type", 'text/plain; charset="utf-8"'),
        ("Date", "Mon, 07 Dec 2026 20:00:00 +0000"),
    ]:
        ours, theirs = registry(name, value), stdlib(name, value)
        assert type(ours).__mro__[1:] == type(theirs).__mro__[1:]
        assert str(ours) == str(theirs)
        assert ours.fold(policy=policy.SMTP) == theirs.fold(policy=policy.SMTP)


def test_a_composed_mail_flattens_as_with_the_stdlibs_classes() -> None:
    outgoing = OutgoingMail(
        from_address="support@helpdesk.local", from_name="Desk", to=("siti@customer.example",),
        cc=(), subject="Re: [#7] Printer", body_html="<p>Halo</p>", body_text="Halo",
        message_id="<m8@helpdesk.local>", automated=True,
    )  # fmt: skip
    ours = compose(outgoing, datetime(2026, 12, 7, tzinfo=UTC))
    plain = message_from_bytes(ours.as_bytes(), policy=policy.default)
    assert ours.as_bytes(policy=policy.SMTP) == plain.as_bytes(policy=policy.SMTP)


@pytest.mark.parametrize(
    "name",
    ["Helpdesk Support", "Doe, John", 'Say "hi"', "Layanan Pelanggan \u2713", "", "a\\b",
     "\u00dcn\u00efcode, with comma", "tab\there", "x" * 120],
)  # fmt: skip
def test_a_from_written_once_is_the_header_an_address_makes(name: str) -> None:
    made = EmailMessage(policy=policy.default)
    made["From"] = Address(name, addr_spec="support@helpdesk.local")
    for _ in range(2):  # the second time from the cache
        ours = EmailMessage(policy=PARSE_ONCE)
        ours["From"] = mailbox(name, "support@helpdesk.local")
        assert ours.as_bytes(policy=policy.SMTP) == made.as_bytes(policy=policy.SMTP)
        assert ours["From"].addresses == made["From"].addresses
