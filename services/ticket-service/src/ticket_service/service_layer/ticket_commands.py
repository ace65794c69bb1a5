"""Deciding the commands other services send on helpdesk.ticket-commands.v1.

Each command is decided against the ticket as it is now and either appends the resulting ticket
events or is refused with a reason. Exactly once: the appended events' ids are derived from the
command's id (the log's ``event_id`` is unique), and the outcome is written in the same
transaction as the events into ``command_outcomes``; a command seen again is answered from there
and appends nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

import structlog

from helpdesk_events import Actor, ActorKind, DomainEvent, EventEnvelope, derived_event_id
from helpdesk_events.commands import AssignTicket, EscalateTicket, RouteTicket, UnassignTicket
from ticket_service.domain import ticket_commands
from ticket_service.domain.errors import TicketNotFound, VersionConflict
from ticket_service.domain.ticket_commands import CommandRefused
from ticket_service.service_layer.context import CommandContext
from ticket_service.service_layer.event_store import DuplicateEvent, EventStore, StreamAppend
from ticket_service.service_layer.streams import RETRY, decided_append
from ticket_service.service_layer.tickets import TICKET_STREAM, Directory, TicketApplication

log = structlog.get_logger()

ASSIGNMENT_SERVICE = "assignment-service"


TicketCommand = AssignTicket | UnassignTicket | EscalateTicket | RouteTicket


class Outcome(StrEnum):
    APPLIED = "applied"
    REFUSED = "refused"
    DUPLICATE = "duplicate"  # decided before: nothing done this time
    IGNORED = "ignored"  # not a command this service knows


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str | None = None
    events: tuple[uuid.UUID, ...] = ()


def command_event_id(command_id: uuid.UUID, index: int) -> uuid.UUID:
    """The id of the ``index``-th event a command appends: the same on every redelivery."""
    event_id: uuid.UUID = derived_event_id("ticket-command", command_id, index)
    return event_id


def trace_id_of(traceparent: str | None) -> str | None:
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


def _streams_named_in(command: TicketCommand) -> list[uuid.UUID]:
    if isinstance(command, AssignTicket):
        return [
            command.ticket_id,
            command.agent_id,
            *([command.team_id] if command.team_id else []),
        ]
    if isinstance(command, EscalateTicket):
        return [command.ticket_id, command.from_team_id]
    if isinstance(command, RouteTicket):
        return [command.ticket_id, command.team_id]
    return [command.ticket_id]


class CommandLedger(Protocol):
    """Which commands were decided and how (``adapters/command_outcomes.py``); an applied
    command's events and its outcome are written together, so each is decided once."""

    async def seen(self, command_id: uuid.UUID) -> bool: ...

    async def record(
        self, envelope: EventEnvelope, outcome: str, reason: str | None, trace_id: str | None
    ) -> None: ...

    async def append_applied(
        self,
        append: StreamAppend,
        envelope: EventEnvelope,
        trace_id: str | None,
        traceparent: str | None,
    ) -> None: ...


