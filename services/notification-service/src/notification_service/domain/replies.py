"""What an agent's answer to a notification mail becomes on the ticket (issue #14), and how the
mail says so.

A notification that puts the customer's request in front of the agent - a customer replied, a
ticket assigned or routed to them, its SLA about to breach or breached - is answered to the
customer: the answer is a public reply, as an agent who presses Reply on it expects (Zendesk
and Freshdesk do the same). A mention in an internal note, an escalation and a followed
ticket's status change are the team's own discussion: an answer to them is an internal note -
a reply to an internal discussion must never reach the customer. The mail tells the
agent which of the two a reply will be, and carries the ``[#N]`` token in its subject.
"""

from __future__ import annotations

import re
import uuid

from helpdesk_platform.mail_reply import ReplyKind, make_reference
from notification_service.domain.kinds import Kind

#: The domain of the notification mails' Message-IDs.
MESSAGE_ID_DOMAIN = "notifications.helpdesk.local"

#: Kinds whose answer goes to the customer; all others become internal notes.
PUBLIC_ANSWER: frozenset[Kind] = frozenset(
    {Kind.CUSTOMER_REPLIED, Kind.ASSIGNED, Kind.TEAM_ROUTED, Kind.SLA_WARNING, Kind.SLA_BREACHED}
)

_TOKEN = re.compile(r"\[#\d{1,12}\]")


def reply_kind(kind: Kind) -> ReplyKind:
    return ReplyKind.PUBLIC if kind in PUBLIC_ANSWER else ReplyKind.INTERNAL


def reply_hint(kind: Kind) -> str:
    """The line under a notification mail that says what answering it does."""
    if reply_kind(kind) is ReplyKind.PUBLIC:
        return "Reply to this email to answer the customer: your reply is sent to them."
    return (
        "Reply to this email to add an internal note to the ticket (the customer does not see it)."
    )


def message_id(
    email_id: uuid.UUID, ticket_id: uuid.UUID | None, kind: Kind, key: bytes | None
) -> str:
    """The Message-ID of a notification mail: signed with the reply key when it is about a
    ticket (an answer then lands there), else a plain one; both derive from the mail's row."""
    if key is None or ticket_id is None:
        return plain_message_id(email_id)
    return make_reference(key, ticket_id, reply_kind(kind), email_id, MESSAGE_ID_DOMAIN)


def plain_message_id(email_id: uuid.UUID) -> str:
    """A Message-ID nobody can answer into a ticket (a digest, or no reply key)."""
    return f"<{email_id}@{MESSAGE_ID_DOMAIN}>"


def subject_with_token(subject: str, number: int | None) -> str:
    """``[#1042] …``: the ticket's token in front, as on every mail of the ticket's thread."""
    if number is None or _TOKEN.search(subject):
        return subject
    return f"[#{number}] {subject}"
