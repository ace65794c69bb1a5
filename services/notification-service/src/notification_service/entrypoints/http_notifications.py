"""In-app notifications: list, mark read, the live stream (SSE), preferences and follows."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from notification_service.domain.kinds import (
    LOW_PRIORITY,
    Channel,
    Kind,
    Preference,
    PreferenceError,
)
from notification_service.entrypoints.dependencies import MAX_SEQ, Caller, StreamCaller
from notification_service.service_layer.inbox import Inbox, NotFound, Wakeups

router = APIRouter(tags=["notifications"])


class NotificationOut(BaseModel):
    id: uuid.UUID
    seq: int = Field(description="position in the recipient's list; the SSE event id")
    kind: Kind
    title: str
    body: str
    ticket_id: uuid.UUID | None
    ticket_number: int | None
    event_id: uuid.UUID
    event_type: str
    occurred_at: datetime
    created_at: datetime
    read_at: datetime | None
    read: bool


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    unread_count: int
    next_before: int | None = Field(description="pass as ?before= for the next (older) page")


def _out(row: dict[str, object]) -> NotificationOut:
    return NotificationOut.model_validate({**row, "read": row["read_at"] is not None})


def _inbox(request: Request) -> Inbox:
    inbox: Inbox = request.app.state.inbox
    return inbox


@router.get("/notifications", response_model=NotificationPage)
async def list_notifications(
    request: Request,
    caller: Caller,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_SEQ, description="seq: older than this")
    ] = None,
) -> NotificationPage:
    """Your notifications, newest first (``unread=true``: only those not read yet)."""
    rows, unread_count = await _inbox(request).page(
        caller.subject, unread=unread, limit=limit, before=before
    )
    items = [_out(r) for r in rows]
    return NotificationPage(
        items=items,
        unread_count=unread_count,
        next_before=items[-1].seq if len(items) == limit else None,
    )


@router.post("/notifications/{notification_id}/read", status_code=204)
async def mark_read(request: Request, caller: Caller, notification_id: uuid.UUID) -> None:
    try:
        await _inbox(request).mark_read(caller.subject, notification_id)
    except NotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None


class ReadAll(BaseModel):
    marked: int


@router.post("/notifications/read-all", response_model=ReadAll)
async def mark_all_read(
    request: Request,
    caller: Caller,
    up_to: Annotated[
        int | None,
        Query(ge=1, le=MAX_SEQ, description="seq: only up to this one (what the user saw)"),
    ] = None,
) -> ReadAll:
    return ReadAll(marked=await _inbox(request).mark_all_read(caller.subject, up_to))


def _resume_point(header: str | None, query: int | None) -> int | None:
    if query is not None:
        return query
    if header is None or not header.strip():
        return None
    try:
        value = int(header.strip())
    except ValueError:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "Last-Event-ID must be a notification's seq (a number)"
        ) from None
    if not 0 <= value <= MAX_SEQ:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Last-Event-ID is out of range")
    return value


@router.get(
    "/notifications/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request,
    caller: StreamCaller,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[
        int | None,
        Query(ge=0, le=MAX_SEQ, description="resume after this seq (as Last-Event-ID does)"),
    ] = None,
) -> EventSourceResponse:
    """Your new notifications as Server-Sent Events (``event: notification``, ``id``: seq).

    A reconnecting client sends ``Last-Event-ID`` (browsers do it by themselves) and receives
    every notification stored since, then the live ones. Without it the stream starts now.
    A comment is sent every 15 s to keep proxies from closing the connection.
    """
    inbox = _inbox(request)
    broadcaster: Wakeups = request.app.state.broadcaster
    ping: float = request.app.state.settings.stream_ping_seconds
    recipient = caller.subject
    resume = _resume_point(last_event_id, after)
    start = resume if resume is not None else await inbox.last_seq(recipient)

    async def events() -> AsyncIterator[ServerSentEvent]:
        last = start
        with broadcaster.subscribe(recipient) as wake:
            while True:
                wake.clear()
                rows = await inbox.after(recipient, last)
                for row in rows:
                    last = int(row["seq"])
                    yield ServerSentEvent(
                        # The NotificationOut shape, without a model per event: this runs once
                        # per event per stream (asyncpg's UUIDs are written by str()).
                        data=orjson.dumps(
                            {**row, "read": row["read_at"] is not None}, default=str
                        ).decode(),
                        event="notification",
                        id=str(last),
                    )
                if rows:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), ping)

    return EventSourceResponse(events(), ping=int(ping), headers={"X-Accel-Buffering": "no"})


class PreferenceOut(BaseModel):
    kind: Kind
    channel: Channel
    digest: bool
    digest_allowed: bool


class PreferencesIn(BaseModel):
    preferences: dict[Kind, Preference] = Field(
        description='the kinds to change, e.g. {"assigned": {"channel": "both"}, '
        '"followed_status_changed": {"channel": "email", "digest": true}}'
    )


def _preferences_out(chosen: dict[Kind, Preference]) -> list[PreferenceOut]:
    return [
        PreferenceOut(
            kind=kind, channel=p.channel, digest=p.digest, digest_allowed=kind in LOW_PRIORITY
        )
        for kind, p in chosen.items()
    ]


@router.get("/notifications/preferences", response_model=list[PreferenceOut])
async def get_preferences(request: Request, caller: Caller) -> list[PreferenceOut]:
    """How each kind reaches you (defaults where you chose nothing)."""
    return _preferences_out(await _inbox(request).preferences(caller.subject))


@router.put("/notifications/preferences", response_model=list[PreferenceOut])
async def put_preferences(
    request: Request, caller: Caller, body: PreferencesIn
) -> list[PreferenceOut]:
    try:
        chosen = await _inbox(request).set_preferences(caller.subject, body.preferences)
    except PreferenceError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(error)) from None
    return _preferences_out(chosen)


class FollowedTicket(BaseModel):
    ticket_id: uuid.UUID
    number: int | None
    subject: str | None
    source: str = Field(description="explicit (you asked) or activity (you replied or noted)")
    since: datetime


@router.get("/notifications/follows", response_model=list[FollowedTicket])
async def followed(request: Request, caller: Caller) -> list[FollowedTicket]:
    """The tickets whose status changes you hear about."""
    return [
        FollowedTicket.model_validate(r) for r in await _inbox(request).followed(caller.subject)
    ]


@router.put("/notifications/follows/{ticket_id}", status_code=204)
async def follow(request: Request, caller: Caller, ticket_id: uuid.UUID) -> None:
    await _inbox(request).follow(caller.subject, ticket_id)


@router.delete("/notifications/follows/{ticket_id}", status_code=204)
async def unfollow(request: Request, caller: Caller, ticket_id: uuid.UUID) -> None:
    try:
        await _inbox(request).unfollow(caller.subject, ticket_id)
    except NotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
