"""Signed reply references: an agent answers a notification mail and the answer lands on the
ticket (issue #14).

The notification service mails agents ("a customer replied on #N", "you were mentioned…") from
its own address; a reply to such a mail carries nothing the mail gateway can thread. So the
notification's ``Message-ID`` names the ticket and what an answer to it may become, signed with
a key only the two services hold::

    <n.{ticket id hex}.{public|internal}.{nonce hex}.{mac}@{domain}>

A mail client puts that Message-ID into the reply's ``In-Reply-To``/``References``; the gateway
checks the mac and, when the sender is an active agent, writes the answer on that ticket (the
rest of that rule lives in the gateway). The mac covers ticket, kind and nonce: a reference
cannot be moved to another ticket nor turned from an internal note into a public reply. Only
lower-case hex travels, so a client that changes the case of a Message-ID changes nothing.

The key is a secret (``HELPDESK_MAIL_REPLY_KEY`` or ``…_FILE``): never logged, never on Kafka.
Verification takes the current key and, during a rotation, the previous one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

#: Keys shorter than this are refused: the mac is only as strong as the key.
MIN_KEY_BYTES = 32
#: Hex digits of the mac kept in the Message-ID (128 bits of HMAC-SHA256).
MAC_HEX = 32
VERSION = "n"

_REFERENCE = re.compile(
    r"^<?n\.([0-9a-f]{32})\.(public|internal)\.([0-9a-f]{32})\.([0-9a-f]{32})@[^<>@\s]+>?$"
)


class ReplyKind(StrEnum):
    """What an agent's answer to the notification becomes on the ticket."""

    PUBLIC = "public"  # a public reply, mailed to the customer
    INTERNAL = "internal"  # an internal note, never sent to the customer


@dataclass(frozen=True)
class ReplyReference:
    ticket_id: uuid.UUID
    kind: ReplyKind
    nonce: uuid.UUID


class ReplyKeyError(ValueError):
    """A reply key that cannot sign safely (too short, or both a key and a file given)."""


def reply_key(value: str | None, file: Path | None) -> bytes | None:
    """The key from its setting or the file that holds it (a mounted Secret); None when neither
    is set (notification mails then carry no reference, and none is accepted)."""
    if value is not None and file is not None:
        raise ReplyKeyError("set the mail reply key or its file, not both")
    if file is not None:
        value = file.read_text().strip()
    if value is None or value == "":
        return None
    key = value.encode()
    if len(key) < MIN_KEY_BYTES:
        raise ReplyKeyError(f"the mail reply key must be at least {MIN_KEY_BYTES} bytes long")
    return key


def _mac(key: bytes, ticket_id: uuid.UUID, kind: ReplyKind, nonce: uuid.UUID) -> str:
    signed = f"{VERSION}.{ticket_id.hex}.{kind.value}.{nonce.hex}".encode()
    return hmac.new(key, signed, hashlib.sha256).hexdigest()[:MAC_HEX]


def make_reference(
    key: bytes, ticket_id: uuid.UUID, kind: ReplyKind, nonce: uuid.UUID, domain: str
) -> str:
    """The signed Message-ID (with its angle brackets) of one notification mail. ``nonce``
    makes each mail's id unique; derive it from the mail's row, so a copy sent again after a
    crash keeps its id."""
    mac = _mac(key, ticket_id, kind, nonce)
    return f"<{VERSION}.{ticket_id.hex}.{kind.value}.{nonce.hex}.{mac}@{domain}>"


def verify_reference(message_id: str, keys: Sequence[bytes]) -> ReplyReference | None:
    """The reference a Message-ID carries when one of ``keys`` signed it; None for any other
    Message-ID, a wrong mac, or no key at all."""
    found = _REFERENCE.match(message_id.strip().lower())
    if found is None:
        return None
    ticket_hex, kind_value, nonce_hex, mac = found.groups()
    ticket_id, kind, nonce = uuid.UUID(ticket_hex), ReplyKind(kind_value), uuid.UUID(nonce_hex)
    for key in keys:
        if hmac.compare_digest(_mac(key, ticket_id, kind, nonce), mac):
            return ReplyReference(ticket_id, kind, nonce)
    return None


def first_reference(message_ids: Iterable[str], keys: Sequence[bytes]) -> ReplyReference | None:
    """The first validly signed reference among ``message_ids`` (In-Reply-To, then References
    newest first): a reply to a reply still finds the notification it began with."""
    if not keys:
        return None
    for message_id in message_ids:
        reference = verify_reference(message_id, keys)
        if reference is not None:
            return reference
    return None
