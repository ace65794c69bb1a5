"""Routes for the mail gateway only: tickets and messages from email (with their headers and CC
participants), one by one or an inbox batch at once (outgoing delivery states and bounces:
``http_mail_deliveries``).

Every route requires a token the mail gateway minted (claim ``via: mail-gateway``); portal tokens
never carry it, so nobody else can put email headers on a ticket. Inbound mail comes with a
customer token for the sender (the ownership rules of the ticket apply as to the portal, widened
to the thread's CC participants); deliveries and bounces come with the gateway's staff token.
Each call needs an ``Idempotency-Key`` (the gateway derives it from account + Message-ID).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, ConfigDict, Field, model_validator

from helpdesk_events import Visibility
from helpdesk_events.mail import EmailReceived
from helpdesk_platform.auth import Principal
from ticket_service.domain.ticket import Ticket
from ticket_service.entrypoints.dependencies import Caller, Mail, command_context
from ticket_service.entrypoints.errors import http_error, refusals
from ticket_service.entrypoints.http_common import ERRORS
from ticket_service.entrypoints.ticket_schemas import TicketView
from ticket_service.service_layer import access
from ticket_service.service_layer.mail import MailOutcome
from ticket_service.service_layer.mail_requests import (
    BatchAnswer,
    BatchedMail,
    InboundMail,
)

router = APIRouter(prefix="/mail", tags=["mail"])


async def mail_gateway(caller: Caller) -> Principal:
    with refusals():
        access.require_mail_gateway(caller)
    return caller


Gateway = Annotated[Principal, Depends(mail_gateway)]
Address = Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
MessageId = Annotated[str, Field(min_length=1, max_length=998)]
IdempotencyKey = Annotated[str, Header(min_length=1, max_length=200)]


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


class MailReplyBody(MailMessageBody):
    visibility: Visibility = Field(
        default=Visibility.PUBLIC,
        description="internal: an agent's answer to a notification about the team's own work "
        "(a mention in an internal note) - an internal note, never mailed to the customer; "
        "staff tokens only",
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


def _inbound(body: MailMessageBody) -> InboundMail:
    return InboundMail(
        body_html=body.body_html,
        received=body.email.event(),
        attachment_ids=body.attachment_ids,
        participants=tuple(body.participants),
        visibility=body.visibility if isinstance(body, MailReplyBody) else Visibility.PUBLIC,
    )


def _view(outcome: MailOutcome, ticket: Ticket) -> MailOutcomeView:
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
    body: MailTicketBody,
    caller: Gateway,
    mail: Mail,
    idempotency_key: IdempotencyKey,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> MailOutcomeView:
    """A new ticket from a mail, for its sender (a customer token with the sender's email; the
    contact is registered on first contact). The mail becomes the first message."""
    with refusals():
        outcome, ticket = await mail.open_ticket(
            caller,
            body.subject,
            body.team_id,
            _inbound(body),
            command_context(caller, x_correlation_id),
            idempotency_key,
        )
    return _view(outcome, ticket)


@router.post(
    "/tickets/{ticket_id}/messages",
    status_code=201,
    response_model=MailOutcomeView,
    responses=ERRORS,
)
async def add_message(
    ticket_id: uuid.UUID,
    body: MailReplyBody,
    caller: Gateway,
    mail: Mail,
    idempotency_key: IdempotencyKey,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> MailOutcomeView:
    """A reply by mail from the ticket's customer, a participant of its thread, or an agent
    (an agent's may be an internal note). Anyone else gets 404 (the gateway then opens a new
    ticket: no hijack by quoting `[#N]`); an internal note with a customer token 403."""
    with refusals():
        outcome, ticket = await mail.add_message(
            caller,
            ticket_id,
            _inbound(body),
            command_context(caller, x_correlation_id),
            idempotency_key,
        )
    return _view(outcome, ticket)


class MailBatchItem(MailMessageBody):
    """A customer's mail of a batch: a new ticket (no ``ticket_id``; ``subject`` required) or
    a message on ``ticket_id``, for the mail's sender (``email.from_address``)."""

    idempotency_key: str = Field(min_length=1, max_length=200)
    ticket_id: uuid.UUID | None = Field(default=None, description="a message on this ticket")
    subject: str | None = Field(default=None, min_length=1, max_length=500)
    team_id: uuid.UUID | None = Field(default=None, description="the account's team")

    @model_validator(mode="after")
    def _new_ticket_has_subject(self) -> MailBatchItem:
        if self.ticket_id is None and self.subject is None:
            raise ValueError("a new ticket (no ticket_id) needs a subject")
        return self


class MailBatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[MailBatchItem] = Field(min_length=1, max_length=200)


class MailBatchAnswer(BaseModel):
    status: int = Field(description="what the single route would have answered: 201, 4xx")
    outcome: MailOutcomeView | None = None
    detail: str | None = None


class MailBatchAnswers(BaseModel):
    items: list[MailBatchAnswer]


def _batch_answer(answer: BatchAnswer) -> MailBatchAnswer:
    if isinstance(answer, tuple):
        return MailBatchAnswer(status=201, outcome=_view(*answer))
    refused = http_error(answer)
    return MailBatchAnswer(status=refused.status_code, detail=str(refused.detail))


@router.post("/tickets/batch", status_code=200, response_model=MailBatchAnswers, responses=ERRORS)
async def mail_batch(body: MailBatchBody, caller: Gateway, mail: Mail) -> MailBatchAnswers:
    """Customers' mails of one inbox batch in one request, with the gateway's own token: each
    item as `POST /mail/tickets` (no `ticket_id`) or `POST /mail/tickets/{id}/messages` would
    take it with its sender's customer token and its `idempotency_key`, and answered alone
    (created / added, or refused with the single route's status and reason)."""
    with refusals():
        answers = await mail.batch(
            caller,
            [
                BatchedMail(
                    _inbound(item),
                    item.idempotency_key,
                    ticket_id=item.ticket_id,
                    subject=item.subject or "",
                    team_id=item.team_id,
                )
                for item in body.items
            ],
            lambda sender: command_context(sender, None),
        )
    return MailBatchAnswers(items=[_batch_answer(answer) for answer in answers])
