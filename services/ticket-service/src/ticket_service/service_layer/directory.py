"""Directory use cases: invite and manage agents, create teams and manage their members and lead.

Agents are unique by email and teams by name (ignoring case), through claims written with the
append. ``DirectoryApplication`` also answers what ticket commands ask of the directory
(``team_exists``, ``team_members``, ``agent_assignable``: the ``Directory`` protocol of
``service_layer.tickets``), read from the streams, so they never see a lagging view.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from helpdesk_events import DomainEvent
from helpdesk_events.directory import AGENT, TEAM, AgentRole, Availability
from ticket_service.domain import directory as rules
from ticket_service.domain.customers import normalise_email
from ticket_service.domain.directory import (
    Agent,
    AgentExists,
    AgentNotFound,
    DirectoryRuleViolation,
    Team,
    TeamNameTaken,
    TeamNotFound,
)
from ticket_service.service_layer import access
from ticket_service.service_layer.claims import (
    AGENT_EMAIL,
    TEAM_NAME,
    Claim,
    ClaimStore,
    ClaimTaken,
)
from ticket_service.service_layer.context import CommandContext
from ticket_service.service_layer.event_store import EventStore
from ticket_service.service_layer.streams import (
    StreamWriter,
    folded,
    pinned_or_retried,
    refuse_stale,
)

#: Longest escalation chain followed when checking for loops (L1 → L2 → L3 is three).
MAX_ESCALATION_DEPTH = 20


@dataclass(frozen=True)
class NewAgent:
    email: str
    name: str
    role: AgentRole


@dataclass(frozen=True)
class AgentEdit:
    """None leaves a value as it is."""

    role: AgentRole | None = None
    active: bool | None = None


@dataclass(frozen=True)
class NewTeam:
    name: str
    description: str | None = None
    tier: int | None = None
    escalates_to: uuid.UUID | None = None
    member_ids: tuple[uuid.UUID, ...] = ()
    lead_id: uuid.UUID | None = None
    region: rules.Region = field(default_factory=rules.Region)


class TeamLeads(Protocol):
    """Which teams an agent leads (the team read model, ``adapters/directory_queries.py``)."""

    async def teams_led_by(self, agent_id: uuid.UUID) -> frozenset[uuid.UUID]: ...


class NoTeamLeads:
    """Used where no team read model is wired in (unit tests): nobody leads a team."""

    async def teams_led_by(self, agent_id: uuid.UUID) -> frozenset[uuid.UUID]:
        return frozenset()


class DirectoryApplication:
    def __init__(
        self,
        store: EventStore,
        claims: ClaimStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        team_leads: TeamLeads | None = None,
    ) -> None:
        self._streams = StreamWriter(store, claims, clock)
        self._team_leads = team_leads or NoTeamLeads()

    # --- agents -------------------------------------------------------------------------------

    async def get_agent(self, agent_id: uuid.UUID) -> Agent:
        recorded = await self._streams.read(agent_id, AGENT)
        if not recorded:
            raise AgentNotFound(f"no agent {agent_id}")
        return rules.replay_agent(agent_id, folded(recorded))

    async def find_agent(self, *, subject: str, email: str | None) -> Agent | None:
        """The agent a signed-in person is: token subject = agent id, or the same email."""
        try:
            return await self.get_agent(uuid.UUID(subject))
        except (ValueError, AgentNotFound):
            pass
        normalised = normalise_email(email)
        if normalised is None:
            return None
        owner = await self._streams.claims.owner(AGENT_EMAIL, normalised)
        return None if owner is None else await self.get_agent(owner)

    async def teams_led_by(self, who: access.Principal) -> frozenset[uuid.UUID]:
        """The teams the signed-in person leads (by their agent record; none when they have
        none), from the team read model."""
        if who.role is access.Role.CUSTOMER:
            return frozenset()
        agent = await self.find_agent(subject=who.subject, email=who.email)
        if agent is None:
            return frozenset()
        return await self._team_leads.teams_led_by(agent.id)

    async def invite_agent(self, new: NewAgent, context: CommandContext) -> Agent:
        """Invite an agent; raises :class:`AgentExists` (with its id) if the email is taken."""
        access.require(access.caller_of(context), access.Action.MANAGE_DIRECTORY)
        invited = rules.invite_agent(email=new.email, name=new.name, role=new.role)
        email = str(invited.email)
        existing = await self._streams.claims.owner(AGENT_EMAIL, email)
        if existing is not None:
            raise AgentExists(email, existing)
        agent_id = uuid.uuid4()
        try:
            now = await self._streams.append(
                agent_id, AGENT, 0, [invited], context, claim=Claim(AGENT_EMAIL, email, agent_id)
            )
        except ClaimTaken as taken:
            raise AgentExists(email, taken.existing_owner) from None
        return rules.apply_agent(None, agent_id, invited, now)

    async def change_agent(
        self,
        agent_id: uuid.UUID,
        edit: AgentEdit,
        context: CommandContext,
        *,
        expected_version: int | None = None,
    ) -> Agent:
        """Change an agent's role and/or deactivate or reactivate them."""
        access.require(access.caller_of(context), access.Action.MANAGE_DIRECTORY)
        if edit.role is None and edit.active is None:
            raise DirectoryRuleViolation("nothing to change: give role and/or active")

        async def attempt() -> Agent:
            agent = await self.get_agent(agent_id)
            refuse_stale(agent_id, expected_version, agent.version)
            events: list[DomainEvent] = []
            if edit.role is not None:
                events.append(rules.change_role(agent, edit.role))
            if edit.active is not None:
                events.append(rules.reactivate(agent) if edit.active else rules.deactivate(agent))
            return await self._append_agent(agent, events, context)

        return await pinned_or_retried(expected_version, attempt)

    async def change_availability(
        self,
        agent_id: uuid.UUID,
        to: Availability,
        context: CommandContext,
        *,
        expected_version: int | None = None,
    ) -> Agent:
        who = access.caller_of(context)
        access.require(who, access.Action.SET_OWN_AVAILABILITY)  # before telling who exists

        async def attempt() -> Agent:
            agent = await self.get_agent(agent_id)
            access.check_availability_change(who, agent.id, agent.email)
            refuse_stale(agent_id, expected_version, agent.version)
            return await self._append_agent(agent, [rules.change_availability(agent, to)], context)

        return await pinned_or_retried(expected_version, attempt)

    async def _append_agent(
        self, agent: Agent, events: Sequence[DomainEvent], context: CommandContext
    ) -> Agent:
        now = await self._streams.append(agent.id, AGENT, agent.version, events, context)
        for event in events:
            agent = rules.apply_agent(agent, agent.id, event, now)
        return agent

    # --- teams --------------------------------------------------------------------------------

    async def get_team(self, team_id: uuid.UUID) -> Team:
        recorded = await self._streams.read(team_id, TEAM)
        if not recorded:
            raise TeamNotFound(f"no team {team_id}")
        return rules.replay_team(team_id, folded(recorded))

    async def member_agents(self, team: Team) -> list[Agent]:
        """The team's members as agents, in the order they joined."""
        return list(await asyncio.gather(*(self.get_agent(m) for m in team.members)))

    async def _agents_named_in(self, field: str, agent_ids: Sequence[uuid.UUID]) -> list[Agent]:
        """Agents referred to in a request body: an unknown one is bad input, not a 404."""
        try:
            return list(await asyncio.gather(*(self.get_agent(a) for a in agent_ids)))
        except AgentNotFound as missing:
            raise DirectoryRuleViolation(f"{field}: {missing}; invite the agent first") from None

    async def _escalation_chain(self, target: uuid.UUID) -> list[uuid.UUID]:
        """``target`` and the teams it escalates to, in order, until the chain ends or loops."""
        chain: list[uuid.UUID] = []
        current: uuid.UUID | None = target
        while current is not None and current not in chain and len(chain) < MAX_ESCALATION_DEPTH:
            try:
                team = await self.get_team(current)
            except TeamNotFound:
                if current == target:
                    raise DirectoryRuleViolation(f"escalates_to: no team {target}") from None
                break
            chain.append(current)
            current = team.escalates_to
        return chain

    async def create_team(self, new: NewTeam, context: CommandContext) -> Team:
        """Create a team with its members and lead; raises :class:`TeamNameTaken` on a clash."""
        access.require(access.caller_of(context), access.Action.MANAGE_DIRECTORY)
        members = await self._agents_named_in("member_ids", new.member_ids)
        lead = None
        if new.lead_id is not None:
            (lead,) = await self._agents_named_in("lead_id", [new.lead_id])
        if new.escalates_to is not None:
            await self._escalation_chain(new.escalates_to)  # the target must exist
        events = rules.create_team(
            name=new.name,
            description=new.description,
            tier=new.tier,
            escalates_to=new.escalates_to,
            members=members,
            lead=lead,
            region=new.region,
        )
        name = rules.clean_name(new.name, "a team")
        key = rules.team_name_key(name)
        existing = await self._streams.claims.owner(TEAM_NAME, key)
        if existing is not None:
            raise TeamNameTaken(name, existing)
        team_id = uuid.uuid4()
        try:
            now = await self._streams.append(
                team_id, TEAM, 0, events, context, claim=Claim(TEAM_NAME, key, team_id)
            )
        except ClaimTaken as taken:
            raise TeamNameTaken(name, taken.existing_owner) from None
        team: Team | None = None
        for event in events:
            team = rules.apply_team(team, team_id, event, now)
        assert team is not None
        return team

    async def change_team(
        self,
        team_id: uuid.UUID,
        changes: dict[str, Any],
        context: CommandContext,
        *,
        expected_version: int | None = None,
    ) -> Team:
        """Rename, describe, tier or re-point escalation; an edit changing nothing returns it."""
        access.require(access.caller_of(context), access.Action.MANAGE_DIRECTORY)

        async def attempt() -> Team:
            team = await self.get_team(team_id)
            refuse_stale(team_id, expected_version, team.version)
            chain: list[uuid.UUID] = []
            target = changes.get("escalates_to")
            if target is not None and target != team.escalates_to:
                chain = await self._escalation_chain(target)
            details = {k: v for k, v in changes.items() if k not in rules.REGION_FIELDS}
            region_sent = {k: v for k, v in changes.items() if k in rules.REGION_FIELDS}
            region = None
            if region_sent:  # the fields not sent keep their value
                current = rules.Region(team.time_zone, team.languages, team.business_calendar_id)
                region = rules.change_team_region(team, replace(current, **region_sent))
            changed = rules.change_team_details(team, details, escalation_chain=chain)
            if changed is None:
                if region is None:
                    return team
                return await self._append_team(team, [region], context)
            claim = release = None
            if changed.name is not None:
                release = Claim(TEAM_NAME, rules.team_name_key(team.name), team_id)
                claim = Claim(TEAM_NAME, rules.team_name_key(changed.name), team_id)
            try:
                return await self._append_team(
                    team,
                    [changed] if region is None else [changed, region],
                    context,
                    claim=claim,
                    release=release,
                )
            except ClaimTaken as taken:
                raise TeamNameTaken(str(changed.name), taken.existing_owner) from None

        return await pinned_or_retried(expected_version, attempt)

    async def add_member(
        self,
        team_id: uuid.UUID,
        agent_id: uuid.UUID,
        context: CommandContext,
        *,
        expected_version: int | None = None,
    ) -> Team:
        access.require(access.caller_of(context), access.Action.MANAGE_DIRECTORY)

        async def attempt() -> Team:
            team = await self.get_team(team_id)
            refuse_stale(team_id, expected_version, team.version)
            agent = await self.get_agent(agent_id)
            return await self._append_team(team, [rules.add_member(team, agent)], context)

        return await pinned_or_retried(expected_version, attempt)

    async def remove_member(
        self,
        team_id: uuid.UUID,
        agent_id: uuid.UUID,
        context: CommandContext,
        *,
        expected_version: int | None = None,
    ) -> Team:
        access.require(access.caller_of(context), access.Action.MANAGE_DIRECTORY)

        async def attempt() -> Team:
            team = await self.get_team(team_id)
            refuse_stale(team_id, expected_version, team.version)
            return await self._append_team(team, rules.remove_member(team, agent_id), context)

        return await pinned_or_retried(expected_version, attempt)

    async def set_lead(
        self,
        team_id: uuid.UUID,
        lead_id: uuid.UUID | None,
        context: CommandContext,
        *,
        expected_version: int | None = None,
    ) -> Team:
        """Make ``lead_id`` the lead (joining the team if needed), or clear the lead (None)."""
        access.require(access.caller_of(context), access.Action.MANAGE_DIRECTORY)

        async def attempt() -> Team:
            team = await self.get_team(team_id)
            refuse_stale(team_id, expected_version, team.version)
            lead = None
            if lead_id is not None:
                (lead,) = await self._agents_named_in("agent_id", [lead_id])
            return await self._append_team(team, rules.set_lead(team, lead), context)

        return await pinned_or_retried(expected_version, attempt)

    async def _append_team(
        self,
        team: Team,
        events: Sequence[DomainEvent],
        context: CommandContext,
        *,
        claim: Claim | None = None,
        release: Claim | None = None,
    ) -> Team:
        now = await self._streams.append(
            team.id, TEAM, team.version, events, context, claim=claim, release=release
        )
        for event in events:
            team = rules.apply_team(team, team.id, event, now)
        return team

    # --- what ticket commands ask (service_layer.tickets.Directory) ---------------------------

    async def team_exists(self, team_id: uuid.UUID) -> bool:
        return bool(await self._streams.read(team_id, TEAM))

    async def team_members(self, team_id: uuid.UUID) -> frozenset[uuid.UUID]:
        try:
            return frozenset((await self.get_team(team_id)).members)
        except TeamNotFound:
            return frozenset()

    async def escalates_to(self, team_id: uuid.UUID) -> uuid.UUID | None:
        """The team's next tier (None: none, or no such team), read from its stream."""
        try:
            return (await self.get_team(team_id)).escalates_to
        except TeamNotFound:
            return None

    async def agent_assignable(self, agent_id: uuid.UUID) -> bool:
        """An active agent may be given tickets by hand; availability steers automatic
        assignment only (the assignment service reads it from the directory topic)."""
        try:
            return (await self.get_agent(agent_id)).active
        except AgentNotFound:
            return False
