"""Decisions on the commands other services send (helpdesk.ticket-commands.v1).

Pure functions: given the ticket as it is now (and what the directory says), return the events to
append, or raise :class:`CommandRefused` saying why. A refusal is an answer, not an error: the
sender decided on a view of the ticket that has since moved on.
"""

from __future__ import annotations

import uuid

from helpdesk_events import (
    DomainEvent,
    MessageAdded,
    StatusCategory,
    TicketAssigned,
    TicketUnassigned,
)
from ticket_service.domain.errors import DomainError
from ticket_service.domain.ticket import Ticket, _note, change_team, label


class CommandRefused(DomainError):
    """The command no longer fits the ticket; the message says why."""


def _refuse_unless_open(ticket: Ticket) -> None:
    if ticket.merged_into is not None:
        raise CommandRefused(f"{label(ticket)} is merged into another ticket")
    if ticket.status_category in (StatusCategory.RESOLVED, StatusCategory.CLOSED):
        raise CommandRefused(f"{label(ticket)} is {ticket.status}")


def _refuse_if_routed_since(ticket: Ticket, expected_version: int) -> None:
    if ticket.routing_version > expected_version:
        raise CommandRefused(
            f"team or assignee changed at version {ticket.routing_version}, after the "
            f"version {expected_version} the command was decided on"
        )


def rule_assign(
    ticket: Ticket,
    *,
    agent_id: uuid.UUID,
    team_id: uuid.UUID | None,
    expected_version: int,
    rule_id: str,
    agent_assignable: bool,
    team_members: frozenset[uuid.UUID],
) -> TicketAssigned:
    """An assignment rule's choice, if it still holds: the ticket is open and unassigned (a
    manual assignment is never overridden), still in ``team_id``, and the agent is active and a
    member of that team. Later events that touch neither team nor assignee do not matter."""
    _refuse_unless_open(ticket)
    if ticket.assignee_id is not None:
        how = "by hand" if ticket.assignment_method == "manual" else "by a rule"
        raise CommandRefused(f"{label(ticket)} is already assigned {how} to {ticket.assignee_id}")
    if ticket.team_id != team_id:
        raise CommandRefused(
            f"{label(ticket)} is in team {ticket.team_id}, not {team_id} the choice was made for"
        )
    _refuse_if_routed_since(ticket, expected_version)
    if not agent_assignable:
        raise CommandRefused(f"agent {agent_id} does not exist or is deactivated")
    if team_id is not None and agent_id not in team_members:
        raise CommandRefused(f"agent {agent_id} is not a member of team {team_id}")
    return TicketAssigned(assignee_id=agent_id, method="rule", rule_id=rule_id)


def rule_unassign(ticket: Ticket, *, assignee_id: uuid.UUID, reason: str) -> TicketUnassigned:
    """Take the ticket from ``assignee_id`` if they still own it by a rule's choice."""
    if ticket.is_closed:
        raise CommandRefused(f"{label(ticket)} is {ticket.status}")
    if ticket.assignee_id != assignee_id:
        raise CommandRefused(f"{label(ticket)} is not assigned to {assignee_id}")
    if ticket.assignment_method != "rule":
        raise CommandRefused(f"{label(ticket)} was assigned by hand; a rule does not undo that")
    return TicketUnassigned(previous_assignee_id=assignee_id, reason=reason)


def route(
    ticket: Ticket,
    *,
    team_id: uuid.UUID,
    expected_version: int,
    team_exists: bool,
    team_members: frozenset[uuid.UUID],
) -> list[DomainEvent]:
    """A routing rule's team for a ticket without one, if it still has none: ``TeamChanged``.
    A ticket that got a team or an assignee since (by hand, or the mail account's team) keeps
    them."""
    _refuse_unless_open(ticket)
    if ticket.team_id is not None:
        raise CommandRefused(f"{label(ticket)} is already in team {ticket.team_id}")
    if ticket.assignee_id is not None:
        raise CommandRefused(f"{label(ticket)} is already assigned to {ticket.assignee_id}")
    _refuse_if_routed_since(ticket, expected_version)
    if not team_exists:
        raise CommandRefused(f"there is no team {team_id}")
    return change_team(ticket, team_id, team_members)


def escalate(
    ticket: Ticket,
    *,
    from_team_id: uuid.UUID | None,
    escalates_to: uuid.UUID | None,
    next_team_members: frozenset[uuid.UUID],
) -> list[DomainEvent]:
    """Move the ticket from ``from_team_id`` to the next tier: ``TeamChanged`` and, when the
    assignee is not in the next team, ``TicketUnassigned``."""
    _refuse_unless_open(ticket)
    if ticket.team_id is None:
        raise CommandRefused(f"{label(ticket)} has no team to escalate from")
    if ticket.team_id != from_team_id:
        raise CommandRefused(f"{label(ticket)} is in team {ticket.team_id}, not {from_team_id}")
    if escalates_to is None:
        raise CommandRefused(f"team {ticket.team_id} has no next tier (escalates_to is not set)")
    return change_team(ticket, escalates_to, next_team_members)


def escalation_note(reason: str) -> MessageAdded:
    """The internal note that keeps why a person escalated the ticket."""
    return _note(f"Escalated: {reason}")
