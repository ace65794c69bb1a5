"""The gateway's own PostgreSQL store: accounts (secrets encrypted), what was read from each
inbox, quarantined mail, the projection of tickets it threads mail into, the directory's agents
(written by :mod:`mail_gateway.adapters.directory`), and outgoing mail.

The schema is created on start (idempotent ``CREATE … IF NOT EXISTS`` under an advisory lock):
the gateway owns this database alone, nothing else reads it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from mail_gateway.domain.threading import TicketThread

SCHEMA = """
CREATE TABLE IF NOT EXISTS mail_accounts (
    account_id uuid PRIMARY KEY,
    address text NOT NULL UNIQUE,
    version integer NOT NULL,
    settings jsonb NOT NULL,
    secret bytea NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS mail_inbound (
    account_id uuid NOT NULL,
    email_message_id text NOT NULL,
    uidvalidity bigint,
    uid bigint,
    outcome text NOT NULL,
    ticket_id uuid,
    handled_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, email_message_id)
);
CREATE TABLE IF NOT EXISTS mail_quarantine (
    quarantine_id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    uidvalidity bigint NOT NULL,
    uid bigint NOT NULL,
    reason text NOT NULL,
    sender text,
    subject text,
    raw bytea NOT NULL,
    state text NOT NULL DEFAULT 'held',
    ticket_id uuid,
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, uidvalidity, uid)
);
CREATE TABLE IF NOT EXISTS mail_threads (
    email_message_id text PRIMARY KEY,
    ticket_id uuid NOT NULL
);
CREATE TABLE IF NOT EXISTS mail_tickets (
    ticket_id uuid PRIMARY KEY,
    number bigint,
    subject text NOT NULL DEFAULT '',
    customer_email text,
    participants text[] NOT NULL DEFAULT '{}',
    account_id uuid,
    team_id uuid,
    refs text[] NOT NULL DEFAULT '{}'
);
-- Not unique: the topic may carry tickets of more than one ticket service (a shared test
-- cluster); the ticket service itself refuses a sender who does not own the ticket.
CREATE INDEX IF NOT EXISTS mail_tickets_number ON mail_tickets (number);
CREATE TABLE IF NOT EXISTS mail_outbound (
    outbound_id uuid PRIMARY KEY,
    ticket_id uuid NOT NULL,
    kind text NOT NULL,
    email_message_id text NOT NULL UNIQUE,
    state text NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    payload jsonb NOT NULL,
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);
CREATE INDEX IF NOT EXISTS mail_outbound_due ON mail_outbound (next_attempt_at)
    WHERE state IN ('pending', 'sending');
