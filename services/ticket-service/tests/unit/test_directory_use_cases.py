"""Customer and directory use cases on the in-memory event store and claims: contacts unique by
email, agents unique by email, teams by name, edits pinned to a version; no database."""

from __future__ import annotations

import uuid

import pytest

from helpdesk_events import Actor, ActorKind
from helpdesk_events.directory import AgentRole
from helpdesk_platform.auth import Principal, Role
from ticket_service.adapters.memory_event_store import InMemoryClaims, InMemoryEventStore
from ticket_service.domain.customers import ContactExists
from ticket_service.domain.directory import AgentExists, TeamNameTaken
from ticket_service.domain.errors import VersionConflict
from ticket_service.service_layer.access import Forbidden
from ticket_service.service_layer.context import CommandContext
from ticket_service.service_layer.customers import CustomerApplication, NewCustomer
from ticket_service.service_layer.directory import DirectoryApplication, NewAgent, NewTeam


def context(role: Role) -> CommandContext:
    who = Principal(subject=f"test-{role.value}", role=role)
    return CommandContext(
        actor=Actor(kind=ActorKind.AGENT, id=who.subject, role=role.value),
        correlation_id=uuid.uuid4(),
        caller=who,
    )


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore()


async def test_a_contact_email_belongs_to_one_contact(store: InMemoryEventStore) -> None:
    customers = CustomerApplication(store, InMemoryClaims(store))
    budi = await customers.register_customer(
        NewCustomer(name="Budi", email="Budi@Example.co.id"), context(Role.AGENT)
    )
    assert budi.email == "budi@example.co.id" and budi.version == 1
    with pytest.raises(ContactExists) as exists:
        await customers.register_customer(
            NewCustomer(name="Other", email="budi@example.co.id"), context(Role.AGENT)
        )
    assert exists.value.existing_id == budi.id
    found = await customers.find_customer_by_email("BUDI@example.co.id")
    assert found is not None and found.id == budi.id
    with pytest.raises(Forbidden):
        await customers.register_customer(NewCustomer(name="Me"), context(Role.CUSTOMER))


async def test_agents_and_teams_are_unique_and_edits_pinned(store: InMemoryEventStore) -> None:
    directory = DirectoryApplication(store, InMemoryClaims(store))
    manager = context(Role.MANAGER)
    rina = await directory.invite_agent(
        NewAgent(email="rina@helpdesk.example", name="Rina", role=AgentRole.AGENT), manager
    )
    with pytest.raises(AgentExists):
        await directory.invite_agent(
            NewAgent(email="RINA@helpdesk.example", name="R", role=AgentRole.AGENT), manager
        )
    team = await directory.create_team(
        NewTeam(name="L1 Support", member_ids=(rina.id,), lead_id=rina.id), manager
    )
    assert team.lead_id == rina.id and rina.id in team.members
    with pytest.raises(TeamNameTaken):
        await directory.create_team(NewTeam(name="l1 support"), manager)
    renamed = await directory.change_team(
        team.id, {"name": "First line"}, manager, expected_version=team.version
    )
    with pytest.raises(VersionConflict):
        await directory.change_team(
            team.id, {"name": "Stale"}, manager, expected_version=team.version
        )
    assert await directory.team_members(renamed.id) == frozenset({rina.id})
    # the old name is free again
    again = await directory.create_team(NewTeam(name="L1 Support"), manager)
    assert again.id != team.id
