"""The gateway store's batched statements on a real PostgreSQL: a round of mails landed,
recorded and acknowledged in a statement each, and the topic's common writes gathered - each
as the one-mail statements would leave the tables, and a second run changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest

from mail_gateway.adapters.store import MailStore, create_pool

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(make_database: Callable[[str], str]) -> AsyncIterator[MailStore]:
    pool = await create_pool(make_database("mailbatch"), max_size=2)
    yield MailStore(pool)
    await pool.close()


async def test_a_round_is_landed_recorded_and_acknowledged_once(store: MailStore) -> None:
    account = uuid.uuid4()
    first, second = uuid.uuid4(), uuid.uuid4()
    await store.mark_bouncing("budi@customer.example", "<old@helpdesk.local>")
    landed = [
        (first, 1001, "Printer", "budi@customer.example", "<a@c>", ["rekan@c.example"],
         "budi@customer.example"),
        (second, 1002, "Scanner", "sari@customer.example", "<b@c>", [], "sari@customer.example"),
        # A second mail of the batch on the first ticket: the statement after.
        (first, None, None, None, "<c@c>", ["lain@c.example", "rekan@c.example"],
         "budi@customer.example"),
    ]  # fmt: skip
    for _ in range(2):  # the round again (a crash before the flag) changes nothing
        threads = await store.landed_many(account, landed)
        assert threads[first].number == 1001 and threads[first].subject == "Printer"
        assert threads[first].references == ("<a@c>", "<c@c>")
        assert threads[first].participants == {"rekan@c.example", "lain@c.example"}
        assert threads[first].account_id == account
        assert threads[second].customer_email == "sari@customer.example"
        assert await store.bouncing(["budi@customer.example"]) == set()
        assert await store.ticket_for_message_ids(["<c@c>", "<b@c>"]) == [
            ("<c@c>", first), ("<b@c>", second)
        ]  # fmt: skip
        await store.record_inbound_many(
            account, [("<a@c>", 7, 1, "created", first), ("<b@c>", 7, 2, "created", second)]
        )
        done = await store.handled_many(account, ["<a@c>", "<b@c>", "<x@c>"])
        assert {k: (r["outcome"], r["ticket_id"]) for k, r in done.items()} == {
            "<a@c>": ("created", first), "<b@c>": ("created", second)
        }  # fmt: skip
        ack = (uuid.uuid4(), first, "ack", "<ack@helpdesk.local>", {"body_text": "Thanks"})
        await store.enqueue_many([ack])
        await store.enqueue_many([ack])
        assert [r["email_message_id"] for r in await store.outbound(first)] == [
            "<ack@helpdesk.local>"
        ]
        numbered = await store.threads_by_numbers([1001, 1002, 9999])
        assert {n: [t.ticket_id for t in ts] for n, ts in numbered.items()} == {
            1001: [first], 1002: [second]
        }  # fmt: skip


async def test_the_topics_common_writes_gathered_keep_their_order(store: MailStore) -> None:
    pool: asyncpg.Pool = store.pool
    account_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO mail_accounts (account_id, address, version, settings, secret)"
        " VALUES ($1, 'support@helpdesk.local', 1, '{}'::jsonb, '')",
        account_id,
    )
    ticket, other = uuid.uuid4(), uuid.uuid4()
    team = uuid.uuid4()
    await store.upsert_tickets(
        [(ticket, 7, "Printer", "budi@c.example", team), (other, 8, "Fax", None, None)]
    )
    links = [
        (ticket, "<in@c>", "Support@Helpdesk.local"),
        (ticket, "<ack@helpdesk.local>", None),
        (other, "<x@c>", None),
        (ticket, "<in@c>", "support@helpdesk.local"),  # the same mail again: linked once
    ]
    for _ in range(2):
        await store.link_many(links)
    threads = await store.threads([ticket, other])
    assert threads[ticket].references == ("<in@c>", "<ack@helpdesk.local>")
    assert threads[ticket].account_id == account_id
    assert (threads[ticket].number, threads[ticket].team_id) == (7, team)
    assert threads[other].references == ("<x@c>",) and threads[other].account_id is None
    # Created again (a replay of the topic): nothing lost, the team kept.
    await store.upsert_tickets([(ticket, 7, "Printer", "budi@c.example", None)])
    assert (await store.thread(ticket)).team_id == team  # type: ignore[union-attr]
