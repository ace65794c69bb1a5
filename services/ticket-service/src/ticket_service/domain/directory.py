"""The directory: agents and teams, folded from their events; decisions that emit new ones.

Rules:
- An agent is invited with a role (agent, technician, manager) and starts active and available
  (``Availability.ACTIVE``): a manager invites people who are about to work tickets.
- A role or availability change to the value the agent already has is refused (nothing to record),
  and so is deactivating an inactive agent or reactivating an active one. A deactivated agent's
  availability cannot change: reactivate them first.
- A team's members are unique; a deactivated agent can neither join a team nor become its lead.
- The lead is always a member. Making a non-member lead adds them as a member first (two events,
  ``TeamMemberAdded`` then ``TeamLeadChanged``), so the rule holds after every single event, and a
  manager needs one call, not two. Removing the lead from the team clears the lead first
  (``TeamLeadChanged(None)`` then ``TeamMemberRemoved``) for the same reason.
- Deactivating an agent leaves their team memberships alone: the record of who is in which team
  stays, and assignment skips inactive agents.
- Team names are unique ignoring case and spacing (the service layer claims ``team_name_key``).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import available_timezones

import pycountry
from pydantic import ValidationError

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
    TeamRegionChanged,
)
from ticket_service.domain.customers import normalise_email
from ticket_service.domain.errors import DomainError

TEAM_DETAIL_FIELDS = ("name", "description", "tier", "escalates_to")


class AgentNotFound(DomainError):
    pass


class TeamNotFound(DomainError):
    pass


class DirectoryRuleViolation(DomainError):
    """A directory change the rules refuse; the message says what to do instead."""


class AgentExists(DomainError):
    """Agents are unique by email."""

    def __init__(self, email: str, existing_id: uuid.UUID) -> None:
        super().__init__(f"agent with this email exists: {existing_id} ({email})")
        self.email = email
        self.existing_id = existing_id


class TeamNameTaken(DomainError):
    """Team names are unique, ignoring case."""

    def __init__(self, name: str, existing_id: uuid.UUID) -> None:
        super().__init__(f"a team named {name!r} exists: {existing_id}; choose another name")
        self.name = name
        self.existing_id = existing_id


E = TypeVar("E", bound=DomainEvent)


def _event(cls: type[E], **fields: Any) -> E:
    """Build event data; the contract's own limits become domain errors, not crashes."""
    try:
        return cls(**fields)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}"
            for issue in error.errors()
        )
        raise DirectoryRuleViolation(problems) from None


