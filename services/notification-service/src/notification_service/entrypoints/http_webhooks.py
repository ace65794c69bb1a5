"""Webhook subscriptions (managers): CRUD, secret rotation, the delivery log, redelivery."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, Field, HttpUrl

from notification_service.domain.webhooks import SubscriptionError, TargetRefused
from notification_service.entrypoints.dependencies import MAX_SEQ, Manager
from notification_service.service_layer.webhooks import NotFound, Webhooks

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


class WebhookIn(BaseModel):
    url: HttpUrl = Field(description="where deliveries are POSTed (https recommended)")
    event_types: list[str] = Field(
        min_length=1,
        max_length=100,
        description="event types wanted (TicketCreated, SlaBreached, AgentInvited, …) or '*'",
    )
    condition: str | None = Field(
        default=None,
        max_length=4000,
        description="optional condition on the ticket's fields, in the condition language of "
        'SLA policies and assignment rules, e.g. priority in ["High", "Urgent"]; events '
        "about no ticket (directory) never match a subscription with a condition",
    )
    description: str | None = Field(default=None, max_length=500)


class WebhookPatch(BaseModel):
    url: HttpUrl | None = None
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=100)
    condition: str | None = Field(default=None, max_length=4000)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = Field(default=None, description="true re-enables after a 410")


class WebhookOut(BaseModel):
    id: uuid.UUID
    owner: str
    url: str
    description: str | None
    event_types: list[str]
    condition: str | None
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime
    previous_secret_expires_at: datetime | None


class WebhookWithSecret(WebhookOut):
    secret: str = Field(description="whsec_…: shown only now; verify deliveries with it")


class Attempt(BaseModel):
    attempted_at: datetime
    status_code: int | None
    response_ms: float
    error: str | None


class DeliveryOut(BaseModel):
    id: uuid.UUID = Field(description="the webhook-id header, the same on every attempt")
    seq: int
    event_id: uuid.UUID
    event_type: str
    order_key: str = Field(description="the ticket (or agent/team) whose events keep order")
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None
    attempt_log: list[Attempt]


def _webhooks(request: Request) -> Webhooks:
    webhooks: Webhooks = request.app.state.webhooks
    return webhooks


def _bad(error: Exception) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(error))


def _missing(error: NotFound) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, str(error))


@router.post("", response_model=WebhookWithSecret, status_code=201)
async def create_webhook(request: Request, caller: Manager, body: WebhookIn) -> Any:
    """Subscribe a URL; the answer holds the secret (``whsec_…``) once."""
    try:
        return await _webhooks(request).create(
            caller.subject,
            url=str(body.url),
            event_types=body.event_types,
            condition=body.condition,
            description=body.description,
        )
    except (SubscriptionError, TargetRefused) as error:
        raise _bad(error) from None


@router.get("", response_model=list[WebhookOut])
async def list_webhooks(request: Request, _caller: Manager) -> Any:
    return await _webhooks(request).all()


@router.get("/{webhook_id}", response_model=WebhookOut)
async def get_webhook(request: Request, _caller: Manager, webhook_id: uuid.UUID) -> Any:
    try:
        return await _webhooks(request).get(webhook_id)
    except NotFound as error:
        raise _missing(error) from None


@router.patch("/{webhook_id}", response_model=WebhookOut)
async def update_webhook(
    request: Request, _caller: Manager, webhook_id: uuid.UUID, body: WebhookPatch
) -> Any:
    changes = body.model_dump(exclude_unset=True)
    if "url" in changes:
        if changes["url"] is None:
            raise _bad(ValueError("url cannot be removed"))
        changes["url"] = str(changes["url"])
    for key in ("event_types", "enabled"):
        if key in changes and changes[key] is None:
            raise _bad(ValueError(f"{key} cannot be null"))
    try:
        return await _webhooks(request).update(webhook_id, changes)
    except (SubscriptionError, TargetRefused) as error:
        raise _bad(error) from None
    except NotFound as error:
        raise _missing(error) from None


@router.delete("/{webhook_id}", status_code=204)
async def delete_webhook(request: Request, _caller: Manager, webhook_id: uuid.UUID) -> None:
    try:
        await _webhooks(request).delete(webhook_id)
    except NotFound as error:
        raise _missing(error) from None


@router.post("/{webhook_id}/rotate-secret", response_model=WebhookWithSecret)
async def rotate_secret(request: Request, _caller: Manager, webhook_id: uuid.UUID) -> Any:
    """A new secret; the old one still signs deliveries (a second signature) for a while
    (``previous_secret_expires_at``)."""
    try:
        return await _webhooks(request).rotate_secret(webhook_id)
    except NotFound as error:
        raise _missing(error) from None


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut])
async def deliveries(
    request: Request,
    _caller: Manager,
    webhook_id: uuid.UUID,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_SEQ, description="seq: older than this")
    ] = None,
) -> Any:
    """The subscription's recent deliveries, newest first, with each attempt."""
    try:
        rows = await _webhooks(request).deliveries(webhook_id, limit, before)
    except NotFound as error:
        raise _missing(error) from None
    return [{**r, "attempt_log": orjson.loads(r["attempt_log"])} for r in rows]


@router.post("/{webhook_id}/deliveries/{delivery_id}/redeliver", status_code=202)
async def redeliver(
    request: Request, _caller: Manager, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> dict[str, str]:
    """Send a delivery again (same ``webhook-id``: receivers that dedupe see it once)."""
    try:
        await _webhooks(request).redeliver(webhook_id, delivery_id)
    except NotFound as error:
        raise _missing(error) from None
    return {"status": "queued"}