class TicketCommandHandler:
    def __init__(
        self,
        outcomes: CommandLedger,
        store: EventStore,
        tickets: TicketApplication,
        directory: Directory,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._tickets = tickets
        self._directory = directory
        self._outcomes = outcomes
        self._clock = clock

    async def handle(self, envelope: EventEnvelope, traceparent: str | None = None) -> Decision:
        command = envelope.payload()
        if not isinstance(command, TicketCommand):
            log.warning(
                "ticket command ignored: unknown type",
                command_id=str(envelope.event_id),
                event_type=envelope.event_type,
            )
            return Decision(Outcome.IGNORED, f"not a ticket command: {envelope.event_type}")
        if await self._outcomes.seen(envelope.event_id):
            return Decision(Outcome.DUPLICATE, "decided before")
        try:
            # The ticket moved between reading and appending: decide again (the one rule).
            return await RETRY.run(lambda: self._decide(envelope, command, traceparent))
        except VersionConflict:
            return await self._refuse(envelope, command, traceparent, "the ticket kept changing")

    async def _decide(
        self,
        envelope: EventEnvelope,
        command: TicketCommand,
        traceparent: str | None,
    ) -> Decision:
        try:
            # The ticket, and the agent and team the command names, in one query.
            async with self._store.read_ahead(*_streams_named_in(command)):
                ticket = await self._tickets.get_ticket(command.ticket_id)
                events: list[DomainEvent]
                if isinstance(command, AssignTicket):
                    events = [
                        ticket_commands.rule_assign(
                            ticket,
                            agent_id=command.agent_id,
                            team_id=command.team_id,
                            expected_version=command.expected_version,
                            rule_id=command.rule_id,
                            agent_assignable=await self._directory.agent_assignable(
                                command.agent_id
                            ),
                            team_members=await self._directory.team_members(command.team_id)
                            if command.team_id
                            else frozenset(),
                        )
                    ]
                elif isinstance(command, UnassignTicket):
                    events = [
                        ticket_commands.rule_unassign(
                            ticket, assignee_id=command.assignee_id, reason=command.reason
                        )
                    ]
                elif isinstance(command, RouteTicket):
                    events = ticket_commands.route(
                        ticket,
                        team_id=command.team_id,
                        expected_version=command.expected_version,
                        team_exists=await self._directory.team_exists(command.team_id),
                        team_members=await self._directory.team_members(command.team_id),
                    )
                else:
                    events = await self._tickets.decide_escalation(ticket, command.from_team_id)
        except (TicketNotFound, CommandRefused) as refusal:
            return await self._refuse(envelope, command, traceparent, str(refusal))
        if not events:  # nothing to change (cannot happen for the rules above, kept safe)
            return await self._refuse(envelope, command, traceparent, "nothing to change")
        context = self._context(envelope, command, traceparent)
        now = self._clock()
        append = decided_append(
            ticket.id,
            TICKET_STREAM,
            ticket.version,
            events,
            context,
            now,
            event_id=lambda offset: command_event_id(envelope.event_id, offset),
        )
        try:
            await self._outcomes.append_applied(
                append, envelope, trace_id_of(traceparent), traceparent
            )
        except DuplicateEvent:
            return Decision(Outcome.DUPLICATE, "its events are in the log already")
        log.info(
            "ticket command applied",
            command_id=str(envelope.event_id),
            command=envelope.event_type,
            ticket_id=str(ticket.id),
            events=[e.event_type for e in events],
            trace_id=trace_id_of(traceparent),
        )
        return Decision(Outcome.APPLIED, events=tuple(e.event_id for e in append.events))

    async def _refuse(
        self,
        envelope: EventEnvelope,
        command: TicketCommand,
        traceparent: str | None,
        reason: str,
    ) -> Decision:
        await self._outcomes.record(
            envelope, Outcome.REFUSED.value, reason, trace_id_of(traceparent)
        )
        log.info(
            "ticket command refused",
            command_id=str(envelope.event_id),
            command=envelope.event_type,
            ticket_id=str(command.ticket_id),
            reason=reason,
            trace_id=trace_id_of(traceparent),
        )
        return Decision(Outcome.REFUSED, reason)

    @staticmethod
    def _context(
        envelope: EventEnvelope,
        command: TicketCommand,
        traceparent: str | None,
    ) -> CommandContext:
        if isinstance(command, EscalateTicket):
            actor_id = (
                envelope.actor.id
                if envelope.actor.kind is ActorKind.SERVICE
                else ASSIGNMENT_SERVICE
            )
        else:
            actor_id = ASSIGNMENT_SERVICE
        return CommandContext(
            actor=Actor(kind=ActorKind.SERVICE, id=actor_id),
            correlation_id=envelope.correlation_id,
            causation_id=envelope.event_id,
            traceparent=traceparent,
        )
