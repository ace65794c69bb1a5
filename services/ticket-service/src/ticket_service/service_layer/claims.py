"""Unique keys of event-sourced records (a contact's email, an agent's email, a team's name):
the port the use cases write through, so an append and its claim succeed or fail together.

``adapters/claims.py`` keeps them in PostgreSQL (one transaction with the append),
``adapters/memory_event_store.py`` in memory for the use cases' unit tests.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from ticket_service.service_layer.event_store import StreamAppend

ClaimKind = Literal["contact-email", "agent-email", "team-name"]
CONTACT_EMAIL: Final = "contact-email"
AGENT_EMAIL: Final = "agent-email"
TEAM_NAME: Final = "team-name"


@dataclass(frozen=True)
class Claim:
    kind: ClaimKind
    key: str
    owner_id: uuid.UUID


class ClaimTaken(Exception):
    """The key belongs to another stream; the append that needed it was rolled back."""

    def __init__(self, claim: Claim, existing_owner: uuid.UUID) -> None:
        super().__init__(f"{claim.kind} {claim.key!r} is owned by {existing_owner}")
        self.claim = claim
        self.existing_owner = existing_owner


class ClaimStore(Protocol):
    async def owner(self, kind: ClaimKind, key: str) -> uuid.UUID | None:
        """The stream that holds the key, if any."""
        ...

    async def append(
        self,
        append: StreamAppend,
        *,
        claim: Claim | None = None,
        release: Claim | None = None,
        traceparent: str | None = None,
    ) -> None:
        """Append, take ``claim`` and drop ``release`` together; :class:`ClaimTaken` (nothing
        written) when another stream holds ``claim``."""
        ...
