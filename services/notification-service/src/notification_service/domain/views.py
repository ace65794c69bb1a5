"""What the service keeps of the helpdesk to decide who to tell: each ticket's routing and fields
(from ``helpdesk.tickets.v1``) and the directory of agents and teams (``helpdesk.directory.v1``).

Folding an event into a view is a pure function; the adapters load the views a batch of events
touches and store them back in the same transaction as the notifications they led to.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from helpdesk_events import (
    MessageAdded,
    PriorityChanged,
    StatusChanged,
    TagsChanged,
    TeamChanged,
    TicketAssigned,
    TicketCreated,
    TicketFieldsChanged,
    TicketUnassigned,
)
from helpdesk_events.directory import (
    AgentDeactivated,
    AgentInvited,
    AgentReactivated,
    AgentRoleChanged,
    TeamCreated,
    TeamDetailsChanged,
    TeamLeadChanged,
    TeamMemberAdded,
    TeamMemberRemoved,
)
from helpdesk_events.mail import EmailReceived
from helpdesk_events.registry import DomainEvent

#: Descriptions are kept this long at most: enough for a webhook condition, not a copy of it.
DESCRIPTION_KEPT = 2000


@dataclass(frozen=True)
class TicketView:
    """A ticket as far as notifications need it. ``facts`` are the fields conditions read
    (``helpdesk_conditions.TICKET_FIELDS``), as strings."""

    ticket_id: uuid.UUID
    number: int | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    #: The support address its last mail came in on: where answers to its notifications go.
    mail_account: str | None = None

    @property
    def assignee_id(self) -> str | None:
        value = self.facts.get("assignee_id")
        return str(value) if value else None

    @property
    def team_id(self) -> str | None:
        value = self.facts.get("team_id")
        return str(value) if value else None

    @property
    def subject(self) -> str:
        return str(self.facts.get("subject") or "")

    @property
    def label(self) -> str:
        """``#1042 Cannot log in`` (or the id when the number is not known)."""
        head = f"#{self.number}" if self.number else f"ticket {str(self.ticket_id)[:8]}"
        return f"{head} {self.subject}".strip()

    def with_facts(self, **changes: Any) -> TicketView:
        return replace(self, facts={**self.facts, **changes})


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def apply_ticket_event(view: TicketView, event: DomainEvent) -> TicketView:
    """The ticket after ``event`` (events that change nothing kept here return it as it was)."""
    if isinstance(event, EmailReceived):
        if event.account == view.mail_account:
            return view
        return replace(view, mail_account=event.account)
    if isinstance(event, TicketCreated):
        return replace(
            view,
            number=event.number,
            facts={
                "subject": event.subject,
                "description": event.description[:DESCRIPTION_KEPT],
                "channel": event.channel,
                "status": event.status,
                "status_category": _text(event.status_category),
                "priority": event.priority,
                "type": event.type,
                "category": event.category,
                "team_id": _text(event.team_id),
                "assignee_id": _text(event.assignee_id),
                "tags": list(event.tags),
                "business_unit": event.business_unit,
                "brand": event.brand,
                "customer_id": _text(event.customer_id),
                "company_id": _text(event.company_id),
            },
        )
    if isinstance(event, StatusChanged):
        return view.with_facts(status=event.to_status, status_category=_text(event.to_category))
    if isinstance(event, PriorityChanged):
        return view.with_facts(priority=event.to_priority)
    if isinstance(event, TicketFieldsChanged):
        changes: dict[str, Any] = {}
        for change in event.changes:
            new = change.new
            if change.field == "description" and new is not None:
                new = new[:DESCRIPTION_KEPT]
            changes[change.field] = new
        return view.with_facts(**changes)
    if isinstance(event, TagsChanged):
        tags = [t for t in view.facts.get("tags", []) if t not in event.removed]
        tags += [t for t in event.added if t not in tags]
        return view.with_facts(tags=tags)
    if isinstance(event, TeamChanged):
        return view.with_facts(team_id=_text(event.to_team_id))
    if isinstance(event, TicketAssigned):
        return view.with_facts(assignee_id=str(event.assignee_id))
    if isinstance(event, TicketUnassigned):
        return view.with_facts(assignee_id=None)
    return view


@dataclass(frozen=True)
class Agent:
    agent_id: str
    name: str
    email: str
    role: str
    active: bool = True


@dataclass(frozen=True)
class Team:
    team_id: str
    name: str
    lead_id: str | None = None
    escalates_to: str | None = None
    members: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Directory:
    """Agents and teams by id (ids as strings: a token's subject is a string)."""

    agents: dict[str, Agent] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)

    def team_members(self, team_id: str | None) -> frozenset[str]:
        team = self.teams.get(team_id) if team_id else None
        if team is None:
            return frozenset()
        return frozenset(m for m in team.members if self.is_active(m))

    def team_lead(self, team_id: str | None) -> str | None:
        team = self.teams.get(team_id) if team_id else None
        return team.lead_id if team is not None else None

    def is_active(self, agent_id: str) -> bool:
        agent = self.agents.get(agent_id)
        return agent is None or agent.active  # unknown yet: the directory may lag the tickets

    def name_of(self, agent_id: str | None) -> str | None:
        agent = self.agents.get(agent_id) if agent_id else None
        return agent.name if agent is not None else None


def apply_directory_event(
    directory: Directory, stream_id: uuid.UUID, event: DomainEvent
) -> tuple[Directory, Agent | Team | None]:
    """The directory after ``event`` and the agent or team it changed (None: nothing kept)."""
    key = str(stream_id)
    agent = directory.agents.get(key)
    team = directory.teams.get(key)
    changed: Agent | Team | None = None
    if isinstance(event, AgentInvited):
        changed = Agent(key, event.name, str(event.email), event.role.value)
    elif isinstance(event, AgentRoleChanged) and agent is not None:
        changed = replace(agent, role=event.to_role.value)
    elif isinstance(event, AgentDeactivated) and agent is not None:
        changed = replace(agent, active=False)
    elif isinstance(event, AgentReactivated) and agent is not None:
        changed = replace(agent, active=True)
    elif isinstance(event, TeamCreated):
        changed = Team(key, event.name, _text(event.lead_id), _text(event.escalates_to))
    elif isinstance(event, TeamDetailsChanged) and team is not None:
        changed = replace(
            team,
            name=event.name or team.name,
            # None means "unchanged" in this event, as the ticket service reads it
            escalates_to=_text(event.escalates_to) or team.escalates_to,
        )
    elif isinstance(event, TeamLeadChanged) and team is not None:
        changed = replace(team, lead_id=_text(event.lead_id))
    elif isinstance(event, TeamMemberAdded) and team is not None:
        changed = replace(team, members=team.members | {str(event.agent_id)})
    elif isinstance(event, TeamMemberRemoved) and team is not None:
        changed = replace(team, members=team.members - {str(event.agent_id)})
    if isinstance(changed, Agent):
        return replace(directory, agents={**directory.agents, key: changed}), changed
    if isinstance(changed, Team):
        return replace(directory, teams={**directory.teams, key: changed}), changed
    return directory, None


def new_followers(event: DomainEvent, actor_kind: str, actor_id: str) -> frozenset[str]:
    """Agents who start following a ticket by this event: whoever replied or noted on it."""
    if isinstance(event, MessageAdded) and actor_kind == "agent" and not event.automated:
        return frozenset({actor_id})
    return frozenset()
