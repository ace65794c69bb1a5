"""The quarantine API (managers): mail that could not become a ticket as it was, listed, read
whole, released into a ticket or discarded. Parse, call
:class:`mail_gateway.service_layer.admin.Quarantine`, map its errors."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel

from mail_gateway.entrypoints.http_common import ERRORS, Authorization, gateway_of, manager
from mail_gateway.service_layer.admin import (
    AlreadySettled,
    CannotRelease,
    Quarantine,
    QuarantineNotFound,
)

router = APIRouter(tags=["quarantine"], responses=ERRORS)


class QuarantinedView(BaseModel):
    quarantine_id: uuid.UUID
    account_id: uuid.UUID
    reason: str
    sender: str | None
    subject: str | None
    state: str
    ticket_id: uuid.UUID | None
    received_at: datetime
    size_bytes: int


def _quarantine(request: Request) -> Quarantine:
    return gateway_of(request).quarantine


def _refusal(error: Exception) -> HTTPException:
    if isinstance(error, QuarantineNotFound):
        return HTTPException(404, str(error))
    if isinstance(error, CannotRelease):
        return HTTPException(422, str(error))
    return HTTPException(409, str(error))  # AlreadySettled


REFUSED = (QuarantineNotFound, AlreadySettled, CannotRelease)
#: Where a quarantined mail is: still held, released into a ticket, or discarded.
QuarantineState = Literal["held", "released", "discarded"]


@router.get("/quarantine", response_model=list[QuarantinedView])
async def quarantine(
    request: Request, state: QuarantineState | None = "held", authorization: Authorization = None
) -> Any:
    """Mail that could not become a ticket as it was (unparsable, no sender, rate limit,
    a report about an unknown mail), kept whole; ``state`` filters (none: every state)."""
    manager(request, authorization, "read quarantined mail")
    return [QuarantinedView(**row) for row in await _quarantine(request).list(state)]


@router.get("/quarantine/{quarantine_id}/raw")
async def quarantined_raw(
    request: Request, quarantine_id: uuid.UUID, authorization: Authorization = None
) -> Response:
    manager(request, authorization, "read quarantined mail")
    try:
        raw = await _quarantine(request).raw(quarantine_id)
    except REFUSED as error:
        raise _refusal(error) from None
    return Response(raw, media_type="message/rfc822")


@router.post("/quarantine/{quarantine_id}/release", response_model=QuarantinedView)
async def release(
    request: Request, quarantine_id: uuid.UUID, authorization: Authorization = None
) -> Any:
    """Turn a quarantined mail into a ticket (or a message on the ticket it answers)."""
    manager(request, authorization, "release quarantined mail")
    try:
        return QuarantinedView(**await _quarantine(request).release(quarantine_id))
    except REFUSED as error:
        raise _refusal(error) from None


@router.post("/quarantine/{quarantine_id}/discard", response_model=QuarantinedView)
async def discard(
    request: Request, quarantine_id: uuid.UUID, authorization: Authorization = None
) -> Any:
    manager(request, authorization, "discard quarantined mail")
    try:
        return QuarantinedView(**await _quarantine(request).discard(quarantine_id))
    except REFUSED as error:
        raise _refusal(error) from None
