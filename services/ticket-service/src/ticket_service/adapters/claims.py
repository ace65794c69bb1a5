"""Unique keys for event-sourced aggregates: an append and its claim commit together or not at all.

An event log cannot say "no other contact has this email" by itself. ``directory_claims`` can:
(kind, key) is its primary key. The claim is inserted in the append's transaction *after* the
append (``append_events`` must be the first write of its transaction), so when two requests race
for one key, the second waits for the first to commit, finds the key taken, and rolls its own
append back: exactly one stream ever owns the key.
"""

from __future__ import annotations

import uuid

import asyncpg

from ticket_service.adapters.event_store import PostgresEventStore, StreamAppend
from ticket_service.service_layer.claims import (
    AGENT_EMAIL,
    CONTACT_EMAIL,
    TEAM_NAME,
    Claim,
    ClaimKind,
    ClaimTaken,
)

#: Another attempt when the key's owner let it go between our insert and our look-up.
_CLAIM_ATTEMPTS = 3


__all__ = [
    "AGENT_EMAIL",
    "CONTACT_EMAIL",
    "TEAM_NAME",
    "Claim",
    "ClaimKind",
    "ClaimTaken",
    "Claims",
]


class Claims:
    def __init__(self, pool: asyncpg.Pool, store: PostgresEventStore) -> None:
        self._pool = pool
        self._store = store

    async def owner(self, kind: ClaimKind, key: str) -> uuid.UUID | None:
        owner: uuid.UUID | None = await self._pool.fetchval(
            "SELECT owner_id FROM directory_claims WHERE kind = $1 AND key = $2", kind, key
        )
        return owner

    async def append(
        self,
        append: StreamAppend,
        *,
        claim: Claim | None = None,
        release: Claim | None = None,
        traceparent: str | None = None,
    ) -> None:
        """Append events, then take ``claim`` and drop ``release``, in one transaction.

        Raises :class:`ClaimTaken` (nothing is written) when another owner holds ``claim``, and
        the event store's errors (a stale expected version) as they are.
        """
        async with self._pool.acquire() as connection, connection.transaction():
            await self._store.append([append], traceparent=traceparent, connection=connection)
            if release is not None:
                await connection.execute(
                    "DELETE FROM directory_claims WHERE kind = $1 AND key = $2 AND owner_id = $3",
                    release.kind,
                    release.key,
                    release.owner_id,
                )
            if claim is not None:
                await self._take(connection, claim)

    @staticmethod
    async def _take(connection: asyncpg.Connection, claim: Claim) -> None:
        for _ in range(_CLAIM_ATTEMPTS):
            # A concurrent uncommitted claim of the same key makes this wait for its outcome.
            taken = await connection.fetchval(
                "INSERT INTO directory_claims (kind, key, owner_id) VALUES ($1, $2, $3)"
                " ON CONFLICT (kind, key) DO NOTHING RETURNING owner_id",
                claim.kind,
                claim.key,
                claim.owner_id,
            )
            if taken is not None:
                return
            # Read committed: this statement sees the winner's committed claim.
            existing: uuid.UUID | None = await connection.fetchval(
                "SELECT owner_id FROM directory_claims WHERE kind = $1 AND key = $2",
                claim.kind,
                claim.key,
            )
            if existing == claim.owner_id:
                return
            if existing is not None:
                raise ClaimTaken(claim, existing)
        raise RuntimeError(f"could not claim {claim.kind} {claim.key!r}: it keeps changing hands")
