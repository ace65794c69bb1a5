"""Email on tickets (stream type ``ticket``, topic ``helpdesk.tickets.v1``) and the mail
gateway's accounts (stream type ``mail-accounts``, topic ``helpdesk.mail-accounts.v1``).

The ticket service appends the ticket events when the mail gateway tells it, over its HTTP API,
that a mail came in for a ticket, who else is on the thread (CC), how an outgoing mail fared, or
that one bounced. The gateway reads them back from the topic to thread later mail (which ticket a
Message-ID belongs to) and to know where to send replies. Account events carry only non-secret
fields: passwords stay encrypted in the gateway's own store.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import Field

from helpdesk_events.registry import DomainEvent, event_type

TICKET = "ticket"
MAIL_ACCOUNTS = "mail-accounts"

Address = str  # an RFC 5322 addr-spec, lower-cased by the gateway


class DeliveryState(StrEnum):
    """Where an outgoing mail is: handed to SMTP, accepted by the server, or given up on."""

    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@event_type("EmailReceived", version=1, stream_type=TICKET)
class EmailReceived(DomainEvent):
    """A mail came in for this ticket: its headers as the timeline shows them.

    ``message_id`` is the helpdesk message it became (None when it was only recorded, e.g. an
    auto-reply kept as a note has one; a mail that opened the ticket has the first message's).
    """

    email_message_id: str = Field(min_length=1, max_length=998, description="RFC 5322 Message-ID")
    message_id: uuid.UUID | None = None
    account: Address = Field(max_length=320, description="the support address it came in on")
    from_address: Address = Field(max_length=320)
    from_name: str | None = Field(default=None, max_length=200)
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    subject: str = Field(default="", max_length=2000)
    in_reply_to: str | None = Field(default=None, max_length=998)
    references: tuple[str, ...] = ()
    automated: bool = Field(default=False, description="an auto-reply, kept as a note only")


@event_type("TicketParticipantsAdded", version=1, stream_type=TICKET)
class TicketParticipantsAdded(DomainEvent):
    """People on the thread besides the customer (To/CC of a mail): they get the replies and
    their answers land on the ticket."""

    addresses: tuple[Address, ...] = Field(min_length=1)


@event_type("EmailDeliveryRecorded", version=1, stream_type=TICKET)
class EmailDeliveryRecorded(DomainEvent):
    """What became of an outgoing mail for a message (or the acknowledgement, ``message_id``
    None): sending, sent (the SMTP server accepted it) or failed (given up after retries)."""

    email_message_id: str = Field(min_length=1, max_length=998)
    message_id: uuid.UUID | None = None
    state: DeliveryState
    account: Address = Field(max_length=320)
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    subject: str = Field(default="", max_length=2000)
    in_reply_to: str | None = Field(default=None, max_length=998)
    attempts: int = Field(default=1, ge=1)
    error: str | None = Field(default=None, max_length=2000)
    automated: bool = Field(default=False, description="the acknowledgement of a new ticket")


@event_type("EmailBounced", version=1, stream_type=TICKET)
class EmailBounced(DomainEvent):
    """A delivery report (RFC 3464) said a mail of this ticket did not reach ``address``; the
    address is bouncing until it writes again."""

    email_message_id: str | None = Field(
        default=None, max_length=998, description="the outgoing mail that bounced, when known"
    )
    address: Address = Field(max_length=320)
    permanent: bool = True
    report_message_id: str | None = Field(default=None, max_length=998)
    diagnostic: str | None = Field(default=None, max_length=2000)


@event_type("EmailAccountSaved", version=1, stream_type=MAIL_ACCOUNTS)
class EmailAccountSaved(DomainEvent):
    """An email account was created or changed (non-secret settings only)."""

    account_id: uuid.UUID
    address: Address = Field(max_length=320)
    display_name: str = Field(default="", max_length=200)
    imap_host: str = Field(max_length=255)
    imap_port: int = Field(ge=1, le=65535)
    imap_tls: str = Field(max_length=20)
    imap_user: str = Field(max_length=320)
    imap_folder: str = Field(max_length=200)
    archive_folder: str | None = Field(
        default=None,
        max_length=200,
        description="where handled mail is moved; none: it stays in imap_folder, marked read",
    )
    smtp_host: str = Field(max_length=255)
    smtp_port: int = Field(ge=1, le=65535)
    smtp_tls: str = Field(max_length=20)
    smtp_user: str | None = Field(default=None, max_length=320)
    team_id: uuid.UUID | None = None
    acknowledge: bool = True
    enabled: bool = True


@event_type("EmailAccountDeleted", version=1, stream_type=MAIL_ACCOUNTS)
class EmailAccountDeleted(DomainEvent):
    account_id: uuid.UUID
