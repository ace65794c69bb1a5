"""Routes for the mail gateway's own records: what became of outgoing mails (delivery states)
and delivery reports (bounces), shown on the ticket's timeline.

They take the gateway's staff token only (``access.require_gateway_staff``): a service acted,
not a customer or an agent. Each record is kept once per its idempotency key.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from helpdesk_events import Actor, ActorKind
from helpdesk_events.mail import DeliveryState, EmailBounced, EmailDeliveryRecorded
from helpdesk_platform.auth import Principal
from helpdesk_platform.telemetry import current_traceparent
from ticket_service.entrypoints.dependencies import Mail
from ticket_service.entrypoints.errors import refusals
from ticket_service.entrypoints.http_common import ERRORS
from ticket_service.entrypoints.http_mail import Address, Gateway, IdempotencyKey, MessageId
from ticket_service.service_layer import access
from ticket_service.service_layer.context import CommandContext
from ticket_service.service_layer.mail_requests import GATEWAY, MailRequests

router = APIRouter(prefix="/mail", tags=["mail"])


class DeliveryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email_message_id: MessageId
    message_id: uuid.UUID | None = None
    state: DeliveryState
    account: Address
    to: list[Address] = Field(default_factory=list, max_length=100)
    cc: list[Address] = Field(default_factory=list, max_length=100)
    subject: str = Field(default="", max_length=2000)
    in_reply_to: MessageId | None = None
    attempts: int = Field(default=1, ge=1, le=1000)
    error: str | None = Field(default=None, max_length=2000)
    automated: bool = False


class BounceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email_message_id: MessageId | None = None
    address: Address
    permanent: bool = True
    report_message_id: MessageId | None = None
    diagnostic: str | None = Field(default=None, max_length=2000)


def _service_context(caller: Principal) -> CommandContext:
    """Deliveries and bounces are the gateway's own records: a service acted."""
    return CommandContext(
        actor=Actor(kind=ActorKind.SERVICE, id=GATEWAY, display_name="Mail gateway"),
        correlation_id=uuid.uuid4(),
        traceparent=current_traceparent(),
    )


async def _gateway_staff(caller: Gateway) -> Principal:
    with refusals():
        access.require_gateway_staff(caller)
    return caller


GatewayStaff = Annotated[Principal, Depends(_gateway_staff)]


def _delivery(body: DeliveryBody) -> EmailDeliveryRecorded:
    return EmailDeliveryRecorded(
        **body.model_dump(exclude={"to", "cc", "ticket_id", "idempotency_key"}),
        to=tuple(a.lower() for a in body.to),
        cc=tuple(a.lower() for a in body.cc),
    )


class DeliveryItem(DeliveryBody):
    ticket_id: uuid.UUID
    idempotency_key: str = Field(min_length=1, max_length=200)


class DeliveriesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[DeliveryItem] = Field(min_length=1, max_length=200)


class DeliveryRecorded(BaseModel):
    ticket_id: uuid.UUID
    recorded: bool = Field(description="false: recorded before under this key")
    found: bool = Field(description="false: no such ticket, nothing recorded")


class DeliveriesRecorded(BaseModel):
    items: list[DeliveryRecorded]


@router.post("/deliveries", status_code=202, response_model=DeliveriesRecorded, responses=ERRORS)
async def record_deliveries(
    body: DeliveriesBody, caller: GatewayStaff, mail: Mail
) -> DeliveriesRecorded:
    """What became of outgoing mails (sending, sent, failed; the send queue's batch), shown on
    the timeline: one request and one append, each item once per its ``idempotency_key``."""
    with refusals():
        answers = await mail.record_deliveries(
            [(item.ticket_id, _delivery(item), item.idempotency_key) for item in body.items],
            _service_context(caller),
        )
    return DeliveriesRecorded(
        items=[
            DeliveryRecorded(
                ticket_id=item.ticket_id, recorded=bool(answer), found=answer is not None
            )
            for item, answer in zip(body.items, answers, strict=True)
        ]
    )


@router.post("/tickets/{ticket_id}/bounces", status_code=202, responses=ERRORS)
async def record_bounce(
    ticket_id: uuid.UUID,
    body: BounceBody,
    caller: GatewayStaff,
    mail: Mail,
    idempotency_key: IdempotencyKey,
) -> dict[str, bool]:
    """A delivery report said a mail of this ticket did not arrive at ``address``."""
    event = EmailBounced(**body.model_dump(exclude={"address"}), address=body.address.lower())
    return await _record(ticket_id, event, body, caller, mail, "bounce", idempotency_key)


async def _record(
    ticket_id: uuid.UUID,
    event: EmailDeliveryRecorded | EmailBounced,
    body: BaseModel,
    caller: Principal,
    mail: MailRequests,
    scope: str,
    key: str,
) -> dict[str, bool]:
    with refusals():
        recorded = await mail.record(
            ticket_id,
            event,
            _service_context(caller),
            scope,
            key,
            body.model_dump(mode="json"),
        )
    return {"recorded": recorded}
