"""Ticket bodies and views of the API; the ticket view is shared by the ticket, message, merge
and mail routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from helpdesk_events.tickets import AttachmentRef, CustomerContext, CustomFieldValue
from ticket_service.domain.ticket import Ticket
from ticket_service.entrypoints.http_common import HTML, PLAIN_TEXT, Text, resource

CUSTOM_FIELDS = "values by key, checked against GET /custom-fields (422 says what a field expects)"


class Requester(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    name: str | None = Field(default=None, max_length=200, description=PLAIN_TEXT)


class CreateTicketBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": "Cannot log in to the portal",
                    "description": "Since this morning the login page says 'invalid token'.",
                    "requester": {"email": "budi@example.co.id", "name": "Budi"},
                    "channel": "email",
                    "priority": "High",
                    "category": "Problem",
                    "tags": ["login"],
                }
            ]
        },
    )
    subject: str = Field(min_length=1, max_length=500, description=PLAIN_TEXT)
    description: str = Field(default="", max_length=200_000, description=HTML)
    requester: Requester | None = Field(
        default=None, description="the customer; always the caller when a customer calls"
    )
    customer_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    channel: str = Field(default="portal", min_length=1, max_length=50)
    priority: str | None = Field(default=None, max_length=50, description="default: Medium")
    status: str | None = Field(default=None, max_length=50, description="default: New")
    type: Text | None = None
    category: Text | None = None
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    business_unit: Text | None = None
    brand: Text | None = None
    tags: list[Annotated[str, Field(max_length=50)]] = Field(default_factory=list, max_length=50)
    attachment_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=20, description="ids from POST /attachments"
    )
    custom_fields: dict[str, Any] = Field(
        default_factory=dict, max_length=100, description=CUSTOM_FIELDS
    )


class UpdateTicketBody(BaseModel):
    """Only the fields present change; `team_id` / `assignee_id` set to null clear them."""

    model_config = ConfigDict(extra="forbid")
    subject: str | None = Field(default=None, min_length=1, max_length=500, description=PLAIN_TEXT)
    description: str | None = Field(default=None, max_length=200_000, description=HTML)
    type: Text | None = None
    category: Text | None = None
    business_unit: Text | None = None
    brand: Text | None = None
    channel: str | None = Field(default=None, min_length=1, max_length=50)
    priority: str | None = Field(default=None, max_length=50)
    status: str | None = Field(default=None, max_length=50)
    status_reason: str | None = Field(
        default=None, max_length=1000, description=f"staff-only; {PLAIN_TEXT}"
    )
    add_tags: list[Annotated[str, Field(max_length=50)]] = Field(default_factory=list)
    remove_tags: list[Annotated[str, Field(max_length=50)]] = Field(default_factory=list)
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    custom_fields: dict[str, Any] = Field(
        default_factory=dict, max_length=100, description=f"{CUSTOM_FIELDS}; null clears one"
    )
    expected_version: int | None = Field(default=None, ge=1)


class ChangeStatusBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str = Field(min_length=1, max_length=50)
    reason: str | None = Field(
        default=None, max_length=1000, description=f"staff-only; {PLAIN_TEXT}"
    )
    expected_version: int | None = Field(
        default=None, ge=1, description="refuse with 409 unless the ticket is at this version"
    )


class EscalateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(
        default=None,
        max_length=1000,
        description="why; kept as an internal note on the ticket",
        examples=["needs a database specialist"],
    )
    expected_version: int | None = Field(
        default=None, ge=1, description="refuse with 409 unless the ticket is at this version"
    )


class TicketSummary(BaseModel):
    id: uuid.UUID
    number: int | None
    subject: str
    status: str
    status_category: str
    priority: str
    type: str | None
    category: str | None
    channel: str
    team_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    requester_email: str | None
    tags: list[str]
    message_count: int
    first_response_due: datetime | None
    resolution_due: datetime | None
    sla_breached: bool
    created_at: datetime
    updated_at: datetime
    custom_fields: dict[str, CustomFieldValue] = Field(
        default_factory=dict, description="values by key (a customer's: the portal form's)"
    )
    version: int | None = Field(
        default=None, description="staff: the ticket's version, for If-Match on bulk edits"
    )


class TicketPage(BaseModel):
    items: list[TicketSummary]
    page: int
    page_size: int
    total: int


class TicketView(BaseModel):
    id: uuid.UUID
    number: int | None
    version: int
    subject: str
    description: str
    requester_email: str | None
    requester_name: str | None
    customer_id: uuid.UUID | None
    company_id: uuid.UUID | None
    channel: str
    status: str
    status_category: str
    priority: str
    type: str | None
    category: str | None
    team_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    tags: list[str]
    business_unit: str | None
    brand: str | None
    follow_up_of: uuid.UUID | None
    merged_into: uuid.UUID | None
    merged_children: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime
    attachments: list[AttachmentRef] = Field(
        default_factory=list, description="the files given when the ticket was opened"
    )
    customer_context: CustomerContext | None = Field(
        default=None, description="the customer's and company's attributes (staff only)"
    )
    custom_fields: dict[str, CustomFieldValue] = Field(default_factory=dict)
    first_response_due: datetime | None = Field(default=None, description="staff only")
    next_response_due: datetime | None = Field(default=None, description="staff only")
    resolution_due: datetime | None = Field(default=None, description="staff only")

    @classmethod
    def of(cls, ticket: Ticket, sla_due: dict[str, Any] | None = None) -> TicketView:
        return cls(
            **(sla_due or {}),
            attachments=list(ticket.attachments),
            customer_context=ticket.customer_context,
            custom_fields=dict(ticket.custom_fields),
            id=ticket.id,
            number=ticket.number,
            version=ticket.version,
            subject=ticket.subject,
            description=ticket.description,
            requester_email=ticket.requester_email,
            requester_name=ticket.requester_name,
            customer_id=ticket.customer_id,
            company_id=ticket.company_id,
            channel=ticket.channel,
            status=ticket.status,
            status_category=ticket.status_category.value,
            priority=ticket.priority,
            type=ticket.type,
            category=ticket.category,
            team_id=ticket.team_id,
            assignee_id=ticket.assignee_id,
            tags=list(ticket.tags),
            business_unit=ticket.business_unit,
            brand=ticket.brand,
            follow_up_of=ticket.follow_up_of,
            merged_into=ticket.merged_into,
            merged_children=list(ticket.merged_children),
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
        )


def ticket_response(
    ticket: Ticket,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    sla_due: dict[str, Any] | None = None,
) -> Response:
    """The ticket as JSON with its version as ``ETag``."""
    view = TicketView.of(ticket, sla_due)
    return resource(view, ticket.version, status_code, headers=headers)
