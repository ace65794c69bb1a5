"""Idempotency requests: what a retried command is recognised by (its scope, key and the
fingerprint of what was asked).

The fingerprint is a pure function of the request, so the use cases own it; the adapter
(``adapters/idempotency.py``) only stores the first answer under the key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from ticket_service.service_layer.event_store import StreamAppend


class IdempotencyKeyReused(Exception):
    """The key was used before with a different request."""

    @classmethod
    def of(cls, key: str) -> IdempotencyKeyReused:
        return cls(
            f"Idempotency-Key {key!r} was already used with a different request; "
            "use a new key for a new request"
        )


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict[str, Any]


class IdempotencyStore(Protocol):
    """Remembers the answer to a request under its key, written with the request's events."""

    async def lookup(self, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
        """The answer stored under the key; :class:`IdempotencyKeyReused` when the key was
        used for another request (another fingerprint)."""
        ...

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
        """Append and remember ``response`` atomically; a concurrent twin gets the first."""
        ...


@dataclass(frozen=True)
class IdempotencyRequest:
    scope: str
    key: str
    fingerprint: str

    @classmethod
    def of(cls, scope: str, key: str, payload: Any) -> IdempotencyRequest:
        """The request under ``key`` in ``scope`` whose content is ``payload`` (JSON-able):
        the same key with another payload is refused, never replayed."""
        return cls(scope=scope, key=key, fingerprint=request_fingerprint(payload))


def request_fingerprint(payload: Any) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()