def clean_name(name: str | None, what: str) -> str:
    """Trimmed, inner runs of spaces collapsed; a name is required."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise DirectoryRuleViolation(f"name: {what} needs a name")
    return cleaned


def team_name_key(name: str) -> str:
    """What makes two team names the same: case and spacing do not count."""
    return " ".join(name.split()).casefold()


# --- agents -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Agent:
    id: uuid.UUID
    version: int
    email: str
    name: str
    role: AgentRole
    active: bool
    availability: Availability
    created_at: datetime
    updated_at: datetime


def invite_agent(*, email: str, name: str, role: AgentRole) -> AgentInvited:
    normalised = normalise_email(email)
    if normalised is None:
        raise DirectoryRuleViolation("email: an agent needs an email to sign in with")
    return _event(AgentInvited, email=normalised, name=clean_name(name, "an agent"), role=role)


def change_role(agent: Agent, to_role: AgentRole) -> AgentRoleChanged:
    if to_role == agent.role:
        raise DirectoryRuleViolation(f"agent {agent.id} is already a {to_role.value}")
    return AgentRoleChanged(from_role=agent.role, to_role=to_role)


def deactivate(agent: Agent) -> AgentDeactivated:
    if not agent.active:
        raise DirectoryRuleViolation(f"agent {agent.id} is already deactivated")
    return AgentDeactivated()


def reactivate(agent: Agent) -> AgentReactivated:
    if agent.active:
        raise DirectoryRuleViolation(f"agent {agent.id} is already active")
    return AgentReactivated()


def change_availability(agent: Agent, to: Availability) -> AgentAvailabilityChanged:
    if not agent.active:
        raise DirectoryRuleViolation(
            f"agent {agent.id} is deactivated; a manager must reactivate them first"
        )
    if to == agent.availability:
        raise DirectoryRuleViolation(f"agent {agent.id} is already {to.value}")
    return AgentAvailabilityChanged(from_availability=agent.availability, to_availability=to)


def apply_agent(
    agent: Agent | None, agent_id: uuid.UUID, event: DomainEvent, occurred_at: datetime
) -> Agent:
    """The state after ``event``; ``agent`` is None before the invitation."""
    if isinstance(event, AgentInvited):
        if agent is not None:
            raise ValueError(f"agent {agent_id} invited twice")
        return Agent(
            id=agent_id,
            version=1,
            email=str(normalise_email(event.email)),
            name=event.name,
            role=event.role,
            active=True,
            availability=Availability.ACTIVE,
            created_at=occurred_at,
            updated_at=occurred_at,
        )
    if agent is None:
        raise ValueError(f"agent {agent_id}: {type(event).__name__} before the invitation")
    agent = replace(agent, version=agent.version + 1, updated_at=occurred_at)
    if isinstance(event, AgentRoleChanged):
        return replace(agent, role=event.to_role)
    if isinstance(event, AgentDeactivated):
        return replace(agent, active=False)
    if isinstance(event, AgentReactivated):
        return replace(agent, active=True)
    if isinstance(event, AgentAvailabilityChanged):
        return replace(agent, availability=event.to_availability)
    return agent


def replay_agent(agent_id: uuid.UUID, events: Iterable[tuple[DomainEvent, datetime]]) -> Agent:
    agent: Agent | None = None
    for event, occurred_at in events:
        agent = apply_agent(agent, agent_id, event, occurred_at)
    if agent is None:
        raise AgentNotFound(f"no agent {agent_id}")
    return agent


# --- teams ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Team:
    id: uuid.UUID
    version: int
    name: str
    description: str | None
    lead_id: uuid.UUID | None
    tier: int | None
    escalates_to: uuid.UUID | None
    members: tuple[uuid.UUID, ...]
    created_at: datetime
    updated_at: datetime
    #: A regional team's zone, languages and business calendar (#20 item 11).
    time_zone: str | None = None
    languages: tuple[str, ...] = ()
    business_calendar_id: str | None = None


@dataclass(frozen=True)
class Region:
    """Where and when a team works: an IANA time zone, ISO 639-1 languages, a calendar id."""

    time_zone: str | None = None
    languages: tuple[str, ...] = ()
    business_calendar_id: str | None = None


REGION_FIELDS = ("time_zone", "languages", "business_calendar_id")


@functools.cache
def _time_zones() -> frozenset[str]:
    """The IANA zone names this machine knows (a lookup, so no file path is ever opened)."""
    return frozenset(available_timezones())


def clean_region(region: Region) -> Region:
    """The region with its time zone and languages checked (422 naming the bad one)."""
    zone = (region.time_zone or "").strip() or None
    if zone is not None and zone not in _time_zones():
        raise DirectoryRuleViolation(
            f"time_zone: {zone!r} is not an IANA time zone (e.g. Asia/Jakarta)"
        )
    languages: list[str] = []
    for text in region.languages:
        code = text.strip().lower()
        if len(code) != 2 or pycountry.languages.get(alpha_2=code) is None:
            raise DirectoryRuleViolation(
                f"languages: {text!r} is not an ISO 639-1 language code (e.g. id, en)"
            )
        if code not in languages:
            languages.append(code)
    calendar = (region.business_calendar_id or "").strip() or None
    return Region(zone, tuple(languages), calendar)


def change_team_region(team: Team, region: Region) -> TeamRegionChanged | None:
    """Decide the team's region becoming ``region``; None when it already is."""
    cleaned = clean_region(region)
    current = Region(team.time_zone, team.languages, team.business_calendar_id)
    if cleaned == current:
        return None
    return TeamRegionChanged(
        time_zone=cleaned.time_zone,
        languages=cleaned.languages,
        business_calendar_id=cleaned.business_calendar_id,
    )


