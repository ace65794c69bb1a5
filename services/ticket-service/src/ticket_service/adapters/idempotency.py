"""Idempotency keys in PostgreSQL: a retried create returns the first result instead of a
second ticket (the adapter behind ``service_layer.idempotency.IdempotencyStore``)."""

from __future__ import annotations

import asyncpg

from ticket_service.adapters.event_store import (
    PostgresEventStore,
    StreamAppend,
    batch_document,
    translate_append_error,
)
from ticket_service.service_layer.idempotency import IdempotencyKeyReused, StoredResponse

__all__ = ["IdempotencyKeyReused", "IdempotentAppender", "StoredResponse"]


class IdempotentAppender:
    """Appends events and records the response under an idempotency key, atomically."""

    def __init__(self, pool: asyncpg.Pool, store: PostgresEventStore) -> None:
        self._pool = pool
        self._store = store

    async def lookup(self, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
        row = await self._pool.fetchrow(
            "SELECT request_hash, response_status, response_body FROM idempotency_keys"
            " WHERE scope = $1 AND key = $2",
            scope,
            key,
        )
        if row is None:
            return None
        if row["request_hash"] != fingerprint:
            raise IdempotencyKeyReused.of(key)
        return StoredResponse(row["response_status"], row["response_body"])

    async def append(
        self,
        append: StreamAppend,
        *,
        scope: str,
        key: str,
        fingerprint: str,
        response: StoredResponse,
        traceparent: str | None,
    ) -> StoredResponse:
        """Append and remember the response in one statement; a concurrent twin gets the first."""
        try:
            await self._pool.execute(
                "WITH appended AS (SELECT append_events($1) AS versions)"
                " INSERT INTO idempotency_keys"
                " (scope, key, request_hash, response_status, response_body)"
                " SELECT $2, $3, $4, $5, $6 FROM appended",
                batch_document([append], traceparent),
                scope,
                key,
                fingerprint,
                response.status,
                response.body,
            )
        except asyncpg.UniqueViolationError as error:
            if error.constraint_name != "idempotency_keys_pkey":
                raise translate_append_error(error) from error
            stored = await self.lookup(scope, key, fingerprint)
            assert stored is not None, "the winning request's key is committed"
            return stored
        except asyncpg.PostgresError as error:
            raise translate_append_error(error) from error
        return response
