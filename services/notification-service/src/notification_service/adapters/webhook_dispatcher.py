"""Sends webhook deliveries: signed per the Standard Webhooks specification (the
``standardwebhooks`` package), retried on its schedule, one at a time per ticket and
subscription so that a receiver sees each ticket's events in order.

The queue is the ``webhook_deliveries`` table, written by the consumer in the transaction of
the event, so deliveries survive a restart. The dispatcher reads the oldest pending delivery of
each (subscription, ticket) that is due, claims it (a conditional update on its attempt number
that also leases it for the attempt's duration, so neither a head read before the last attempt
was recorded nor another replica sends it a second time, #16), posts it, and records the
attempt (status, response time, error); it is woken by NOTIFY when the consumer queues new ones,
and otherwise when the next retry is due. Redirects are not followed, and targets in private or
loopback ranges are refused at every attempt (a name may resolve elsewhere later) unless allowed
by configuration.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import structlog
from standardwebhooks import Webhook

from notification_service.adapters import webhook_store
from notification_service.domain.webhooks import (
    Outcome,
    TargetRefused,
    outcome_of,
    parse_retry_after,
    refused_address,
    retry_delay,
)

log = structlog.get_logger("notification_service.webhooks")

USER_AGENT = "helpdesk-webhooks/1.0"


async def check_target(url: str, *, allow_private: bool) -> None:
    """Raise :class:`TargetRefused` when ``url``'s host resolves to a refused address."""
    if allow_private:
        return
    host = urlsplit(url).hostname or ""
    port = urlsplit(url).port or 443
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise TargetRefused(f"cannot resolve {host}: {error}") from None
    for info in infos:
        reason = refused_address(str(info[4][0]))
        if reason:
            raise TargetRefused(
                f"{host} resolves to a {reason} address ({info[4][0]}); set "
                "HELPDESK_WEBHOOKS_ALLOW_PRIVATE=true to allow it"
            )


def signature_headers(row: Any, body: bytes, now: datetime) -> dict[str, str]:
    message_id = str(row["id"])
    signatures = [Webhook(row["secret"]).sign(message_id, now, body)]
    expires = row["previous_secret_expires_at"]
    if row["previous_secret"] and expires is not None and expires > now:
        signatures.append(Webhook(row["previous_secret"]).sign(message_id, now, body))
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


class WebhookDispatcher:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        timeout: float,
        concurrency: int,
        allow_private: bool,
    ) -> None:
        self._pool = pool
        self._timeout = timeout
        self._concurrency = concurrency
        self._allow_private = allow_private
        #: How long a claimed delivery is this dispatcher's: the request's timeout and a margin
        #: to record the attempt.
        self._lease = timedelta(seconds=timeout + 30)
        self.wake = asyncio.Event()
        self._in_flight: dict[tuple[uuid.UUID, str], asyncio.Task[bool]] = {}
        self._queue: collections.deque[Any] = collections.deque()

    async def run(self, stop: asyncio.Event) -> None:
        limits = httpx.Limits(max_connections=self._concurrency * 2)
        async with httpx.AsyncClient(
            timeout=self._timeout, follow_redirects=False, limits=limits
        ) as client:
            try:
                while not stop.is_set():
                    await self._round(client, stop)
            finally:
                for task in self._in_flight.values():
                    task.cancel()
                for task in list(self._in_flight.values()):
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    async def _round(self, client: httpx.AsyncClient, stop: asyncio.Event) -> None:
        """Start what is due while there are free slots; otherwise wait to be woken (a
        delivery finished, new ones were queued) or for the next retry to fall due. Due heads
        are read in batches and kept, so the queue is not read again for every delivery."""
        self.wake.clear()
        if not self._queue and len(self._in_flight) < self._concurrency:
            try:
                heads = await webhook_store.due_heads(self._pool, 4 * self._concurrency)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("webhook queue unreadable; retrying", error=repr(error))
                heads = []
            self._queue.extend(
                row
                for row in heads
                if (row["subscription_id"], row["order_key"]) not in self._in_flight
            )
        started = 0
        while self._queue and len(self._in_flight) < self._concurrency:
            row = self._queue.popleft()
            key = (row["subscription_id"], row["order_key"])
            if key in self._in_flight:
                continue
            task = asyncio.create_task(self.attempt(client, row))
            self._in_flight[key] = task
            task.add_done_callback(functools.partial(self._finished, key))
            started += 1
        if started and len(self._in_flight) < self._concurrency:
            return  # slots left: read the queue again at once
        wait = 5.0
        if not self._in_flight and not self._queue:
            with contextlib.suppress(Exception):
                due = await webhook_store.next_due_at(self._pool)
                if due is not None:
                    wait = min(wait, max((due - datetime.now(UTC)).total_seconds(), 0.05))
        waiters = [asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _finished(self, key: tuple[uuid.UUID, str], _task: asyncio.Task[bool]) -> None:
        self._in_flight.pop(key, None)
        self.wake.set()  # the next delivery of that ticket may go now

    async def attempt(self, client: httpx.AsyncClient, row: Any) -> bool:
        """One attempt at a due head as read by :func:`webhook_store.due_heads`; False when
        it was no longer this dispatcher's to send (attempted meanwhile, or claimed by another).
        """
        try:
            claimed = await webhook_store.claim(
                self._pool, row["id"], attempts=row["attempts"], lease=self._lease
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as failure:
            log.warning("webhook delivery not claimed; retrying", error=repr(failure))
            return False
        if not claimed:
            return False
        await self._send(client, row)
        return True

    async def _send(self, client: httpx.AsyncClient, row: Any) -> None:
        body = bytes(row["payload"])
        now = datetime.now(UTC)
        status_code: int | None = None
        error: str | None = None
        retry_after: timedelta | None = None
        began = time.perf_counter()
        try:
            await check_target(row["url"], allow_private=self._allow_private)
            response = await client.post(
                row["url"], content=body, headers=signature_headers(row, body, now)
            )
            status_code = response.status_code
            retry_after = parse_retry_after(response.headers.get("retry-after"), now)
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}: {response.text[:200]}"
        except TargetRefused as refused:
            error = str(refused)
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:500]
        except Exception as failure:  # any other fault is this attempt's, retried on schedule
            log.exception("webhook attempt failed", delivery=str(row["id"]))
            error = f"{type(failure).__name__}: {failure}"[:500]
        elapsed_ms = (time.perf_counter() - began) * 1000
        outcome = outcome_of(status_code)
        next_at: datetime | None = None
        if outcome is Outcome.DELIVERED:
            status = "delivered"
        elif outcome is Outcome.DISABLE:
            status = "failed"
        else:
            delay = retry_delay(row["attempts"] + 1, retry_after=retry_after)
            status = "pending" if delay is not None else "failed"
            next_at = now + delay if delay is not None else None
        try:
            await webhook_store.record_attempt(
                self._pool,
                row["id"],
                attempts=row["attempts"],
                status_code=status_code,
                response_ms=elapsed_ms,
                error=error,
                new_status=status,
                next_attempt_at=next_at,
                disable_subscription=(
                    row["subscription_id"] if outcome is Outcome.DISABLE else None
                ),
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as failure:
            # Not recorded: sent again when the lease runs out (receivers dedupe by id).
            log.warning("webhook attempt not recorded", error=repr(failure))
        if status != "delivered":
            log.info(
                "webhook delivery failed",
                delivery=str(row["id"]),
                status=status_code,
                error=error,
                next_attempt_at=next_at.isoformat() if next_at else None,
            )
