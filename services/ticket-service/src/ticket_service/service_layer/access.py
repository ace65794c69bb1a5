"""Who may do what in the ticket service: the one policy every use case consults.

The rules used to live in the HTTP routes (role dependencies, ``owns``, ``is_own_contact``,
refusals, the timeline filter), so any other entry point (a mail gateway, an API gateway, the
CLI) would have had to copy them or go without. Here they are pure functions of the caller (a
verified :class:`~helpdesk_platform.auth.Principal`) and the record: no I/O, tested exhaustively
in ``tests/unit/test_access_policy.py``.

Two refusals, each mapped once to HTTP by the entrypoints:

* :class:`Forbidden` (403): the caller's role may not do this at all, or may not set this field;
* :class:`~ticket_service.domain.errors.TicketNotFound` and friends (404): the record exists but
  the caller may not see it (a customer never learns that another customer's ticket exists).

What a customer sees of a ticket is their public history: the ticket as created, field changes
of the public fields, priority and status changes (without the agent's free-text reason), public
messages, and merges with tickets they own. Routing (team, assignee), tags, internal notes and
every other event are staff-only. The customer's history is numbered 1..n by itself, and their
view of the ticket carries that count as its version, so nothing shows how many entries are
hidden.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from helpdesk_events import ActorKind, EventEnvelope, Visibility
from helpdesk_platform.auth import Principal, Role
from ticket_service.domain.errors import DomainError
from ticket_service.domain.options import TicketOptions
from ticket_service.domain.ticket import NewTicket, Ticket
from ticket_service.service_layer.context import CommandContext

__all__ = [
    "Action",
    "Forbidden",
    "HistoryEntry",
    "Principal",
    "Role",
    "allowed",
    "caller_of",
    "check_availability_change",
    "check_edit",
    "check_new_ticket",
    "customer_history",
    "customer_priorities",
    "customer_summary",
    "customer_ticket",
    "is_own_contact",
    "may_see_message",
    "may_see_shared_message",
    "may_write_by_mail",
    "owns_ticket",
    "require",
    "require_gateway_staff",
    "require_mail_gateway",
    "require_mail_sender",
    "sees_company_ticket",
    "subject_id",
]


class Forbidden(DomainError):
    """The caller's role may not do this (HTTP 403); the message says who may."""


class Action(StrEnum):
    """Everything the ticket service lets someone do, by what the roles may do."""

    OPEN_TICKET = "open tickets"
    REPLY = "reply publicly"
    READ_TICKETS = "read tickets"
    WRITE_INTERNAL_NOTE = "write internal notes"
    EDIT_TICKET = "edit a ticket's fields, priority, tags and status"
    ROUTE_TICKET = "assign tickets, change their team or escalate them"
    MERGE_TICKETS = "merge and unmerge tickets"
    READ_OPTIONS = "read the ticket options"
    CONFIGURE_OPTIONS = "configure the ticket options"
    READ_REPORTS = "read SLA reports of every team"  # a team's lead: their teams' (report_scope)
    READ_SLA_TIMES = "read a ticket's SLA times"
    MANAGE_CONTACTS = "register, list and edit customers and companies"
    READ_DIRECTORY = "read agents and teams"
    SET_OWN_AVAILABILITY = "change your own availability"
    MANAGE_DIRECTORY = "invite agents, change roles, manage teams and anyone's availability"
    RATE_TICKET = "rate their solved tickets"
    RESOLVE_OWN_TICKET = "confirm their own issue is resolved"
    CONFIGURE_BRANDING = "configure the branding"
    SHARE_COMPANY_TICKETS = "let a company's customers see its tickets"


_EVERYONE = frozenset(Role)
_STAFF = frozenset({Role.TECHNICIAN, Role.AGENT, Role.MANAGER})
_ROUTERS = frozenset({Role.AGENT, Role.MANAGER})
_MANAGERS = frozenset({Role.MANAGER})

