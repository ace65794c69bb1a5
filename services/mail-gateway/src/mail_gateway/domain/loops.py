"""Machine mail: auto-replies, bulk mail, loops and delivery reports never become tickets.

The signals are the standard ones (RFC 3834 ``Auto-Submitted``, RFC 2919 ``List-*``,
``Precedence``, Microsoft's ``X-Auto-Response-Suppress``, ``X-Loop``, an empty Return-Path) and
our own Message-ID domain (our own mail coming back). Nothing fuzzy: no guessing from subjects.
"""

from __future__ import annotations

from enum import StrEnum

from mail_gateway.domain.parsing import ParsedMail

BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
DAEMONS = ("mailer-daemon@", "postmaster@")


class Kind(StrEnum):
    HUMAN = "human"
    AUTO_REPLY = "auto-reply"  # may be kept as a note on the ticket it answers
    BULK = "bulk"  # newsletters, lists: ignored
    LOOP = "loop"  # our own mail, X-Loop, empty Return-Path: ignored
    BOUNCE = "bounce"  # a delivery status notification (RFC 3464)


def is_delivery_report(mail: ParsedMail) -> bool:
    message = mail.message
    if message is not None and message.get_content_type() == "multipart/report":
        return str(message.get_param("report-type", "")).lower() == "delivery-status"
    return mail.from_address.startswith(DAEMONS)


def classify(mail: ParsedMail, own_domain: str) -> tuple[Kind, str | None]:
    """What kind of mail this is, and the signal that decided it (None for a person's mail)."""
    h = mail.headers
    if is_delivery_report(mail):
        return Kind.BOUNCE, "delivery status notification"
    if mail.message_id.rstrip(">").lower().endswith("@" + own_domain.lower()):
        return Kind.LOOP, "our own Message-ID domain"
    if "x-loop" in h:
        return Kind.LOOP, "X-Loop"
    if "return-path" in h and h["return-path"].strip() in ("<>", ""):
        return Kind.LOOP, "empty Return-Path"
    auto = h.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return Kind.AUTO_REPLY, f"Auto-Submitted: {auto}"
    if "x-auto-response-suppress" in h:
        return Kind.AUTO_REPLY, "X-Auto-Response-Suppress"
    precedence = h.get("precedence", "").strip().lower()
    if precedence == "auto_reply":
        return Kind.AUTO_REPLY, "Precedence: auto_reply"
    if precedence in BULK_PRECEDENCE:
        return Kind.BULK, f"Precedence: {precedence}"
    if any(name.startswith("list-") for name in h if name in ("list-id", "list-unsubscribe")):
        return Kind.BULK, "List-Id / List-Unsubscribe"
    return Kind.HUMAN, None
