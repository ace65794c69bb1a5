"""A person's notifications, preferences and followed tickets.

Access rule: everything here is the caller's own — the recipient is always the token's subject
(an agent's id), never a parameter, so nobody can read or mark another person's notifications.
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AbstractContextManager
from typing import Any, Protocol

import asyncpg

from notification_service.adapters import inbox_store
from notification_service.domain.kinds import Kind, Preference, check_preference, effective


class Wakeups(Protocol):
    """Tells a recipient's open streams that they have new notifications (the port the SSE
    route waits on; :class:`notification_service.adapters.broadcast.Broadcaster` is it)."""

    def subscribe(self, recipient: str) -> AbstractContextManager[asyncio.Event]: ...


class NotFound(LookupError):
    pass


class Inbox:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def page(
        self, recipient: str, *, unread: bool, limit: int, before: int | None
    ) -> tuple[list[dict[str, Any]], int]:
        items = await inbox_store.list_notifications(
            self._pool, recipient, unread=unread, limit=limit, before=before
        )
        return items, await inbox_store.unread_count(self._pool, recipient)

    async def after(self, recipient: str, after: int, limit: int = 200) -> list[dict[str, Any]]:
        return await inbox_store.notifications_after(self._pool, recipient, after, limit)

    async def last_seq(self, recipient: str) -> int:
        return await inbox_store.last_seq(self._pool, recipient)

    async def mark_read(self, recipient: str, notification_id: uuid.UUID) -> None:
        if not await inbox_store.mark_read(self._pool, recipient, notification_id):
            raise NotFound(f"you have no notification {notification_id}")

    async def mark_all_read(self, recipient: str, up_to: int | None) -> int:
        return await inbox_store.mark_all_read(self._pool, recipient, up_to)

    async def preferences(self, recipient: str) -> dict[Kind, Preference]:
        chosen = await inbox_store.preferences(self._pool, recipient)
        return {kind: effective(kind, chosen.get(kind)) for kind in Kind}

    async def set_preferences(
        self, recipient: str, changes: dict[Kind, Preference]
    ) -> dict[Kind, Preference]:
        """Raises :class:`~notification_service.domain.kinds.PreferenceError` for a choice that
        cannot be kept; nothing is saved then."""
        checked = {kind: check_preference(kind, pref) for kind, pref in changes.items()}
        await inbox_store.save_preferences(self._pool, recipient, checked)
        return await self.preferences(recipient)

    async def follow(self, recipient: str, ticket_id: uuid.UUID) -> None:
        await inbox_store.follow(self._pool, recipient, ticket_id)

    async def unfollow(self, recipient: str, ticket_id: uuid.UUID) -> None:
        if not await inbox_store.unfollow(self._pool, recipient, ticket_id):
            raise NotFound(f"you do not follow ticket {ticket_id}")

    async def followed(self, recipient: str) -> list[dict[str, Any]]:
        return await inbox_store.followed(self._pool, recipient)
