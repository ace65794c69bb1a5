"""What happens to one mail read from an inbox: a new ticket, a message on a ticket, a bounce
recorded, an auto-reply kept as a note, machine mail ignored, or quarantine - exactly once.

A mail from an active agent (the directory's, see :mod:`mail_gateway.domain.agents`) that
threads to a ticket is the agent's public reply, written with an agent's token: the send queue
then mails it to the customer like a reply typed in the portal. If the ticket service refuses
it (a Closed ticket, a ticket it does not know), the mail is quarantined - an agent's mail never
becomes a customer's message on someone's ticket. An agent's mail that threads to nothing but
answers a notification mail (a signed reply reference, :mod:`mail_gateway.domain.
notification_replies`) is the agent's answer on the notification's ticket: a public reply or an
internal note, as the reference says. Any other mail of an agent that threads to nothing opens a
ticket as anyone's does, the agent its requester (an internal request to the team).

Where the operator names the inboxes' mail servers (``HELPDESK_MAIL_TRUSTED_AUTHSERV_IDS``), their
DKIM/SPF/DMARC verdicts count (:mod:`mail_gateway.domain.sender_auth`): a mail from an agent's
address they did not authenticate is quarantined, and a customer address they did not
authenticate cannot join a ticket by its subject token alone.

The caller flags the mail handled on the IMAP server only after :meth:`Intake.handle` returned:
every write to the ticket service is idempotent by account + Message-ID, so a crash anywhere
before the flag re-reads the mail and ends with the same single ticket or message.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from typing import Any

import structlog
from flufl.bounce import all_failures

from helpdesk_platform.mail_reply import ReplyKind
from mail_gateway.adapters.store import MailStore
from mail_gateway.adapters.tickets_api import (
    Answer,
    TicketsApi,
    TicketServiceUnavailable,
    idempotency_key,
)
from mail_gateway.domain.accounts import Account
from mail_gateway.domain.agents import Agent
from mail_gateway.domain.batching import batchable, chosen_thread, first_answered, in_rounds
from mail_gateway.domain.loops import Kind, classify
from mail_gateway.domain.notification_replies import notification_answer
from mail_gateway.domain.parsing import (
    ParsedMail,
    Unparsable,
    message_ids,
    parse,
    sender_and_subject,
)
from mail_gateway.domain.sender_auth import UNCHECKED, SenderVerdict, judge
from mail_gateway.domain.threading import (
    TicketThread,
    may_join,
    participants_of,
    reference_chain,
    subject_number,
)

log = structlog.get_logger("mail_gateway.intake")

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


class SenderLimiter:
    """At most ``limit`` mails per sender and account in ``window`` seconds; the rest are
    quarantined (kept, releasable), so a flood never becomes a flood of tickets."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[tuple[uuid.UUID, str], deque[float]] = defaultdict(deque)

    def allow(self, account_id: uuid.UUID, sender: str) -> bool:
        now = time.monotonic()
        seen = self._seen[(account_id, sender)]
        while seen and seen[0] < now - self.window:
            seen.popleft()
        if len(seen) >= self.limit:
            return False
        seen.append(now)
        return True


@dataclass(frozen=True)
class Outcome:
    # created | added | agent-reply | agent-note | follow-up | note | ignored | bounce |
    # quarantined | duplicate
    kind: str
    ticket_id: uuid.UUID | None = None
    detail: str | None = None


@dataclass
class BatchResult:
    """What :meth:`Intake.handle_batch` did: the UIDs handled (to flag), and the outage that
    stopped it, if one did (the rest stays unflagged and is read again)."""

    handled: list[int] = field(default_factory=list)
    error: TicketServiceUnavailable | None = None


Acknowledge = Callable[[Account, TicketThread, ParsedMail], Awaitable[None]]
#: Acknowledge the new tickets of a batch at once (one statement).
AcknowledgeMany = Callable[[Account, Sequence[TicketThread]], Awaitable[None]]
#: The active agent with an address, or None (anyone else, or a deactivated agent).
FindAgent = Callable[[str], Awaitable[Agent | None]]
#: Which of these addresses are active agents' (lower case).
AgentAddresses = Callable[[Iterable[str]], Awaitable[set[str]]]

