"""Commands to the ticket service (stream type ``ticket-command``, topic
``helpdesk.ticket-commands.v1``, key = ticket id).

Other services do not change tickets themselves: they ask the ticket service, which owns the
ticket stream, checks the request against the ticket as it is now and appends the resulting
ticket events (or refuses, and logs why). A command travels in the usual envelope; its
``stream_id`` is the ticket id and its ``event_id`` is deterministic
(:func:`helpdesk_events.envelope.derived_event_id` of the command type, the ticket and the event
that caused it), so a sender that retries or restarts sends the same id again and the ticket
service applies it at most once.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import Field

from helpdesk_events.registry import DomainEvent, event_type

TICKET_COMMAND = "ticket-command"


class EscalationReason(StrEnum):
    MANUAL = "manual"
    SLA_BREACH = "sla_breach"


@event_type("AssignTicket", version=1, stream_type=TICKET_COMMAND)
class AssignTicket(DomainEvent):
    """An assignment rule chose ``agent_id`` for an unassigned ticket.

    Accepted only if the ticket is still open and unassigned, still in ``team_id`` (the team the
    choice was made for; None: no team), and the agent is active and (with a team) a member of
    it. ``expected_version`` is the ticket version the choice saw; events after it that do not
    touch team or assignee (a tag, a reply) do not invalidate the choice.
    """

    ticket_id: uuid.UUID
    agent_id: uuid.UUID
    team_id: uuid.UUID | None
    expected_version: int = Field(ge=1)
    rule_id: str = Field(min_length=1, max_length=100)
    method: str = Field(min_length=1, max_length=50, description="the rule's method")


@event_type("UnassignTicket", version=1, stream_type=TICKET_COMMAND)
class UnassignTicket(DomainEvent):
    """A rule's unassign condition came true: remove ``assignee_id`` if they still own it."""

    ticket_id: uuid.UUID
    assignee_id: uuid.UUID
    expected_version: int = Field(ge=1)
    rule_id: str = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=500)


@event_type("RouteTicket", version=1, stream_type=TICKET_COMMAND)
class RouteTicket(DomainEvent):
    """A routing rule (or a channel's default team) chose ``team_id`` for a ticket without one.

    Accepted only if the ticket is open, still without a team and without an assignee, and the
    team exists; the ticket service appends ``TeamChanged``, after which the team's assignment
    rules run. ``rule_id`` is the routing rule (``channel:<name>`` for a channel's default).
    """

    ticket_id: uuid.UUID
    team_id: uuid.UUID
    expected_version: int = Field(ge=1)
    rule_id: str = Field(min_length=1, max_length=200)


@event_type("EscalateTicket", version=1, stream_type=TICKET_COMMAND)
class EscalateTicket(DomainEvent):
    """Move the ticket from ``from_team_id`` to the team it escalates to (the next tier).

    Accepted only if the ticket is open and still in ``from_team_id`` and that team has an
    ``escalates_to``; the ticket service appends ``TeamChanged`` (and ``TicketUnassigned`` when
    the assignee is not in the new team), after which assignment runs again.
    """

    ticket_id: uuid.UUID
    from_team_id: uuid.UUID
    expected_version: int = Field(ge=1)
    reason: EscalationReason
    rule_id: str | None = Field(default=None, max_length=100)
