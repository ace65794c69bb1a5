"""What answering a notification mail does (domain/replies): only an answer to a customer's
message goes to the customer; the Message-ID is signed only with a key and a ticket."""

from __future__ import annotations

import uuid

from helpdesk_platform.mail_reply import ReplyKind, ReplyReference, verify_reference
from notification_service.domain.kinds import Kind
from notification_service.domain.replies import (
    message_id,
    reply_hint,
    reply_kind,
    subject_with_token,
)
from notification_service.domain.rules import Notification
from notification_service.service_layer.events import email_text

KEY = b"r" * 32
TICKET = uuid.uuid4()


def test_only_a_customer_reply_is_answered_publicly() -> None:
    public = {
        Kind.CUSTOMER_REPLIED,
        Kind.ASSIGNED,
        Kind.TEAM_ROUTED,
        Kind.SLA_WARNING,
        Kind.SLA_BREACHED,
    }
    for kind in public:
        assert reply_kind(kind) is ReplyKind.PUBLIC, kind
    for kind in set(Kind) - public:  # the team's own discussion never reaches the customer
        assert reply_kind(kind) is ReplyKind.INTERNAL, kind
    assert "sent to them" in reply_hint(Kind.CUSTOMER_REPLIED)
    assert "internal note" in reply_hint(Kind.MENTIONED)


def test_a_mail_about_a_ticket_carries_a_signed_reference() -> None:
    email_id = uuid.uuid4()
    signed = message_id(email_id, TICKET, Kind.MENTIONED, KEY)
    assert verify_reference(signed, [KEY]) == ReplyReference(TICKET, ReplyKind.INTERNAL, email_id)
    # The same row gives the same id: a copy sent again after a crash is shown once.
    assert message_id(email_id, TICKET, Kind.MENTIONED, KEY) == signed


def test_without_a_key_or_a_ticket_the_message_id_is_plain() -> None:
    email_id = uuid.uuid4()
    plain = f"<{email_id}@notifications.helpdesk.local>"
    assert message_id(email_id, TICKET, Kind.CUSTOMER_REPLIED, None) == plain
    assert message_id(email_id, None, Kind.SLA_WARNING, KEY) == plain


def test_the_subject_gets_the_ticket_token_once() -> None:
    assert subject_with_token("Sari replied on #12 Login", 12) == "[#12] Sari replied on #12 Login"
    assert subject_with_token("[#12] already", 12) == "[#12] already"
    assert subject_with_token("No number", None) == "No number"


def notification(kind: Kind, ticket_id: uuid.UUID | None) -> Notification:
    return Notification(
        id=uuid.uuid4(),
        recipient_id="a",
        kind=kind,
        title="Title",
        body="Body",
        ticket_id=ticket_id,
        ticket_number=1,
        event_id=uuid.uuid4(),
        event_type="MessageAdded",
        occurred_at=None,
    )


def test_the_mail_says_what_a_reply_does_only_when_replies_are_on() -> None:
    text = email_text(notification(Kind.MENTIONED, TICKET), "http://portal", replies=True)
    assert reply_hint(Kind.MENTIONED) in text
    assert "Reply to this email" not in email_text(
        notification(Kind.MENTIONED, TICKET), "http://portal"
    )
    assert "Reply to this email" not in email_text(
        notification(Kind.SLA_WARNING, None), "http://portal", replies=True
    )