#: A batch's per-mail rest (rare kinds, refusals to redo alone) handled this many at once.
CONCURRENCY = 8


async def _no_agents(address: str) -> None:
    return None


async def _no_agent_addresses(addresses: Iterable[str]) -> set[str]:
    return set()


@dataclass(frozen=True)
class _Batched:
    """A mail of a batch bound for ``POST /mail/tickets/batch``, and what its answer needs."""

    uid: int
    raw: bytes
    mail: ParsedMail
    item: dict[str, Any]
    participants: tuple[str, ...]


#: A mail of a batch to handle alone: ``(uid, raw, parsed)``, ``parsed`` None when it did not
#: parse (:meth:`Intake.handle` parses it again, to quarantine it with the parser's reason).
_Alone = tuple[int, bytes, ParsedMail | None]


class Intake:
    def __init__(
        self,
        store: MailStore,
        api: TicketsApi,
        *,
        own_domain: str,
        own_addresses: Callable[[], frozenset[str]],
        limiter: SenderLimiter,
        acknowledge: Acknowledge,
        find_agent: FindAgent = _no_agents,
        agent_addresses: AgentAddresses = _no_agent_addresses,
        acknowledge_many: AcknowledgeMany | None = None,
        trusted_servers: frozenset[str] = frozenset(),
        reply_keys: Sequence[bytes] = (),
    ) -> None:
        """``reply_keys``: the keys of notification mails' reply references (none: agents'
        answers to notification mails follow the ordinary rules)."""
        self._find_agent = find_agent
        self._agent_addresses = agent_addresses
        self._acknowledge_many = acknowledge_many
        self._trusted_servers = trusted_servers
        self._reply_keys = tuple(reply_keys)
        self._store = store
        self._api = api
        self._own_domain = own_domain
        self._own_addresses = own_addresses
        self._limiter = limiter
        self._acknowledge = acknowledge

    async def handle(
        self,
        account: Account,
        uidvalidity: int,
        uid: int,
        raw: bytes,
        mail: ParsedMail | None = None,
    ) -> Outcome:
        """Handle one mail (``mail``: ``raw`` already parsed, as a batch's mails are); only a
        ticket service outage raises (the mail stays unhandled and is read again). Anything else
        unexpected quarantines the mail: never an error loop."""
        try:
            return await self._handle(account, uidvalidity, uid, raw, mail)
        except TicketServiceUnavailable:
            raise
        except Exception as error:
            log.exception("mail could not be handled", account=account.address, uid=uid)
            reason = f"internal error: {type(error).__name__}: {error}"[:1000]
            return await self._quarantine(account, uidvalidity, uid, raw, reason)

    async def _handle(
        self, account: Account, uidvalidity: int, uid: int, raw: bytes, mail: ParsedMail | None
    ) -> Outcome:
        if mail is None:
            try:
                mail = parse(raw)
            except Unparsable as error:
                return await self._quarantine(account, uidvalidity, uid, raw, str(error))
        done = await self._store.handled(account.account_id, mail.message_id)
        if done is not None:
            return Outcome("duplicate", done["ticket_id"], done["outcome"])
        kind, reason = classify(mail, self._own_domain)
        if kind is Kind.BOUNCE:
            outcome = await self._bounce(account, mail, uidvalidity, uid, raw)
        elif kind in (Kind.LOOP, Kind.BULK):
            outcome = Outcome("ignored", detail=reason)
        elif kind is Kind.HUMAN and not self._limiter.allow(account.account_id, mail.from_address):
            return await self._quarantine(
                account, uidvalidity, uid, raw, f"rate limit: more than {self._limiter.limit} "
                f"mails from {mail.from_address} in {self._limiter.window:.0f}s", mail,
            )  # fmt: skip
        else:
            try:
                outcome = await self._converse(
                    account, mail, automated=kind is Kind.AUTO_REPLY, sender=self._judge(mail)
                )
            except _Refused as refused:
                return await self._quarantine(account, uidvalidity, uid, raw, str(refused), mail)
        if outcome.kind != "quarantined":
            await self._store.record_inbound(
                account.account_id, mail.message_id, uidvalidity, uid,
                f"{outcome.kind}: {outcome.detail}" if outcome.detail else outcome.kind,
                outcome.ticket_id,
            )  # fmt: skip
        return outcome

    async def handle_batch(
        self, account: Account, uidvalidity: int, mails: Sequence[tuple[int, bytes]]
    ) -> BatchResult:
        """Handle a fetched batch ``(uid, raw)``: customers' plain mails in one request to the
        ticket service and a few statements per round (:mod:`mail_gateway.domain.batching`),
        the rest one by one as :meth:`handle`. A sender's mails stay in order: round by round,
        and an outage stops at its round (the rest is read again)."""
        result = BatchResult()
        parsed: list[tuple[int, bytes, ParsedMail]] = []
        for uid, raw in mails:
            try:
                parsed.append((uid, raw, parse(raw)))
            except Exception:  # quarantined (or whatever else) by the path that reads it alone
                parsed.append((uid, raw, _unreadable(raw)))
        for round_ in in_rounds(parsed, lambda p: p[2].from_address):
            try:
                await self._round(account, uidvalidity, round_, result.handled)
            except TicketServiceUnavailable as error:
                result.error = error
                break
        return result

    async def _round(
        self,
        account: Account,
        uidvalidity: int,
        mails: list[tuple[int, bytes, ParsedMail]],
        handled: list[int],
    ) -> None:
        alone: list[_Alone] = []
        try:
            batched, alone = await self._plan(account, uidvalidity, mails, handled)
            if batched:
                alone += await self._send_batch(account, uidvalidity, batched, handled)
        except TicketServiceUnavailable:
            raise
        except Exception:
            # Whatever broke the batch, each mail alone either works or is quarantined.
            log.exception("batch failed, mail by mail", account=account.address)
            done = set(handled)
            alone = [_alone(uid, raw, mail) for uid, raw, mail in mails if uid not in done]
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(uid: int, raw: bytes, mail: ParsedMail | None) -> None:
            async with limit:
                await self.handle(account, uidvalidity, uid, raw, mail)
                handled.append(uid)

        results = await asyncio.gather(*(one(*a) for a in alone), return_exceptions=True)
        for failed in results:
            if isinstance(failed, BaseException):
                raise failed

    async def _plan(
        self,
        account: Account,
        uidvalidity: int,
        mails: list[tuple[int, bytes, ParsedMail]],
        handled: list[int],
    ) -> tuple[list[_Batched], list[_Alone]]:
        """The round's mails for the batch request; the rest to handle alone. Duplicates (read
        before) are done here; a sender over the rate limit is quarantined."""
        readable = [m for m in mails if m[2].message_id]
        done = await self._store.handled_many(
            account.account_id, [mail.message_id for _, _, mail in readable]
        )
        agents = await self._agent_addresses({mail.from_address for _, _, mail in readable})
        alone = [_alone(uid, raw, mail) for uid, raw, mail in mails if not mail.message_id]
        candidates: list[tuple[int, bytes, ParsedMail]] = []
        seen: set[str] = set()
        for uid, raw, mail in readable:
            if mail.message_id in done:
                handled.append(uid)
                continue
            kind, _ = classify(mail, self._own_domain)
            if mail.message_id in seen or not batchable(
                mail, kind, from_agent=mail.from_address in agents
            ):
                alone.append((uid, raw, mail))
                continue
            seen.add(mail.message_id)
            if not self._limiter.allow(account.account_id, mail.from_address):
                await self._quarantine(
                    account, uidvalidity, uid, raw, f"rate limit: more than "
                    f"{self._limiter.limit} mails from {mail.from_address} in "
                    f"{self._limiter.window:.0f}s", mail,
                )  # fmt: skip
                handled.append(uid)
                continue
            candidates.append((uid, raw, mail))
        chains = {mail.message_id: reference_chain(mail) for _, _, mail in candidates}
        known = dict(
            await self._store.ticket_for_message_ids(
                dict.fromkeys(i for chain in chains.values() for i in chain)
            )
        )
        threads = await self._store.threads(set(known.values())) if known else {}
        numbers = {subject_number(mail.subject) for _, _, mail in candidates} - {None}
        by_number = await self._store.threads_by_numbers(n for n in numbers if n is not None)
        own = self._own_addresses() | {account.address}
        batched: list[_Batched] = []
        for uid, raw, mail in candidates:
            sender = self._judge(mail)
            number = subject_number(mail.subject)
            thread = chosen_thread(
                first_answered(chains[mail.message_id], known, threads),
                by_number.get(number, []) if number is not None else [],
                mail.from_address,
                sender_failed=sender.failed,
            )
            participants = participants_of(mail, own)
            key = idempotency_key(account.address, mail.message_id)
            if thread is not None and may_join(thread, mail.from_address):
                html, cut = mail.reply_html()
                if cut:  # the original is kept as a file: an upload first, alone
                    alone.append((uid, raw, mail))
                    continue
                item = self._fields(account, mail, html, participants, automated=False)
                item |= {"ticket_id": str(thread.ticket_id), "idempotency_key": key}
            else:
                item = self._fields(account, mail, mail.body_html, participants, automated=False)
                item |= {"subject": (mail.subject or "(no subject)")[:500], "idempotency_key": key}
                if account.settings.team_id is not None:
                    item["team_id"] = str(account.settings.team_id)
            batched.append(_Batched(uid, raw, mail, item, participants))
        return batched, alone

    async def _send_batch(
        self, account: Account, uidvalidity: int, batched: list[_Batched], handled: list[int]
    ) -> list[_Alone]:
        """One request for the round's batch, then its answers written through in a few
        statements; the mails to handle alone (a message the ticket service would not take
        from this sender: alone, it opens a new ticket instead)."""
        answers = await self._api.mail_batch([b.item for b in batched])
        if answers is None:  # the request as a whole refused (e.g. a body too large): alone
            return [(b.uid, b.raw, b.mail) for b in batched]
        alone: list[_Alone] = []
        landed: list[tuple[_Batched, Answer]] = []
        unavailable: TicketServiceUnavailable | None = None
        for one, answer in zip(batched, answers, strict=True):
            if answer.ok:
                landed.append((one, answer))
            elif answer.status == 409 or answer.status >= 500:
                unavailable = TicketServiceUnavailable(f"batch item: {answer.status}")
            elif answer.status == 404 and "ticket_id" in one.item:
                alone.append((one.uid, one.raw, one.mail))
            else:
                await self._quarantine(
                    account, uidvalidity, one.uid, one.raw, _detail(answer), one.mail
                )
                handled.append(one.uid)
        if landed:
            await self._landed_batch(account, uidvalidity, landed)
            handled.extend(one.uid for one, _ in landed)
        if unavailable is not None:
            raise unavailable
        return alone

    async def _landed_batch(
        self, account: Account, uidvalidity: int, landed: list[tuple[_Batched, Answer]]
    ) -> None:
        """As :meth:`_landed` and :meth:`handle`'s record, for a batch: the tickets written
        through, new tickets acknowledged, the mails recorded - a statement each."""
        threads = await self._store.landed_many(
            account.account_id,
            [
                (
                    uuid.UUID(answer.body["ticket_id"]),
                    answer.body["ticket"].get("number"),
                    answer.body["ticket"].get("subject"),
                    (answer.body["ticket"].get("requester_email") or "").lower() or None,
                    one.mail.message_id,
                    one.participants,
                    one.mail.from_address,
                )
                for one, answer in landed
            ],
        )
        records: list[tuple[str, int | None, int | None, str, uuid.UUID | None]] = []
        new: list[tuple[TicketThread, ParsedMail]] = []
        for one, answer in landed:
            created = bool(answer.body.get("created"))
            kind = (
                "follow-up" if answer.body.get("follow_up_of") else "created" if created
                else "added"
            )  # fmt: skip
            thread = threads[uuid.UUID(answer.body["ticket_id"])]
            if created and account.settings.acknowledge and not answer.body.get("replayed"):
                new.append((thread, one.mail))
            records.append((one.mail.message_id, uidvalidity, one.uid, kind, thread.ticket_id))
        if new and self._acknowledge_many is not None:
            await self._acknowledge_many(account, [thread for thread, _ in new])
        else:
            for thread, mail in new:
                await self._acknowledge(account, thread, mail)
        await self._store.record_inbound_many(account.account_id, records)

    async def release(self, account: Account, raw: bytes) -> Outcome:
        """A manager releases a quarantined mail: it becomes a ticket like any other mail,
        whatever the rate limit or loop rules said (the sender must still be usable)."""
        mail = parse(raw, strict=False)
        # The manager vouches for the sender: a mail held for failing sender authentication is
        # released as if nothing were checked.
        outcome = await self._converse(
            account, mail, automated=False, sender=UNCHECKED, original=raw
        )
        await self._store.record_inbound(
            account.account_id, mail.message_id, None, None, "released", outcome.ticket_id
        )
        return outcome

    # --- conversation ------------------------------------------------------------------------

    async def _answered_thread(self, mail: ParsedMail) -> TicketThread | None:
        """The ticket of a message this mail answers (In-Reply-To, then References)."""
        for _, ticket_id in await self._store.ticket_for_message_ids(reference_chain(mail)):
            thread = await self._store.thread(ticket_id)
            return thread or TicketThread(ticket_id, None, "", None)
        return None

    def _judge(self, mail: ParsedMail) -> SenderVerdict:
        if not self._trusted_servers:  # no server's verdict counts: nothing to read
            return UNCHECKED
        headers = mail.message.get_all("Authentication-Results", []) if mail.message else []
        return judge(headers, mail.from_address, self._trusted_servers)

    async def _find_thread(self, mail: ParsedMail, sender: SenderVerdict) -> TicketThread | None:
        answered = await self._answered_thread(mail)
        number = subject_number(mail.subject)
        found = (
            await self._store.threads_by_number(number)
            if answered is None and number is not None and not sender.failed
            else []
        )
        return chosen_thread(answered, found, mail.from_address, sender_failed=sender.failed)

    async def _converse(
        self,
        account: Account,
        mail: ParsedMail,
        *,
        automated: bool,
        sender: SenderVerdict,
        original: bytes = b"",
    ) -> Outcome:
        own = self._own_addresses() | {account.address}
        agent = await self._find_agent(mail.from_address)
        if agent is not None and sender.failed:
            # An agent's address speaks with an agent's rights: held for a manager to judge.
            raise _Refused(f"an agent's address that failed sender authentication: {sender.reason}")
        if agent is not None:
            # An agent's reply only when it answers a message of the ticket: a From: header is
            # easily forged, a subject token easily guessed, while the Message-IDs of a thread
            # reached only its recipients. (A subject token alone: anyone's mail, below.)
            answered = await self._answered_thread(mail)
            if answered is not None:
                return await self._agent_reply(account, mail, agent, answered, own, automated)
            notification = notification_answer(
                mail, from_active_agent=True, automated=automated, keys=self._reply_keys
            )
            if notification is not None:
                thread = await self._store.thread(notification.ticket_id)
                return await self._agent_reply(
                    account, mail, agent,
                    thread or TicketThread(notification.ticket_id, None, "", None),
                    own, automated, internal=notification.kind is ReplyKind.INTERNAL,
                )  # fmt: skip
        thread = await self._find_thread(mail, sender)
        token = self._api.minter.customer(mail.from_address, mail.from_name)
        participants = participants_of(mail, own)
        if thread is not None and may_join(thread, mail.from_address):
            html, cut = mail.reply_html()
            body = await self._body(account, mail, token, html, participants, automated, cut)
            answer = await self._api.add_message(
                token, thread.ticket_id, body, idempotency_key(account.address, mail.message_id)
            )
            if answer.ok:
                return await self._landed(account, mail, answer, participants)
            if answer.status != 404:
                raise _Refused(_detail(answer))
            # 404: the ticket service does not let this sender write there - a new ticket.
        if automated:
            return Outcome("ignored", detail="auto-reply to no ticket of its sender")
        body = await self._body(account, mail, token, mail.body_html, participants, False, False)
        if original:  # a released mail: keep it whole on the ticket
            answer = await self._api.upload(token, "original.eml", "message/rfc822", original)
            if answer.ok:
                body["attachment_ids"].append(answer.body["attachment_id"])
        body["subject"] = (mail.subject or "(no subject)")[:500]
        if account.settings.team_id is not None:
            body["team_id"] = str(account.settings.team_id)
        answer = await self._api.open_ticket(
            token, body, idempotency_key(account.address, mail.message_id)
        )
        if not answer.ok:
            raise _Refused(_detail(answer))
        return await self._landed(account, mail, answer, participants)

    async def _agent_reply(
        self,
        account: Account,
        mail: ParsedMail,
        agent: Agent,
        thread: TicketThread,
        own: frozenset[str],
        automated: bool,
        *,
        internal: bool = False,
    ) -> Outcome:
        """An agent answers a ticket's mail from their own mailbox: their public reply (an
        auto-reply from their mailbox: an automated internal note, never sent on), or with
        ``internal`` their internal note (an answer to a notification about the team's own
        work). Refused by the ticket service: quarantined, or ignored when it is machine mail."""
        token = self._api.minter.agent(agent)
        # The customer is the reply's addressee already; CC'd colleagues join the thread - not
        # through an internal note, whose copies would otherwise turn into public replies.
        participants = (
            () if internal else participants_of(mail, own | {(thread.customer_email or "").lower()})
        )
        html, cut = mail.reply_html()
        body = await self._body(account, mail, token, html, participants, automated, cut)
        if internal:
            body["visibility"] = "internal"
        answer = await self._api.add_message(
            token, thread.ticket_id, body, idempotency_key(account.address, mail.message_id)
        )
        if answer.ok:
            outcome = await self._landed(account, mail, answer, participants)
            kind = "agent-note" if internal else "agent-reply"
            return Outcome(kind, outcome.ticket_id, str(agent.agent_id))
        if automated:
            return Outcome("ignored", detail=f"agent's auto-reply refused: {_detail(answer)}")
        raise _Refused(f"agent {agent.email}'s reply: {_detail(answer)}")

    async def _landed(
        self, account: Account, mail: ParsedMail, answer: Answer, participants: tuple[str, ...]
    ) -> Outcome:
        """Write through what the ticket service accepted, so a reply that comes before the
        topic brings the events back still threads; acknowledge a new ticket."""
        ticket = answer.body["ticket"]
        thread = await self._store.landed(
            uuid.UUID(answer.body["ticket_id"]),
            number=ticket.get("number"),
            subject=ticket.get("subject"),
            customer_email=(ticket.get("requester_email") or "").lower() or None,
            account_id=account.account_id,
            email_message_id=mail.message_id,
            participants=participants,
            sender=mail.from_address,
        )
        created = bool(answer.body.get("created"))
        if created and account.settings.acknowledge and not answer.body.get("replayed"):
            await self._acknowledge(account, thread, mail)
        kind = "follow-up" if answer.body.get("follow_up_of") else "created" if created else "added"
        return Outcome(kind, thread.ticket_id)

    async def _body(
        self,
        account: Account,
        mail: ParsedMail,
        token: str,
        html: str,
        participants: tuple[str, ...],
        automated: bool,
        keep_original: bool,
    ) -> dict[str, Any]:
        ids: list[str] = []
        skipped: list[str] = []
        files = [(a.filename, a.content_type, a.data) for a in mail.attachments]
        if keep_original and mail.message is not None:
            files.append(("original.eml", "message/rfc822", bytes(mail.message)))
        for filename, content_type, data in files:
            if len(data) > MAX_ATTACHMENT_BYTES:
                skipped.append(filename)
                continue
            answer = await self._api.upload(token, filename, content_type, data)
            if answer.ok:
                ids.append(answer.body["attachment_id"])
            else:
                skipped.append(filename)
        if skipped:
            html += (
                "<p><em>Not attached (over 20 MB or refused): "
                + ", ".join(_escape(n) for n in skipped)
                + ". The original mail keeps them.</em></p>"
            )
        return self._fields(account, mail, html, participants, automated, ids)

    @staticmethod
    def _fields(
        account: Account,
        mail: ParsedMail,
        html: str,
        participants: tuple[str, ...],
        automated: bool,
        attachment_ids: Sequence[str] = (),
    ) -> dict[str, Any]:
        """A mail as the ticket service's mail routes take it (files uploaded before)."""
        return {
            "body_html": html,
            "attachment_ids": list(attachment_ids),
            "participants": list(participants),
            "email": {
                "email_message_id": mail.message_id,
                "account": account.address,
                "from_address": mail.from_address,
                "from_name": mail.from_name,
                "to": list(mail.to),
                "cc": list(mail.cc),
                "subject": mail.subject[:2000],
                "in_reply_to": mail.in_reply_to,
                "references": list(mail.references)[-100:],
                "automated": automated,
            },
        }

    # --- machine mail ------------------------------------------------------------------------

    async def _bounce(
        self, account: Account, mail: ParsedMail, uidvalidity: int, uid: int, raw: bytes
    ) -> Outcome:
        assert mail.message is not None
        temporary, permanent = all_failures(mail.message)
        original = _original_message_id(mail.message)
        found = await self._store.ticket_for_message_ids([original] if original else [])
        if not found:
            return await self._quarantine(
                account, uidvalidity, uid, raw, "delivery report for a mail we do not know", mail
            )
        ticket_id = found[0][1]
        failures = [(a, False) for a in temporary] + [(a, True) for a in permanent]
        for address_bytes, is_permanent in failures:
            address = address_bytes.decode(errors="replace").strip("<>").lower()
            body = {
                "email_message_id": original,
                "address": address,
                "permanent": is_permanent,
                "report_message_id": mail.message_id,
                "diagnostic": mail.text[:2000] or None,
            }
            answer = await self._api.record_bounce(
                ticket_id,
                body,
                idempotency_key(account.address, mail.message_id, address),
            )
            if not answer.ok:
                raise _Refused(_detail(answer))
            if is_permanent:
                await self._store.mark_bouncing(address, original)
        return Outcome("bounce", ticket_id, ", ".join(a.decode() for a, _ in failures) or None)

    async def _quarantine(
        self,
        account: Account,
        uidvalidity: int,
        uid: int,
        raw: bytes,
        reason: str,
        mail: ParsedMail | None = None,
    ) -> Outcome:
        sender, subject = (
            (mail.from_address, mail.subject[:500]) if mail else sender_and_subject(raw)
        )
        quarantine_id = await self._store.quarantine(
            account.account_id, uidvalidity, uid, reason, raw, sender, subject
        )
        log.info("mail quarantined", account=account.address, uid=uid, reason=reason)
        return Outcome("quarantined", None, f"{quarantine_id}: {reason}")


