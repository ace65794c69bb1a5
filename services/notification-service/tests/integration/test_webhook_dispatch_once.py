"""#16: a delivered webhook was now and then sent a second time with the same webhook-id (its
attempt log: 204, then another attempt). A dispatcher read the due heads while an attempt at one
of them was still being recorded, and sent that head again; two replicas of the service read the
same heads and both sent them. Each delivery is now claimed (conditionally on its attempt
number, with a lease) before it is sent.

These tests use a database of their own, so that only their dispatchers send its deliveries
(the session's notification service dispatches from the shared one).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable

import asyncpg
import httpx
import pytest

from notification_service.adapters import webhook_store
from notification_service.adapters.database import create_pool
from notification_service.adapters.migrate import upgrade
from notification_service.adapters.webhook_dispatcher import WebhookDispatcher

from .conftest import Receiver, eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool(make_database: Callable[[str], str]) -> AsyncIterator[asyncpg.Pool]:
    url = make_database("notify_once")
    await asyncio.to_thread(upgrade, url)
    pool = await create_pool(url, min_size=1, max_size=8)
    yield pool
    await pool.close()


async def _queue(pool: asyncpg.Pool, url: str, tickets: int, per_ticket: int) -> uuid.UUID:
    """A subscription to ``url`` and ``per_ticket`` deliveries for each of ``tickets``."""
    hook = await webhook_store.create(
        pool,
        owner="manager-1",
        url=url,
        description=None,
        event_types=("*",),
        condition=None,
        secret="whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    )
    rows = []
    for ticket in range(tickets):
        for step in range(per_ticket):
            event_id = uuid.uuid4()
            payload = json.dumps({"event_id": str(event_id), "ticket": ticket, "step": step})
            rows.append((uuid.uuid4(), hook["id"], event_id, "TicketCreated", str(ticket), payload))
    for row in rows:  # one by one: seq orders each ticket's deliveries
        await pool.execute(
            """INSERT INTO webhook_deliveries
                   (id, subscription_id, event_id, event_type, order_key, payload)
               VALUES ($1, $2, $3, $4, $5, convert_to($6, 'UTF8'))""",
            *row,
        )
    return uuid.UUID(str(hook["id"]))


def _dispatcher(pool: asyncpg.Pool) -> WebhookDispatcher:
    return WebhookDispatcher(pool, timeout=10, concurrency=4, allow_private=True)


async def test_a_head_read_before_its_attempt_was_recorded_is_not_sent_again(
    pool: asyncpg.Pool, receiver: Receiver
) -> None:
    """The race, made deterministic: the same due head, read once, attempted twice (what a
    dispatcher did when it read the heads while the first attempt was being recorded)."""
    hook = await _queue(pool, receiver.url, tickets=1, per_ticket=1)
    (head,) = await webhook_store.due_heads(pool, 10)
    dispatcher = _dispatcher(pool)
    async with httpx.AsyncClient() as client:
        assert await dispatcher.attempt(client, head) is True
        assert await dispatcher.attempt(client, head) is False  # stale: already attempted
    assert len(receiver.received) == 1
    (delivery,) = await webhook_store.deliveries(pool, hook, 10, None)
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 1
    assert [a["status_code"] for a in json.loads(delivery["attempt_log"])] == [204]


async def test_a_failed_attempt_is_retried_only_once_it_is_due_again(
    pool: asyncpg.Pool, receiver: Receiver
) -> None:
    """The stale head of a failed attempt is not sent again either: its retry waits."""
    await _queue(pool, receiver.url, tickets=1, per_ticket=1)
    receiver.failures, receiver.retry_after = 1, "60"
    (head,) = await webhook_store.due_heads(pool, 10)
    dispatcher = _dispatcher(pool)
    async with httpx.AsyncClient() as client:
        assert await dispatcher.attempt(client, head) is True
        assert await dispatcher.attempt(client, head) is False
    assert len(receiver.received) == 1
    assert await webhook_store.due_heads(pool, 10) == []  # due again in a minute


async def test_two_dispatchers_send_each_delivery_exactly_once_in_order_per_ticket(
    pool: asyncpg.Pool, receiver: Receiver
) -> None:
    """Two replicas on one queue, a slow receiver: every webhook-id once, each ticket in order."""
    tickets, per_ticket = 6, 5
    receiver.delay = 0.05
    await _queue(pool, receiver.url, tickets=tickets, per_ticket=per_ticket)
    stop = asyncio.Event()
    runs = [asyncio.create_task(_dispatcher(pool).run(stop)) for _ in range(2)]
    try:

        async def all_delivered() -> bool:
            pending = await pool.fetchval(
                "SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'"
            )
            return bool(pending == 0)

        await eventually(all_delivered, within=60)
        await asyncio.sleep(0.5)  # a second send would arrive now
    finally:
        stop.set()
        await asyncio.gather(*runs)
    ids = Counter(headers["webhook-id"] for headers, _ in receiver.received)
    assert len(ids) == tickets * per_ticket
    assert [webhook_id for webhook_id, n in ids.items() if n > 1] == []
    steps: dict[int, list[int]] = {}
    for _, body in receiver.received:
        payload = json.loads(body)
        steps.setdefault(payload["ticket"], []).append(payload["step"])
    assert steps == {ticket: list(range(per_ticket)) for ticket in range(tickets)}
    attempts = await pool.fetchval("SELECT count(*) FROM webhook_attempts")
    assert attempts == tickets * per_ticket
