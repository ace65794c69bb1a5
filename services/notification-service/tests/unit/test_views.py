"""Folding ticket and directory events into what the rules decide from (domain/views.py)."""

from __future__ import annotations

import uuid

from helpdesk_events import (
    MessageAdded,
    PriorityChanged,
    StatusCategory,
    StatusChanged,
    TagsChanged,
    TeamChanged,
    TicketAssigned,
    TicketCreated,
    TicketFieldsChanged,
    TicketUnassigned,
    Visibility,
)
from helpdesk_events.directory import (
    AgentDeactivated,
    AgentInvited,
    AgentReactivated,
    AgentRole,
    AgentRoleChanged,
    TeamCreated,
    TeamDetailsChanged,
    TeamLeadChanged,
    TeamMemberAdded,
    TeamMemberRemoved,
)
from helpdesk_events.mail import EmailReceived
from helpdesk_events.tickets import FieldChange
from notification_service.domain.views import (
    DESCRIPTION_KEPT,
    Directory,
    TicketView,
    apply_directory_event,
    apply_ticket_event,
    new_followers,
)

TICKET = uuid.uuid4()


def test_a_ticket_is_followed_through_its_life() -> None:
    team, agent = uuid.uuid4(), uuid.uuid4()
    view = apply_ticket_event(
        TicketView(TICKET),
        TicketCreated(
            subject="VPN",
            description="x" * 5000,
            channel="email",
            status="New",
            priority="Low",
            number=12,
            tags=("vpn",),
            status_category=StatusCategory.NEW,
        ),
    )
    assert view.number == 12 and view.label == "#12 VPN"
    assert len(view.facts["description"]) == DESCRIPTION_KEPT
    assert view.facts["status_category"] == "new" and view.assignee_id is None
    view = apply_ticket_event(view, TeamChanged(from_team_id=None, to_team_id=team))
    view = apply_ticket_event(view, TicketAssigned(assignee_id=agent))
    assert view.team_id == str(team) and view.assignee_id == str(agent)
    view = apply_ticket_event(
        view,
        StatusChanged(from_status="New", to_status="Pending", to_category=StatusCategory.PAUSED),
    )
    view = apply_ticket_event(view, PriorityChanged(from_priority="Low", to_priority="High"))
    view = apply_ticket_event(view, TagsChanged(added=("sso", "vpn"), removed=("x",)))
    view = apply_ticket_event(
        view,
        TicketFieldsChanged(changes=(FieldChange(field="subject", old="VPN", new="VPN down"),)),
    )
    assert view.facts["status"] == "Pending" and view.facts["status_category"] == "paused"
    assert view.facts["priority"] == "High" and view.facts["tags"] == ["vpn", "sso"]
    assert view.subject == "VPN down"
    view = apply_ticket_event(view, TicketUnassigned(previous_assignee_id=agent))
    assert view.assignee_id is None


def test_a_ticket_not_seen_yet_is_labelled_by_its_id() -> None:
    assert TicketView(TICKET).label == f"ticket {str(TICKET)[:8]}"


def test_directory_events() -> None:
    agent, team, lead, next_tier = (uuid.uuid4() for _ in range(4))
    directory = Directory()
    directory, changed = apply_directory_event(
        directory, agent, AgentInvited(email="sari@example.com", name="Sari", role=AgentRole.AGENT)
    )
    assert changed is not None and directory.name_of(str(agent)) == "Sari"
    directory, _ = apply_directory_event(
        directory, agent, AgentRoleChanged(from_role=AgentRole.AGENT, to_role=AgentRole.MANAGER)
    )
    assert directory.agents[str(agent)].role == "manager"
    directory, _ = apply_directory_event(directory, team, TeamCreated(name="L1", tier=1))
    directory, _ = apply_directory_event(directory, team, TeamMemberAdded(agent_id=agent))
    directory, _ = apply_directory_event(directory, team, TeamLeadChanged(lead_id=lead))
    directory, _ = apply_directory_event(
        directory, team, TeamDetailsChanged(escalates_to=next_tier)
    )
    directory, _ = apply_directory_event(directory, team, TeamDetailsChanged(name="Billing L1"))
    assert directory.team_members(str(team)) == {str(agent)}
    assert directory.team_lead(str(team)) == str(lead)
    assert directory.teams[str(team)].escalates_to == str(next_tier)
    assert directory.teams[str(team)].name == "Billing L1"
    directory, _ = apply_directory_event(directory, agent, AgentDeactivated())
    assert directory.team_members(str(team)) == frozenset()
    directory, _ = apply_directory_event(directory, agent, AgentReactivated())
    directory, _ = apply_directory_event(directory, team, TeamMemberRemoved(agent_id=agent))
    assert directory.team_members(str(team)) == frozenset()
    assert directory.agents[str(agent)].active


def test_events_about_unknown_agents_or_teams_change_nothing() -> None:
    directory, changed = apply_directory_event(
        Directory(), uuid.uuid4(), TeamMemberAdded(agent_id=uuid.uuid4())
    )
    assert changed is None and directory == Directory()


def test_agents_who_write_on_a_ticket_follow_it() -> None:
    def message(automated: bool = False) -> MessageAdded:
        return MessageAdded(
            message_id=uuid.uuid4(),
            visibility=Visibility.INTERNAL,
            body_html="",
            body_text="x",
            automated=automated,
        )

    assert new_followers(message(), "agent", "sari") == {"sari"}
    assert new_followers(message(), "customer", "andi") == frozenset()
    assert new_followers(message(automated=True), "agent", "sari") == frozenset()
    assert new_followers(PriorityChanged(from_priority="a", to_priority="b"), "agent", "x") == (
        frozenset()
    )


def test_a_mail_on_the_ticket_tells_which_inbox_answers_go_to() -> None:
    view = TicketView(uuid.uuid4())
    mail = EmailReceived(
        email_message_id="<m@x>", account="support@example.com", from_address="c@example.com"
    )
    after = apply_ticket_event(view, mail)
    assert after.mail_account == "support@example.com"
    assert apply_ticket_event(after, mail) is after  # nothing changed: nothing to store
