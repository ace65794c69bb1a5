"""Ticket events (stream type ``ticket``, topic ``helpdesk.tickets.v1``, key = ticket id).

Fields added after a type was first published are optional, so older events still parse and
older consumers keep working (the schema test enforces it).
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from helpdesk_events.registry import DomainEvent, event_type

TICKET = "ticket"


class StatusCategory(StrEnum):
    """What a ticket status means, whatever its name: SLAs pause or stop and views filter by it."""

    NEW = "new"
    ACTIVE = "active"
    PAUSED = "paused"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Visibility(StrEnum):
    """Who may read a message: everyone on the ticket, or agents only (an internal note)."""

    PUBLIC = "public"
    INTERNAL = "internal"


class AttachmentRef(BaseModel):
    """A file kept in the blob store; events carry only this reference."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    attachment_id: uuid.UUID
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(max_length=255)
    size_bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


TicketField = Literal[
    "subject", "description", "type", "category", "business_unit", "brand", "channel"
]


class FieldChange(BaseModel):
    """One field's old and new value (None: empty)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: TicketField
    old: str | None
    new: str | None


#: A custom field's value: text, a number, a date (ISO 8601 text), a choice, several choices,
#: true/false or a user (an agent id as text). Which keys exist, and their kinds, is the ticket
#: service's configuration (custom field definitions); events carry only the values.
CustomFieldValue = bool | int | float | str | tuple[str, ...]


class CustomerContext(BaseModel):
    """What the directory says about a ticket's customer and their company, copied onto the
    ticket so that SLA and assignment conditions can read it ("Enterprise customers", "customers
    in India") without each worker joining the directory. The ticket service fills it in when the
    ticket is opened and follows later changes with :class:`TicketCustomerContextChanged`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_tags: tuple[str, ...] = ()
    customer_country: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2"
    )
    company_tags: tuple[str, ...] = ()
    company_tier: str | None = Field(default=None, max_length=100)
    company_country: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2"
    )
    customer_language: str | None = Field(
        default=None, pattern=r"^[a-z]{2}$", description="ISO 639-1, e.g. id, en, hi"
    )


