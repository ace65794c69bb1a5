"""Agent and team rules (pure domain, no servers)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from helpdesk_events import DomainEvent
from helpdesk_events.directory import (
    AgentAvailabilityChanged,
    AgentDeactivated,
    AgentInvited,
    AgentReactivated,
    AgentRole,
    AgentRoleChanged,
    Availability,
    TeamCreated,
    TeamDetailsChanged,
    TeamLeadChanged,
    TeamMemberAdded,
    TeamMemberRemoved,
)
from ticket_service.domain import directory as rules
from ticket_service.domain.directory import (
    Agent,
    AgentNotFound,
    DirectoryRuleViolation,
    Region,
    Team,
    TeamNotFound,
    change_team_region,
    clean_region,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def agent(name: str = "Rina", role: AgentRole = AgentRole.AGENT, *, active: bool = True) -> Agent:
    invited = rules.invite_agent(email=f" {name}@Helpdesk.Example ", name=name, role=role)
    result = rules.apply_agent(None, uuid.uuid4(), invited, T0)
    if not active:
        result = rules.apply_agent(result, result.id, rules.deactivate(result), T0)
    return result


def applied(team: Team | None, team_id: uuid.UUID, events: Sequence[DomainEvent]) -> Team:
    for event in events:
        team = rules.apply_team(team, team_id, event, T0)
    assert team is not None
    return team


def team(members: Sequence[Agent] = (), lead: Agent | None = None, **fields: object) -> Team:
    events = rules.create_team(
        name=str(fields.pop("name", "L1 Support")),
        members=members,
        lead=lead,
        **fields,
    )
    return applied(None, uuid.uuid4(), events)


# --- agents -----------------------------------------------------------------------------------


def test_invited_agent_is_active_and_available_with_normalised_email() -> None:
    rina = agent()
    assert (rina.email, rina.role, rina.active, rina.availability, rina.version) == (
        "rina@helpdesk.example",
        AgentRole.AGENT,
        True,
        Availability.ACTIVE,
        1,
    )


def test_invite_needs_a_valid_email_and_a_name() -> None:
    with pytest.raises(DirectoryRuleViolation, match="needs an email"):
        rules.invite_agent(email="  ", name="Rina", role=AgentRole.AGENT)
    with pytest.raises(DirectoryRuleViolation, match="email"):
        rules.invite_agent(email="rina-at-example", name="Rina", role=AgentRole.AGENT)
    with pytest.raises(DirectoryRuleViolation, match="an agent needs a name"):
        rules.invite_agent(email="rina@example.com", name="  ", role=AgentRole.AGENT)


def test_role_change_and_refusal_of_the_same_role() -> None:
    rina = agent()
    event = rules.change_role(rina, AgentRole.MANAGER)
    assert event == AgentRoleChanged(from_role=AgentRole.AGENT, to_role=AgentRole.MANAGER)
    manager = rules.apply_agent(rina, rina.id, event, T0)
    assert (manager.role, manager.version) == (AgentRole.MANAGER, 2)
    with pytest.raises(DirectoryRuleViolation, match="already a manager"):
        rules.change_role(manager, AgentRole.MANAGER)


def test_deactivate_and_reactivate_each_only_once() -> None:
    rina = agent()
    assert rules.deactivate(rina) == AgentDeactivated()
    inactive = rules.apply_agent(rina, rina.id, AgentDeactivated(), T0)
    assert not inactive.active
    with pytest.raises(DirectoryRuleViolation, match="already deactivated"):
        rules.deactivate(inactive)
    with pytest.raises(DirectoryRuleViolation, match="already active"):
        rules.reactivate(rina)
    back = rules.apply_agent(inactive, rina.id, rules.reactivate(inactive), T0)
    assert back.active and back.version == 3


def test_availability_change_refuses_same_value_and_deactivated_agents() -> None:
    rina = agent()
    event = rules.change_availability(rina, Availability.AWAY)
    assert event == AgentAvailabilityChanged(
        from_availability=Availability.ACTIVE, to_availability=Availability.AWAY
    )
    away = rules.apply_agent(rina, rina.id, event, T0)
    assert away.availability is Availability.AWAY
    with pytest.raises(DirectoryRuleViolation, match="already away"):
        rules.change_availability(away, Availability.AWAY)
    with pytest.raises(DirectoryRuleViolation, match="reactivate them first"):
        rules.change_availability(agent(active=False), Availability.UNAVAILABLE)


def test_agent_replay() -> None:
    agent_id = uuid.uuid4()
    history: list[tuple[DomainEvent, datetime]] = [
        (AgentInvited(email="Dewi@Example.com", name="Dewi", role=AgentRole.TECHNICIAN), T0),
        (AgentDeactivated(), T0),
        (AgentReactivated(), T0),
        (
            AgentAvailabilityChanged(
                from_availability=Availability.ACTIVE, to_availability=Availability.UNAVAILABLE
            ),
            T0,
        ),
    ]
    dewi = rules.replay_agent(agent_id, history)
    assert (dewi.email, dewi.active, dewi.availability, dewi.version) == (
        "dewi@example.com",
        True,
        Availability.UNAVAILABLE,
        4,
    )
    with pytest.raises(AgentNotFound):
        rules.replay_agent(agent_id, [])


# --- teams: creating --------------------------------------------------------------------------


def test_create_team_emits_created_then_members_then_lead() -> None:
    rina, dewi = agent("Rina"), agent("Dewi")
    events = rules.create_team(
        name="  L2   Network ", description=" routers ", tier=2, members=[rina], lead=dewi
    )
    assert events == [
        TeamCreated(name="L2 Network", description="routers", tier=2),
        TeamMemberAdded(agent_id=rina.id),
        TeamMemberAdded(agent_id=dewi.id),  # the lead joins: a lead is always a member
        TeamLeadChanged(lead_id=dewi.id),
    ]
    created = applied(None, uuid.uuid4(), events)
    assert created.members == (rina.id, dewi.id)
    assert (created.lead_id, created.version, created.tier) == (dewi.id, 4, 2)


def test_lead_listed_as_member_is_not_added_twice() -> None:
    rina = agent()
    events = rules.create_team(name="L1", members=[rina], lead=rina)
    assert events[1:] == [TeamMemberAdded(agent_id=rina.id), TeamLeadChanged(lead_id=rina.id)]


def test_create_team_refuses_duplicates_inactive_agents_and_no_name() -> None:
    rina = agent()
    with pytest.raises(DirectoryRuleViolation, match="listed twice"):
        rules.create_team(name="L1", members=[rina, rina])
    with pytest.raises(DirectoryRuleViolation, match="deactivated and cannot join a team"):
        rules.create_team(name="L1", members=[agent("Old", active=False)])
    with pytest.raises(DirectoryRuleViolation, match="deactivated and cannot lead a team"):
        rules.create_team(name="L1", lead=agent("Old", active=False))
    with pytest.raises(DirectoryRuleViolation, match="a team needs a name"):
        rules.create_team(name="   ")
    with pytest.raises(DirectoryRuleViolation, match="tier"):
        rules.create_team(name="L1", tier=10)


def test_team_name_key_ignores_case_and_spacing() -> None:
    assert rules.team_name_key("  L1  support ") == rules.team_name_key("l1 SUPPORT")
    assert rules.team_name_key("L1 Support") != rules.team_name_key("L2 Support")


# --- teams: members and lead ------------------------------------------------------------------


def test_add_member_refuses_duplicates_and_deactivated_agents() -> None:
    rina = agent()
    support = team(members=[rina])
    with pytest.raises(DirectoryRuleViolation, match="already a member"):
        rules.add_member(support, rina)
    with pytest.raises(DirectoryRuleViolation, match="deactivated and cannot join"):
        rules.add_member(support, agent("Old", active=False))
    dewi = agent("Dewi")
    assert rules.add_member(support, dewi) == TeamMemberAdded(agent_id=dewi.id)


def test_remove_member_and_removing_the_lead_clears_the_lead_first() -> None:
    rina, dewi = agent("Rina"), agent("Dewi")
    support = team(members=[rina, dewi], lead=rina)
    assert rules.remove_member(support, dewi.id) == [TeamMemberRemoved(agent_id=dewi.id)]
    events = rules.remove_member(support, rina.id)
    assert events == [TeamLeadChanged(lead_id=None), TeamMemberRemoved(agent_id=rina.id)]
    after = applied(support, support.id, events)
    assert (after.lead_id, after.members) == (None, (dewi.id,))
    with pytest.raises(DirectoryRuleViolation, match="is not a member"):
        rules.remove_member(after, rina.id)


def test_set_lead_adds_a_non_member_and_refuses_inactive_or_same_lead() -> None:
    rina, dewi = agent("Rina"), agent("Dewi")
    support = team(members=[rina])
    events = rules.set_lead(support, dewi)
    assert events == [TeamMemberAdded(agent_id=dewi.id), TeamLeadChanged(lead_id=dewi.id)]
    led = applied(support, support.id, events)
    assert (led.lead_id, led.members) == (dewi.id, (rina.id, dewi.id))
    with pytest.raises(DirectoryRuleViolation, match="already leads"):
        rules.set_lead(led, dewi)
    with pytest.raises(DirectoryRuleViolation, match="deactivated and cannot lead"):
        rules.set_lead(led, agent("Old", active=False))
    assert rules.set_lead(led, rina) == [TeamLeadChanged(lead_id=rina.id)]  # a member already


def test_clearing_the_lead() -> None:
    rina = agent()
    led = team(members=[rina], lead=rina)
    assert rules.set_lead(led, None) == [TeamLeadChanged(lead_id=None)]
    cleared = applied(led, led.id, [TeamLeadChanged(lead_id=None)])
    assert cleared.members == (rina.id,)  # still a member
    with pytest.raises(DirectoryRuleViolation, match="no lead to clear"):
        rules.set_lead(cleared, None)


# --- teams: details ---------------------------------------------------------------------------


def test_change_details_records_only_changes_and_empty_description_clears() -> None:
    support = team(description="first line", tier=1)
    event = rules.change_team_details(support, {"name": "L1 Support", "description": "", "tier": 1})
    assert event == TeamDetailsChanged(description="")
    changed = applied(support, support.id, [event] if event else [])
    assert changed.description is None and changed.tier == 1
    assert rules.change_team_details(changed, {"name": " L1   Support "}) is None
    renamed = rules.change_team_details(changed, {"name": "First Line"})
    assert renamed == TeamDetailsChanged(name="First Line")


def test_change_details_refuses_loops_unknown_fields_and_removals_it_cannot_record() -> None:
    l1, l2 = team(name="L1", tier=1), team(name="L2", tier=2)
    with pytest.raises(DirectoryRuleViolation, match="escalation loop"):
        rules.change_team_details(l1, {"escalates_to": l1.id}, escalation_chain=[l1.id])
    # L2 already escalates to L1: pointing L1 at L2 would loop.
    with pytest.raises(DirectoryRuleViolation, match="escalation loop"):
        rules.change_team_details(l1, {"escalates_to": l2.id}, escalation_chain=[l2.id, l1.id])
    assert rules.change_team_details(
        l1, {"escalates_to": l2.id}, escalation_chain=[l2.id]
    ) == TeamDetailsChanged(escalates_to=l2.id)
    with pytest.raises(DirectoryRuleViolation, match="tier cannot be removed"):
        rules.change_team_details(l1, {"tier": None})
    with pytest.raises(DirectoryRuleViolation, match="unknown team field"):
        rules.change_team_details(l1, {"colour": "red"})
    with pytest.raises(DirectoryRuleViolation, match="a team needs a name"):
        rules.change_team_details(l1, {"name": ""})


def test_team_replay_and_lead_named_at_creation_counts_as_member() -> None:
    team_id, lead_id = uuid.uuid4(), uuid.uuid4()
    history: list[tuple[DomainEvent, datetime]] = [
        (TeamCreated(name="VIP", lead_id=lead_id), T0),
        (TeamDetailsChanged(tier=3), T0),
    ]
    vip = rules.replay_team(team_id, history)
    assert (vip.members, vip.lead_id, vip.tier, vip.version) == ((lead_id,), lead_id, 3, 2)
    with pytest.raises(TeamNotFound):
        rules.replay_team(team_id, [])


# --- regional teams (#20 item 11) -----------------------------------------------------------------


def test_a_regional_team_has_a_time_zone_languages_and_a_calendar() -> None:
    region = clean_region(Region("Asia/Kolkata", ("EN", "hi", "en"), " india-2027 "))
    assert region == Region("Asia/Kolkata", ("en", "hi"), "india-2027")
    with pytest.raises(DirectoryRuleViolation, match="IANA time zone"):
        clean_region(Region("India/Mumbai"))
    with pytest.raises(DirectoryRuleViolation, match="ISO 639-1"):
        clean_region(Region(languages=("english",)))
    created = rules.create_team(name="India L1", region=Region("Asia/Kolkata", ("en",)))
    team = rules.apply_team(None, uuid.uuid4(), created[0], T0)
    assert (team.time_zone, team.languages) == ("Asia/Kolkata", ("en",))
    assert change_team_region(team, Region("Asia/Kolkata", ("en",))) is None
    moved = change_team_region(team, Region("Asia/Jakarta", ("id", "en"), "id-holidays"))
    assert moved is not None
    team = rules.apply_team(team, team.id, moved, T0)
    assert (team.time_zone, team.languages, team.business_calendar_id) == (
        "Asia/Jakarta",
        ("id", "en"),
        "id-holidays",
    )
