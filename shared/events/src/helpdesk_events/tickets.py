"""Ticket events (stream type ``ticket``, topic ``helpdesk.tickets.v1``, key = ticket id)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import EmailStr, Field

from helpdesk_events.registry import DomainEvent, event_type

TICKET = "ticket"


class StatusCategory(StrEnum):
    """What a ticket status means, whatever its name: SLAs pause or stop and views filter by it."""

    NEW = "new"
    ACTIVE = "active"
    PAUSED = "paused"
    RESOLVED = "resolved"
    CLOSED = "closed"


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


@event_type("StatusChanged", version=1, stream_type=TICKET)
class StatusChanged(DomainEvent):
    """A ticket moved from one status to another."""

    from_status: str
    to_status: str
    reason: str | None = Field(default=None, max_length=1000)
