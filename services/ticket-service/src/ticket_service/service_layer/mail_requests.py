"""Mail use cases as the mail gateway asks for them: who may put a mail on which ticket, the
mail's body sanitised and its attachments resolved, and the ticket to answer with.

The rules themselves are in :mod:`~ticket_service.service_layer.access` (the sender, the
gateway, who may write by mail); the routes in ``entrypoints/http_mail.py`` only parse.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from helpdesk_events import Visibility
from helpdesk_events.mail import EmailBounced, EmailDeliveryRecorded, EmailReceived
from ticket_service.domain.errors import DomainError, TicketNotFound
from ticket_service.domain.ticket import NewTicket, Ticket, plain_text, sanitise_html
from ticket_service.service_layer import access
from ticket_service.service_layer.attachments import AttachmentFiles
from ticket_service.service_layer.context import CommandContext
from ticket_service.service_layer.idempotency import IdempotencyKeyReused, IdempotencyRequest
from ticket_service.service_layer.mail import (
    EmailMessage,
    MailApplication,
    MailOutcome,
    MailRecord,
)
from ticket_service.service_layer.tickets import TicketApplication

__all__ = ["BatchedMail", "InboundMail", "MailRequests"]

GATEWAY = access.MAIL_GATEWAY

#: Senders of one batch handled at once (each sender's mails in order): the appends of
#: different tickets overlap their round trips to PostgreSQL.
BATCH_CONCURRENCY = 8

#: What one mail of a batch came to: where it landed, or why it was refused.
BatchAnswer = tuple[MailOutcome, Ticket] | DomainError | IdempotencyKeyReused


@dataclass(frozen=True)
class InboundMail:
    """A mail as the gateway read it, before its body is sanitised and its files resolved."""

    body_html: str
    received: EmailReceived
    attachment_ids: Sequence[uuid.UUID] = ()
    participants: tuple[str, ...] = ()
    #: Internal: an agent's answer to a notification about an internal note (staff only).
    visibility: Visibility = Visibility.PUBLIC

    def request(self, scope: str, key: str) -> IdempotencyRequest:
        # Attachments are uploaded again when a mail is read again (new ids): the mail's
        # identity is its account and Message-ID.
        return IdempotencyRequest.of(
            f"{GATEWAY}:{scope}", key, [self.received.account, self.received.email_message_id]
        )


@dataclass(frozen=True)
class BatchedMail:
    """One customer mail of a batch: a new ticket (``ticket_id`` None, with its ``subject``)
    or a message on ``ticket_id``, for the mail's sender, under its own idempotency key."""

    inbound: InboundMail
    key: str
    ticket_id: uuid.UUID | None = None
    subject: str = ""
    team_id: uuid.UUID | None = None


