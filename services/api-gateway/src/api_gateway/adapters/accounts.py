"""The gateway's accounts in PostgreSQL (schema ``api_gateway``): staff credentials and
lockout, customers who signed in, one-time links and refresh-token families.

Every state change that must happen once (consuming a link, rotating a refresh token) is one
conditional ``UPDATE … RETURNING``: two concurrent requests with the same secret cannot both win.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from api_gateway.domain.credentials import Purpose


@dataclass(frozen=True)
class StaffAccount:
    agent_id: uuid.UUID
    email: str
    name: str
    role: str
    active: bool
    password_hash: str | None
    failed_attempts: int
    locked_until: datetime | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> StaffAccount:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class OneTimeToken:
    token_hash: bytes
    purpose: Purpose
    subject: str
    code_hash: bytes | None
    code_attempts: int
    expires_at: datetime


@dataclass(frozen=True)
class RefreshGrant:
    family_id: uuid.UUID
    kind: str
    subject: uuid.UUID


class RefreshReused(Exception):
    """A refresh token was presented again after it was rotated: its family is revoked."""


async def create_pool(database_url: str, *, min_size: int, max_size: int) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(database_url, min_size=min_size, max_size=max_size)
    assert pool is not None
    return pool


class Accounts:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    # --- staff ---------------------------------------------------------------------------------

    async def staff_by_email(self, email: str) -> StaffAccount | None:
        row = await self.pool.fetchrow(
            "SELECT * FROM api_gateway.staff_accounts WHERE email = $1", email
        )
        return StaffAccount.of(row) if row else None

    async def staff_by_id(self, agent_id: uuid.UUID) -> StaffAccount | None:
        row = await self.pool.fetchrow(
            "SELECT * FROM api_gateway.staff_accounts WHERE agent_id = $1", agent_id
        )
        return StaffAccount.of(row) if row else None

    async def upsert_staff(
        self, agent_id: uuid.UUID, email: str, name: str, role: str, version: int
    ) -> StaffAccount:
        row = await self.pool.fetchrow(
            """
            INSERT INTO api_gateway.staff_accounts (agent_id, email, name, role, directory_version)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (agent_id) DO UPDATE
               SET email = EXCLUDED.email, name = EXCLUDED.name, updated_at = now(),
                   role = CASE WHEN staff_accounts.directory_version < EXCLUDED.directory_version
                               THEN EXCLUDED.role ELSE staff_accounts.role END,
                   directory_version = greatest(staff_accounts.directory_version,
                                                EXCLUDED.directory_version)
            RETURNING *
            """,
            agent_id,
            email,
            name,
            role,
            version,
        )
        return StaffAccount.of(row)

    async def change_staff(self, agent_id: uuid.UUID, version: int, **changes: Any) -> bool:
        """Apply a directory change unless a later one was applied already."""
        sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(changes, start=3))
        result: str = await self.pool.execute(
            f"UPDATE api_gateway.staff_accounts SET {sets}, directory_version = $2, "  # noqa: S608 - names are ours
            "updated_at = now() WHERE agent_id = $1 AND directory_version < $2",
            agent_id,
            version,
            *changes.values(),
        )
        return result != "UPDATE 0"

    async def set_password(self, agent_id: uuid.UUID, password_hash: str) -> None:
        await self.pool.execute(
            "UPDATE api_gateway.staff_accounts SET password_hash = $2, failed_attempts = 0, "
            "locked_until = NULL, updated_at = now() WHERE agent_id = $1",
            agent_id,
            password_hash,
        )

    async def record_failure(self, agent_id: uuid.UUID, locked_until: datetime | None) -> None:
        await self.pool.execute(
            "UPDATE api_gateway.staff_accounts SET failed_attempts = failed_attempts + 1, "
            "locked_until = $2 WHERE agent_id = $1",
            agent_id,
            locked_until,
        )

    async def record_success(self, agent_id: uuid.UUID, password_hash: str | None) -> None:
        await self.pool.execute(
            "UPDATE api_gateway.staff_accounts SET failed_attempts = 0, locked_until = NULL, "
            "password_hash = coalesce($2, password_hash) WHERE agent_id = $1",
            agent_id,
            password_hash,
        )

    # --- customers -----------------------------------------------------------------------------

    async def remember_customer(
        self, customer_id: uuid.UUID, email: str, name: str | None, now: datetime
    ) -> None:
        await self.pool.execute(
            """
            INSERT INTO api_gateway.customer_accounts (customer_id, email, name, last_sign_in_at)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (customer_id) DO UPDATE
               SET email = EXCLUDED.email, name = EXCLUDED.name, last_sign_in_at = $4
            """,
            customer_id,
            email,
            name,
            now,
        )

    async def customer(self, customer_id: uuid.UUID) -> tuple[str, str | None] | None:
        row = await self.pool.fetchrow(
            "SELECT email, name FROM api_gateway.customer_accounts WHERE customer_id = $1",
            customer_id,
        )
        return (row["email"], row["name"]) if row else None

    # --- one-time links ------------------------------------------------------------------------

    async def add_one_time(
        self,
        purpose: Purpose,
        subject: str,
        token_hash: bytes,
        expires_at: datetime,
        *,
        code_hash: bytes | None = None,
        source_event_id: uuid.UUID | None = None,
        replace_open: bool = False,
    ) -> None:
        async with self.pool.acquire() as connection, connection.transaction():
            if replace_open:
                # One open link per person and purpose: asking again retires the older ones.
                await connection.execute(
                    "UPDATE api_gateway.one_time_tokens SET used_at = now() "
                    "WHERE purpose = $1 AND subject = $2 AND used_at IS NULL",
                    purpose.value,
                    subject,
                )
            await connection.execute(
                """
                INSERT INTO api_gateway.one_time_tokens
                    (token_hash, purpose, subject, code_hash, source_event_id, expires_at)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (source_event_id) DO UPDATE
                   SET token_hash = EXCLUDED.token_hash, expires_at = EXCLUDED.expires_at
                """,
                token_hash,
                purpose.value,
                subject,
                code_hash,
                source_event_id,
                expires_at,
            )

    @contextlib.asynccontextmanager
    async def invitation_claim(
        self, subject: str, token_hash: bytes, expires_at: datetime, source_event_id: uuid.UUID
    ) -> AsyncIterator[bool]:
        """Claim the mailing of the invitation of directory event ``source_event_id``: True
        when it was not mailed yet. The claim (the link's row, locked) is held until the block
        ends and is then marked sent, so of two gateways reading the same event (a second
        consumer group, a rolling rename) only one mails it; the other waits for the lock and
        finds it sent. When the block fails (SMTP down), nothing is recorded and the event is
        read again."""
        async with self.pool.acquire() as connection, connection.transaction():
            claimed = await connection.fetchval(
                """
                INSERT INTO api_gateway.one_time_tokens
                    (token_hash, purpose, subject, source_event_id, expires_at)
                VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (source_event_id) DO UPDATE
                   SET token_hash = EXCLUDED.token_hash, expires_at = EXCLUDED.expires_at
                 WHERE one_time_tokens.sent_at IS NULL
                RETURNING true
                """,
                token_hash,
                Purpose.INVITATION.value,
                subject,
                source_event_id,
                expires_at,
            )
            yield bool(claimed)
            if claimed:
                await connection.execute(
                    "UPDATE api_gateway.one_time_tokens SET sent_at = now() WHERE token_hash = $1",
                    token_hash,
                )

    async def mark_sent(self, token_hash: bytes) -> None:
        await self.pool.execute(
            "UPDATE api_gateway.one_time_tokens SET sent_at = now() WHERE token_hash = $1",
            token_hash,
        )

    async def consume(self, purpose: Purpose, token_hash: bytes, now: datetime) -> str | None:
        """Use a link once: its subject, or None when unknown, used or expired."""
        subject: str | None = await self.pool.fetchval(
            "UPDATE api_gateway.one_time_tokens SET used_at = $3 "
            "WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 "
            "RETURNING subject",
            token_hash,
            purpose.value,
            now,
        )
        return subject

    async def open_subject(self, purpose: Purpose, token_hash: bytes, now: datetime) -> str | None:
        """Whose link this is, while it is unused and unexpired (without using it)."""
        subject: str | None = await self.pool.fetchval(
            "SELECT subject FROM api_gateway.one_time_tokens WHERE token_hash = $1 "
            "AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
            token_hash,
            purpose.value,
            now,
        )
        return subject

    async def open_code(self, purpose: Purpose, subject: str, now: datetime) -> OneTimeToken | None:
        row = await self.pool.fetchrow(
            "SELECT * FROM api_gateway.one_time_tokens WHERE purpose = $1 AND subject = $2 "
            "AND used_at IS NULL AND expires_at > $3 AND code_hash IS NOT NULL "
            "ORDER BY created_at DESC LIMIT 1",
            purpose.value,
            subject,
            now,
        )
        if row is None:
            return None
        return OneTimeToken(
            token_hash=row["token_hash"],
            purpose=Purpose(row["purpose"]),
            subject=row["subject"],
            code_hash=row["code_hash"],
            code_attempts=row["code_attempts"],
            expires_at=row["expires_at"],
        )

    async def wrong_code(self, token_hash: bytes, max_attempts: int) -> None:
        await self.pool.execute(
            "UPDATE api_gateway.one_time_tokens SET code_attempts = code_attempts + 1, "
            "used_at = CASE WHEN code_attempts + 1 >= $2 THEN now() ELSE used_at END "
            "WHERE token_hash = $1",
            token_hash,
            max_attempts,
        )

    # --- refresh tokens ------------------------------------------------------------------------

    async def add_refresh(
        self,
        token_hash: bytes,
        family_id: uuid.UUID,
        kind: str,
        subject: uuid.UUID,
        expires_at: datetime,
    ) -> None:
        await self.pool.execute(
            "INSERT INTO api_gateway.refresh_tokens "
            "(token_hash, family_id, kind, subject, expires_at) VALUES ($1, $2, $3, $4, $5)",
            token_hash,
            family_id,
            kind,
            subject,
            expires_at,
        )

    async def use_refresh(self, token_hash: bytes, now: datetime) -> RefreshGrant | None:
        """Spend a refresh token once. A second use of a spent token revokes its whole family
        (someone else holds a copy) and raises :class:`RefreshReused`."""
        async with self.pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                "UPDATE api_gateway.refresh_tokens SET used_at = $2 WHERE token_hash = $1 "
                "AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2 "
                "RETURNING family_id, kind, subject",
                token_hash,
                now,
            )
            if row is not None:
                return RefreshGrant(row["family_id"], row["kind"], row["subject"])
            spent = await connection.fetchrow(
                "SELECT family_id FROM api_gateway.refresh_tokens WHERE token_hash = $1 "
                "AND used_at IS NOT NULL AND revoked_at IS NULL",
                token_hash,
            )
            if spent is None:
                return None
            await connection.execute(
                "UPDATE api_gateway.refresh_tokens SET revoked_at = $2 "
                "WHERE family_id = $1 AND revoked_at IS NULL",
                spent["family_id"],
                now,
            )
        raise RefreshReused()

    async def revoke_refresh(self, token_hash: bytes, now: datetime) -> RefreshGrant | None:
        """Sign out one device: revoke the token's family; who it belonged to."""
        row = await self.pool.fetchrow(
            "SELECT family_id, kind, subject FROM api_gateway.refresh_tokens WHERE token_hash = $1",
            token_hash,
        )
        if row is None:
            return None
        await self.pool.execute(
            "UPDATE api_gateway.refresh_tokens SET revoked_at = $2 "
            "WHERE family_id = $1 AND revoked_at IS NULL",
            row["family_id"],
            now,
        )
        return RefreshGrant(row["family_id"], row["kind"], row["subject"])

    async def revoke_subject(self, kind: str, subject: uuid.UUID, now: datetime) -> int:
        result: str = await self.pool.execute(
            "UPDATE api_gateway.refresh_tokens SET revoked_at = $3 "
            "WHERE kind = $1 AND subject = $2 AND revoked_at IS NULL",
            kind,
            subject,
            now,
        )
        return int(result.rsplit(" ", 1)[-1])
