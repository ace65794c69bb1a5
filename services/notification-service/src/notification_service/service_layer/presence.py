"""Presence use cases: a page's heartbeat and leave, and the per-ticket live feed (who else is
there, and that the ticket changed) that the ticket page follows.

Access rule: staff only (the routes' dependency); a heartbeat is always the caller's own — the
agent is the token's subject, never a parameter — and the feed leaves the caller out. The feed
carries names and viewing/replying, nothing from the ticket itself: a ``changed`` message tells
the page to re-read the ticket through the ticket service, which applies its own access rules.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from notification_service.adapters import presence_store
from notification_service.domain.presence import (
    Activity,
    Presence,
    next_expiry,
    others,
    shows_others_something_new,
)
from notification_service.service_layer.inbox import Wakeups


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PresenceChanged:
    others: list[Presence]


@dataclass(frozen=True)
class TicketChanged:
    ticket_id: uuid.UUID


async def _either(first: asyncio.Event, second: asyncio.Event, seconds: float) -> None:
    waits = [asyncio.create_task(first.wait()), asyncio.create_task(second.wait())]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


class Presences:
    def __init__(
        self,
        pool: object,
        presence_wakeups: Wakeups,
        change_wakeups: Wakeups,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._pool = pool
        self._presence = presence_wakeups
        self._changes = change_wakeups
        self._clock = clock

    async def beat(
        self,
        ticket_id: uuid.UUID,
        *,
        agent_id: str,
        name: str | None,
        session_id: uuid.UUID,
        activity: Activity,
    ) -> None:
        now = self._clock()
        previous = await presence_store.beat(
            self._pool,
            ticket_id=ticket_id,
            agent_id=agent_id,
            session_id=session_id,
            activity=activity,
            name=name,
            now=now,
        )
        if shows_others_something_new(previous, activity, now):
            await presence_store.announce(self._pool, ticket_id)

    async def leave(self, ticket_id: uuid.UUID, *, agent_id: str, session_id: uuid.UUID) -> None:
        """Idempotent: leaving a ticket one is not on does nothing."""
        if await presence_store.leave(
            self._pool, ticket_id=ticket_id, agent_id=agent_id, session_id=session_id
        ):
            await presence_store.announce(self._pool, ticket_id)

    async def others(self, ticket_id: uuid.UUID, viewer: str) -> list[Presence]:
        now = self._clock()
        return others(await presence_store.heartbeats(self._pool, ticket_id, now), viewer, now)

    async def watch(
        self, ticket_id: uuid.UUID, viewer: str, *, ping: float
    ) -> AsyncIterator[PresenceChanged | TicketChanged]:
        """The feed of one ticket for ``viewer``: the others present now, then every change of
        that list (including a heartbeat running out, which nobody announces: the wait ends at
        the next expiry), and a :class:`TicketChanged` after every event on the ticket."""
        key = str(ticket_id)
        sent: list[Presence] | None = None
        with (
            self._presence.subscribe(key) as presence_wake,
            self._changes.subscribe(key) as change_wake,
        ):
            while True:
                presence_wake.clear()
                if change_wake.is_set():
                    change_wake.clear()
                    yield TicketChanged(ticket_id)
                now = self._clock()
                beats = await presence_store.heartbeats(self._pool, ticket_id, now)
                current = others(beats, viewer, now)
                if current != sent:
                    sent = current
                    yield PresenceChanged(current)
                timeout = ping
                expiry = next_expiry(beats, viewer, now)
                if expiry is not None:
                    timeout = min(ping, max((expiry - now).total_seconds(), 0) + 0.05)
                await _either(presence_wake, change_wake, timeout)