class CustomFieldChange(BaseModel):
    """One custom field's old and new value (None: empty)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    old: CustomFieldValue | None
    new: CustomFieldValue | None


@event_type("TicketCreated", version=1, stream_type=TICKET)
class TicketCreated(DomainEvent):
    """A ticket was opened (from the portal, email, the agent portal, chat, …)."""

    subject: str = Field(min_length=1, max_length=500)
    description: str = Field(default="", max_length=200_000)
    requester_email: EmailStr | None = None
    requester_name: str | None = Field(default=None, max_length=200)
    channel: str = Field(min_length=1, max_length=50)
    status: str = Field(min_length=1, max_length=50)
    priority: str = Field(min_length=1, max_length=50)
    tags: tuple[str, ...] = ()
    number: int | None = Field(default=None, ge=1, description="human-friendly number, #1042")
    status_category: StatusCategory | None = None
    customer_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    type: str | None = Field(default=None, max_length=100)
    category: str | None = Field(default=None, max_length=100)
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    business_unit: str | None = Field(default=None, max_length=100)
    brand: str | None = Field(default=None, max_length=100)
    attachments: tuple[AttachmentRef, ...] = ()
    follow_up_of: uuid.UUID | None = Field(
        default=None, description="the closed ticket this one follows up"
    )
    customer_context: CustomerContext | None = Field(
        default=None, description="the customer's and company's attributes when it was opened"
    )
    custom_fields: dict[str, CustomFieldValue] = Field(
        default_factory=dict, description="custom field values by key"
    )


@event_type("StatusChanged", version=1, stream_type=TICKET)
class StatusChanged(DomainEvent):
    """A ticket moved from one status to another."""

    from_status: str
    to_status: str
    reason: str | None = Field(default=None, max_length=1000)
    from_category: StatusCategory | None = None
    to_category: StatusCategory | None = None


@event_type("PriorityChanged", version=1, stream_type=TICKET)
class PriorityChanged(DomainEvent):
    from_priority: str
    to_priority: str


@event_type("TicketFieldsChanged", version=1, stream_type=TICKET)
class TicketFieldsChanged(DomainEvent):
    """Subject, description, type, category, business unit, brand or channel were edited."""

    changes: tuple[FieldChange, ...] = Field(min_length=1)


@event_type("TagsChanged", version=1, stream_type=TICKET)
class TagsChanged(DomainEvent):
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@event_type("TeamChanged", version=1, stream_type=TICKET)
class TeamChanged(DomainEvent):
    """The ticket moved to another team (or out of any team)."""

    from_team_id: uuid.UUID | None
    to_team_id: uuid.UUID | None


@event_type("TicketAssigned", version=1, stream_type=TICKET)
class TicketAssigned(DomainEvent):
    """An agent now owns the ticket, by hand or by an assignment rule."""

    assignee_id: uuid.UUID
    previous_assignee_id: uuid.UUID | None = None
    method: Literal["manual", "rule"] = "manual"
    rule_id: str | None = Field(default=None, max_length=100)


@event_type("TicketUnassigned", version=1, stream_type=TICKET)
class TicketUnassigned(DomainEvent):
    previous_assignee_id: uuid.UUID
    reason: str | None = Field(default=None, max_length=500)


@event_type("MessageAdded", version=1, stream_type=TICKET)
class MessageAdded(DomainEvent):
    """A public reply (agent or customer) or an internal note (agents only).

    ``body_html`` is sanitised before it is stored; ``body_text`` is its plain-text form.
    ``automated`` marks messages no person wrote (auto-replies, merge notes): they never count
    as a first response.
    """

    message_id: uuid.UUID
    visibility: Visibility
    body_html: str = Field(max_length=1_000_000)
    body_text: str = Field(max_length=1_000_000)
    attachments: tuple[AttachmentRef, ...] = ()
    channel: str | None = Field(default=None, max_length=50)
    automated: bool = False
    email_message_id: str | None = Field(
        default=None, max_length=998, description="RFC 5322 Message-ID when it came by email"
    )


@event_type("TicketMerged", version=1, stream_type=TICKET)
class TicketMerged(DomainEvent):
    """This ticket (the child) was merged into ``parent_id`` and closed."""

    parent_id: uuid.UUID
    parent_number: int | None = None


@event_type("ChildTicketMerged", version=1, stream_type=TICKET)
class ChildTicketMerged(DomainEvent):
    """``child_id`` was merged into this ticket (the parent); its messages show here."""

    child_id: uuid.UUID
    child_number: int | None = None


@event_type("TicketUnmerged", version=1, stream_type=TICKET)
class TicketUnmerged(DomainEvent):
    """The merge into ``parent_id`` was undone; the ticket is back as it was before it."""

    parent_id: uuid.UUID
    restored_status: str


@event_type("ChildTicketUnmerged", version=1, stream_type=TICKET)
class ChildTicketUnmerged(DomainEvent):
    child_id: uuid.UUID


@event_type("TicketCustomerContextChanged", version=1, stream_type=TICKET)
class TicketCustomerContextChanged(DomainEvent):
    """The ticket's customer, or what the directory says about them, changed: the ticket now
    belongs to ``company_id`` and carries ``customer_context`` (the whole context, not a diff)."""

    company_id: uuid.UUID | None = None
    requester_email: EmailStr | None = None
    customer_context: CustomerContext


@event_type("CustomFieldsChanged", version=1, stream_type=TICKET)
class CustomFieldsChanged(DomainEvent):
    """Custom field values were set, changed or cleared."""

    changes: tuple[CustomFieldChange, ...] = Field(min_length=1)


class RatingScale(StrEnum):
    """How a customer rates: good / bad (``score`` 0 or 1) or one to five stars (1-5)."""

    GOOD_BAD = "good_bad"
    ONE_TO_FIVE = "one_to_five"


@event_type("SatisfactionRated", version=1, stream_type=TICKET)
class SatisfactionRated(DomainEvent):
    """The customer rated how their ticket was solved (CSAT), once per resolution.

    ``resolution`` counts the times the ticket became Solved (1: the first); a reopened and
    solved-again ticket may be rated again. ``satisfied`` is the CSAT reading of the score
    (good, or 4-5 stars), so that reports and analysts count it one way. ``team_id`` and
    ``assignee_id`` are the ticket's when it was rated: CSAT goes to who solved it.
    """

    scale: RatingScale
    score: int = Field(ge=0, le=5)
    satisfied: bool
    comment: str | None = Field(default=None, max_length=2000)
    resolution: int = Field(ge=1)
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
