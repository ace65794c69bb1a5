"""Wakes the open SSE streams of a person when their notifications are stored.

One PostgreSQL connection per HTTP process LISTENs on the channel the consumer's transaction
NOTIFYs (delivered on commit, by whichever process consumed the event). Each open stream waits on
an :class:`asyncio.Event` of its own; the payload (the recipient id) says whose to set. A stream
then reads the store from its last id, so a lost wake-up costs latency (the stream re-reads at
least every ``ping`` seconds), never a notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Iterator
from typing import Any

import asyncpg
import structlog

from notification_service.adapters.database import NOTIFICATIONS_CHANNEL

log = structlog.get_logger("notification_service.broadcast")


def _set(event: asyncio.Event, *_args: object) -> None:
    event.set()


class Broadcaster:
    def __init__(self, database_url: str, channel: str = NOTIFICATIONS_CHANNEL) -> None:
        self._url = database_url
        self._channel = channel
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._connection: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                connection = await asyncpg.connect(self._url)
                lost = asyncio.Event()
                connection.add_termination_listener(functools.partial(_set, lost))
                await connection.add_listener(self._channel, self._on_notify)
                backoff = 0.5
                self._wake_all()  # anything stored while not listening is read now
                try:
                    await lost.wait()
                finally:
                    with contextlib.suppress(Exception):
                        await connection.close()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("notification listener lost; reconnecting", error=repr(error))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        for event in self._waiters.get(payload, ()):
            event.set()

    def _wake_all(self) -> None:
        for events in self._waiters.values():
            for event in events:
                event.set()

    @contextlib.contextmanager
    def subscribe(self, recipient: str) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._waiters.setdefault(recipient, set()).add(event)
        try:
            yield event
        finally:
            waiting = self._waiters.get(recipient)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._waiters[recipient]