class _Refused(Exception):
    """The ticket service refused the mail for good (4xx): quarantine it."""


def _detail(answer: Answer) -> str:
    return f"ticket service answered {answer.status}: {answer.body.get('detail', '')}"[:1000]


def _alone(uid: int, raw: bytes, mail: ParsedMail) -> _Alone:
    """A mail to handle alone, with what it parsed to - none for :func:`_unreadable`'s
    stand-in, which :meth:`Intake.handle` parses again to quarantine with the parser's reason."""
    return uid, raw, (mail if mail.message_id else None)


def _unreadable(raw: bytes) -> ParsedMail:
    """A stand-in for a mail that did not parse: no Message-ID, so it goes alone (and is
    quarantined there); its raw From: still orders it with its sender's other mails."""
    sender, _ = sender_and_subject(raw)
    return ParsedMail("", (sender or "").lower(), None, (), (), "", None, (), {}, "", None)


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def _original_message_id(report: EmailMessage) -> str | None:
    """The Message-ID of the mail a delivery report is about (its returned copy or headers)."""
    for part in report.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else payload
            if isinstance(inner, Message):
                ids = message_ids(str(inner.get("Message-ID", "")))
                if ids:
                    return ids[0]
        elif content_type == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            raw = payload if isinstance(payload, bytes) else str(payload or "").encode()
            headers = message_from_bytes(raw, policy=policy.default)
            ids = message_ids(str(headers.get("Message-ID", "")))
            if ids:
                return ids[0]
    return None