class MailRequests:
    def __init__(
        self, mail: MailApplication, tickets: TicketApplication, files: AttachmentFiles
    ) -> None:
        self._mail = mail
        self._tickets = tickets
        self._files = files

    async def open_ticket(
        self,
        who: access.Principal,
        subject: str,
        team_id: uuid.UUID | None,
        inbound: InboundMail,
        context: CommandContext,
        key: str,
    ) -> tuple[MailOutcome, Ticket]:
        """A new ticket from a mail, for its sender; the mail becomes the first message."""
        access.require_mail_sender(who, inbound.received.from_address)
        message = await self._message(who, inbound)
        new = NewTicket(
            subject=subject,
            description=plain_text(message.body_html)[:200_000],
            channel="email",
            requester_email=who.email,
            requester_name=who.name,
            team_id=team_id,
        )
        outcome = await self._mail.open_ticket(new, message, context, inbound.request("open", key))
        return outcome, await self._answered(outcome)

    async def add_message(
        self,
        who: access.Principal,
        ticket_id: uuid.UUID,
        inbound: InboundMail,
        context: CommandContext,
        key: str,
    ) -> tuple[MailOutcome, Ticket]:
        """A reply by mail from the ticket's customer, a participant of its thread, or staff
        (whose may be an internal note); anyone else learns nothing (:class:`TicketNotFound`)."""
        access.require_mail_visibility(who, inbound.visibility)
        ticket = await self._tickets.get_ticket(ticket_id)
        participants = () if who.is_staff else (await self._mail.thread(ticket_id)).participants
        if not access.may_write_by_mail(who, ticket, participants):
            raise TicketNotFound(f"no ticket {ticket_id}")
        message = await self._message(who, inbound)
        outcome = await self._mail.add_to_ticket(
            ticket_id,
            message,
            context,
            inbound.request("message", key),
            by_customer=not who.is_staff,
            visibility=inbound.visibility,
        )
        return outcome, await self._answered(outcome)

    async def batch(
        self,
        gateway: access.Principal,
        mails: Sequence[BatchedMail],
        context_for: Callable[[access.Principal], CommandContext],
    ) -> list[BatchAnswer]:
        """Customers' mails of one inbox batch in one request of the gateway's own token: each
        exactly as :meth:`open_ticket` or :meth:`add_message` would take it with the sender's
        customer token, under its own key, with its own answer (a refusal refuses that mail
        only). One sender's mails go in the order given; different senders' at once."""
        access.require_gateway_itself(gateway)
        answers: list[BatchAnswer | None] = [None] * len(mails)
        by_sender: dict[str, list[int]] = {}
        for index, mail in enumerate(mails):
            sender = mail.inbound.received.from_address.lower()
            by_sender.setdefault(sender, []).append(index)
        limit = asyncio.Semaphore(BATCH_CONCURRENCY)

        async def one_sender(indexes: list[int]) -> None:
            async with limit:
                for index in indexes:
                    answers[index] = await self._one(gateway, mails[index], context_for)

        await asyncio.gather(*(one_sender(indexes) for indexes in by_sender.values()))
        return [answer for answer in answers if answer is not None]

    async def _one(
        self,
        gateway: access.Principal,
        mail: BatchedMail,
        context_for: Callable[[access.Principal], CommandContext],
    ) -> BatchAnswer:
        received = mail.inbound.received
        try:
            who = access.mail_sender(gateway, received.from_address, received.from_name)
            if mail.ticket_id is None:
                return await self.open_ticket(
                    who, mail.subject, mail.team_id, mail.inbound, context_for(who), mail.key
                )
            return await self.add_message(
                who, mail.ticket_id, mail.inbound, context_for(who), mail.key
            )
        except (DomainError, IdempotencyKeyReused) as refused:
            return refused

    async def _answered(self, outcome: MailOutcome) -> Ticket:
        """The ticket to answer with: as the append left it, or read (a replayed request)."""
        if outcome.ticket is not None:
            return outcome.ticket
        return await self._tickets.get_ticket(outcome.ticket_id)

    async def record(
        self,
        ticket_id: uuid.UUID,
        event: EmailDeliveryRecorded | EmailBounced,
        context: CommandContext,
        scope: str,
        key: str,
        payload: object,
    ) -> bool:
        """A delivery state or a bounce, once per key; False when already recorded."""
        request = IdempotencyRequest.of(f"{GATEWAY}:{scope}", key, payload)
        return await self._mail.record(ticket_id, event, context, request)

    async def record_deliveries(
        self,
        deliveries: Sequence[tuple[uuid.UUID, EmailDeliveryRecorded, str]],
        context: CommandContext,
    ) -> list[bool | None]:
        """Delivery states of many tickets (ticket, event, key) in one append; each as
        :meth:`record` with scope ``delivery`` would store it, at most once per key."""
        scope = f"{GATEWAY}:delivery"
        return await self._mail.record_many(
            [MailRecord(ticket_id, event, scope, key) for ticket_id, event, key in deliveries],
            context,
        )

    async def _message(self, who: access.Principal, inbound: InboundMail) -> EmailMessage:
        return EmailMessage(
            body_html=sanitise_html(inbound.body_html),
            received=inbound.received,
            attachments=await self._files.refs(who, inbound.attachment_ids),
            participants=inbound.participants,
        )
