"""Idempotency requests: what a retried command is recognised by (its scope, key and the
fingerprint of what was asked).

The fingerprint is a pure function of the request, so the use cases own it; the adapter
(``adapters/idempotency.py``) only stores the first answer under the key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson


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
