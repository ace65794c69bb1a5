"""The conversation: public replies and internal notes, and reading them back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header
from pydantic import BaseModel, ConfigDict, Field

from helpdesk_events import Visibility
from helpdesk_events.tickets import AttachmentRef
from ticket_service.entrypoints.dependencies import (
    Caller,
    TicketRequestsDep,
    Tickets,
    command_context,
)
from ticket_service.entrypoints.errors import refusals
from ticket_service.entrypoints.http_common import ERRORS, HTML
from ticket_service.entrypoints.ticket_schemas import TicketView
from ticket_service.service_layer.ticket_requests import Reply

router = APIRouter(tags=["tickets"])


class MessageBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(default="", max_length=1_000_000, description=HTML)
    visibility: Visibility = Visibility.PUBLIC
    set_status: str | None = Field(
        default=None, max_length=50, description='e.g. "Waiting on Customer": reply and set'
    )
    attachment_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=20, description="ids from POST /attachments"
    )


class MessageView(BaseModel):
    id: uuid.UUID
    ticket_id: uuid.UUID
    ticket_number: int | None
    visibility: Visibility
    author: dict[str, Any]
    body_html: str
    body_text: str
    attachments: list[AttachmentRef]
    automated: bool
    created_at: datetime
    merged_description: bool = Field(
        default=False,
        description="the original description of the merged ticket `ticket_number` (its id is "
        "`ticket_id` and `id`), not a message",
    )


class MessageAddedView(BaseModel):
    message_id: uuid.UUID | None
    ticket: TicketView
    follow_up: TicketView | None = Field(
        default=None, description="opened instead when a customer writes to a Closed ticket"
    )


@router.post(
    "/tickets/{ticket_id}/messages",
    status_code=201,
    response_model=MessageAddedView,
    responses=ERRORS,
)
async def add_message(
    ticket_id: uuid.UUID,
    body: MessageBody,
    caller: Caller,
    requests: TicketRequestsDep,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> MessageAddedView:
    """A public reply or an internal note (staff). `set_status` replies and sets a status in
    one command ("send and set Waiting on Customer"). A customer's reply reopens a Solved or
    Waiting-on-Customer ticket; to a Closed ticket it opens a linked follow-up ticket.
    Messages name no version: a concurrent change to the ticket never makes this a 409."""
    reply = Reply(
        body_html=body.body,
        visibility=body.visibility,
        set_status=body.set_status,
        attachment_ids=body.attachment_ids,
    )
    with refusals():
        ticket, message_id, follow_up = await requests.reply(
            caller, ticket_id, reply, command_context(caller, x_correlation_id)
        )
    return MessageAddedView(
        message_id=message_id,
        ticket=TicketView.of(ticket),
        follow_up=TicketView.of(follow_up) if follow_up else None,
    )


@router.get("/tickets/{ticket_id}/messages", response_model=list[MessageView], responses=ERRORS)
async def conversation(ticket_id: uuid.UUID, caller: Caller, tickets: Tickets) -> list[MessageView]:
    """The conversation, including the messages of tickets merged into this one. Internal
    notes are for staff only; a customer sees the messages of their own tickets only."""
    with refusals():
        rows = await tickets.read_conversation(caller, ticket_id)
    return [
        MessageView(
            id=row["message_id"],
            ticket_id=row["ticket_id"],
            ticket_number=row["ticket_number"],
            visibility=row["visibility"],
            author=row["author"],
            body_html=row["body_html"],
            body_text=row["body_text"],
            attachments=row["attachments"],
            automated=row["automated"],
            created_at=row["created_at"],
            merged_description=row["merged_description"],
        )
        for row in rows
    ]
