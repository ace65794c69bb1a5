"""Signed reply references: only the key that signed a notification's Message-ID opens it, and
nothing of it (ticket, kind) can be changed without breaking the mac."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from helpdesk_platform.mail_reply import (
    ReplyKeyError,
    ReplyKind,
    ReplyReference,
    first_reference,
    make_reference,
    reply_key,
    verify_reference,
)

KEY = b"k" * 32
OLD_KEY = b"o" * 32
TICKET = uuid.UUID("8d0a4f5e-0b57-4f1c-9f0e-2b7c3c1f9a10")
OTHER_TICKET = uuid.UUID("1f1d2c3b-4a59-4687-8b9c-0d1e2f3a4b5c")
NONCE = uuid.UUID("6a2b9c8d-7e6f-4a5b-9c3d-2e1f0a9b8c7d")


def reference(kind: ReplyKind = ReplyKind.PUBLIC, key: bytes = KEY) -> str:
    return make_reference(key, TICKET, kind, NONCE, "notifications.helpdesk.local")


def test_a_signed_reference_names_its_ticket_and_kind() -> None:
    for kind in ReplyKind:
        assert verify_reference(reference(kind), [KEY]) == ReplyReference(TICKET, kind, NONCE)


def test_the_reference_is_a_message_id_of_lower_case_hex() -> None:
    made = reference()
    assert made.startswith("<n.") and made.endswith("@notifications.helpdesk.local>")
    assert made == made.lower()
    # A client that upper-cases the id (some do) changes nothing.
    assert verify_reference(made.upper(), [KEY]) is not None


def test_a_wrong_mac_is_refused() -> None:
    made = reference()
    local = made.split("@")[0]
    mac = local.rsplit(".", 1)[1]
    forged_mac = ("0" if mac[0] != "0" else "1") + mac[1:]
    assert verify_reference(made.replace(mac, forged_mac), [KEY]) is None


def test_another_ticket_under_the_same_mac_is_refused() -> None:
    made = reference()
    assert verify_reference(made.replace(TICKET.hex, OTHER_TICKET.hex), [KEY]) is None


def test_an_internal_reference_cannot_be_turned_public() -> None:
    made = reference(ReplyKind.INTERNAL)
    tampered = made.replace(".internal.", ".public.")
    assert verify_reference(tampered, [KEY]) is None


def test_another_key_is_refused_and_the_previous_key_accepted_during_a_rotation() -> None:
    signed_before = reference(key=OLD_KEY)
    assert verify_reference(signed_before, [KEY]) is None
    assert verify_reference(signed_before, [KEY, OLD_KEY]) == ReplyReference(
        TICKET, ReplyKind.PUBLIC, NONCE
    )


def test_no_key_accepts_nothing() -> None:
    assert verify_reference(reference(), []) is None
    assert first_reference([reference()], []) is None


def test_ordinary_message_ids_are_no_references() -> None:
    for message_id in ("<abc@example.com>", "<n.1.public.2.3@x>", "", "<>", "n." * 400):
        assert verify_reference(message_id, [KEY]) is None


def test_the_first_valid_reference_of_a_chain_counts() -> None:
    chain = ["<reply@example.com>", reference(ReplyKind.INTERNAL), reference(ReplyKind.PUBLIC)]
    found = first_reference(chain, [KEY])
    assert found is not None and found.kind is ReplyKind.INTERNAL


def test_the_key_comes_from_its_setting_or_its_file(tmp_path: Path) -> None:
    assert reply_key(None, None) is None
    assert reply_key("", None) is None
    assert reply_key("x" * 32, None) == b"x" * 32
    file = tmp_path / "reply.key"
    file.write_text("y" * 40 + "\n")
    assert reply_key(None, file) == b"y" * 40
    with pytest.raises(ReplyKeyError, match="at least 32"):
        reply_key("short", None)
    with pytest.raises(ReplyKeyError, match="not both"):
        reply_key("x" * 32, file)
