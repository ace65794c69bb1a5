"""Who hears about an event, and what they are told.

:func:`notifications_for` is the whole policy, as a pure function of the event, the ticket as it
was before the event, the directory and the ticket's followers:

- ticket assigned to you (on creation or later), unless you did it yourself;
- an unassigned ticket routed to your team (created in it, or moved to it without an assignee
  who is a member): every active member;
- a customer replied on a ticket assigned to you;
- you were mentioned in an internal note (``@name`` / ``@email``);
- an SLA warning on your ticket (unassigned: to the team lead); a breach to you and the lead;
- the ticket was escalated to your team (it moved to the team its team escalates to);
- a ticket you follow changed status (followers: agents who replied or noted on it, and those
  who follow it explicitly).

Nobody is told about what they did themselves. Each notification's id is derived from the event
id, the recipient and the kind, so a replay derives the same ids and stores nothing twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from helpdesk_events import (
    EventEnvelope,
    MessageAdded,
    StatusChanged,
    TeamChanged,
    TicketAssigned,
    TicketCreated,
    Visibility,
)
from helpdesk_events.registry import DomainEvent
from helpdesk_events.sla import SlaBreached, SlaWarning
from notification_service.domain.kinds import Kind
from notification_service.domain.mentions import mentioned_agents
from notification_service.domain.views import Directory, TicketView

NOTIFICATION_NAMESPACE = uuid.UUID("0b6f4c1e-94a7-4c61-8f0e-6d3f1c2a9e57")

#: How much of a message a notification quotes.
EXCERPT = 280


def notification_id(event_id: uuid.UUID, recipient_id: str, kind: Kind) -> uuid.UUID:
    return uuid.uuid5(NOTIFICATION_NAMESPACE, f"{event_id}/{recipient_id}/{kind.value}")


@dataclass(frozen=True)
class Notification:
    """One thing one person should hear about."""

    id: uuid.UUID
    recipient_id: str
    kind: Kind
    title: str
    body: str
    ticket_id: uuid.UUID | None
    ticket_number: int | None
    event_id: uuid.UUID
    event_type: str
    occurred_at: Any
    data: dict[str, Any] = field(default_factory=dict)


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def _metric(value: str) -> str:
    return value.replace("_", " ")


def _actor_name(envelope: EventEnvelope, directory: Directory) -> str:
    actor = envelope.actor
    return actor.display_name or directory.name_of(actor.id) or actor.kind.value


def _targets(
    envelope: EventEnvelope, event: DomainEvent, before: TicketView, directory: Directory
) -> list[tuple[Kind, frozenset[str], str, str]]:
    """(kind, recipients, title, body) before removing the actor."""
    label = before.label
    who = _actor_name(envelope, directory)
    found: list[tuple[Kind, frozenset[str], str, str]] = []
    if isinstance(event, TicketCreated):
        after_label = TicketView(before.ticket_id, event.number, {"subject": event.subject}).label
        if event.assignee_id is not None:
            found.append(
                (
                    Kind.ASSIGNED,
                    frozenset({str(event.assignee_id)}),
                    f"{after_label} was assigned to you",
                    f"New ticket from {event.requester_name or event.requester_email or who}.",
                )
            )
        elif event.team_id is not None:
            team = directory.teams.get(str(event.team_id))
            found.append(
                (
                    Kind.TEAM_ROUTED,
                    directory.team_members(str(event.team_id)),
                    f"New unassigned ticket for {team.name if team else 'your team'}: "
                    f"{after_label}",
                    f"Priority {event.priority}.",
                )
            )
    elif isinstance(event, TicketAssigned):
        how = "by an assignment rule" if event.method == "rule" else f"by {who}"
        found.append(
            (
                Kind.ASSIGNED,
                frozenset({str(event.assignee_id)}),
                f"{label} was assigned to you",
                f"Assigned {how}.",
            )
        )
    elif isinstance(event, TeamChanged) and event.to_team_id is not None:
        to_team = str(event.to_team_id)
        team = directory.teams.get(to_team)
        team_name = team.name if team else "your team"
        members = directory.team_members(to_team)
        from_team = directory.teams.get(str(event.from_team_id)) if event.from_team_id else None
        if from_team is not None and from_team.escalates_to == to_team:
            found.append(
                (
                    Kind.ESCALATED,
                    members,
                    f"{label} was escalated to {team_name}",
                    f"Escalated from {from_team.name} by {who}.",
                )
            )
        elif before.assignee_id is None or before.assignee_id not in members:
            found.append(
                (
                    Kind.TEAM_ROUTED,
                    members,
                    f"Unassigned ticket routed to {team_name}: {label}",
                    f"Moved by {who}.",
                )
            )
    elif isinstance(event, MessageAdded) and not event.automated:
        if event.visibility is Visibility.PUBLIC and envelope.actor.kind.value == "customer":
            if before.assignee_id:
                found.append(
                    (
                        Kind.CUSTOMER_REPLIED,
                        frozenset({before.assignee_id}),
                        f"{who} replied on {label}",
                        _excerpt(event.body_text),
                    )
                )
        elif event.visibility is Visibility.INTERNAL:
            mentioned = mentioned_agents(event.body_text, directory.agents.values())
            if mentioned:
                found.append(
                    (
                        Kind.MENTIONED,
                        mentioned,
                        f"{who} mentioned you on {label}",
                        _excerpt(event.body_text),
                    )
                )
    elif isinstance(event, SlaWarning):
        lead = directory.team_lead(before.team_id)
        to = before.assignee_id or lead
        if to:
            found.append(
                (
                    Kind.SLA_WARNING,
                    frozenset({to}),
                    f"SLA {_metric(event.metric)} due soon on {label}",
                    f"Due at {event.due_at.isoformat()} ({int(event.threshold * 100)} % used).",
                )
            )
    elif isinstance(event, SlaBreached):
        lead = directory.team_lead(before.team_id)
        breach_to = frozenset(r for r in (before.assignee_id, lead) if r)
        if breach_to:
            found.append(
                (
                    Kind.SLA_BREACHED,
                    breach_to,
                    f"SLA {_metric(event.metric)} breached on {label}",
                    f"It was due at {event.due_at.isoformat()}.",
                )
            )
    return found


def notifications_for(
    envelope: EventEnvelope,
    event: DomainEvent,
    before: TicketView,
    directory: Directory,
    followers: frozenset[str] = frozenset(),
) -> list[Notification]:
    """Everything ``envelope`` (parsed as ``event``) should tell whom, given the ticket as it was
    before the event (an empty view for a ticket not seen yet)."""
    targets = _targets(envelope, event, before, directory)
    if isinstance(event, StatusChanged) and followers:
        who = _actor_name(envelope, directory)
        targets.append(
            (
                Kind.FOLLOWED_STATUS_CHANGED,
                followers,
                f"{before.label} is now {event.to_status}",
                f"{who} changed it from {event.from_status}."
                + (f" {event.reason}" if event.reason else ""),
            )
        )
    actor = envelope.actor.id
    ticket_id = before.ticket_id if envelope.stream_type in ("ticket", "sla") else None
    number = before.number
    if isinstance(event, TicketCreated):
        number = event.number
    seen: set[tuple[str, Kind]] = set()
    out: list[Notification] = []
    for kind, recipients, title, body in targets:
        for recipient in sorted(recipients):
            if recipient == actor or (recipient, kind) in seen:
                continue
            if not directory.is_active(recipient):
                continue
            seen.add((recipient, kind))
            out.append(
                Notification(
                    id=notification_id(envelope.event_id, recipient, kind),
                    recipient_id=recipient,
                    kind=kind,
                    title=title,
                    body=body,
                    ticket_id=ticket_id,
                    ticket_number=number,
                    event_id=envelope.event_id,
                    event_type=envelope.event_type,
                    occurred_at=envelope.occurred_at,
                )
            )
    return out