CREATE TABLE IF NOT EXISTS mail_account_events (
    position bigserial PRIMARY KEY,
    account_id uuid NOT NULL,
    envelope jsonb NOT NULL,
    published boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS mail_account_events_unpublished ON mail_account_events (position)
    WHERE NOT published;
-- The directory's agents (helpdesk.directory.v1), folded by domain.agents.fold: whose mail
-- is an agent's reply. Looked up by address for every mail, so every replica sees the same.
CREATE TABLE IF NOT EXISTS mail_agents (
    agent_id uuid PRIMARY KEY,
    email text NOT NULL,
    name text NOT NULL,
    role text NOT NULL,
    active boolean NOT NULL,
    version integer NOT NULL
);
CREATE INDEX IF NOT EXISTS mail_agents_email ON mail_agents (email);
CREATE TABLE IF NOT EXISTS mail_bouncing (
    address text PRIMARY KEY,
    email_message_id text,
    since timestamptz NOT NULL DEFAULT now()
);
"""

#: A CTE and statement that add Message-ID $2 to ticket $1's thread (once).
LINK = (
    "linked AS (INSERT INTO mail_threads (email_message_id, ticket_id)"
    " VALUES ($2, $1) ON CONFLICT DO NOTHING RETURNING ticket_id)"
    " INSERT INTO mail_tickets AS t (ticket_id, refs)"
    " SELECT ticket_id, ARRAY[$2::text] FROM linked"
    " ON CONFLICT (ticket_id) DO UPDATE SET refs = t.refs || $2::text"
)
#: Outbound mail $3 was sent: its row says so and its Message-ID $2 joins ticket $1's thread.
MARK_SENT = (
    "WITH sent AS (UPDATE mail_outbound SET state = 'sent', sent_at = now()"  # noqa: S608
    f" WHERE outbound_id = $3), {LINK}"
)

#: A mail's landing as :meth:`MailStore.landed_many` takes it: ticket, number, subject,
#: customer email, Message-ID, participants, sender.
LandedRow = tuple[uuid.UUID, int | None, str | None, str | None, str, Iterable[str], str]
#: :meth:`MailStore.landed` for many rows ($1: a jsonb array of them; $2: the account), with
#: the same rules: the ticket upserted, each Message-ID linked, participants merged, each
#: sender no longer bouncing.
LANDED_MANY = (
    "WITH landed AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(ticket_id uuid,"
    " number bigint, subject text, customer_email text, email_message_id text,"
    " participants text[], sender text)),"
    " linked AS (INSERT INTO mail_threads (email_message_id, ticket_id)"
    " SELECT email_message_id, ticket_id FROM landed ON CONFLICT DO NOTHING"
    " RETURNING email_message_id, ticket_id),"
    " cleared AS (DELETE FROM mail_bouncing WHERE address IN (SELECT sender FROM landed))"
    " INSERT INTO mail_tickets AS t (ticket_id, number, subject, customer_email,"
    " account_id, participants, refs)"
    " SELECT r.ticket_id, r.number, coalesce(r.subject, ''), r.customer_email, $2,"
    " ARRAY(SELECT DISTINCT unnest(r.participants)),"
    " ARRAY(SELECT l.email_message_id FROM linked l WHERE l.ticket_id = r.ticket_id)"
    " FROM landed r"
    " ON CONFLICT (ticket_id) DO UPDATE SET"
    " number = coalesce(EXCLUDED.number, t.number),"
    " subject = CASE WHEN EXCLUDED.subject = '' THEN t.subject ELSE EXCLUDED.subject END,"
    " customer_email = coalesce(EXCLUDED.customer_email, t.customer_email),"
    " account_id = coalesce(t.account_id, EXCLUDED.account_id),"
    " participants = ARRAY(SELECT DISTINCT unnest(t.participants || EXCLUDED.participants)),"
    " refs = t.refs || EXCLUDED.refs"
    " RETURNING *"
)

#: :meth:`MailStore.upsert_ticket` of many created tickets ($1: a jsonb array, a ticket once).
UPSERT_CREATED = (
    "INSERT INTO mail_tickets AS t (ticket_id, number, subject, customer_email, team_id)"
    " SELECT ticket_id, number, coalesce(subject, ''), customer_email, team_id"
    " FROM jsonb_to_recordset($1::jsonb) AS r(ticket_id uuid, number bigint, subject text,"
    " customer_email text, team_id uuid)"
    " ON CONFLICT (ticket_id) DO UPDATE SET"
    " number = coalesce(EXCLUDED.number, t.number),"
    " subject = CASE WHEN EXCLUDED.subject = '' THEN t.subject ELSE EXCLUDED.subject END,"
    " customer_email = coalesce(EXCLUDED.customer_email, t.customer_email),"
    " team_id = coalesce(EXCLUDED.team_id, t.team_id)"
)
#: Many Message-IDs into their tickets' threads ($1: a jsonb array of ticket, Message-ID and
#: the account address a mail came in on, if any): each linked once; a ticket's refs gain the
#: newly linked ones in the order given, its account the first known one if it had none.
LINK_MANY = (
    "WITH given AS (SELECT * FROM ROWS FROM (jsonb_to_recordset($1::jsonb)"
    " AS (ticket_id uuid, email_message_id text, account text)) WITH ORDINALITY"
    " AS r(ticket_id, email_message_id, account, n)),"
    " firsts AS (SELECT DISTINCT ON (email_message_id) email_message_id, ticket_id, n"
    " FROM given ORDER BY email_message_id, n),"
    " linked AS (INSERT INTO mail_threads (email_message_id, ticket_id)"
    " SELECT email_message_id, ticket_id FROM firsts"
    " ON CONFLICT DO NOTHING RETURNING email_message_id, ticket_id),"
    " per_ticket AS (SELECT g.ticket_id, min(g.account) AS account,"
    " coalesce(array_agg(l.email_message_id ORDER BY g.n)"
    " FILTER (WHERE l.email_message_id IS NOT NULL), '{}') AS refs"
    " FROM given g LEFT JOIN firsts f ON f.email_message_id = g.email_message_id AND f.n = g.n"
    " LEFT JOIN linked l ON l.email_message_id = f.email_message_id"
    " AND l.ticket_id = f.ticket_id"
    " GROUP BY g.ticket_id)"
    " INSERT INTO mail_tickets AS t (ticket_id, account_id, refs)"
    " SELECT p.ticket_id, a.account_id, p.refs FROM per_ticket p"
    " LEFT JOIN mail_accounts a ON a.address = p.account"
    " ON CONFLICT (ticket_id) DO UPDATE SET"
    " account_id = coalesce(t.account_id, EXCLUDED.account_id),"
    " refs = t.refs || EXCLUDED.refs"
)


async def create_pool(url: str, *, max_size: int = 10) -> asyncpg.Pool:
    async def init(connection: asyncpg.Connection) -> None:
        await connection.set_type_codec(
            "jsonb", encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads,
            schema="pg_catalog",
        )  # fmt: skip

    pool = await asyncpg.create_pool(
        url, min_size=1, max_size=max_size, init=init, reset=_keep_session
    )
    assert pool is not None
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(4242014)")
        await connection.execute(SCHEMA)
    return pool


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Nothing to reset when a connection goes back to the pool: the gateway keeps no session
    state (no SET, LISTEN, cursors or session advisory locks; asyncpg still rolls back an open
    transaction). asyncpg's default reset is one more statement on every release — profiled in
    a mail burst, about 30 per mail, as many as all the gateway's own statements."""


def thread_of(row: asyncpg.Record) -> TicketThread:
    return TicketThread(
        ticket_id=row["ticket_id"],
        number=row["number"],
        subject=row["subject"],
        customer_email=row["customer_email"],
        participants=frozenset(row["participants"]),
        account_id=row["account_id"],
        team_id=row["team_id"],
        references=tuple(row["refs"]),
    )


class MailStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    # --- inbound -----------------------------------------------------------------------------

    async def handled(self, account_id: uuid.UUID, email_message_id: str) -> asyncpg.Record | None:
        return await self.pool.fetchrow(
            "SELECT outcome, ticket_id FROM mail_inbound"
            " WHERE account_id = $1 AND email_message_id = $2",
            account_id,
            email_message_id,
        )

    async def handled_many(
        self, account_id: uuid.UUID, email_message_ids: Iterable[str]
    ) -> dict[str, asyncpg.Record]:
        """:meth:`handled` for a batch, in one statement: Message-ID -> its record."""
        rows = await self.pool.fetch(
            "SELECT email_message_id, outcome, ticket_id FROM mail_inbound"
            " WHERE account_id = $1 AND email_message_id = ANY($2::text[])",
            account_id,
            list(email_message_ids),
        )
        return {row["email_message_id"]: row for row in rows}

    async def record_inbound_many(
        self,
        account_id: uuid.UUID,
        records: Iterable[tuple[str, int | None, int | None, str, uuid.UUID | None]],
    ) -> None:
        """:meth:`record_inbound` for a batch ``(Message-ID, uidvalidity, uid, outcome,
        ticket)``, in one statement."""
        rows = list(records)
        if not rows:
            return
        columns = list(zip(*rows, strict=True))
        await self.pool.execute(
            "INSERT INTO mail_inbound (account_id, email_message_id, uidvalidity, uid, outcome,"
            " ticket_id) SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::bigint[],"
            " $5::text[], $6::uuid[]) ON CONFLICT DO NOTHING",
            account_id, *(list(c) for c in columns),
        )  # fmt: skip

    async def record_inbound(
        self,
        account_id: uuid.UUID,
        email_message_id: str,
        uidvalidity: int | None,
        uid: int | None,
        outcome: str,
        ticket_id: uuid.UUID | None,
    ) -> None:
        await self.pool.execute(
            "INSERT INTO mail_inbound (account_id, email_message_id, uidvalidity, uid, outcome,"
            " ticket_id) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            account_id, email_message_id, uidvalidity, uid, outcome, ticket_id,
        )  # fmt: skip

    async def quarantine(
        self,
        account_id: uuid.UUID,
        uidvalidity: int,
        uid: int,
        reason: str,
        raw: bytes,
        sender: str | None,
        subject: str | None,
    ) -> uuid.UUID:
        row = await self.pool.fetchrow(
            "INSERT INTO mail_quarantine (quarantine_id, account_id, uidvalidity, uid, reason,"
            " raw, sender, subject) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (account_id, uidvalidity, uid)"
            " DO UPDATE SET reason = mail_quarantine.reason"
            " RETURNING quarantine_id",
            uuid.uuid4(), account_id, uidvalidity, uid, reason, raw, sender, subject,
        )  # fmt: skip
        assert row is not None
        return uuid.UUID(str(row["quarantine_id"]))

    async def quarantined(self, state: str | None = "held") -> list[asyncpg.Record]:
        return list(
            await self.pool.fetch(
                "SELECT quarantine_id, account_id, reason, sender, subject, state, ticket_id,"
                " received_at, length(raw) AS size_bytes FROM mail_quarantine"
                " WHERE $1::text IS NULL OR state = $1 ORDER BY received_at",
                state,
            )
        )

    async def quarantined_one(self, quarantine_id: uuid.UUID) -> asyncpg.Record | None:
        return await self.pool.fetchrow(
            "SELECT * FROM mail_quarantine WHERE quarantine_id = $1", quarantine_id
        )

    async def settle_quarantine(
        self, quarantine_id: uuid.UUID, state: str, ticket_id: uuid.UUID | None = None
    ) -> bool:
        done = await self.pool.execute(
            "UPDATE mail_quarantine SET state = $2, ticket_id = $3"
            " WHERE quarantine_id = $1 AND state = 'held'",
            quarantine_id,
            state,
            ticket_id,
        )
        return bool(done.endswith(" 1"))

    # --- threading projection ----------------------------------------------------------------

    async def ticket_for_message_ids(self, ids: Iterable[str]) -> list[tuple[str, uuid.UUID]]:
        wanted = list(ids)
        if not wanted:
            return []
        rows = await self.pool.fetch(
            "SELECT email_message_id, ticket_id FROM mail_threads"
            " WHERE email_message_id = ANY($1::text[])",
            wanted,
        )
        found = {row["email_message_id"]: row["ticket_id"] for row in rows}
        return [(i, found[i]) for i in wanted if i in found]

    async def thread(self, ticket_id: uuid.UUID) -> TicketThread | None:
        row = await self.pool.fetchrow("SELECT * FROM mail_tickets WHERE ticket_id = $1", ticket_id)
        return thread_of(row) if row else None

    async def threads(self, ticket_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, TicketThread]:
        rows = await self.pool.fetch(
            "SELECT * FROM mail_tickets WHERE ticket_id = ANY($1::uuid[])", list(ticket_ids)
        )
        return {row["ticket_id"]: thread_of(row) for row in rows}

    async def threads_by_number(self, number: int) -> list[TicketThread]:
        rows = await self.pool.fetch("SELECT * FROM mail_tickets WHERE number = $1", number)
        return [thread_of(row) for row in rows]

    async def threads_by_numbers(self, numbers: Iterable[int]) -> dict[int, list[TicketThread]]:
        """:meth:`threads_by_number` for a batch's subject tokens, in one statement."""
        wanted = list(numbers)
        if not wanted:
            return {}
        rows = await self.pool.fetch(
            "SELECT * FROM mail_tickets WHERE number = ANY($1::bigint[])", wanted
        )
        found: dict[int, list[TicketThread]] = {}
        for row in rows:
            found.setdefault(row["number"], []).append(thread_of(row))
        return found

    async def upsert_ticket(
        self,
        ticket_id: uuid.UUID,
        *,
        number: int | None = None,
        subject: str | None = None,
        customer_email: str | None = None,
        team_id: uuid.UUID | None = None,
        clear_team: bool = False,
        account_id: uuid.UUID | None = None,
    ) -> None:
        await self.pool.execute(
            "INSERT INTO mail_tickets AS t (ticket_id, number, subject, customer_email, team_id,"
            " account_id) VALUES ($1, $2, coalesce($3, ''), $4, $5, $6)"
            " ON CONFLICT (ticket_id) DO UPDATE SET"
            " number = coalesce(EXCLUDED.number, t.number),"
            " subject = CASE WHEN $3::text IS NULL THEN t.subject ELSE EXCLUDED.subject END,"
            " customer_email = coalesce(EXCLUDED.customer_email, t.customer_email),"
            " team_id = CASE WHEN $7 THEN NULL ELSE coalesce(EXCLUDED.team_id, t.team_id) END,"
            " account_id = coalesce(t.account_id, EXCLUDED.account_id)",
            ticket_id, number, subject, customer_email, team_id, account_id, clear_team,
        )  # fmt: skip

    async def landed(
        self,
        ticket_id: uuid.UUID,
        *,
        number: int | None,
        subject: str | None,
        customer_email: str | None,
        account_id: uuid.UUID,
        email_message_id: str,
        participants: Iterable[str],
        sender: str,
    ) -> TicketThread:
        """What the ticket service accepted for a mail, written through in one statement: the
        ticket (as :meth:`upsert_ticket`), the mail's Message-ID in its thread (as
        :meth:`link_message_id`), its participants, and its sender no longer bouncing."""
        row = await self.pool.fetchrow(
            "WITH linked AS (INSERT INTO mail_threads (email_message_id, ticket_id)"
            " VALUES ($6, $1) ON CONFLICT DO NOTHING RETURNING email_message_id),"
            " cleared AS (DELETE FROM mail_bouncing WHERE address = $8)"
            " INSERT INTO mail_tickets AS t (ticket_id, number, subject, customer_email,"
            " account_id, participants, refs)"
            " VALUES ($1, $2, coalesce($3, ''), $4, $5, ARRAY(SELECT DISTINCT unnest($7::text[])),"
            " ARRAY(SELECT email_message_id FROM linked))"
            " ON CONFLICT (ticket_id) DO UPDATE SET"
            " number = coalesce(EXCLUDED.number, t.number),"
            " subject = CASE WHEN $3::text IS NULL THEN t.subject ELSE EXCLUDED.subject END,"
            " customer_email = coalesce(EXCLUDED.customer_email, t.customer_email),"
            " account_id = coalesce(t.account_id, EXCLUDED.account_id),"
            " participants = ARRAY(SELECT DISTINCT unnest(t.participants || $7::text[])),"
            " refs = t.refs || EXCLUDED.refs"
            " RETURNING *",
            ticket_id, number, subject, customer_email, account_id, email_message_id,
            list(participants), sender,
        )  # fmt: skip
        assert row is not None
        return thread_of(row)

    async def landed_many(
        self,
        account_id: uuid.UUID,
        landed: Iterable[LandedRow],
    ) -> dict[uuid.UUID, TicketThread]:
        """:meth:`landed` for a batch of mails of one account ``(ticket, number, subject,
        customer email, Message-ID, participants, sender)``, in one statement per distinct
        ticket set (a statement may not update a row twice: a ticket's second mail of the same
        batch goes in the next)."""
        pending = list(landed)
        threads: dict[uuid.UUID, TicketThread] = {}
        while pending:
            this: list[LandedRow] = []
            later: list[LandedRow] = []
            seen: set[uuid.UUID] = set()
            for row in pending:
                (later if row[0] in seen else this).append(row)
                seen.add(row[0])
            rows = [
                {
                    "ticket_id": str(ticket_id), "number": number, "subject": subject,
                    "customer_email": customer_email, "email_message_id": message_id,
                    "participants": list(participants), "sender": sender,
                }
                for ticket_id, number, subject, customer_email, message_id, participants, sender
                in this
            ]  # fmt: skip
            for row in await self.pool.fetch(LANDED_MANY, rows, account_id):
                threads[row["ticket_id"]] = thread_of(row)
            pending = later
        return threads

    async def received(
        self, ticket_id: uuid.UUID, email_message_id: str, account_address: str
    ) -> None:
        """A mail the ticket service recorded on the ticket (``EmailReceived``): the account it
        came in on (kept if known) and its Message-ID in the thread, in one statement."""
        await self.pool.execute(
            "WITH linked AS (INSERT INTO mail_threads (email_message_id, ticket_id)"
            " VALUES ($2, $1) ON CONFLICT DO NOTHING RETURNING email_message_id)"
            " INSERT INTO mail_tickets AS t (ticket_id, account_id, refs) VALUES ($1,"
            " (SELECT account_id FROM mail_accounts WHERE address = lower($3)),"
            " ARRAY(SELECT email_message_id FROM linked))"
            " ON CONFLICT (ticket_id) DO UPDATE SET"
            " account_id = coalesce(t.account_id, EXCLUDED.account_id),"
            " refs = t.refs || EXCLUDED.refs",
            ticket_id, email_message_id, account_address,
        )  # fmt: skip

    async def upsert_tickets(
        self,
        tickets: Iterable[tuple[uuid.UUID, int | None, str | None, str | None, uuid.UUID | None]],
    ) -> None:
        """:meth:`upsert_ticket` of created tickets ``(ticket, number, subject, customer email,
        team)`` in one statement (a ticket once: the last row for it counts)."""
        rows = {
            ticket_id: {
                "ticket_id": str(ticket_id), "number": number, "subject": subject,
                "customer_email": customer_email,
                "team_id": str(team_id) if team_id else None,
            }
            for ticket_id, number, subject, customer_email, team_id in tickets
        }  # fmt: skip
        if rows:
            await self.pool.execute(UPSERT_CREATED, list(rows.values()))

    async def link_many(self, links: Iterable[tuple[uuid.UUID, str, str | None]]) -> None:
        """:meth:`received` (with an account address) or :meth:`link_message_id` (without) for
        many ``(ticket, Message-ID, account address)``, in one statement: each Message-ID
        joins its ticket's thread once, refs appended in the order given."""
        rows = [
            {"ticket_id": str(t), "email_message_id": m, "account": (a or "").lower() or None}
            for t, m, a in links
        ]
        if rows:
            await self.pool.execute(LINK_MANY, rows)

    async def add_participants(self, ticket_id: uuid.UUID, addresses: Iterable[str]) -> None:
        await self.pool.execute(
            "INSERT INTO mail_tickets AS t (ticket_id, participants) VALUES ($1, $2)"
            " ON CONFLICT (ticket_id) DO UPDATE SET participants = ARRAY("
            " SELECT DISTINCT unnest(t.participants || EXCLUDED.participants))",
            ticket_id,
            list(addresses),
        )

    async def link_message_id(self, email_message_id: str, ticket_id: uuid.UUID) -> None:
        """Remember that ``email_message_id`` belongs to the ticket's thread (in or out): one
        statement (atomic by itself; it runs several times per mail)."""
        await self.pool.execute(
            f"WITH {LINK}",
            ticket_id,
            email_message_id,
        )

    # --- outbound ----------------------------------------------------------------------------

    async def enqueue_many(
        self, rows: Iterable[tuple[uuid.UUID, uuid.UUID, str, str, dict[str, Any]]]
    ) -> None:
        """:meth:`enqueue` for many ``(outbound id, ticket, kind, Message-ID, payload)``, in
        one statement (each once)."""
        items = [
            {"outbound_id": str(o), "ticket_id": str(t), "kind": k, "email_message_id": m,
             "payload": p}
            for o, t, k, m, p in rows
        ]  # fmt: skip
        if items:
            await self.pool.execute(
                "INSERT INTO mail_outbound (outbound_id, ticket_id, kind, email_message_id,"
                " payload) SELECT outbound_id, ticket_id, kind, email_message_id, payload"
                " FROM jsonb_to_recordset($1::jsonb) AS r(outbound_id uuid, ticket_id uuid,"
                " kind text, email_message_id text, payload jsonb) ON CONFLICT DO NOTHING",
                items,
            )

    async def enqueue(
        self,
        outbound_id: uuid.UUID,
        ticket_id: uuid.UUID,
        kind: str,
        email_message_id: str,
        payload: dict[str, Any],
    ) -> bool:
        done = await self.pool.execute(
            "INSERT INTO mail_outbound (outbound_id, ticket_id, kind, email_message_id, payload)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            outbound_id, ticket_id, kind, email_message_id, payload,
        )  # fmt: skip
        return bool(done.endswith(" 1"))

    async def due(self, now: datetime, limit: int = 20) -> list[asyncpg.Record]:
        return list(
            await self.pool.fetch(
                "SELECT * FROM mail_outbound WHERE state IN ('pending', 'sending')"
                " AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
                now,
                limit,
            )
        )

    async def mark_sending(self, rows: Sequence[tuple[uuid.UUID, int]]) -> None:
        """Rows about to be handed to SMTP, as ``(outbound id, attempts counting this one)``:
        ``sending``, in one statement (as :meth:`mark` would row by row)."""
        if rows:
            await self.pool.execute(
                "UPDATE mail_outbound AS o SET state = 'sending', attempts = r.attempts"
                " FROM unnest($1::uuid[], $2::integer[]) AS r(outbound_id, attempts)"
                " WHERE o.outbound_id = r.outbound_id",
                [outbound_id for outbound_id, _ in rows],
                [attempts for _, attempts in rows],
            )

    async def mark(self, outbound_id: uuid.UUID, state: str, **fields: Any) -> None:
        sets = ["state = $2"]
        values: list[Any] = [outbound_id, state]
        for name in ("attempts", "next_attempt_at", "error", "sent_at"):
            if name in fields:
                values.append(fields[name])
                sets.append(f"{name} = ${len(values)}")
        await self.pool.execute(
            f"UPDATE mail_outbound SET {', '.join(sets)} WHERE outbound_id = $1",  # noqa: S608
            *values,
        )

    async def mark_sent(
        self, outbound_id: uuid.UUID, email_message_id: str, ticket_id: uuid.UUID
    ) -> None:
        """The mail went out: its row is ``sent`` and its Message-ID joins the ticket's thread,
        in one statement (as :meth:`mark` and :meth:`link_message_id` would in two)."""
        await self.pool.execute(
            MARK_SENT,
            ticket_id,
            email_message_id,
            outbound_id,
        )

    async def outbound(self, ticket_id: uuid.UUID) -> list[asyncpg.Record]:
        return list(
            await self.pool.fetch(
                "SELECT outbound_id, kind, email_message_id, state, attempts, error, sent_at"
                " FROM mail_outbound WHERE ticket_id = $1 ORDER BY created_at",
                ticket_id,
            )
        )

    async def mark_bouncing(self, address: str, email_message_id: str | None) -> None:
        await self.pool.execute(
            "INSERT INTO mail_bouncing (address, email_message_id) VALUES ($1, $2)"
            " ON CONFLICT (address) DO UPDATE SET email_message_id = EXCLUDED.email_message_id,"
            " since = now()",
            address,
            email_message_id,
        )

    async def bouncing(self, addresses: Iterable[str]) -> set[str]:
        rows = await self.pool.fetch(
            "SELECT address FROM mail_bouncing WHERE address = ANY($1::text[])", list(addresses)
        )
        return {row["address"] for row in rows}