def _refuse_inactive(agent: Agent, doing: str) -> None:
    if not agent.active:
        raise DirectoryRuleViolation(
            f"agent {agent.id} ({agent.email}) is deactivated and cannot {doing}; "
            "reactivate them first"
        )


def create_team(
    *,
    name: str,
    description: str | None = None,
    tier: int | None = None,
    escalates_to: uuid.UUID | None = None,
    members: Sequence[Agent] = (),
    lead: Agent | None = None,
    region: Region = Region(),
) -> list[DomainEvent]:
    """Decide a new team's events: created, then its members, then its lead.

    The lead is not put in ``TeamCreated`` (it would name a lead who is not yet a member);
    it follows as ``TeamLeadChanged`` once they are one (added if the list did not name them).
    """
    events: list[DomainEvent] = [
        _event(
            TeamCreated,
            name=clean_name(name, "a team"),
            description=(description or "").strip() or None,
            tier=tier,
            escalates_to=escalates_to,
            **asdict(clean_region(region)),
        )
    ]
    seen: set[uuid.UUID] = set()
    for agent in members:
        if agent.id in seen:
            raise DirectoryRuleViolation(f"agent {agent.id} is listed twice in members")
        _refuse_inactive(agent, "join a team")
        seen.add(agent.id)
        events.append(TeamMemberAdded(agent_id=agent.id))
    if lead is not None:
        _refuse_inactive(lead, "lead a team")
        if lead.id not in seen:
            events.append(TeamMemberAdded(agent_id=lead.id))
        events.append(TeamLeadChanged(lead_id=lead.id))
    return events


def change_team_details(
    team: Team,
    changes: Mapping[str, Any],
    *,
    escalation_chain: Sequence[uuid.UUID] = (),
) -> TeamDetailsChanged | None:
    """Decide an edit of name, description, tier or escalation target; None if nothing changes.

    ``escalation_chain`` is the new target and the teams it escalates to, in order (the service
    layer walks it); a chain that comes back to this team would loop tickets forever.
    An empty description clears it. ``TeamDetailsChanged`` reads None as "unchanged", so tier and
    escalation target can be changed but not removed.
    """
    unknown = set(changes) - set(TEAM_DETAIL_FIELDS)
    if unknown:
        raise DirectoryRuleViolation(
            f"unknown team field(s) {', '.join(sorted(unknown))}; "
            f"use {', '.join(TEAM_DETAIL_FIELDS)}"
        )
    edit: dict[str, Any] = {}
    if "name" in changes:
        name = clean_name(changes["name"], "a team")
        if name != team.name:
            edit["name"] = name
    if "description" in changes:
        description = (changes["description"] or "").strip()
        if description != (team.description or ""):
            edit["description"] = description  # "" clears it
    if "tier" in changes:
        tier = changes["tier"]
        if tier is None and team.tier is not None:
            raise DirectoryRuleViolation("tier cannot be removed once set; give a tier 1-9")
        if tier is not None and tier != team.tier:
            edit["tier"] = tier
    if "escalates_to" in changes:
        target = changes["escalates_to"]
        if target is None and team.escalates_to is not None:
            raise DirectoryRuleViolation(
                "escalates_to cannot be removed once set; point it at another team"
            )
        if target is not None and target != team.escalates_to:
            if target == team.id or team.id in escalation_chain:
                raise DirectoryRuleViolation(
                    f"escalates_to {target} would make an escalation loop back to team {team.id}"
                )
            edit["escalates_to"] = target
    if not edit:
        return None
    return _event(TeamDetailsChanged, **edit)


