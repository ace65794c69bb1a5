"""Who hears about which event (domain/rules.py): every kind, the actor left out, ids stable."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from helpdesk_events import (
    Actor,
    ActorKind,
    EventEnvelope,
    MessageAdded,
    StatusChanged,
    TeamChanged,
    TicketAssigned,
    TicketCreated,
    TicketUnassigned,
    Visibility,
)
from helpdesk_events.registry import DomainEvent
from helpdesk_events.sla import SlaBreached, SlaMetricName, SlaWarning
from notification_service.domain.kinds import Kind
from notification_service.domain.rules import notification_id, notifications_for
from notification_service.domain.views import Agent, Directory, Team, TicketView

SARI, BUDI, LEAD, OTHER = (str(uuid.uuid4()) for _ in range(4))
L1, L2 = str(uuid.uuid4()), str(uuid.uuid4())
TICKET = uuid.uuid4()
NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)

DIRECTORY = Directory(
    agents={
        SARI: Agent(SARI, "Sari Dewi", "sari@example.com", "agent"),
        BUDI: Agent(BUDI, "Budi", "budi@example.com", "agent"),
        LEAD: Agent(LEAD, "Lina Lead", "lina@example.com", "manager"),
        OTHER: Agent(OTHER, "Gone", "gone@example.com", "agent", active=False),
    },
    teams={
        L1: Team(L1, "Billing L1", lead_id=LEAD, escalates_to=L2, members=frozenset({SARI, BUDI})),
        L2: Team(L2, "Billing L2", lead_id=LEAD, members=frozenset({BUDI, LEAD, OTHER})),
    },
)


def envelope(event: DomainEvent, actor: Actor | None = None, **extra: Any) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=TICKET,
        stream_type=event.stream_type,
        stream_version=2,
        occurred_at=NOW,
        actor=actor or Actor(kind=ActorKind.AGENT, id=LEAD, display_name="Lina Lead"),
        correlation_id=uuid.uuid4(),
        data=event.model_dump(mode="json"),
        **extra,
    )


def ticket(assignee: str | None = None, team: str | None = L1) -> TicketView:
    return TicketView(
        TICKET, 1042, {"subject": "Cannot log in", "assignee_id": assignee, "team_id": team}
    )


def told(event: DomainEvent, before: TicketView, actor: Actor | None = None, **kw: Any):
    env = envelope(event, actor)
    found = notifications_for(env, event, before, DIRECTORY, **kw)
    return {(n.recipient_id, n.kind) for n in found}, found, env


def customer() -> Actor:
    return Actor(kind=ActorKind.CUSTOMER, id=str(uuid.uuid4()), display_name="Andi")


def test_assignment_tells_the_assignee_with_the_ticket_label() -> None:
    got, found, _ = told(TicketAssigned(assignee_id=uuid.UUID(SARI)), ticket())
    assert got == {(SARI, Kind.ASSIGNED)}
    assert found[0].title == "#1042 Cannot log in was assigned to you"
    assert found[0].ticket_id == TICKET and found[0].ticket_number == 1042


def test_assigning_yourself_tells_nobody() -> None:
    me = Actor(kind=ActorKind.AGENT, id=SARI)
    got, _, _ = told(TicketAssigned(assignee_id=uuid.UUID(SARI)), ticket(), me)
    assert got == set()


def test_rule_assignment_says_so() -> None:
    event = TicketAssigned(assignee_id=uuid.UUID(SARI), method="rule", rule_id="r1")
    system = Actor(kind=ActorKind.SERVICE, id="assignment-service")
    _, found, _ = told(event, ticket(), system)
    assert found[0].body == "Assigned by an assignment rule."


def created(**fields: Any) -> TicketCreated:
    base: dict[str, Any] = {
        "subject": "VPN down",
        "channel": "email",
        "status": "New",
        "priority": "High",
        "number": 7,
    }
    return TicketCreated(**(base | fields))


def test_ticket_created_with_an_assignee_tells_them() -> None:
    got, found, _ = told(created(assignee_id=uuid.UUID(BUDI), team_id=uuid.UUID(L1)), ticket())
    assert got == {(BUDI, Kind.ASSIGNED)}
    assert found[0].ticket_number == 7
    assert found[0].title.startswith("#7 VPN down")


def test_unassigned_ticket_created_in_a_team_tells_its_active_members() -> None:
    got, _, _ = told(created(team_id=uuid.UUID(L2)), TicketView(TICKET))
    # OTHER is deactivated; LEAD created it (the actor) and is left out
    assert got == {(BUDI, Kind.TEAM_ROUTED)}


def test_ticket_created_without_team_or_assignee_tells_nobody() -> None:
    got, _, _ = told(created(), TicketView(TICKET))
    assert got == set()


def test_customer_reply_tells_the_assignee_with_an_excerpt() -> None:
    reply = MessageAdded(
        message_id=uuid.uuid4(),
        visibility=Visibility.PUBLIC,
        body_html="<p>x</p>",
        body_text="Still   broken\n" + "x" * 400,
    )
    got, found, _ = told(reply, ticket(assignee=SARI), customer())
    assert got == {(SARI, Kind.CUSTOMER_REPLIED)}
    assert found[0].title == "Andi replied on #1042 Cannot log in"
    assert found[0].body.startswith("Still broken x") and len(found[0].body) == 280


def test_customer_reply_on_an_unassigned_ticket_tells_nobody() -> None:
    reply = MessageAdded(
        message_id=uuid.uuid4(), visibility=Visibility.PUBLIC, body_html="", body_text="hi"
    )
    assert told(reply, ticket(), customer())[0] == set()


def test_agent_public_reply_is_not_a_customer_reply() -> None:
    reply = MessageAdded(
        message_id=uuid.uuid4(), visibility=Visibility.PUBLIC, body_html="", body_text="hi @Budi"
    )
    assert told(reply, ticket(assignee=SARI))[0] == set()


def note(text: str, automated: bool = False) -> MessageAdded:
    return MessageAdded(
        message_id=uuid.uuid4(),
        visibility=Visibility.INTERNAL,
        body_html="",
        body_text=text,
        automated=automated,
    )


def test_mentions_by_name_and_email_in_an_internal_note() -> None:
    got, found, _ = told(note("@Sari Dewi and @budi@example.com please look"), ticket())
    assert got == {(SARI, Kind.MENTIONED), (BUDI, Kind.MENTIONED)}
    assert found[0].title == "Lina Lead mentioned you on #1042 Cannot log in"


def test_mentioning_yourself_or_a_deactivated_agent_tells_nobody() -> None:
    assert told(note("@Lina Lead @Gone"), ticket())[0] == set()


def test_automated_notes_mention_nobody() -> None:
    assert told(note("@Budi", automated=True), ticket())[0] == set()


def test_sla_warning_goes_to_the_assignee() -> None:
    warning = SlaWarning(
        ticket_id=TICKET,
        metric=SlaMetricName.FIRST_RESPONSE,
        due_at=NOW + timedelta(hours=1),
        threshold=0.75,
        lead_seconds=3600,
    )
    got, found, env = told(warning, ticket(assignee=SARI))
    assert env.stream_type == "sla"
    assert got == {(SARI, Kind.SLA_WARNING)}
    assert "first response" in found[0].title and "75 %" in found[0].body


def test_sla_warning_on_an_unassigned_ticket_goes_to_the_team_lead() -> None:
    warning = SlaWarning(
        ticket_id=TICKET,
        metric=SlaMetricName.RESOLUTION,
        due_at=NOW,
        threshold=0.9,
        lead_seconds=10,
    )
    system = Actor(kind=ActorKind.SERVICE, id="sla-service")
    assert told(warning, ticket(), system)[0] == {(LEAD, Kind.SLA_WARNING)}


def test_sla_breach_goes_to_the_assignee_and_the_team_lead() -> None:
    breach = SlaBreached(
        ticket_id=TICKET, metric=SlaMetricName.RESOLUTION, due_at=NOW, target_seconds=3600
    )
    system = Actor(kind=ActorKind.SERVICE, id="sla-service")
    got, _, _ = told(breach, ticket(assignee=SARI), system)
    assert got == {(SARI, Kind.SLA_BREACHED), (LEAD, Kind.SLA_BREACHED)}


def test_sla_breach_without_assignee_or_team_tells_nobody() -> None:
    breach = SlaBreached(
        ticket_id=TICKET, metric=SlaMetricName.RESOLUTION, due_at=NOW, target_seconds=3600
    )
    assert told(breach, ticket(team=None))[0] == set()


def test_escalation_to_the_next_tier_tells_its_members() -> None:
    moved = TeamChanged(from_team_id=uuid.UUID(L1), to_team_id=uuid.UUID(L2))
    got, found, _ = told(moved, ticket(assignee=SARI), Actor(kind=ActorKind.AGENT, id=SARI))
    assert got == {(BUDI, Kind.ESCALATED), (LEAD, Kind.ESCALATED)}
    assert found[0].title == "#1042 Cannot log in was escalated to Billing L2"


def test_moving_an_unassigned_ticket_to_a_team_routes_it_there() -> None:
    moved = TeamChanged(from_team_id=uuid.UUID(L2), to_team_id=uuid.UUID(L1))
    got, _, _ = told(moved, ticket(team=L2))
    assert got == {(SARI, Kind.TEAM_ROUTED), (BUDI, Kind.TEAM_ROUTED)}


def test_moving_a_ticket_whose_assignee_stays_in_the_team_tells_nobody() -> None:
    moved = TeamChanged(from_team_id=None, to_team_id=uuid.UUID(L1))
    assert told(moved, ticket(assignee=SARI, team=None))[0] == set()


def test_moving_out_of_every_team_tells_nobody() -> None:
    moved = TeamChanged(from_team_id=uuid.UUID(L1), to_team_id=None)
    assert told(moved, ticket())[0] == set()


def test_status_change_tells_the_followers_but_not_the_actor() -> None:
    event = StatusChanged(from_status="Open", to_status="Pending", reason="waiting on vendor")
    got, found, _ = told(event, ticket(), followers=frozenset({SARI, BUDI, LEAD}))
    assert got == {(SARI, Kind.FOLLOWED_STATUS_CHANGED), (BUDI, Kind.FOLLOWED_STATUS_CHANGED)}
    assert found[0].title == "#1042 Cannot log in is now Pending"
    assert found[0].body == "Lina Lead changed it from Open. waiting on vendor"


def test_status_change_without_followers_tells_nobody() -> None:
    assert told(StatusChanged(from_status="Open", to_status="Solved"), ticket())[0] == set()


def test_unassignment_itself_tells_nobody() -> None:
    event = TicketUnassigned(previous_assignee_id=uuid.UUID(SARI))
    assert told(event, ticket(assignee=SARI))[0] == set()


def test_ids_are_derived_from_event_recipient_and_kind() -> None:
    event = TicketAssigned(assignee_id=uuid.UUID(SARI))
    env = envelope(event)
    first = notifications_for(env, event, ticket(), DIRECTORY)
    again = notifications_for(env, event, ticket(), DIRECTORY)
    assert [n.id for n in first] == [n.id for n in again]
    assert first[0].id == notification_id(env.event_id, SARI, Kind.ASSIGNED)
    assert notification_id(env.event_id, SARI, Kind.MENTIONED) != first[0].id
    assert notification_id(uuid.uuid4(), SARI, Kind.ASSIGNED) != first[0].id
