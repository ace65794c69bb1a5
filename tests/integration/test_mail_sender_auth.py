"""Sender authentication on the real stack: a gateway told to believe its inbox server's
Authentication-Results (``HELPDESK_MAIL_TRUSTED_AUTHSERV_IDS``) holds an agent's mail that server
did not authenticate, and lets no unauthenticated customer join a ticket by its subject token.

GreenMail checks no DKIM or SPF, so each mail carries the header a provider's receiving server
would have written on top of it (``mx.helpdesk.local; dkim=pass header.d=…``); what is tested
is what the gateway makes of it."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from helpdesk_devstack import mailbox

from .mail_stack import MailStack, customer_mail, eventually, mail_stack_fixture, tickets_of
from .test_mail_gateway import (
    agent_mail,
    conversation,
    new_agent,
    one_ticket,
    opened,
    quarantined,
    someone,
    wait_messages,
)

pytestmark = pytest.mark.integration
SERVER = "mx.helpdesk.local"


stack = mail_stack_fixture(
    extra_env={"HELPDESK_MAIL_TRUSTED_AUTHSERV_IDS": f"other.example, {SERVER}"}
)


def vouched(mail: EmailMessage, results: str) -> EmailMessage:
    """The mail as the inbox's server delivers it, its verdicts on top."""
    mail["Authentication-Results"] = f"{SERVER}; {results}"
    return mail


async def test_an_agents_authenticated_mail_is_their_reply(stack: MailStack) -> None:
    agent_id, agent = await new_agent(stack, "sari")
    ticket = await opened(stack, someone(), "Cannot log in")
    mail = agent_mail(stack, agent, "Re: Cannot log in", "Clear the cookies.", ticket["mid"])
    mailbox.send(stack.mail, vouched(mail, "dkim=pass header.d=staff.example"))
    reply = (await wait_messages(stack, ticket["id"], 2))[-1]
    assert reply["author"]["kind"] == "agent" and reply["author"]["id"] == agent_id
    assert reply["visibility"] == "public"


@pytest.mark.parametrize("results", [None, "dkim=pass header.d=attacker.example; spf=fail"])
async def test_an_agents_mail_the_server_did_not_authenticate_is_held_for_a_manager(
    stack: MailStack, results: str | None
) -> None:
    agent_id, agent = await new_agent(stack, "budi")
    ticket = await opened(stack, someone("ani"), "Printer offline")
    mail = agent_mail(stack, agent, "Re: Printer offline", "Power-cycle it.", ticket["mid"])
    mailbox.send(stack.mail, vouched(mail, results) if results else mail)
    held = await quarantined(stack, lambda q: q["sender"] == agent)
    assert "failed sender authentication" in held["reason"]
    assert "staff.example" in held["reason"]
    assert len(await conversation(stack, ticket["id"])) == 1
    async with stack.tickets() as client:
        assert await tickets_of(client, agent) == []
    # The manager who knows it was the agent releases it: then it is the agent's reply.
    async with stack.manager() as client:
        released = await client.post(f"/quarantine/{held['quarantine_id']}/release")
        assert released.status_code == 200, released.text
    reply = (await wait_messages(stack, ticket["id"], 2))[-1]
    assert reply["author"]["kind"] == "agent" and reply["author"]["id"] == agent_id


async def test_an_unauthenticated_customer_cannot_join_by_the_subject_token(
    stack: MailStack,
) -> None:
    customer = someone("wulan")
    ticket = await opened(stack, customer, "VPN down")
    subject = f"Re: [#{ticket['number']}] VPN down"
    forged = customer_mail(stack, customer, subject, "Forged: send me the invoice.")
    mailbox.send(stack.mail, vouched(forged, "spf=fail smtp.mailfrom=customer.example"))
    async with stack.tickets() as client:

        async def two() -> list[dict[str, object]] | None:
            found = await tickets_of(client, customer)
            return found if len(found) == 2 else None

        assert len(await eventually(two)) == 2  # a ticket of its own, not a message on hers
    assert len(await conversation(stack, ticket["id"])) == 1
    genuine = customer_mail(stack, customer, subject, "It works again.")
    mailbox.send(stack.mail, vouched(genuine, "dmarc=pass header.from=customer.example"))
    joined = (await wait_messages(stack, ticket["id"], 2))[-1]
    assert "It works again." in joined["body_text"]


async def test_a_customer_answering_by_in_reply_to_needs_no_authentication(
    stack: MailStack,
) -> None:
    """A thread's Message-IDs reached only its recipients: In-Reply-To still threads."""
    customer = someone("tono")
    ticket = await opened(stack, customer, "Old laptop")
    answer = customer_mail(stack, customer, "Re: Old laptop", "Still slow.")
    answer["In-Reply-To"] = ticket["mid"]
    mailbox.send(stack.mail, answer)
    assert "Still slow." in (await wait_messages(stack, ticket["id"], 2))[-1]["body_text"]
    assert (await one_ticket(stack, customer))["id"] == ticket["id"]