#: The role table of the README ("Who may do what"), as data.
ALLOWED: Mapping[Action, frozenset[Role]] = {
    Action.OPEN_TICKET: _EVERYONE,
    Action.REPLY: _EVERYONE,
    Action.READ_TICKETS: _EVERYONE,  # customers: their own only (owns_ticket)
    Action.WRITE_INTERNAL_NOTE: _STAFF,
    Action.EDIT_TICKET: _STAFF,
    Action.ROUTE_TICKET: _ROUTERS,
    Action.MERGE_TICKETS: _ROUTERS,
    Action.READ_OPTIONS: _EVERYONE,
    Action.CONFIGURE_OPTIONS: _MANAGERS,
    Action.READ_REPORTS: _MANAGERS,  # team leads: their teams' (report_scope)
    Action.READ_SLA_TIMES: _STAFF,
    Action.MANAGE_CONTACTS: _STAFF,
    Action.READ_DIRECTORY: _STAFF,
    Action.SET_OWN_AVAILABILITY: _STAFF,
    Action.MANAGE_DIRECTORY: _MANAGERS,
    Action.RATE_TICKET: frozenset({Role.CUSTOMER}),
    Action.RESOLVE_OWN_TICKET: frozenset({Role.CUSTOMER}),
    Action.CONFIGURE_BRANDING: _MANAGERS,
    Action.SHARE_COMPANY_TICKETS: _MANAGERS,
}

_ROLE_NAMES = {
    Role.CUSTOMER: "customers",
    Role.TECHNICIAN: "technicians",
    Role.AGENT: "agents",
    Role.MANAGER: "managers",
}


def allowed(who: Principal, action: Action) -> bool:
    return who.role in ALLOWED[action]


def require(who: Principal, action: Action) -> None:
    """Refuse with :class:`Forbidden` unless the caller's role may do ``action``."""
    if not allowed(who, action):
        roles = [_ROLE_NAMES[role] for role in Role if role in ALLOWED[action]]
        raise Forbidden(f"only {_listed(roles)} may {action.value}")


def caller_of(context: CommandContext) -> Principal:
    """Who issued a command. Entry points put the verified caller in the context; a context
    without one is judged by the role its actor carries (never trusted blindly: an unknown or
    missing role counts as a customer's)."""
    if context.caller is not None:
        return context.caller
    actor = context.actor
    try:
        role = Role(actor.role) if actor.role else Role.CUSTOMER
    except ValueError:
        role = Role.CUSTOMER
    if actor.kind is ActorKind.CUSTOMER:
        role = Role.CUSTOMER
    return Principal(subject=actor.id, role=role, name=actor.display_name)


# --- ownership ------------------------------------------------------------------------------


def subject_id(who: Principal) -> uuid.UUID | None:
    """The id of the caller's own record (contact or agent), when the token's ``sub`` is one."""
    try:
        return uuid.UUID(who.subject)
    except ValueError:
        return None


