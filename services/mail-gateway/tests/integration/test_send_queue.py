"""The send queue on a real PostgreSQL and a real SMTP server (GreenMail): a batch is recorded
``sending`` before its first mail goes out and each mail ``sent`` once accepted; what a crash
left in ``sending`` goes out on the next pass (the same Message-ID), a refused batch goes back
to ``pending`` with its one attempt counted. The ticket service is away here: the delivery
states are only logged, which the send does not wait for."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from helpdesk_devstack import mailbox
from helpdesk_devstack.greenmail import MailServer
from helpdesk_devstack.procs import free_port
from mail_gateway.adapters.accounts import AccountStore, SecretBox
from mail_gateway.adapters.store import MailStore, create_pool
from mail_gateway.adapters.tickets_api import TicketsApi, TokenMinter
from mail_gateway.domain.accounts import Account, AccountSecrets, AccountSettings
from mail_gateway.service_layer.outbound import Outbound

pytestmark = pytest.mark.integration


@pytest.fixture
async def parts(
    make_database: Callable[[str], str], dev_keys: tuple[Path, Path]
) -> AsyncIterator[tuple[MailStore, AccountStore, Outbound]]:
    pool = await create_pool(make_database("mailsend"), max_size=2)
    store = MailStore(pool)
    accounts = AccountStore(pool, SecretBox(Fernet.generate_key().decode()))
    away = TicketsApi(f"http://127.0.0.1:{free_port()}", TokenMinter(dev_keys[0].read_bytes()))
    yield store, accounts, Outbound(store, accounts, away, domain="helpdesk.local")
    await away.close()
    await pool.close()


async def desk(accounts: AccountStore, server: MailServer, smtp_port: int) -> Account:
    address = f"desk-{uuid.uuid4().hex[:8]}@helpdesk.local"
    settings = AccountSettings(
        address=address, display_name="Desk", imap_host=server.host, imap_port=server.imap_port,
        imap_tls="none", imap_user=address, smtp_host=server.host, smtp_port=smtp_port,
        smtp_tls="none",
    )  # fmt: skip
    return await accounts.create(settings, AccountSecrets(imap_password="secret"))  # type: ignore[arg-type]


async def acknowledged(store: MailStore, outbound: Outbound, account: Account) -> list[uuid.UUID]:
    """Three new tickets on the account, acknowledged: two mail threads and one without a
    customer address (nothing to send). Their tickets, in that order."""
    tickets = [uuid.uuid4() for _ in range(3)]
    run = uuid.uuid4().hex[:8]
    await store.upsert_tickets(
        [
            (tickets[0], 1, "Printer", f"budi-{run}@customer.example", None),
            (tickets[1], 2, "Scanner", f"sari-{run}@customer.example", None),
            (tickets[2], 3, "Portal", None, None),
        ]
    )
    await store.link_many([(t, f"<in-{t.hex}@c>", account.address) for t in tickets])
    threads = await store.threads(tickets)
    await outbound.acknowledge_many(account, [threads[t] for t in tickets])
    return tickets


async def test_a_batch_goes_out_once_and_a_crashs_leftover_is_sent_again(
    parts: tuple[MailStore, AccountStore, Outbound], mail_server: MailServer
) -> None:
    store, accounts, outbound = parts
    account = await desk(accounts, mail_server, mail_server.smtp_port)
    tickets = await acknowledged(store, outbound, account)
    # A pass that crashed after recording the first ack `sending` (it may have gone out).
    crashed = (await store.outbound(tickets[0]))[0]
    await store.mark_sending([(crashed["outbound_id"], 1)])

    assert await outbound.send_due(datetime.now(UTC)) == 3
    assert await outbound.send_due(datetime.now(UTC)) == 0

    rows = [(await store.outbound(t))[0] for t in tickets]
    assert [(r["state"], r["attempts"]) for r in rows] == [
        ("sent", 2), ("sent", 1), ("skipped", 0)
    ]  # fmt: skip
    for ticket, row in zip(tickets[:2], rows, strict=False):
        customer = (await store.thread(ticket)).customer_email  # type: ignore[union-attr]
        assert customer is not None
        received = await asyncio.to_thread(mailbox.messages, mail_server, customer)
        assert [m["Message-ID"] for m in received] == [row["email_message_id"]]
        assert received[0]["Auto-Submitted"] == "auto-replied"
        assert received[0]["In-Reply-To"] == f"<in-{ticket.hex}@c>"
        # Its Message-ID joined the thread: the customer's answer to it threads here.
        assert (await store.thread(ticket)).references[-1] == row["email_message_id"]  # type: ignore[union-attr]


async def test_a_refused_batch_waits_with_its_one_attempt_counted(
    parts: tuple[MailStore, AccountStore, Outbound], mail_server: MailServer
) -> None:
    store, accounts, outbound = parts
    account = await desk(accounts, mail_server, free_port())  # nothing listens there
    tickets = await acknowledged(store, outbound, account)
    now = datetime.now(UTC)

    assert await outbound.send_due(now) == 3

    rows = [(await store.outbound(t))[0] for t in tickets]
    assert [(r["state"], r["attempts"]) for r in rows] == [
        ("pending", 1), ("pending", 1), ("skipped", 0)
    ]  # fmt: skip
    assert all(r["error"] for r in rows)
    assert await store.due(now) == []  # backed off: not due again at once
