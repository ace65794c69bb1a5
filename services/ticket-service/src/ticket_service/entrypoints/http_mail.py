"""Routes for the mail gateway only: tickets and messages from email (with their headers and CC
participants), outgoing delivery states and bounces.

Every route requires a token the mail gateway minted (claim ``via: mail-gateway``); portal tokens
never carry it, so nobody else can put email headers on a ticket. Inbound mail comes with a
customer token for the sender (the ownership rules of the ticket apply as to the portal, widened
to the thread's CC participants); deliveries and bounces come with the gateway's staff token.
Each call needs an ``Idempotency-Key`` (the gateway derives it from account + Message-ID).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from helpdesk_events import Actor, ActorKind
from helpdesk_events.mail import DeliveryState, EmailBounced, EmailDeliveryRecorded, EmailReceived
from helpdesk_platform.auth import Principal, Role
from helpdesk_platform.telemetry import current_traceparent
from ticket_service.adapters.event_store import PostgresEventStore
from ticket_service.adapters.idempotency import IdempotentAppender, request_fingerprint
from ticket_service.domain.ticket import NewTicket, plain_text, sanitise_html
from ticket_service.entrypoints.dependencies import Caller, Tickets, command_context
from ticket_service.entrypoints.errors import refusals
from ticket_service.entrypoints.http_tickets import ERRORS, TicketView, attachment_refs
from ticket_service.service_layer.context import CommandContext
from ticket_service.service_layer.mail import EmailMessage, MailApplication, MailOutcome
from ticket_service.service_layer.tickets import IdempotencyRequest

GATEWAY = "mail-gateway"

router = APIRouter(prefix="/mail", tags=["mail"])


async def mail_gateway(caller: Caller) -> Principal:
    if caller.via != GATEWAY:
        raise HTTPException(403, "only the mail gateway may record email on tickets")
    return caller


Gateway = Annotated[Principal, Depends(mail_gateway)]
Address = Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
MessageId = Annotated[str, Field(min_length=1, max_length=998)]
IdempotencyKey = Annotated[str, Header(min_length=1, max_length=200)]


def mail_application(request: Request, tickets: Tickets) -> MailApplication:
    app = getattr(request.app.state, "mail_application", None)
    if app is None:
        store = PostgresEventStore(request.app.state.pool)
        app = MailApplication(store, IdempotentAppender(request.app.state.pool, store), tickets)
        request.app.state.mail_application = app
    return app


Mail = Annotated[MailApplication, Depends(mail_application)]


class EmailHeaders(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email_message_id: MessageId
    account: Address = Field(description="the support address the mail came in on")
    from_address: Address
    from_name: str | None = Field(default=None, max_length=200)
    to: list[Address] = Field(default_factory=list, max_length=100)
    cc: list[Address] = Field(default_factory=list, max_length=100)
    subject: str = Field(default="", max_length=2000)
    in_reply_to: MessageId | None = None
    references: list[MessageId] = Field(default_factory=list, max_length=100)
    automated: bool = Field(default=False, description="an auto-reply: kept as a note only")

    def event(self) -> EmailReceived:
        return EmailReceived(
            email_message_id=self.email_message_id,
            account=self.account.lower(),
            from_address=self.from_address.lower(),
            from_name=self.from_name,
            to=tuple(a.lower() for a in self.to),
            cc=tuple(a.lower() for a in self.cc),
            subject=self.subject,
            in_reply_to=self.in_reply_to,
            references=tuple(self.references),
            automated=self.automated,
        )


class MailMessageBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body_html: str = Field(default="", max_length=1_000_000, description="sanitised again here")
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    email: EmailHeaders
    participants: list[Address] = Field(
        default_factory=list, max_length=100, description="To/CC besides the support address"
    )


class MailTicketBody(MailMessageBody):
    subject: str = Field(min_length=1, max_length=500)
    team_id: uuid.UUID | None = Field(default=None, description="the account's team")


class MailOutcomeView(BaseModel):
    ticket_id: uuid.UUID
    message_id: uuid.UUID | None
    created: bool
    follow_up_of: uuid.UUID | None
    replayed: bool
    ticket: TicketView


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


def _request(scope: str, key: str, body: EmailHeaders) -> IdempotencyRequest:
    # Attachments are uploaded again when a mail is read again (new ids): the mail's identity
    # is its account and Message-ID.
    fingerprint = request_fingerprint([body.account.lower(), body.email_message_id])
    return IdempotencyRequest(scope=f"{GATEWAY}:{scope}", key=key, fingerprint=fingerprint)


async def _mail(request: Request, caller: Principal, body: MailMessageBody) -> EmailMessage:
    return EmailMessage(
        body_html=sanitise_html(body.body_html),
        received=body.email.event(),
        attachments=await attachment_refs(request, caller, body.attachment_ids),
        participants=tuple(body.participants),
    )


async def _view(tickets: Tickets, outcome: MailOutcome) -> MailOutcomeView:
    with refusals():
        ticket = await tickets.get_ticket(outcome.ticket_id)
    return MailOutcomeView(
        ticket_id=outcome.ticket_id,
        message_id=outcome.message_id,
        created=outcome.created,
        follow_up_of=outcome.follow_up_of,
        replayed=outcome.replayed,
        ticket=TicketView.of(ticket),
    )


@router.post("/tickets", status_code=201, response_model=MailOutcomeView, responses=ERRORS)
async def open_ticket(
    request: Request,
    body: MailTicketBody,
    caller: Gateway,
    tickets: Tickets,
    mail: Mail,
    idempotency_key: IdempotencyKey,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> MailOutcomeView:
    """A new ticket from a mail, for its sender (a customer token with the sender's email; the
    contact is registered on first contact). The mail becomes the first message."""
    if caller.role is not Role.CUSTOMER or caller.email is None:
        raise HTTPException(403, "a mail opens a ticket for its sender: a customer token")
    if caller.email.lower() != body.email.from_address.lower():
        raise HTTPException(422, "the token's email is not the mail's sender")
    message = await _mail(request, caller, body)
    new = NewTicket(
        subject=body.subject,
        description=plain_text(message.body_html)[:200_000],
        channel="email",
        requester_email=caller.email,
        requester_name=caller.name,
        team_id=body.team_id,
    )
    with refusals():
        outcome = await mail.open_ticket(
            new,
            message,
            command_context(caller, x_correlation_id),
            _request("open", idempotency_key, body.email),
        )
    return await _view(tickets, outcome)


@router.post(
    "/tickets/{ticket_id}/messages",
    status_code=201,
    response_model=MailOutcomeView,
    responses=ERRORS,
)
async def add_message(
    request: Request,
    ticket_id: uuid.UUID,
    body: MailMessageBody,
    caller: Gateway,
    tickets: Tickets,
    mail: Mail,
    idempotency_key: IdempotencyKey,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> MailOutcomeView:
    """A reply by mail from the ticket's customer, a participant of its thread, or an agent.
    Anyone else gets 404 (the gateway then opens a new ticket: no hijack by quoting `[#N]`)."""
    with refusals():
        ticket = await tickets.get_ticket(ticket_id)
    if not caller.is_staff and not await mail.may_write(ticket, caller.email):
        raise HTTPException(404, f"no ticket {ticket_id}")
    message = await _mail(request, caller, body)
    with refusals():
        outcome = await mail.add_to_ticket(
            ticket_id,
            message,
            command_context(caller, x_correlation_id),
            _request("message", idempotency_key, body.email),
            by_customer=not caller.is_staff,
        )
    return await _view(tickets, outcome)


async def _gateway_staff(caller: Gateway) -> Principal:
    if not caller.is_staff:
        raise HTTPException(403, "deliveries and bounces are recorded with the gateway's token")
    return caller


GatewayStaff = Annotated[Principal, Depends(_gateway_staff)]


@router.post("/tickets/{ticket_id}/deliveries", status_code=202, responses=ERRORS)
async def record_delivery(
    ticket_id: uuid.UUID,
    body: DeliveryBody,
    caller: GatewayStaff,
    mail: Mail,
    idempotency_key: IdempotencyKey,
) -> dict[str, bool]:
    """What became of an outgoing mail (sending, sent, failed); shown on the timeline."""
    event = EmailDeliveryRecorded(
        **body.model_dump(exclude={"to", "cc"}),
        to=tuple(a.lower() for a in body.to),
        cc=tuple(a.lower() for a in body.cc),
    )
    return await _record(ticket_id, event, body, caller, mail, "delivery", idempotency_key)


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
    mail: MailApplication,
    scope: str,
    key: str,
) -> dict[str, bool]:
    fingerprint = request_fingerprint(body.model_dump(mode="json"))
    with refusals():
        recorded = await mail.record(
            ticket_id,
            event,
            _service_context(caller),
            IdempotencyRequest(f"{GATEWAY}:{scope}", key, fingerprint),
        )
    return {"recorded": recorded}
