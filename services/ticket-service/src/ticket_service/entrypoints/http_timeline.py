"""The ticket's timeline: every change, oldest first; a customer sees their public history
(the filter is the access policy's, applied by the use case)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from ticket_service.entrypoints.dependencies import Caller, Tickets
from ticket_service.entrypoints.errors import refusals
from ticket_service.entrypoints.http_common import ERRORS

router = APIRouter(tags=["tickets"])


class TimelineEntry(BaseModel):
    version: int
    event_type: str
    occurred_at: datetime
    actor: dict[str, Any]
    data: dict[str, Any]


@router.get("/tickets/{ticket_id}/timeline", response_model=list[TimelineEntry], responses=ERRORS)
async def timeline(ticket_id: uuid.UUID, caller: Caller, tickets: Tickets) -> list[TimelineEntry]:
    """Every change to the ticket, oldest first, with who made it and when.

    A customer sees their public history only: the ticket as created, changes of its subject,
    description, type and category, priority and status changes (without the free-text
    reason), public messages, and merges with their own tickets; numbered 1, 2, … in that
    history (`version`), so it does not show how much else happened."""
    with refusals():
        entries = await tickets.read_timeline(caller, ticket_id)
    return [
        TimelineEntry(
            version=entry.version,
            event_type=entry.event_type,
            occurred_at=entry.occurred_at,
            actor=entry.actor,
            data=entry.data,
        )
        for entry in entries
    ]
