"""Agents answering by email (issue #14 items 4 and 7): who the directory's agents are, who may
join a thread, who a reply is copied to - without servers."""

from __future__ import annotations

import uuid
from email.message import EmailMessage

from mail_gateway.domain.agents import Agent, fold
from mail_gateway.domain.parsing import parse
from mail_gateway.domain.threading import TicketThread, copy_to, may_join, participants_of

AGENT_ID = uuid.UUID("6a1e8f3c-0000-4000-8000-000000000001")
INVITED = {"email": "Sari@Helpdesk.Example", "name": "Sari", "role": "agent"}


def invited(version: int = 1) -> Agent | None:
    return fold(None, AGENT_ID, "AgentInvited", INVITED, version)


def test_an_invited_agent_is_an_active_agent_with_a_lower_case_address() -> None:
    assert invited() == Agent(AGENT_ID, "sari@helpdesk.example", "Sari", "agent", True, 1)


def test_role_changes_deactivation_and_reactivation_follow_the_versions() -> None:
    agent = invited()
    agent = fold(agent, AGENT_ID, "AgentRoleChanged", {"to_role": "manager"}, 2)
    assert agent is not None and agent.role == "manager" and agent.active
    agent = fold(agent, AGENT_ID, "AgentDeactivated", {}, 3)
    assert agent is not None and not agent.active and agent.version == 3
    agent = fold(agent, AGENT_ID, "AgentReactivated", {}, 4)
    assert agent is not None and agent.active and agent.role == "manager"


def test_a_replayed_or_older_event_changes_nothing() -> None:
    deactivated = fold(invited(), AGENT_ID, "AgentDeactivated", {}, 2)
    assert fold(deactivated, AGENT_ID, "AgentReactivated", {}, 2) == deactivated
    assert fold(deactivated, AGENT_ID, "AgentInvited", INVITED, 1) == deactivated


def test_availability_and_changes_to_an_unknown_agent_are_not_the_gateways() -> None:
    agent = invited()
    change = {"from_availability": "active", "to_availability": "away"}
    assert fold(agent, AGENT_ID, "AgentAvailabilityChanged", change, 2) == agent
    assert fold(None, AGENT_ID, "AgentDeactivated", {}, 5) is None


THREAD = TicketThread(
    uuid.uuid4(),
    7,
    "Cannot log in",
    "budi@customer.example",
    participants=frozenset({"rekan@customer.example", "sari@helpdesk.example"}),
)


def test_an_agent_joins_any_thread_a_stranger_does_not() -> None:
    agents = frozenset({"dewi@helpdesk.example"})
    assert may_join(THREAD, "Dewi@Helpdesk.Example", agents)
    assert not may_join(THREAD, "dewi@helpdesk.example")  # not (or no longer) an agent
    assert not may_join(THREAD, "stranger@elsewhere.example", agents)


def test_an_agents_mail_adds_neither_the_agent_nor_the_customer_as_participants() -> None:
    message = EmailMessage()
    message["From"] = "Dewi <dewi@helpdesk.example>"
    message["To"] = "support@helpdesk.local, budi@customer.example"
    message["Cc"] = "boss@customer.example"
    message["Subject"] = "Re: [#7] Cannot log in"
    message["Message-ID"] = "<a1@helpdesk.example>"
    message.set_content("Try again now.")
    mail = parse(bytes(message))
    own = frozenset({"support@helpdesk.local", "budi@customer.example"})
    assert participants_of(mail, own) == ("boss@customer.example",)


def test_a_reply_is_copied_to_participants_but_never_to_its_author_or_the_customer() -> None:
    assert copy_to(THREAD, {"support@helpdesk.local"}) == (
        "rekan@customer.example",
        "sari@helpdesk.example",
    )
    # Sari wrote the reply (by mail or in the portal): she does not get it back.
    assert copy_to(THREAD, {"support@helpdesk.local", "Sari@Helpdesk.Example"}) == (
        "rekan@customer.example",
    )
    with_customer = TicketThread(
        THREAD.ticket_id, 7, "x", "budi@customer.example",
        participants=frozenset({"budi@customer.example"}),
    )  # fmt: skip
    assert copy_to(with_customer, set()) == ()
