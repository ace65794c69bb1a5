"""Presence on a ticket (the collision warning) and the ticket's live feed, for staff.

The ticket page sends ``PUT /presence/tickets/{id}`` about every 10 s and when the agent starts
or stops writing a reply, ``DELETE`` when it closes, and follows ``GET …/stream``: Server-Sent
Events ``presence`` (the other agents there) and ``changed`` (re-read the ticket).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from notification_service.domain.presence import Activity, Presence
from notification_service.entrypoints.dependencies import Caller, StreamCaller
from notification_service.service_layer.presence import PresenceChanged, Presences

router = APIRouter(prefix="/presence", tags=["presence"])


class HeartbeatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session: uuid.UUID = Field(description="one per open ticket page (a tab), chosen by it")
    activity: Activity = Field(description="viewing, or replying while the agent writes")


class PresenceOut(BaseModel):
    agent_id: str
    name: str | None
    activity: Activity
    since: datetime = Field(description="when they opened the ticket")


def _presences(request: Request) -> Presences:
    presences: Presences = request.app.state.presences
    return presences


def _out(presence: Presence) -> dict[str, object]:
    return {
        "agent_id": presence.agent_id,
        "name": presence.name,
        "activity": presence.activity.value,
        "since": presence.since.isoformat(),
    }


@router.put("/tickets/{ticket_id}", status_code=204)
async def heartbeat(
    request: Request, caller: Caller, ticket_id: uuid.UUID, body: HeartbeatIn
) -> None:
    """I have this ticket open (and am writing a reply): the others see it for 30 s."""
    await _presences(request).beat(
        ticket_id,
        agent_id=caller.subject,
        name=caller.name,
        session_id=body.session,
        activity=body.activity,
    )


@router.delete("/tickets/{ticket_id}", status_code=204)
async def leave(
    request: Request,
    caller: Caller,
    ticket_id: uuid.UUID,
    session: Annotated[uuid.UUID, Query(description="the page's session")],
) -> None:
    """I closed the ticket page (idempotent)."""
    await _presences(request).leave(ticket_id, agent_id=caller.subject, session_id=session)


@router.get("/tickets/{ticket_id}", response_model=list[PresenceOut])
async def who_else(request: Request, caller: Caller, ticket_id: uuid.UUID) -> list[PresenceOut]:
    """The other agents on this ticket now (you are never in the list)."""
    return [
        PresenceOut.model_validate(_out(p))
        for p in await _presences(request).others(ticket_id, caller.subject)
    ]


@router.get(
    "/tickets/{ticket_id}/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request, caller: StreamCaller, ticket_id: uuid.UUID
) -> EventSourceResponse:
    """The ticket's live feed: ``event: presence`` (``data``: the list ``GET`` gives, first at
    once and then on every change) and ``event: changed`` (``data``: ``{"ticket_id"}``, after
    every change to the ticket or its SLA by anyone)."""
    ping: float = request.app.state.settings.stream_ping_seconds
    feed = _presences(request).watch(ticket_id, caller.subject, ping=ping)

    async def events() -> AsyncIterator[ServerSentEvent]:
        async for item in feed:
            if isinstance(item, PresenceChanged):
                data = orjson.dumps([_out(p) for p in item.others]).decode()
                yield ServerSentEvent(data=data, event="presence")
            else:
                data = orjson.dumps({"ticket_id": str(item.ticket_id)}).decode()
                yield ServerSentEvent(data=data, event="changed")

    return EventSourceResponse(events(), ping=int(ping), headers={"X-Accel-Buffering": "no"})
