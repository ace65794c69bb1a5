"""Outgoing mail: the projection of ``helpdesk.tickets.v1`` the gateway threads with, and the
send queue of agents' public replies and acknowledgements.

A send is recorded before (``sending``, attempt counted: for a pass's whole batch in one
statement before its first mail goes out) and after (``sent``, each mail as soon as the SMTP
server accepted it) in the gateway's store; the queue row is keyed by the helpdesk message id,
so a replayed event never queues a second mail. SMTP failures are retried with exponential
backoff and reported on the ticket (``EmailDeliveryRecorded`` failed) when they give up. If the
gateway dies between the SMTP server's acceptance and the ``sent`` record, the mail is sent
again with the same Message-ID, which mail clients show once.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from helpdesk_events import EventEnvelope
from helpdesk_events.mail import (
    EmailDeliveryRecorded,
    EmailReceived,
    TicketParticipantsAdded,
)
from helpdesk_events.tickets import (
    MessageAdded,
    StatusCategory,
    StatusChanged,
    TeamChanged,
    TicketCreated,
)
from helpdesk_platform.mail_branding import MailBranding, text_to_html
from mail_gateway.adapters.accounts import AccountStore
from mail_gateway.adapters.smtp import SmtpFailed, SmtpSessions
from mail_gateway.adapters.store import MailStore
from mail_gateway.adapters.tickets_api import TicketsApi, TicketServiceUnavailable
from mail_gateway.domain.accounts import Account
from mail_gateway.domain.outgoing import OutgoingMail, compose, new_message_id, solved_text
from mail_gateway.domain.parsing import ParsedMail
from mail_gateway.domain.threading import TicketThread, copy_to, reply_subject

log = structlog.get_logger("mail_gateway.outbound")

ACK_NAMESPACE = uuid.UUID("0d7c1f4e-6a8b-4f57-bb7a-0e5b0f6b9a11")
SOLVED_NAMESPACE = uuid.UUID("5b0c2a53-6f0e-4d53-9a35-2f7b1e3c8d41")
#: Automatic mails (not a person's reply): marked Auto-Submitted, never a first response.
AUTOMATED_KINDS = ("ack", "solved")
#: Mails sent per pass of the queue: what a pass reads once (threads, accounts, bouncing
#: addresses), its SMTP session and its one request of delivery states are shared by as many.
#: 100 saved a little CPU but its larger delivery appends may delay the intake behind them in
#: the ticket service (p50/p99 at 100 mails/s not better, within noise: docs/benchmarks.md).
SEND_BATCH = 20


async def _default_branding() -> MailBranding:
    return MailBranding()


async def _no_agents(agent_ids: Iterable[str]) -> dict[str, str]:
    return {}


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 2 ** min(attempts, 10)))


@dataclass
class _Batch:
    """What one pass of the send queue reads once for all its mails."""

    threads: dict[uuid.UUID, TicketThread]
    accounts: list[Account]
    bouncing: set[str]
    #: The addresses of the agents who wrote the batch's replies (by the actor's id).
    authors: dict[str, str] = field(default_factory=dict)
    #: Delivery states to record on the tickets once the batch is sent.
    reports: list[dict[str, Any]] = field(default_factory=list)

    def sender(self, ticket_id: uuid.UUID) -> tuple[Account, str] | None:
        """The account to send the ticket's mail from and the customer to send it to; None
        when it is no mail thread (not known here, no account for it, or no customer)."""
        thread = self.threads.get(ticket_id)
        account = self.account_for(thread) if thread else None
        if thread is None or account is None or not thread.customer_email:
            return None
        return account, thread.customer_email

    def account_for(self, thread: TicketThread) -> Account | None:
        """The account the ticket came in on, else the first enabled one of its team."""
        for account in self.accounts:
            if account.account_id == thread.account_id:
                return account
        if thread.team_id is not None:
            for account in self.accounts:
                if account.settings.enabled and account.settings.team_id == thread.team_id:
                    return account
        return None


def _ticket_event(envelope: EventEnvelope) -> object | None:
    """The event of a ticket stream's envelope; None for other streams or unknown events."""
    if envelope.stream_type != "ticket":
        return None
    try:
        return envelope.payload()
    except Exception:
        return None


