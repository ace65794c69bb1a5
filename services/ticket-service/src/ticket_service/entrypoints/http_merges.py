"""Merging tickets into one and undoing it."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from ticket_service.entrypoints.dependencies import Caller, Tickets, command_context
from ticket_service.entrypoints.errors import refusals
from ticket_service.entrypoints.http_common import ERRORS
from ticket_service.entrypoints.ticket_schemas import TicketView, ticket_response

router = APIRouter(tags=["tickets"])


class MergeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    children: list[uuid.UUID] = Field(min_length=1, max_length=50)


class UnmergeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    child_id: uuid.UUID


@router.post("/tickets/{ticket_id}/merge", response_model=TicketView, responses=ERRORS)
async def merge(
    ticket_id: uuid.UUID,
    body: MergeBody,
    caller: Caller,
    tickets: Tickets,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Merge `children` into this ticket (agents, managers): they close with a private note
    naming the parent, and their messages show in this ticket's conversation to staff. The
    parent's customer sees only the messages of tickets they own, so merging another
    customer's ticket never shows them that conversation. Find candidates with
    `GET /tickets?q=` (subject words, #number, or the contact's email)."""
    with refusals():
        parent = await tickets.merge(
            ticket_id, body.children, command_context(caller, x_correlation_id)
        )
    return ticket_response(parent)


@router.post("/tickets/{ticket_id}/unmerge", response_model=TicketView, responses=ERRORS)
async def unmerge(
    ticket_id: uuid.UUID,
    body: UnmergeBody,
    caller: Caller,
    tickets: Tickets,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Undo a merge (agents, managers): the child ticket comes back with the status it had."""
    with refusals():
        child = await tickets.unmerge(
            ticket_id, body.child_id, command_context(caller, x_correlation_id)
        )
    return ticket_response(child)