def _same_email(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return a.strip().lower() == b.strip().lower()


def is_own_record(who: Principal, customer_id: uuid.UUID | None, email: str | None) -> bool:
    """The caller is this contact: the token's subject is its id, or the emails match."""
    own_id = subject_id(who)
    return (own_id is not None and own_id == customer_id) or _same_email(who.email, email)


def owns_ticket(who: Principal, ticket: Ticket) -> bool:
    """Staff see every ticket; a customer only those opened for them."""
    return who.role is not Role.CUSTOMER or is_own_record(
        who, ticket.customer_id, ticket.requester_email
    )


def sees_company_ticket(who: Principal, ticket: Ticket, shared_company: uuid.UUID | None) -> bool:
    """A customer sees a coworker's ticket when their company shares its tickets with its
    customers (``shared_company``: the caller's company, if it does) and the ticket is the
    company's."""
    return (
        who.role is Role.CUSTOMER
        and shared_company is not None
        and ticket.company_id == shared_company
    )


def may_see_shared_message(
    visibility: str, message_owner: uuid.UUID | None, ticket: Ticket
) -> bool:
    """On a company ticket seen by a coworker: the public messages of that ticket's own
    customer (never those of a merged ticket of someone else, never internal notes)."""
    return visibility == "public" and message_owner == ticket.customer_id


def is_own_contact(who: Principal, customer_id: uuid.UUID, email: str | None) -> bool:
    """Staff see every contact; a customer only their own record."""
    return who.role is not Role.CUSTOMER or is_own_record(who, customer_id, email)


def may_see_message(
    who: Principal, visibility: str, ticket_customer_id: uuid.UUID | None, ticket_email: str | None
) -> bool:
    """Staff see every message; a customer the public ones of tickets they own (a merge never
    shows one customer another customer's conversation)."""
    if who.role is not Role.CUSTOMER:
        return True
    return visibility == "public" and is_own_record(who, ticket_customer_id, ticket_email)


# --- what a customer may set ------------------------------------------------------------------

#: The channel of everything a customer writes through the API.
CUSTOMER_CHANNEL = "portal"
#: The one issuer whose customer tokens write by email: the mail gateway, which routes each
#: support address's tickets to the team of that email account.
MAIL_GATEWAY = "mail-gateway"


def customer_channel(who: Principal) -> str:
    """The channel a customer writes on: email through the mail gateway, else the portal."""
    return "email" if who.via == MAIL_GATEWAY else CUSTOMER_CHANNEL


def customer_priorities(options: TicketOptions) -> tuple[str, ...]:
    """The priorities a customer may choose: all but the highest (which staff set after triage,
    since it drives the tightest SLA); the one priority when only one is configured."""
    return options.priorities[:-1] or options.priorities


def check_new_ticket(
    who: Principal,
    new: NewTicket,
    options: TicketOptions,
    *,
    own_company_id: uuid.UUID | None = None,
) -> NewTicket:
    """The ticket as the caller may open it, or :class:`Forbidden` naming what they may not set.

    Customers open tickets for themselves (the contact of their token), through the portal, in
    their own company, with a subject, description, attachments, type, category and a priority
    from :func:`customer_priorities`; never tags, team, assignee, status, business unit or brand
    (these drive SLA policies and assignment). Technicians may not route a ticket (team,
    assignee), at creation as later. Agents and managers set everything.
    """
    require(who, Action.OPEN_TICKET)
    if who.role is Role.CUSTOMER:
        refused = [
            name
            for name, given in (
                ("tags", bool(tuple(new.tags))),
                # The mail gateway routes a support address's mail to its account's team.
                ("team_id", new.team_id is not None and who.via != MAIL_GATEWAY),
                ("assignee_id", new.assignee_id is not None),
                ("status", new.status is not None),
                ("business_unit", new.business_unit is not None),
                ("brand", new.brand is not None),
                ("channel", new.channel != customer_channel(who)),
            )
            if given
        ]
        if refused:
            raise Forbidden(f"customers cannot set {', '.join(refused)} on a ticket")
        if new.priority is not None and new.priority not in customer_priorities(options):
            raise Forbidden(
                f"customers may choose the priority {_listed(customer_priorities(options))}; "
                "staff set a higher one"
            )
        if new.company_id is not None and new.company_id != own_company_id:
            raise Forbidden("customers may open tickets only for their own company")
        return replace(new, company_id=own_company_id)
    if who.role is Role.TECHNICIAN and (new.team_id is not None or new.assignee_id is not None):
        require(who, Action.ROUTE_TICKET)
    return new


def check_availability_change(who: Principal, agent_id: uuid.UUID, agent_email: str | None) -> None:
    """Staff set their own availability (the agent record with their id or email); managers
    anyone's."""
    require(who, Action.SET_OWN_AVAILABILITY)
    if not allowed(who, Action.MANAGE_DIRECTORY) and not is_own_record(who, agent_id, agent_email):
        raise Forbidden("you may change only your own availability; a manager can change others'")


def check_edit(who: Principal, *, routing: bool, leads_team: bool = False) -> None:
    """Edits are for staff; changing the team or assignee is for agents and managers, and for
    the lead of the ticket's team (``leads_team``; a technician may lead a team)."""
    require(who, Action.EDIT_TICKET)
    if routing and not leads_team:
        require(who, Action.ROUTE_TICKET)


def report_scope(who: Principal, led_teams: frozenset[uuid.UUID]) -> frozenset[uuid.UUID] | None:
    """Which teams' reports the caller reads: None for every team (managers), the teams they
    lead for a team lead of another role; anyone else is refused (agents and technicians)."""
    if allowed(who, Action.READ_REPORTS):
        return None
    if who.role is not Role.CUSTOMER and led_teams:
        return led_teams
    raise Forbidden(
        f"role {who.role.value!r} may not read SLA reports: they are for managers, and for "
        "team leads about their own teams"
    )


# --- what a customer sees ---------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    """One entry of a ticket's history as the caller may see it."""

    version: int
    event_type: str
    occurred_at: datetime
    actor: dict[str, Any]
    data: dict[str, Any]


#: Per event type, the data a customer sees (an event type missing here is staff-only).
_CUSTOMER_DATA: Mapping[str, frozenset[str]] = {
    "TicketCreated": frozenset(
        {
            "subject",
            "description",
            "requester_email",
            "requester_name",
            "channel",
            "status",
            "status_category",
            "priority",
            "number",
            "customer_id",
            "company_id",
            "type",
            "category",
            "attachments",
            "follow_up_of",
        }
    ),
    "TicketFieldsChanged": frozenset({"changes"}),
    "PriorityChanged": frozenset({"from_priority", "to_priority"}),
    "StatusChanged": frozenset({"from_status", "to_status", "from_category", "to_category"}),
    "MessageAdded": frozenset(
        {"message_id", "visibility", "body_html", "body_text", "attachments", "channel"}
    ),
    "TicketMerged": frozenset({"parent_id", "parent_number"}),
    "TicketUnmerged": frozenset({"parent_id", "restored_status"}),
    "ChildTicketMerged": frozenset({"child_id", "child_number"}),
    "ChildTicketUnmerged": frozenset({"child_id"}),
}
#: Fields of ``TicketFieldsChanged`` a customer sees change.
_CUSTOMER_FIELDS = frozenset({"subject", "description", "type", "category"})


def customer_history(
    envelopes: Iterable[EventEnvelope], owns_other: Callable[[uuid.UUID], bool]
) -> list[HistoryEntry]:
    """A ticket's public history, numbered 1..n; ``owns_other(ticket_id)`` says whether the
    customer owns another ticket named in a merge (else its id and number are left out, or the
    entry is, when it is only about that ticket)."""
    entries: list[HistoryEntry] = []
    for envelope in envelopes:
        data = _customer_data(envelope.event_type, envelope.data, owns_other)
        if data is None:
            continue
        entries.append(
            HistoryEntry(
                version=len(entries) + 1,
                event_type=envelope.event_type,
                occurred_at=envelope.occurred_at,
                actor={
                    "kind": envelope.actor.kind.value,
                    "display_name": envelope.actor.display_name,
                },
                data=data,
            )
        )
    return entries


def _customer_data(
    event_type: str, data: Mapping[str, Any], owns_other: Callable[[uuid.UUID], bool]
) -> dict[str, Any] | None:
    keys = _CUSTOMER_DATA.get(event_type)
    if keys is None:
        return None
    if event_type == "MessageAdded" and data.get("visibility") != "public":
        return None
    shown = {key: value for key, value in data.items() if key in keys}
    if event_type == "TicketFieldsChanged":
        changes = [c for c in data.get("changes", ()) if c.get("field") in _CUSTOMER_FIELDS]
        return {"changes": changes} if changes else None
    if event_type in ("ChildTicketMerged", "ChildTicketUnmerged"):
        return shown if _owned(data.get("child_id"), owns_other) else None
    if event_type in ("TicketMerged", "TicketUnmerged") and not _owned(
        data.get("parent_id"), owns_other
    ):
        shown.pop("parent_id", None)
        shown.pop("parent_number", None)
    return shown


def _owned(ticket_id: object, owns_other: Callable[[uuid.UUID], bool]) -> bool:
    try:
        return owns_other(uuid.UUID(str(ticket_id)))
    except ValueError:
        return False


#: Fields of a ticket only staff see: how it is routed and labelled inside the team.
STAFF_ONLY_FIELDS = ("team_id", "assignee_id", "business_unit", "brand")


def customer_summary(row: Mapping[str, Any]) -> dict[str, Any]:
    """A ticket of a list as its customer sees it: without tags, team or assignee."""
    return {**row, **dict.fromkeys(STAFF_ONLY_FIELDS), "tags": []}


def customer_ticket(
    ticket: Ticket, history: Collection[HistoryEntry], owns_other: Callable[[uuid.UUID], bool]
) -> Ticket:
    """The ticket as its customer sees it: versioned and dated by their public history, naming
    only merged tickets they own, without tags, team, assignee, business unit, brand or the
    customer context (how the team labels and routes it)."""
    last = max((entry.occurred_at for entry in history), default=ticket.created_at)
    return replace(
        ticket,
        team_id=None,
        assignee_id=None,
        business_unit=None,
        brand=None,
        tags=(),
        customer_context=None,
        version=len(history),
        updated_at=last,
        merged_into=ticket.merged_into
        if ticket.merged_into and owns_other(ticket.merged_into)
        else None,
        merged_children=tuple(c for c in ticket.merged_children if owns_other(c)),
    )


# --- mail ---------------------------------------------------------------------------------------

#: The ``via`` claim of tokens the mail gateway mints; portal tokens never carry it.
MAIL_GATEWAY = "mail-gateway"


def require_mail_gateway(who: Principal) -> None:
    """Only the mail gateway records email on tickets (a token it minted)."""
    if who.via != MAIL_GATEWAY:
        raise Forbidden("only the mail gateway may record email on tickets")


def require_mail_sender(who: Principal, from_address: str) -> None:
    """A mail opens a ticket for its sender: a customer token with the sender's email."""
    if who.role is not Role.CUSTOMER or who.email is None:
        raise Forbidden("a mail opens a ticket for its sender: a customer token")
    if who.email.lower() != from_address.lower():
        raise DomainError("the token's email is not the mail's sender")


def require_gateway_staff(who: Principal) -> None:
    """Deliveries and bounces are the gateway's own records, made with its staff token."""
    require_mail_gateway(who)
    if not who.is_staff:
        raise Forbidden("deliveries and bounces are recorded with the gateway's token")


def mail_sender(gateway: Principal, from_address: str, from_name: str | None) -> Principal:
    """Whom the mail gateway's own token acts for in a batch of mails: each mail's sender, as
    the customer token the gateway would mint for it (``POST /mail/tickets`` per mail). Only
    the gateway's own staff token may (not an agent's token it minted, not a customer's), and
    only through the mail routes; the ticket's ownership rules then apply to the sender."""
    require_gateway_itself(gateway)
    address = from_address.lower()
    subject = f"mail:{address}"
    return Principal(
        subject=subject, role=Role.CUSTOMER, name=from_name or subject, email=address,
        via=MAIL_GATEWAY,
    )  # fmt: skip


def require_gateway_itself(who: Principal) -> None:
    """The gateway's own token: staff, minted by the gateway, with the gateway as subject."""
    require_gateway_staff(who)
    if who.subject != MAIL_GATEWAY:
        raise Forbidden("only the mail gateway's own token acts for the senders of mails")


def require_mail_visibility(who: Principal, visibility: Visibility) -> None:
    """An internal note by mail is staff's only (an agent answering a notification about an
    internal note); a customer's mail is always public."""
    if visibility is Visibility.INTERNAL and not who.is_staff:
        raise Forbidden("only staff write internal notes by mail")


def may_write_by_mail(who: Principal, ticket: Ticket, participants: Collection[str]) -> bool:
    """Staff may answer any ticket by mail; otherwise the ticket's customer (by address) or a
    participant of its thread (``participants``, lower case)."""
    if who.is_staff:
        return True
    if who.email is None:
        return False
    address = who.email.lower()
    return address == (ticket.requester_email or "").lower() or address in participants


def _listed(names: Iterable[str]) -> str:
    items = list(names)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
