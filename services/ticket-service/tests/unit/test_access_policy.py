"""The access policy (``service_layer.access``), exhaustively: every action for every role, who
owns what, which fields each role may set on a new ticket, and what a customer's history shows.
Pure: no database, no HTTP."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpdesk_events import (
    Actor,
    ActorKind,
    ChildTicketMerged,
    DomainEvent,
    EventEnvelope,
    MessageAdded,
    PriorityChanged,
    StatusCategory,
    StatusChanged,
    TagsChanged,
    TeamChanged,
    TicketAssigned,
    TicketCreated,
    TicketFieldsChanged,
    TicketMerged,
    Visibility,
)
from helpdesk_events.tickets import FieldChange
from helpdesk_platform.auth import Principal, Role
from ticket_service.domain.options import DEFAULT_OPTIONS, TicketOptions
from ticket_service.domain.ticket import NewTicket, Ticket
from ticket_service.service_layer import access
from ticket_service.service_layer.access import Action, Forbidden
from ticket_service.service_layer.context import CommandContext, envelope_for

A = Action
C, T, G, M = Role.CUSTOMER, Role.TECHNICIAN, Role.AGENT, Role.MANAGER

#: The README's role table, written out independently of the policy's own table.
EXPECTED: dict[Action, set[Role]] = {
    A.OPEN_TICKET: {C, T, G, M},
    A.REPLY: {C, T, G, M},
    A.READ_TICKETS: {C, T, G, M},
    A.WRITE_INTERNAL_NOTE: {T, G, M},
    A.EDIT_TICKET: {T, G, M},
    A.ROUTE_TICKET: {G, M},
    A.MERGE_TICKETS: {G, M},
    A.READ_OPTIONS: {C, T, G, M},
    A.CONFIGURE_OPTIONS: {M},
    A.READ_REPORTS: {M},
    A.READ_SLA_TIMES: {T, G, M},
    A.MANAGE_CONTACTS: {T, G, M},
    A.READ_DIRECTORY: {T, G, M},
    A.SET_OWN_AVAILABILITY: {T, G, M},
    A.MANAGE_DIRECTORY: {M},
    A.RATE_TICKET: {C},
    A.RESOLVE_OWN_TICKET: {C},
    A.CONFIGURE_BRANDING: {M},
    A.SHARE_COMPANY_TICKETS: {M},
}

CUSTOMER_ID = uuid.uuid4()
OTHER_CUSTOMER_ID = uuid.uuid4()
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def person(
    role: Role, subject: uuid.UUID | str | None = None, email: str | None = None
) -> Principal:
    return Principal(subject=str(subject or uuid.uuid4()), role=role, name="X", email=email)


CUSTOMER = person(C, CUSTOMER_ID, "budi@example.co.id")


def ticket(**fields: Any) -> Ticket:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "version": 1,
        "subject": "Cannot log in",
        "description": "",
        "channel": "portal",
        "status": "New",
        "status_category": StatusCategory.NEW,
        "priority": "Medium",
        "created_at": NOW,
        "updated_at": NOW,
        "customer_id": CUSTOMER_ID,
        "requester_email": "budi@example.co.id",
    }
    return Ticket(**(values | fields))


def test_every_action_is_in_the_table() -> None:
    assert set(EXPECTED) == set(Action) == set(access.ALLOWED)


@pytest.mark.parametrize(("action", "role"), list(itertools.product(Action, Role)))
def test_each_role_may_do_exactly_what_the_table_says(action: Action, role: Role) -> None:
    who = person(role)
    assert access.allowed(who, action) is (role in EXPECTED[action])
    if role in EXPECTED[action]:
        access.require(who, action)
    else:
        with pytest.raises(Forbidden, match=f"only .* may {action.value}"):
            access.require(who, action)


def test_a_refusal_names_who_may() -> None:
    with pytest.raises(Forbidden, match="only agents and managers may merge"):
        access.require(person(T), A.MERGE_TICKETS)
    with pytest.raises(Forbidden, match="only managers may configure"):
        access.require(person(G), A.CONFIGURE_OPTIONS)


# --- ownership ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [T, G, M])
def test_staff_see_every_ticket_and_contact(role: Role) -> None:
    assert access.owns_ticket(person(role), ticket(customer_id=OTHER_CUSTOMER_ID))
    assert access.is_own_contact(person(role), OTHER_CUSTOMER_ID, "x@example.com")
    assert access.may_see_message(person(role), "internal", OTHER_CUSTOMER_ID, None)


@pytest.mark.parametrize(
    ("who", "owner_id", "owner_email", "owns"),
    [
        (CUSTOMER, CUSTOMER_ID, None, True),  # by the token's subject
        (person(C, "not-a-uuid", "budi@example.co.id"), None, "BUDI@example.co.id ", True),
        (CUSTOMER, OTHER_CUSTOMER_ID, "sari@example.com", False),
        (person(C, "not-a-uuid"), None, None, False),  # no email, no id: nothing
        (person(C, "not-a-uuid", ""), None, "", False),  # empty emails never match
    ],
)
def test_a_customer_owns_what_was_opened_for_them(
    who: Principal, owner_id: uuid.UUID | None, owner_email: str | None, owns: bool
) -> None:
    assert (
        access.owns_ticket(who, ticket(customer_id=owner_id, requester_email=owner_email)) is owns
    )
    assert access.may_see_message(who, "public", owner_id, owner_email) is owns
    assert not access.may_see_message(who, "internal", owner_id, owner_email)
    if owner_id is not None:
        assert access.is_own_contact(who, owner_id, owner_email) is owns


# --- who a command is from ------------------------------------------------------------------


def context(actor: Actor, caller: Principal | None = None) -> CommandContext:
    return CommandContext(actor=actor, correlation_id=uuid.uuid4(), caller=caller)


def test_the_verified_caller_decides() -> None:
    caller = person(G)
    assert access.caller_of(context(Actor(kind=ActorKind.AGENT, id="x"), caller)) is caller


@pytest.mark.parametrize(
    ("actor", "role"),
    [
        (Actor(kind=ActorKind.AGENT, id="a", role="manager"), M),
        (Actor(kind=ActorKind.AGENT, id="a", role="technician"), T),
        (Actor(kind=ActorKind.AGENT, id="a"), C),  # no role: the least
        (Actor(kind=ActorKind.AGENT, id="a", role="superuser"), C),
        (Actor(kind=ActorKind.CUSTOMER, id="c", role="manager"), C),  # a customer stays one
        (Actor(kind=ActorKind.SYSTEM, id="s"), C),
    ],
)
def test_without_a_caller_the_actor_role_decides_never_more(actor: Actor, role: Role) -> None:
    assert access.caller_of(context(actor)).role is role


# --- what each role may set on a new ticket ---------------------------------------------------

ROUTED = NewTicket(subject="x", team_id=uuid.uuid4(), assignee_id=uuid.uuid4())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tags", ("vip",)),
        ("team_id", uuid.uuid4()),
        ("assignee_id", uuid.uuid4()),
        ("status", "Open"),
        ("business_unit", "Retail"),
        ("brand", "Acme"),
        ("channel", "phone"),
    ],
)
def test_customers_cannot_set_routing_fields(field: str, value: object) -> None:
    new = NewTicket(subject="x", **{field: value})  # type: ignore[arg-type]
    with pytest.raises(Forbidden, match=f"customers cannot set {field}"):
        access.check_new_ticket(CUSTOMER, new, DEFAULT_OPTIONS)
    for role in (G, M):  # agents and managers set every field
        assert access.check_new_ticket(person(role), new, DEFAULT_OPTIONS) == new


def test_a_customer_writing_by_mail_opens_on_email_routed_to_the_accounts_team() -> None:
    by_mail = replace(CUSTOMER, via="mail-gateway")
    team = uuid.uuid4()
    new = NewTicket(subject="x", channel="email", team_id=team)
    assert access.check_new_ticket(by_mail, new, DEFAULT_OPTIONS).team_id == team
    with pytest.raises(Forbidden, match="customers cannot set channel"):
        access.check_new_ticket(by_mail, NewTicket(subject="x"), DEFAULT_OPTIONS)
    with pytest.raises(Forbidden, match="customers cannot set team_id, channel"):
        access.check_new_ticket(CUSTOMER, new, DEFAULT_OPTIONS)
    for via in (None, "portal"):
        assert access.customer_channel(replace(CUSTOMER, via=via)) == "portal"
    with pytest.raises(Forbidden, match="customers cannot set tags"):
        access.check_new_ticket(by_mail, replace(new, tags=("vip",)), DEFAULT_OPTIONS)


def test_customers_choose_any_priority_but_the_highest() -> None:
    assert access.customer_priorities(DEFAULT_OPTIONS) == ("Low", "Medium", "High")
    assert access.customer_priorities(TicketOptions(priorities=("Only",))) == ("Only",)
    for priority in ("Low", "Medium", "High"):
        access.check_new_ticket(
            CUSTOMER, NewTicket(subject="x", priority=priority), DEFAULT_OPTIONS
        )
    with pytest.raises(Forbidden, match="Low, Medium and High"):
        access.check_new_ticket(
            CUSTOMER, NewTicket(subject="x", priority="Urgent"), DEFAULT_OPTIONS
        )
    assert access.check_new_ticket(
        person(G), NewTicket(subject="x", priority="Urgent"), DEFAULT_OPTIONS
    )


def test_customers_open_tickets_in_their_own_company_only() -> None:
    own, other = uuid.uuid4(), uuid.uuid4()
    plain = NewTicket(subject="x", type="Incident", category="Problem", description="d")
    assert (
        access.check_new_ticket(CUSTOMER, plain, DEFAULT_OPTIONS, own_company_id=own).company_id
        == own
    )
    mine = NewTicket(subject="x", company_id=own)
    assert access.check_new_ticket(CUSTOMER, mine, DEFAULT_OPTIONS, own_company_id=own) == mine
    theirs = NewTicket(subject="x", company_id=other)
    with pytest.raises(Forbidden, match="own company"):
        access.check_new_ticket(CUSTOMER, theirs, DEFAULT_OPTIONS, own_company_id=own)
    with pytest.raises(Forbidden, match="own company"):
        access.check_new_ticket(CUSTOMER, theirs, DEFAULT_OPTIONS, own_company_id=None)
    assert access.check_new_ticket(person(G), theirs, DEFAULT_OPTIONS) == theirs


def test_technicians_route_neither_at_creation_nor_later() -> None:
    with pytest.raises(Forbidden, match="only agents and managers"):
        access.check_new_ticket(person(T), ROUTED, DEFAULT_OPTIONS)
    with pytest.raises(Forbidden, match="only agents and managers"):
        access.check_edit(person(T), routing=True)
    untouched = NewTicket(subject="x", tags=("vip",), priority="Urgent", status="Open")
    assert access.check_new_ticket(person(T), untouched, DEFAULT_OPTIONS) == untouched
    access.check_edit(person(T), routing=False)


@pytest.mark.parametrize("routing", [False, True])
def test_customers_edit_nothing(routing: bool) -> None:
    with pytest.raises(Forbidden):
        access.check_edit(CUSTOMER, routing=routing)
    access.check_edit(person(G), routing=routing)
    access.check_edit(person(M), routing=routing)


def test_staff_change_their_own_availability_managers_anyones() -> None:
    own_id = uuid.uuid4()
    agent = person(G, own_id, "rina@helpdesk.example")
    access.check_availability_change(agent, own_id, None)
    access.check_availability_change(agent, uuid.uuid4(), "Rina@helpdesk.example")
    with pytest.raises(Forbidden, match="only your own availability"):
        access.check_availability_change(agent, uuid.uuid4(), "sari@helpdesk.example")
    access.check_availability_change(person(M), uuid.uuid4(), None)
    with pytest.raises(Forbidden):
        access.check_availability_change(person(C, own_id), own_id, None)


# --- what a customer sees of the history ------------------------------------------------------

AGENT_ACTOR = Actor(kind=ActorKind.AGENT, id="agent-7", role="agent", display_name="Sari")


def history(*events: DomainEvent) -> list[EventEnvelope]:
    ctx = CommandContext(actor=AGENT_ACTOR, correlation_id=uuid.uuid4())
    stream = uuid.uuid4()
    return [
        envelope_for(
            e,
            stream_id=stream,
            stream_version=i,
            context=ctx,
            occurred_at=NOW + timedelta(minutes=i),
        )
        for i, e in enumerate(events, start=1)
    ]


def message(visibility: Visibility, text: str) -> MessageAdded:
    return MessageAdded(
        message_id=uuid.uuid4(), visibility=visibility, body_html=f"<p>{text}</p>", body_text=text
    )


def test_a_customer_history_is_the_public_part_renumbered() -> None:
    other_child, own_child, parent = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    events = history(
        TicketCreated(
            subject="s", description="d", channel="portal", status="New", priority="Medium",
            number=1001, tags=("watch-list",), team_id=uuid.uuid4(),
        ),
        message(Visibility.INTERNAL, "customer is on the watch list"),
        TagsChanged(added=("vip",), removed=()),
        TeamChanged(from_team_id=None, to_team_id=uuid.uuid4()),
        TicketAssigned(assignee_id=uuid.uuid4(), previous_assignee_id=None, method="manual"),
        StatusChanged(
            from_status="New", to_status="Pending", reason="customer is lying about the outage",
            from_category=StatusCategory.NEW, to_category=StatusCategory.PAUSED,
        ),
        TicketFieldsChanged(changes=(
            FieldChange(field="brand", old=None, new="Acme"),
            FieldChange(field="subject", old="s", new="Login fails"),
        )),
        TicketFieldsChanged(changes=(FieldChange(field="business_unit", old=None, new="Retail"),)),
        PriorityChanged(from_priority="Medium", to_priority="High"),
        message(Visibility.PUBLIC, "We are on it"),
        ChildTicketMerged(child_id=other_child, child_number=1002),
        ChildTicketMerged(child_id=own_child, child_number=1003),
        TicketMerged(parent_id=parent, parent_number=1004),
    )  # fmt: skip
    entries = access.customer_history(events, lambda t: t == own_child)
    assert [e.event_type for e in entries] == [
        "TicketCreated",
        "StatusChanged",
        "TicketFieldsChanged",
        "PriorityChanged",
        "MessageAdded",
        "ChildTicketMerged",
        "TicketMerged",
    ]
    assert [e.version for e in entries] == list(range(1, 8))  # no gaps to count notes by
    text = repr(entries)
    for hidden in ("watch-list", "watch list", "lying", "vip", "Acme", "Retail", "agent-7"):
        assert hidden not in text, hidden
    assert "team_id" not in entries[0].data
    assert "reason" not in entries[1].data
    assert entries[2].data == {"changes": [{"field": "subject", "old": "s", "new": "Login fails"}]}
    assert entries[5].data["child_id"] == str(own_child)
    assert str(other_child) not in text and "1002" not in text
    assert entries[6].data == {}  # merged into a ticket the customer does not own: not named
    assert entries[0].actor == {"kind": "agent", "display_name": "Sari"}


def test_a_customer_sees_the_parent_they_own() -> None:
    parent = uuid.uuid4()
    events = history(
        TicketCreated(subject="s", channel="portal", status="New", priority="Low"),
        TicketMerged(parent_id=parent, parent_number=7),
    )
    entries = access.customer_history(events, lambda t: t == parent)
    assert entries[1].data == {"parent_id": str(parent), "parent_number": 7}


def test_a_customer_ticket_counts_and_names_only_what_they_see() -> None:
    own_child, other_child, parent = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    seen = access.customer_history(
        history(TicketCreated(subject="s", channel="portal", status="New", priority="Low")),
        lambda _: False,
    )
    staff_view = ticket(
        version=9,
        updated_at=NOW + timedelta(hours=5),
        merged_children=(own_child, other_child),
        merged_into=parent,
        tags=("difficult-customer",),
        team_id=uuid.uuid4(),
        assignee_id=uuid.uuid4(),
        business_unit="Retail",
        brand="Acme",
    )
    shown = access.customer_ticket(staff_view, seen, lambda t: t == own_child)
    assert (shown.tags, shown.team_id, shown.assignee_id) == ((), None, None)
    assert (shown.business_unit, shown.brand) == (None, None)
    assert (shown.subject, shown.customer_id) == (staff_view.subject, CUSTOMER_ID)
    assert shown.version == 1
    assert shown.updated_at == seen[0].occurred_at
    assert shown.merged_children == (own_child,)
    assert shown.merged_into is None
    assert access.customer_ticket(staff_view, seen, lambda _: True).merged_into == parent


def test_a_customer_list_row_leaves_out_routing_and_labels() -> None:
    row = {"ticket_id": uuid.uuid4(), "subject": "s", "tags": ["vip"], "team_id": uuid.uuid4(),
           "assignee_id": uuid.uuid4(), "business_unit": None, "brand": "Acme"}  # fmt: skip
    shown = access.customer_summary(row)
    assert shown["tags"] == [] and shown["team_id"] is None and shown["assignee_id"] is None
    assert shown["brand"] is None and shown["subject"] == "s"


def test_reports_are_for_managers_and_team_leads_about_their_teams() -> None:
    team = uuid.uuid4()
    assert access.report_scope(person(Role.MANAGER), frozenset()) is None
    assert access.report_scope(person(Role.AGENT), frozenset({team})) == {team}
    assert access.report_scope(person(Role.TECHNICIAN), frozenset({team})) == {team}
    for role in (Role.AGENT, Role.TECHNICIAN):
        with pytest.raises(access.Forbidden, match="managers, and for team leads"):
            access.report_scope(person(role), frozenset())
    with pytest.raises(access.Forbidden):
        access.report_scope(person(Role.CUSTOMER), frozenset({team}))


def test_a_technician_leading_the_team_may_assign_within_it() -> None:
    technician = person(Role.TECHNICIAN)
    with pytest.raises(access.Forbidden):
        access.check_edit(technician, routing=True)
    access.check_edit(technician, routing=True, leads_team=True)
    with pytest.raises(access.Forbidden):
        access.check_edit(person(Role.CUSTOMER), routing=True, leads_team=True)


def test_only_staff_write_internal_notes_by_mail() -> None:
    for role in (Role.AGENT, Role.TECHNICIAN, Role.MANAGER):
        access.require_mail_visibility(person(role), Visibility.INTERNAL)
    access.require_mail_visibility(CUSTOMER, Visibility.PUBLIC)
    with pytest.raises(Forbidden, match="internal notes"):
        access.require_mail_visibility(CUSTOMER, Visibility.INTERNAL)


def test_only_the_gateways_own_token_acts_for_a_mails_sender() -> None:
    """``POST /mail/tickets/batch``: the gateway's own staff token acts for each mail's sender,
    as the customer token it would mint for it; nobody else's token may."""
    gateway = Principal("mail-gateway", Role.AGENT, name="Mail gateway", via="mail-gateway")
    sender = access.mail_sender(gateway, "Budi@Customer.Example", "Budi")
    assert sender == Principal(
        "mail:budi@customer.example", Role.CUSTOMER, name="Budi",
        email="budi@customer.example", via="mail-gateway",
    )  # fmt: skip
    nameless = access.mail_sender(gateway, "budi@customer.example", None)
    assert nameless.name == "mail:budi@customer.example"  # as the minted token's name
    access.require_mail_sender(sender, "budi@customer.example")  # the single route's rule holds
    refused = [
        replace(gateway, subject=str(uuid.uuid4())),  # an agent's token the gateway minted
        replace(gateway, via=None),  # a portal agent
        sender,  # a customer's mail token
        Principal("mail-gateway", Role.AGENT),  # the name without the gateway's claim
    ]
    for who in refused:
        with pytest.raises(Forbidden):
            access.mail_sender(who, "budi@customer.example", "Budi")
