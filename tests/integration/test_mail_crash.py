"""``kill -9`` of the mail gateway in the middle of a burst of 200 mails: after a restart every
mail is exactly one ticket with exactly one message (idempotent by account + Message-ID; a mail
is flagged handled on the IMAP server only after the ticket service accepted it)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpdesk_devstack import mailbox
from helpdesk_devstack.greenmail import MailServer

from .conftest import ServiceProcess
from .mail_stack import MailStack, customer_mail, eventually, start_mail_stack

pytestmark = pytest.mark.integration

BURST = 200


async def all_tickets(stack: MailStack) -> list[dict[str, Any]]:
    async with stack.tickets() as client:
        answer = await client.get("/tickets", params={"view": "all", "page_size": 200})
        answer.raise_for_status()
        items: list[dict[str, Any]] = answer.json()["items"]
        total = answer.json()["total"]
        page = 2
        while len(items) < total:
            more = await client.get(
                "/tickets", params={"view": "all", "page_size": 200, "page": page}
            )
            items += more.json()["items"]
            page += 1
        return items


async def test_a_killed_gateway_loses_and_doubles_nothing(
    make_database: Callable[[str], str],
    kafka_bootstrap: str,
    mail_server: MailServer,
    dev_keys: tuple[Path, Path],
    start_service: Callable[[str, list[str], dict[str, str]], ServiceProcess],
) -> None:
    stack = start_mail_stack(
        make_database=make_database,
        kafka_bootstrap=kafka_bootstrap,
        mail_server=mail_server,
        dev_keys=dev_keys,
        start_service=start_service,
        support=f"crash-{uuid.uuid4().hex[:6]}@helpdesk.local",
    )
    run = uuid.uuid4().hex[:6]
    senders = [f"burst-{run}-{n}@customer.example" for n in range(BURST)]

    def burst() -> None:
        for n, sender in enumerate(senders):
            mailbox.send(stack.mail, customer_mail(stack, sender, f"Burst {n}", f"Mail {n}."))

    sending = asyncio.create_task(asyncio.to_thread(burst))
    await eventually(lambda: _at_least(stack, 20), timeout=120)
    stack.gateway.process.kill()  # SIGKILL: no clean shutdown, mid-burst
    stack.gateway.process.wait(10)
    await sending
    restarted = start_service("mail-gateway-restarted", ["-m", "mail_gateway", "serve"],
                              stack.gateway_env)  # fmt: skip
    restarted.wait_http(f"{stack.gateway_url}/readyz", timeout=90)
    await eventually(lambda: _at_least(stack, BURST), timeout=300)
    await asyncio.sleep(3)  # anything doubled would show by now
    tickets = await all_tickets(stack)
    per_sender = Counter(t["requester_email"] for t in tickets)
    assert set(per_sender) == set(senders)
    assert max(per_sender.values()) == 1
    assert all(t["message_count"] == 1 for t in tickets), [
        (t["number"], t["message_count"]) for t in tickets if t["message_count"] != 1
    ]


async def _at_least(stack: MailStack, count: int) -> bool:
    return len(await all_tickets(stack)) >= count
