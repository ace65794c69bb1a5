"""Sends the queued emails to agents over SMTP (aiosmtplib).

The queue is the ``emails`` table, written by the consumer in the transaction of the event. A
row is sent, then marked sent; a failure (the server is down, the agent's address is not known
yet) is retried with a doubling backoff (30 s … 1 h) up to ``MAX_ATTEMPTS``. Only a crash
between the server's acceptance and the mark can send a row again; its ``Message-ID`` is derived
from the row's id, so mail clients show such a copy once.

Low-priority kinds a person chose as a digest wait until the oldest has waited
``digest_minutes``, and then go as one email listing them all. Every email says
``Auto-Submitted: auto-generated`` (RFC 3834), so that auto-responders do not answer it.

With the reply key set, a mail about a ticket can be answered (issue #14): its Message-ID is a
signed reply reference (:mod:`helpdesk_platform.mail_reply`), its Reply-To the support inbox the
ticket's mail came in on (else ``HELPDESK_MAIL_REPLY_TO``), its subject carries ``[#N]``. The
mail gateway reads the answer there and writes it on the ticket as the agent.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import aiosmtplib
import asyncpg
import structlog

from notification_service.domain.kinds import Kind
from notification_service.domain.replies import (
    message_id,
    plain_message_id,
    subject_with_token,
)

log = structlog.get_logger("notification_service.email")

MAX_ATTEMPTS = 10
BATCH = 50


def backoff(attempts: int) -> timedelta:
    delay: timedelta = timedelta(seconds=30) * (2 ** max(attempts - 1, 0))
    return min(delay, timedelta(hours=1))


def _one_line(value: str) -> str:
    """Header values cannot hold line breaks (a ticket subject may): they become spaces."""
    return " ".join(value.split())


def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    message_id: str,
    now: datetime,
    reply_to: str | None = None,
) -> EmailMessage:
    """``message_id`` with its angle brackets (:func:`~notification_service.domain.replies.
    message_id`); ``reply_to``: the support inbox an answer goes to."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = _one_line(to)
    if reply_to:
        message["Reply-To"] = _one_line(reply_to)
    message["Subject"] = _one_line(subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(body)
    return message


class EmailSender:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        host: str,
        port: int,
        sender: str,
        digest_interval: timedelta,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        reply_key: bytes | None = None,
        reply_to: str | None = None,
    ) -> None:
        """``reply_key``: signs the reply reference of mails about a ticket (None: none);
        ``reply_to``: their Reply-To when the ticket has no inbox of its own."""
        self._reply_key = reply_key
        self._reply_to = reply_to
        self._pool = pool
        self._smtp: dict[str, Any] = {
            "hostname": host,
            "port": port,
            "username": username,
            "password": password,
            "start_tls": starttls,
            "timeout": 30,
        }
        self._sender = sender
        self._digest_interval = digest_interval
        self.wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.wake.clear()
            sent = 0
            try:
                sent = await self.send_due() + await self.send_digests()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("email queue unreadable; retrying", error=repr(error))
            except Exception:  # a fault of ours: said, and tried again after the pause below
                log.exception("email sender failed; retrying")
            if sent:
                continue
            waiters = [asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())]
            try:
                await asyncio.wait(waiters, timeout=5.0, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

    async def _deliver(self, to: str, message: EmailMessage) -> str | None:
        """None when the server accepted it, else why not."""
        try:
            await aiosmtplib.send(message, recipients=[to], **self._smtp)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            return f"{type(error).__name__}: {error}"[:500]
        return None

    async def send_due(self) -> int:
        """Send the single (non-digest) emails that are due; how many were handled."""
        rows = await self._pool.fetch(
            """SELECT e.id, e.kind, e.ticket_id, e.subject, e.body, e.attempts, a.email, a.name,
                      t.number, t.mail_account
               FROM emails e LEFT JOIN agents a ON a.agent_id = e.recipient_id
                    LEFT JOIN tickets t ON t.ticket_id = e.ticket_id
               WHERE e.status = 'pending' AND NOT e.digest AND e.next_attempt_at <= now()
               ORDER BY e.next_attempt_at LIMIT $1""",
            BATCH,
        )
        for row in rows:
            now = datetime.now(UTC)
            if not row["email"] or not row["email"].strip():
                error: str | None = "the recipient's email address is not known (yet)"
            else:
                error = await self._deliver(row["email"], self._single(row, now))
            await self._record(row["id"], row["attempts"], error)
        return len(rows)

    def _single(self, row: asyncpg.Record, now: datetime) -> EmailMessage:
        """One notification's mail; about a ticket and with the reply key set, an answer to it
        lands on the ticket: a signed Message-ID, the ticket's inbox (or the configured one) as
        Reply-To and the ticket's token in the subject."""
        ticket_id: uuid.UUID | None = row["ticket_id"]
        signed = self._reply_key is not None and ticket_id is not None
        return build_message(
            sender=self._sender,
            to=f"{row['name']} <{row['email']}>",
            subject=subject_with_token(row["subject"], row["number"] if signed else None),
            body=row["body"],
            message_id=message_id(row["id"], ticket_id, Kind(row["kind"]), self._reply_key),
            now=now,
            reply_to=(row["mail_account"] or self._reply_to) if signed else None,
        )

    async def _record(self, email_id: uuid.UUID, attempts: int, error: str | None) -> None:
        if error is None:
            await self._pool.execute(
                "UPDATE emails SET status = 'sent', sent_at = now(), attempts = attempts + 1 "
                "WHERE id = $1",
                email_id,
            )
            return
        attempts += 1
        # The casts are needed: left to itself PostgreSQL reads ``$2 >= $4`` as text and
        # ``attempts = $2`` as integer, and cannot prepare the statement at all.
        await self._pool.execute(
            """UPDATE emails SET attempts = $2::integer, last_error = $3,
                      status = CASE WHEN $2::integer >= $4::integer
                                    THEN 'failed' ELSE 'pending' END,
                      next_attempt_at = now() + $5::interval
               WHERE id = $1""",
            email_id,
            attempts,
            error,
            MAX_ATTEMPTS,
            backoff(attempts),
        )
        log.info("email not sent", email=str(email_id), attempts=attempts, error=error)

    async def send_digests(self) -> int:
        """One email per person whose oldest digest item has waited long enough."""
        due = await self._pool.fetch(
            """SELECT e.recipient_id, a.email, a.name
               FROM emails e LEFT JOIN agents a ON a.agent_id = e.recipient_id
               WHERE e.status = 'pending' AND e.digest AND e.next_attempt_at <= now()
               GROUP BY e.recipient_id, a.email, a.name
               HAVING min(e.created_at) <= now() - $1::interval""",
            self._digest_interval,
        )
        for person in due:
            items = await self._pool.fetch(
                """SELECT id, subject, attempts FROM emails
                   WHERE recipient_id = $1 AND status = 'pending' AND digest
                   ORDER BY created_at""",
                person["recipient_id"],
            )
            if not items:
                continue
            error: str | None = "the recipient's email address is not known (yet)"
            if person["email"]:
                lines = [f"{len(items)} updates in the helpdesk:", ""]
                lines += [f"- {item['subject']}" for item in items]
                digest_id = uuid.uuid5(uuid.NAMESPACE_URL, "digest/" + str(items[0]["id"]))
                error = await self._deliver(
                    person["email"],
                    build_message(
                        sender=self._sender,
                        to=f"{person['name']} <{person['email']}>",
                        subject=f"Helpdesk digest: {len(items)} updates",
                        body="\n".join(lines),
                        message_id=plain_message_id(digest_id),
                        now=datetime.now(UTC),
                    ),
                )
            for item in items:
                await self._record(item["id"], item["attempts"], error)
        return len(due)