def add_member(team: Team, agent: Agent) -> TeamMemberAdded:
    if agent.id in team.members:
        raise DirectoryRuleViolation(f"agent {agent.id} is already a member of team {team.name!r}")
    _refuse_inactive(agent, "join a team")
    return TeamMemberAdded(agent_id=agent.id)


def remove_member(team: Team, agent_id: uuid.UUID) -> list[DomainEvent]:
    """Remove a member; removing the lead clears the lead first (the lead is always a member)."""
    if agent_id not in team.members:
        raise DirectoryRuleViolation(f"agent {agent_id} is not a member of team {team.name!r}")
    events: list[DomainEvent] = []
    if team.lead_id == agent_id:
        events.append(TeamLeadChanged(lead_id=None))
    events.append(TeamMemberRemoved(agent_id=agent_id))
    return events


def set_lead(team: Team, lead: Agent | None) -> list[DomainEvent]:
    """Make ``lead`` the team's lead (adding them as a member if needed), or clear the lead."""
    if lead is None:
        if team.lead_id is None:
            raise DirectoryRuleViolation(f"team {team.name!r} has no lead to clear")
        return [TeamLeadChanged(lead_id=None)]
    if lead.id == team.lead_id:
        raise DirectoryRuleViolation(f"agent {lead.id} already leads team {team.name!r}")
    _refuse_inactive(lead, "lead a team")
    events: list[DomainEvent] = []
    if lead.id not in team.members:
        events.append(TeamMemberAdded(agent_id=lead.id))
    events.append(TeamLeadChanged(lead_id=lead.id))
    return events


def apply_team(
    team: Team | None, team_id: uuid.UUID, event: DomainEvent, occurred_at: datetime
) -> Team:
    """The state after ``event``; ``team`` is None before ``TeamCreated``."""
    if isinstance(event, TeamCreated):
        if team is not None:
            raise ValueError(f"team {team_id} created twice")
        # This writer never names a lead in TeamCreated; should another one, the lead still
        # counts as a member, so the read model and the aggregate agree.
        return Team(
            id=team_id,
            version=1,
            name=event.name,
            description=event.description or None,
            lead_id=event.lead_id,
            tier=event.tier,
            escalates_to=event.escalates_to,
            members=(event.lead_id,) if event.lead_id else (),
            created_at=occurred_at,
            updated_at=occurred_at,
            time_zone=event.time_zone,
            languages=event.languages,
            business_calendar_id=event.business_calendar_id,
        )
    if team is None:
        raise ValueError(f"team {team_id}: {type(event).__name__} before TeamCreated")
    team = replace(team, version=team.version + 1, updated_at=occurred_at)
    if isinstance(event, TeamDetailsChanged):
        return replace(
            team,
            name=event.name if event.name is not None else team.name,
            description=(
                (event.description or None) if event.description is not None else team.description
            ),
            tier=event.tier if event.tier is not None else team.tier,
            escalates_to=event.escalates_to
            if event.escalates_to is not None
            else team.escalates_to,
        )
    if isinstance(event, TeamRegionChanged):
        return replace(
            team,
            time_zone=event.time_zone,
            languages=event.languages,
            business_calendar_id=event.business_calendar_id,
        )
    if isinstance(event, TeamMemberAdded):
        if event.agent_id in team.members:
            return team
        return replace(team, members=(*team.members, event.agent_id))
    if isinstance(event, TeamMemberRemoved):
        return replace(
            team,
            members=tuple(m for m in team.members if m != event.agent_id),
            lead_id=None if team.lead_id == event.agent_id else team.lead_id,
        )
    if isinstance(event, TeamLeadChanged):
        members = team.members
        if event.lead_id is not None and event.lead_id not in members:
            members = (*members, event.lead_id)
        return replace(team, lead_id=event.lead_id, members=members)
    return team


def replay_team(team_id: uuid.UUID, events: Iterable[tuple[DomainEvent, datetime]]) -> Team:
    team: Team | None = None
    for event, occurred_at in events:
        team = apply_team(team, team_id, event, occurred_at)
    if team is None:
        raise TeamNotFound(f"no team {team_id}")
    return team
