"""The ticket command handler on the in-memory event store: an assignment is applied once
(its events and its outcome together), a repeat is a duplicate, and a command for a ticket that
does not exist is refused with a reason; no database, no Kafka."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from helpdesk_events import Actor, ActorKind, DomainEvent, EventEnvelope, derived_event_id
from helpdesk_events.commands import AssignTicket
from helpdesk_events.directory import AgentRole
from helpdesk_platform.auth import Principal, Role
from ticket_service.adapters.memory_event_store import (
    InMemoryClaims,
    InMemoryCommandOutcomes,
    InMemoryEventStore,
    InMemoryIdempotency,
)
from ticket_service.domain.ticket import NewTicket
from ticket_service.service_layer.context import CommandContext
from ticket_service.service_layer.directory import DirectoryApplication, NewAgent, NewTeam
from ticket_service.service_layer.ticket_commands import Outcome, TicketCommandHandler
from ticket_service.service_layer.tickets import TicketApplication

MANAGER = CommandContext(
    actor=Actor(kind=ActorKind.AGENT, id="manager", role="manager"),
    correlation_id=uuid.uuid4(),
    caller=Principal(subject="manager", role=Role.MANAGER),
)


def command(event: DomainEvent, ticket_id: uuid.UUID) -> EventEnvelope:
    return EventEnvelope(
        event_id=derived_event_id(event.event_type, ticket_id, uuid.uuid4()),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=ticket_id,
        stream_type=event.stream_type,
        stream_version=1,
        occurred_at=datetime.now(UTC),
        actor=Actor(kind=ActorKind.SERVICE, id="assignment-service"),
        correlation_id=uuid.uuid4(),
        data=event.model_dump(mode="json"),
    )


async def test_an_assignment_is_applied_once_and_a_missing_ticket_refused() -> None:
    store = InMemoryEventStore()
    directory = DirectoryApplication(store, InMemoryClaims(store))
    tickets = TicketApplication(store, InMemoryIdempotency(store), directory=directory)
    outcomes = InMemoryCommandOutcomes(store)
    handler = TicketCommandHandler(outcomes, store, tickets, directory)

    ana = await directory.invite_agent(
        NewAgent(email="ana@helpdesk.example", name="Ana", role=AgentRole.AGENT), MANAGER
    )
    l1 = await directory.create_team(NewTeam(name="L1", member_ids=(ana.id,)), MANAGER)
    ticket, _ = await tickets.create_ticket(NewTicket(subject="VPN", team_id=l1.id), MANAGER)
    assign = command(
        AssignTicket(
            ticket_id=ticket.id,
            agent_id=ana.id,
            team_id=l1.id,
            expected_version=ticket.version,
            rule_id="l1-default",
            method="round_robin",
        ),
        ticket.id,
    )

    applied = await handler.handle(assign, traceparent=None)
    assert applied.outcome is Outcome.APPLIED
    assert (await tickets.get_ticket(ticket.id)).assignee_id == ana.id
    assert outcomes.outcomes[assign.event_id] == ("applied", None)
    again = await handler.handle(assign, traceparent=None)
    assert again.outcome is Outcome.DUPLICATE
    assert len(await store.read_stream(ticket.id)) == 2  # created, assigned: nothing twice

    nowhere = uuid.uuid4()
    missing = command(
        AssignTicket(
            ticket_id=nowhere,
            agent_id=ana.id,
            team_id=None,
            expected_version=1,
            rule_id="l1-default",
            method="round_robin",
        ),
        nowhere,
    )
    refused = await handler.handle(missing, traceparent=None)
    assert refused.outcome is Outcome.REFUSED and refused.reason
    assert outcomes.outcomes[missing.event_id][0] == "refused"