def _agent_reply(envelope: EventEnvelope, event: MessageAdded) -> bool:
    """An agent's public reply: the one message the gateway mails out."""
    return event.visibility == "public" and not event.automated and envelope.actor.kind == "agent"


class Outbound:
    def __init__(
        self,
        store: MailStore,
        accounts: AccountStore,
        api: TicketsApi,
        *,
        domain: str,
        max_attempts: int = 8,
        portal_url: str = "http://127.0.0.1:8080/portal",
        branding: Callable[[], Awaitable[MailBranding]] | None = None,
        agent_emails: Callable[[Iterable[str]], Awaitable[dict[str, str]]] = _no_agents,
    ) -> None:
        self._agent_emails = agent_emails
        self._portal_url = portal_url
        self._branding = branding or _default_branding
        self._store = store
        self._accounts = accounts
        self._api = api
        self._domain = domain
        self._max_attempts = max_attempts

    # --- the projection ----------------------------------------------------------------------

    async def on_events(self, envelopes: Iterable[EventEnvelope]) -> None:
        """:meth:`on_event` for a batch from the topic, in order - except that the commonest
        writes (a ticket created, a mail received or delivered: its Message-ID in the thread)
        are gathered and written a statement each per run of them. They commute with each
        other (different columns, refs appended in order); any other event writes what was
        gathered first."""
        created: list[tuple[uuid.UUID, int | None, str | None, str | None, uuid.UUID | None]]
        created = []
        links: list[tuple[uuid.UUID, str, str | None]] = []

        async def flush() -> None:
            if created:
                await self._store.upsert_tickets(created)
            if links:
                await self._store.link_many(links)
            created.clear()
            links.clear()

        for envelope in envelopes:
            event = _ticket_event(envelope)
            if isinstance(event, TicketCreated):
                customer = (event.requester_email or "").lower() or None
                created.append(
                    (envelope.stream_id, event.number, event.subject, customer, event.team_id)
                )
            elif isinstance(event, EmailReceived):
                links.append((envelope.stream_id, event.email_message_id, event.account))
            elif isinstance(event, EmailDeliveryRecorded):
                links.append((envelope.stream_id, event.email_message_id, None))
            elif isinstance(event, MessageAdded) and not _agent_reply(envelope, event):
                continue  # a customer's message: nothing for the gateway to write
            elif event is not None:
                await flush()
                await self.on_event(envelope)
        await flush()

    async def on_event(self, envelope: EventEnvelope) -> None:
        if envelope.stream_type != "ticket":
            return
        try:
            event = envelope.payload()
        except Exception:
            return
        ticket_id = envelope.stream_id
        if isinstance(event, TicketCreated):
            await self._store.upsert_ticket(
                ticket_id,
                number=event.number,
                subject=event.subject,
                customer_email=(event.requester_email or "").lower() or None,
                team_id=event.team_id,
            )
        elif isinstance(event, TeamChanged):
            await self._store.upsert_ticket(
                ticket_id, team_id=event.to_team_id, clear_team=event.to_team_id is None
            )
        elif isinstance(event, EmailReceived):
            await self._store.received(ticket_id, event.email_message_id, event.account)
        elif isinstance(event, TicketParticipantsAdded):
            await self._store.add_participants(ticket_id, event.addresses)
        elif isinstance(event, StatusChanged) and event.to_category is StatusCategory.RESOLVED:
            await self._ask_for_rating(ticket_id, envelope.stream_version)
        elif isinstance(event, EmailDeliveryRecorded):
            await self._store.link_message_id(event.email_message_id, ticket_id)
        elif isinstance(event, MessageAdded) and _agent_reply(envelope, event):
            await self._store.enqueue(
                event.message_id,
                ticket_id,
                "reply",
                new_message_id(self._domain, event.message_id),
                {
                    "message_id": str(event.message_id),
                    "author_id": envelope.actor.id,
                    "body_html": event.body_html,
                    "body_text": event.body_text,
                    "attachments": [a.model_dump(mode="json") for a in event.attachments],
                },
            )

    async def acknowledge(self, account: Account, thread: TicketThread, mail: ParsedMail) -> None:
        await self._store.enqueue(*self._acknowledgement(thread))

    async def acknowledge_many(self, account: Account, threads: Sequence[TicketThread]) -> None:
        """:meth:`acknowledge` for a batch's new tickets, queued in one statement."""
        await self._store.enqueue_many(self._acknowledgement(thread) for thread in threads)

    def _acknowledgement(
        self, thread: TicketThread
    ) -> tuple[uuid.UUID, uuid.UUID, str, str, dict[str, Any]]:
        """The queued acknowledgement of a new ticket: once per ticket (its id is the key)."""
        outbound_id = uuid.uuid5(ACK_NAMESPACE, str(thread.ticket_id))
        label = f"#{thread.number}" if thread.number is not None else "your request"
        text = (
            f"Thank you for writing to us. We received your request and opened ticket {label}; "
            "we will answer as soon as we can. Reply to this mail to add to it."
        )
        return (
            outbound_id,
            thread.ticket_id,
            "ack",
            new_message_id(self._domain, outbound_id),
            {"body_html": text_to_html(text), "body_text": text, "attachments": []},
        )

    async def _ask_for_rating(self, ticket_id: uuid.UUID, version: int) -> None:
        """When a ticket is solved, mail its customer the rating links (once per resolution:
        the queue is keyed by the ticket and the version that solved it)."""
        thread = await self._store.thread(ticket_id)
        if thread is None:
            return
        outbound_id = uuid.uuid5(SOLVED_NAMESPACE, f"{ticket_id}:{version}")
        text = solved_text(thread.number, self._portal_url, ticket_id)
        await self._store.enqueue(
            outbound_id,
            ticket_id,
            "solved",
            new_message_id(self._domain, outbound_id),
            {"body_html": text_to_html(text), "body_text": text, "attachments": []},
        )

    # --- sending -----------------------------------------------------------------------------

    async def send_due(self, now: datetime | None = None) -> int:
        """Send what is due, as one batch: the threads, accounts and bouncing addresses read
        once for it, the batch's mails recorded ``sending`` in one statement before the first
        goes out, and one SMTP session per account across its mails."""
        now = now or datetime.now(UTC)
        rows = await self._store.due(now, limit=SEND_BATCH)
        if not rows:
            return 0
        threads = await self._store.threads({row["ticket_id"] for row in rows})
        accounts = await self._accounts.all()
        everyone = set().union(*(t.participants for t in threads.values()))
        batch = _Batch(threads, accounts, await self._store.bouncing(everyone))
        authors = {row["payload"].get("author_id") for row in rows} - {None}
        if authors:
            batch.authors = await self._agent_emails(authors)
        sendable: list[tuple[Any, tuple[Account, str]]] = []
        for row in rows:
            sender = batch.sender(row["ticket_id"])
            if sender is None:
                # Not a mail thread (a portal ticket whose team has no account): nothing to send.
                await self._store.mark(row["outbound_id"], "skipped",
                                       error="no email account or customer")  # fmt: skip
            else:
                sendable.append((row, sender))
        # Recorded before: each mail is `sending` (its attempt counted) before any of them is
        # handed to SMTP - the record comes earlier than mail by mail did, never later, so a
        # crash still leaves every mail that may have gone out in `sending` (sent again with
        # the same Message-ID). A mail the crash kept from being tried has an attempt counted
        # that it did not make; it is sent on the next pass all the same.
        await self._store.mark_sending([(r["outbound_id"], r["attempts"] + 1) for r, _ in sendable])
        async with SmtpSessions() as sessions:
            for row, (account, customer) in sendable:
                await self._send(row, account, customer, now, batch, sessions)
        await self._record(batch.reports)
        return len(rows)

    async def _record(self, reports: list[dict[str, Any]]) -> None:
        """The batch's delivery states on their tickets: one request, one append. A record
        is the timeline's, not the send's: when the ticket service is away it is logged."""
        if not reports:
            return
        try:
            answer = await self._api.record_deliveries(reports)
        except TicketServiceUnavailable as failure:
            log.warning("delivery states not recorded", mails=len(reports), error=str(failure))
            return
        if not answer.ok:
            log.warning("delivery states refused", mails=len(reports), status=answer.status,
                        detail=str(answer.body.get("detail", ""))[:500])  # fmt: skip

    async def _send(
        self,
        row: Any,
        account: Account,
        customer: str,
        now: datetime,
        batch: _Batch,
        sessions: SmtpSessions,
    ) -> None:
        """Send one mail of the batch (already recorded ``sending``) and record it ``sent``
        as soon as the SMTP server has accepted it."""
        outbound_id = row["outbound_id"]
        thread = batch.threads[row["ticket_id"]]  # as this batch has sent on it so far
        payload = row["payload"]
        author = batch.authors.get(payload.get("author_id") or "")
        own = {a.address for a in batch.accounts}
        cc = copy_to(thread, own | batch.bouncing | ({author} if author else set()))
        attempts = row["attempts"] + 1
        email_message_id = row["email_message_id"]
        refs = tuple(r for r in thread.references if r != email_message_id)
        try:
            files: list[tuple[str, str, bytes]] = []
            for a in payload.get("attachments", []):
                data = await self._api.download(a["attachment_id"])
                files.append((a["filename"], a["content_type"], data))
        except TicketServiceUnavailable as error:
            await self._retry(row, attempts, now, str(error), account, thread, batch)
            return
        branding = await self._branding()
        mail = OutgoingMail(
            from_address=account.address,
            # An inbox without a display name of its own sends in the helpdesk's name.
            from_name=account.settings.display_name or branding.helpdesk_name,
            to=(customer,),
            cc=cc,
            subject=reply_subject(thread.number, thread.subject),
            body_html=payload["body_html"],
            body_text=payload["body_text"],
            message_id=email_message_id,
            in_reply_to=refs[-1] if refs else None,
            references=refs,
            signature=account.settings.signature,
            automated=row["kind"] in AUTOMATED_KINDS,
            attachments=tuple(files),
        )
        try:
            await sessions.submit(account, compose(mail, now, branding), [*mail.to, *mail.cc])
        except SmtpFailed as error:
            await self._retry(row, attempts, now, str(error), account, thread, batch, mail)
            return
        await self._store.mark_sent(outbound_id, email_message_id, thread.ticket_id)
        # A later mail of this batch to the same thread refers to this one.
        batch.threads[thread.ticket_id] = replace(
            thread, references=(*thread.references, email_message_id)
        )
        batch.reports.append(self._report(thread, mail, account, row, attempts, "sent", None))

    async def _retry(
        self,
        row: Any,
        attempts: int,
        now: datetime,
        error: str,
        account: Account,
        thread: TicketThread,
        batch: _Batch,
        mail: OutgoingMail | None = None,
    ) -> None:
        if attempts >= self._max_attempts:
            await self._store.mark(row["outbound_id"], "failed", attempts=attempts, error=error)
            log.warning("mail given up", ticket_id=str(thread.ticket_id), error=error)
            if mail is not None:
                report = self._report(thread, mail, account, row, attempts, "failed", error)
                batch.reports.append(report)
            return
        await self._store.mark(
            row["outbound_id"], "pending", attempts=attempts, error=error,
            next_attempt_at=now + backoff(attempts),
        )  # fmt: skip

    @staticmethod
    def _report(
        thread: TicketThread,
        mail: OutgoingMail,
        account: Account,
        row: Any,
        attempts: int,
        state: str,
        error: str | None,
    ) -> dict[str, Any]:
        return {
            "ticket_id": str(thread.ticket_id),
            "idempotency_key": f"delivery-{mail.message_id}-{state}"[:200],
            "email_message_id": mail.message_id,
            "message_id": row["payload"].get("message_id"),
            "state": state,
            "account": account.address,
            "to": list(mail.to),
            "cc": list(mail.cc),
            "subject": mail.subject[:2000],
            "in_reply_to": mail.in_reply_to,
            "attempts": attempts,
            "error": error[:2000] if error else None,
            "automated": mail.automated,
        }
