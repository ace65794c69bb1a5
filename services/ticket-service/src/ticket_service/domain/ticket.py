"""The Ticket aggregate: state folded from its events, and the decisions that emit new ones.

Decisions (``create``, ``change_status``, ``add_message``, ``merge``, …) check the rules against
the current state and return new event data; they never mutate. ``Ticket.replay`` folds stored
events into state, so the same code shows a ticket now or as it was at any earlier version.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import nh3

from helpdesk_events import (
    ChildTicketMerged,
    ChildTicketUnmerged,
    DomainEvent,
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
    TicketUnassigned,
    TicketUnmerged,
    Visibility,
)
from helpdesk_events.tickets import (
    AttachmentRef,
    CustomerContext,
    CustomFieldsChanged,
    CustomFieldValue,
    FieldChange,
    TicketCustomerContextChanged,
    TicketField,
)
from ticket_service.domain import custom_fields
from ticket_service.domain.errors import DomainError, InvalidTransition
from ticket_service.domain.options import DEFAULT_OPTIONS, TicketOptions

INITIAL_STATUS = "New"
REOPEN_STATUS = "Open"
WAITING_ON_CUSTOMER = "Waiting on Customer"
CLOSED_STATUS = "Closed"
#: Fields that are never empty-as-None (an edit to "" keeps them strings).
REQUIRED_TEXT = frozenset({"subject", "description", "channel"})


class TicketClosed(DomainError):
    """The ticket is Closed: it cannot change; a customer's message opens a follow-up."""


@dataclass(frozen=True)
class Ticket:
    id: uuid.UUID
    version: int
    subject: str
    description: str
    channel: str
    status: str
    status_category: StatusCategory
    priority: str
    created_at: datetime
    updated_at: datetime
    number: int | None = None
    requester_email: str | None = None
    requester_name: str | None = None
    customer_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    type: str | None = None
    category: str | None = None
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    tags: tuple[str, ...] = ()
    business_unit: str | None = None
    brand: str | None = None
    attachments: tuple[AttachmentRef, ...] = ()
    follow_up_of: uuid.UUID | None = None
    merged_into: uuid.UUID | None = None
    merged_children: tuple[uuid.UUID, ...] = ()
    message_count: int = 0
    #: How the current assignee got the ticket ("manual" or "rule"); None when unassigned.
    assignment_method: str | None = None
    #: The version of the last event that set the team or the assignee (1: as created).
    routing_version: int = 1
    status_history: tuple[tuple[str, datetime], ...] = field(default=())
    #: The customer's and company's attributes as the directory says (None: never derived).
    customer_context: CustomerContext | None = None
    #: Custom field values by key (a manager defines the fields).
    custom_fields: Mapping[str, CustomFieldValue] = field(default_factory=dict)

    @property
    def is_closed(self) -> bool:
        return self.status_category is StatusCategory.CLOSED

    def field_value(self, name: TicketField) -> str | None:
        value: str | None = getattr(self, name)
        return value

    @staticmethod
    def replay(
        ticket_id: uuid.UUID,
        events: Iterable[tuple[DomainEvent, datetime]],
        options: TicketOptions = DEFAULT_OPTIONS,
    ) -> Ticket:
        """Fold a ticket's events (in stream order) into its state."""
        ticket: Ticket | None = None
        for event, occurred_at in events:
            ticket = apply(ticket, ticket_id, event, occurred_at, options)
        if ticket is None:
            raise ValueError(f"ticket {ticket_id} has no events")
        return ticket


# --- decisions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewTicket:
    subject: str
    description: str = ""
    channel: str = "portal"
    priority: str | None = None
    status: str | None = None
    requester_email: str | None = None
    requester_name: str | None = None
    customer_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    type: str | None = None
    category: str | None = None
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    tags: Iterable[str] = ()
    business_unit: str | None = None
    brand: str | None = None
    attachments: tuple[AttachmentRef, ...] = ()
    follow_up_of: uuid.UUID | None = None
    customer_context: CustomerContext | None = None
    custom_fields: Mapping[str, CustomFieldValue] = field(default_factory=dict)


def sanitise_html(text: str) -> str:
    """Keep safe formatting only (nh3, the ammonia sanitiser): no scripts, handlers, styles.

    The description and message bodies are HTML that clients render, so every way in (create,
    edit, reply, any entry point) stores them sanitised. Text without a ``<`` cannot open a tag
    and is kept exactly as given.
    """
    if "<" not in text:
        return text
    return nh3.clean(text, link_rel="noopener noreferrer nofollow").strip()


def clean_tags(tags: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tag.strip().lower() for tag in tags if tag.strip()))


def create(
    new: NewTicket, *, number: int | None = None, options: TicketOptions = DEFAULT_OPTIONS
) -> TicketCreated:
    """Decide the first event of a new ticket."""
    priority = new.priority or options.default_priority
    options.check_priority(priority)
    status = new.status or INITIAL_STATUS
    category = options.category_of(status)
    if category is StatusCategory.CLOSED:
        raise InvalidTransition("a new ticket cannot start Closed")
    options.check_classification(new.type, new.category)
    options.check_business_unit(new.business_unit, new.brand)
    return TicketCreated(
        subject=new.subject.strip(),
        description=sanitise_html(new.description),
        requester_email=new.requester_email,
        requester_name=new.requester_name,
        channel=new.channel,
        status=status,
        status_category=category,
        priority=priority,
        tags=clean_tags(new.tags),
        number=number,
        customer_id=new.customer_id,
        company_id=new.company_id,
        type=new.type,
        category=new.category,
        team_id=new.team_id,
        assignee_id=new.assignee_id,
        business_unit=new.business_unit,
        brand=new.brand,
        attachments=new.attachments,
        follow_up_of=new.follow_up_of,
        customer_context=new.customer_context,
        custom_fields=dict(new.custom_fields),
    )


def _refuse_if_closed(ticket: Ticket) -> None:
    if ticket.is_closed:
        raise TicketClosed(
            f"ticket {ticket.id} is Closed and cannot change; open a follow-up ticket instead"
        )


def change_status(
    ticket: Ticket,
    to_status: str,
    reason: str | None = None,
    options: TicketOptions = DEFAULT_OPTIONS,
) -> StatusChanged:
    """Decide a status change, or refuse it with a message saying why."""
    to_category = options.category_of(to_status)
    _refuse_if_closed(ticket)
    if to_status == ticket.status:
        raise InvalidTransition(f"ticket {ticket.id} is already {to_status!r}")
    if to_category is StatusCategory.NEW:
        raise InvalidTransition("a ticket never goes back to New; use Open instead")
    return StatusChanged(
        from_status=ticket.status,
        to_status=to_status,
        reason=reason,
        from_category=ticket.status_category,
        to_category=to_category,
    )


def change_priority(
    ticket: Ticket, to_priority: str, options: TicketOptions = DEFAULT_OPTIONS
) -> PriorityChanged:
    _refuse_if_closed(ticket)
    options.check_priority(to_priority)
    if to_priority == ticket.priority:
        raise InvalidTransition(f"ticket {ticket.id} already has priority {to_priority!r}")
    return PriorityChanged(from_priority=ticket.priority, to_priority=to_priority)


def edit_fields(
    ticket: Ticket,
    changes: Mapping[TicketField, str | None],
    options: TicketOptions = DEFAULT_OPTIONS,
) -> TicketFieldsChanged | None:
    """Decide an edit of plain fields; None when nothing actually changes."""
    _refuse_if_closed(ticket)
    if "subject" in changes and not (changes["subject"] or "").strip():
        raise InvalidTransition("subject cannot be empty")
    if changes.get("description"):
        changes = {**changes, "description": sanitise_html(changes["description"] or "")}
    merged = {name: ticket.field_value(name) for name in changes} | dict(changes)
    if "type" in changes or "category" in changes:
        options.check_classification(
            merged.get("type", ticket.type), merged.get("category", ticket.category)
        )
    if "business_unit" in changes or "brand" in changes:
        options.check_business_unit(
            merged.get("business_unit", ticket.business_unit), merged.get("brand", ticket.brand)
        )
    diff = tuple(
        FieldChange(field=name, old=ticket.field_value(name), new=value)
        for name, value in changes.items()
        if value != ticket.field_value(name)
    )
    return TicketFieldsChanged(changes=diff) if diff else None


def change_tags(
    ticket: Ticket, add: Iterable[str] = (), remove: Iterable[str] = ()
) -> TagsChanged | None:
    _refuse_if_closed(ticket)
    to_add = tuple(tag for tag in clean_tags(add) if tag not in ticket.tags)
    to_remove = tuple(tag for tag in clean_tags(remove) if tag in ticket.tags)
    return TagsChanged(added=to_add, removed=to_remove) if to_add or to_remove else None


def change_custom_fields(
    ticket: Ticket, values: Mapping[str, CustomFieldValue | None]
) -> CustomFieldsChanged | None:
    """Set custom field values (already checked against their definitions; None clears)."""
    _refuse_if_closed(ticket)
    return custom_fields.change(ticket.custom_fields, values)


def change_team(
    ticket: Ticket, team_id: uuid.UUID | None, new_team_members: frozenset[uuid.UUID]
) -> list[DomainEvent]:
    """Move the ticket to a team; an assignee who is not in the new team is cleared."""
    _refuse_if_closed(ticket)
    if team_id == ticket.team_id:
        return []
    events: list[DomainEvent] = [TeamChanged(from_team_id=ticket.team_id, to_team_id=team_id)]
    if (
        ticket.assignee_id is not None
        and team_id is not None
        and ticket.assignee_id not in new_team_members
    ):
        events.append(
            TicketUnassigned(
                previous_assignee_id=ticket.assignee_id,
                reason="the assignee is not a member of the new team",
            )
        )
    return events


def assign(
    ticket: Ticket,
    agent_id: uuid.UUID | None,
    *,
    method: str = "manual",
    rule_id: str | None = None,
) -> TicketAssigned | TicketUnassigned | None:
    """Give the ticket to an agent (or take it from its assignee with ``None``)."""
    _refuse_if_closed(ticket)
    if agent_id == ticket.assignee_id:
        return None
    if agent_id is None:
        assert ticket.assignee_id is not None
        return TicketUnassigned(previous_assignee_id=ticket.assignee_id, reason="unassigned")
    return TicketAssigned(
        assignee_id=agent_id,
        previous_assignee_id=ticket.assignee_id,
        method="rule" if method == "rule" else "manual",
        rule_id=rule_id,
    )


@dataclass(frozen=True)
class NewMessage:
    body_html: str
    visibility: Visibility
    by_customer: bool
    attachments: tuple[AttachmentRef, ...] = ()
    channel: str | None = None
    set_status: str | None = None
    automated: bool = False
    email_message_id: str | None = None


def follow_up(
    ticket: Ticket, body_html: str, channel: str, attachments: tuple[AttachmentRef, ...] = ()
) -> NewTicket:
    """The follow-up ticket a customer's message to a Closed ticket opens: same contact and
    classification, linked to the closed one."""
    return NewTicket(
        subject=ticket.subject,
        description=plain_text(body_html),
        channel=channel,
        priority=ticket.priority,
        requester_email=ticket.requester_email,
        requester_name=ticket.requester_name,
        customer_id=ticket.customer_id,
        company_id=ticket.company_id,
        type=ticket.type,
        category=ticket.category,
        team_id=ticket.team_id,
        tags=ticket.tags,
        business_unit=ticket.business_unit,
        brand=ticket.brand,
        attachments=attachments,
        follow_up_of=ticket.id,
        custom_fields=ticket.custom_fields,
    )


def plain_text(sanitised_html: str) -> str:
    """Text of already-sanitised HTML (tags dropped, entities decoded)."""
    return html.unescape(nh3.clean(sanitised_html, tags=set())).strip()


def add_message(
    ticket: Ticket,
    message: NewMessage,
    *,
    message_id: uuid.UUID,
    options: TicketOptions = DEFAULT_OPTIONS,
) -> list[DomainEvent]:
    """A reply or an internal note, and the status change it implies.

    - A customer's reply to a Solved ticket, or to one Waiting on Customer, reopens it.
    - An agent's public reply to a New ticket opens it, unless it names another status.
    - ``set_status`` makes "reply and set Waiting on Customer" (or any status) one command.
    - A Closed ticket takes no message: the caller opens a follow-up ticket instead.
    """
    if ticket.is_closed:
        raise TicketClosed(
            f"ticket {ticket.id} is Closed; a new message opens a follow-up ticket instead"
        )
    if message.by_customer and message.visibility is Visibility.INTERNAL:
        raise InvalidTransition("customers cannot write internal notes")
    if message.by_customer and message.set_status:
        raise InvalidTransition("customers cannot set a ticket's status")
    message = replace(message, body_html=sanitise_html(message.body_html))
    if not message.body_html.strip() and not message.attachments:
        raise InvalidTransition("a message needs a body or an attachment")
    events: list[DomainEvent] = [
        MessageAdded(
            message_id=message_id,
            visibility=message.visibility,
            body_html=message.body_html,
            body_text=plain_text(message.body_html),
            attachments=message.attachments,
            channel=message.channel,
            automated=message.automated,
            email_message_id=message.email_message_id,
        )
    ]
    target: str | None = message.set_status
    reason: str | None = None
    if message.by_customer and (
        ticket.status_category is StatusCategory.RESOLVED or ticket.status == WAITING_ON_CUSTOMER
    ):
        target, reason = REOPEN_STATUS, "the customer replied"
    elif (
        target is None
        and not message.by_customer
        and message.visibility is Visibility.PUBLIC
        and ticket.status_category is StatusCategory.NEW
    ):
        target, reason = REOPEN_STATUS, "an agent replied"
    if target is not None and target != ticket.status:
        events.append(change_status(ticket, target, reason, options))
    return events


# --- merge ---------------------------------------------------------------------------------------


def merge(parent: Ticket, children: Iterable[Ticket]) -> dict[uuid.UUID, list[DomainEvent]]:
    """Merge ``children`` into ``parent``: events per ticket, to append in one transaction.

    Each child is closed with a private note naming the parent; the parent gets a private
    note naming the children. Refused: merging into itself, into a closed or merged ticket, a
    child that is closed or already merged, and a child that has children of its own (unmerge
    those first), which also rules out cycles.
    """
    children = list(children)
    if not children:
        raise InvalidTransition("name at least one ticket to merge")
    if parent.is_closed:
        raise InvalidTransition(f"cannot merge into {label(parent)}: it is Closed or merged")
    events: dict[uuid.UUID, list[DomainEvent]] = {parent.id: []}
    for child in children:
        if child.id == parent.id:
            raise InvalidTransition("a ticket cannot be merged into itself")
        if child.id in events:
            raise InvalidTransition(f"{label(child)} is named twice")
        if child.is_closed:
            raise InvalidTransition(f"{label(child)} is Closed or already merged")
        if child.merged_children:
            raise InvalidTransition(
                f"{label(child)} has merged tickets of its own; unmerge them first"
            )
        note = f"Merged into {label(parent)}."
        events[child.id] = [
            TicketMerged(parent_id=parent.id, parent_number=parent.number),
            _note(note),
            StatusChanged(
                from_status=child.status,
                to_status=CLOSED_STATUS,
                reason=f"merged into {label(parent)}",
                from_category=child.status_category,
                to_category=StatusCategory.CLOSED,
            ),
        ]
        events[parent.id].append(ChildTicketMerged(child_id=child.id, child_number=child.number))
    names = ", ".join(label(child) for child in children)
    events[parent.id].append(_note(f"Merged {names} into this ticket."))
    return events


def unmerge(parent: Ticket, child: Ticket) -> dict[uuid.UUID, list[DomainEvent]]:
    """Undo a merge: the child gets back the status it had before, the parent lets it go."""
    if child.merged_into != parent.id:
        raise InvalidTransition(f"{label(child)} is not merged into {label(parent)}")
    restored = status_before_merge(child)
    return {
        child.id: [
            TicketUnmerged(parent_id=parent.id, restored_status=restored),
            _note(f"Unmerged from {label(parent)}."),
        ],
        parent.id: [ChildTicketUnmerged(child_id=child.id)],
    }


def status_before_merge(child: Ticket) -> str:
    # The merge closed the child: its status before that is the one before the last entry.
    if len(child.status_history) >= 2:
        return child.status_history[-2][0]
    return REOPEN_STATUS


def merged_description(child: Mapping[str, Any]) -> dict[str, Any]:
    """A merged child's original description as an entry of its parent's conversation: public
    (a customer sees it when the child is theirs), by the child's requester, marked with the
    child's id and number (``merged_description``), at the time the child was opened."""
    return {
        "message_id": child["ticket_id"],
        "ticket_id": child["ticket_id"],
        "ticket_number": child["number"],
        "visibility": Visibility.PUBLIC.value,
        "author": {
            "kind": "customer",
            "id": str(child["customer_id"] or child["requester_email"] or child["ticket_id"]),
            "display_name": child["requester_name"],
        },
        "body_html": child["description"],
        "body_text": plain_text(child["description"]),
        "attachments": [],
        "channel": child["channel"],
        "automated": False,
        "created_at": child["created_at"],
        "owner_customer_id": child["customer_id"],
        "owner_email": child["requester_email"],
        "merged_description": True,
    }


def label(ticket: Ticket) -> str:
    return f"#{ticket.number}" if ticket.number is not None else str(ticket.id)


def _note(text: str) -> MessageAdded:
    return MessageAdded(
        message_id=uuid.uuid4(),
        visibility=Visibility.INTERNAL,
        body_html=f"<p>{html.escape(text)}</p>",
        body_text=text,
        automated=True,
    )


# --- folding -------------------------------------------------------------------------------------


def apply(
    ticket: Ticket | None,
    ticket_id: uuid.UUID,
    event: DomainEvent,
    occurred_at: datetime,
    options: TicketOptions = DEFAULT_OPTIONS,
) -> Ticket:
    """The state after ``event``; ``ticket`` is None before the first event."""
    if isinstance(event, TicketCreated):
        if ticket is not None:
            raise ValueError(f"ticket {ticket_id} created twice")
        return Ticket(
            id=ticket_id,
            version=1,
            number=event.number,
            subject=event.subject,
            description=event.description,
            requester_email=event.requester_email,
            requester_name=event.requester_name,
            customer_id=event.customer_id,
            company_id=event.company_id,
            channel=event.channel,
            status=event.status,
            status_category=event.status_category or options.category_or_guess(event.status),
            priority=event.priority,
            type=event.type,
            category=event.category,
            team_id=event.team_id,
            assignee_id=event.assignee_id,
            assignment_method="manual" if event.assignee_id is not None else None,
            tags=event.tags,
            business_unit=event.business_unit,
            brand=event.brand,
            attachments=event.attachments,
            follow_up_of=event.follow_up_of,
            customer_context=event.customer_context,
            custom_fields=dict(event.custom_fields),
            created_at=occurred_at,
            updated_at=occurred_at,
            status_history=((event.status, occurred_at),),
        )
    if ticket is None:
        raise ValueError(f"ticket {ticket_id}: {type(event).__name__} before TicketCreated")
    ticket = replace(ticket, version=ticket.version + 1, updated_at=occurred_at)
    if isinstance(event, StatusChanged):
        return _with_status(ticket, event.to_status, event.to_category, occurred_at, options)
    if isinstance(event, PriorityChanged):
        return replace(ticket, priority=event.to_priority)
    if isinstance(event, TicketFieldsChanged):
        edited: dict[str, Any] = {
            change.field: (change.new or "") if change.field in REQUIRED_TEXT else change.new
            for change in event.changes
        }
        return replace(ticket, **edited)
    if isinstance(event, TagsChanged):
        kept = tuple(tag for tag in ticket.tags if tag not in event.removed)
        return replace(ticket, tags=kept + tuple(t for t in event.added if t not in kept))
    if isinstance(event, TeamChanged):
        return replace(ticket, team_id=event.to_team_id, routing_version=ticket.version)
    if isinstance(event, TicketAssigned):
        return replace(
            ticket,
            assignee_id=event.assignee_id,
            assignment_method=event.method,
            routing_version=ticket.version,
        )
    if isinstance(event, TicketUnassigned):
        return replace(
            ticket, assignee_id=None, assignment_method=None, routing_version=ticket.version
        )
    if isinstance(event, MessageAdded):
        return replace(ticket, message_count=ticket.message_count + 1)
    if isinstance(event, TicketMerged):
        return replace(ticket, merged_into=event.parent_id)
    if isinstance(event, ChildTicketMerged):
        return replace(ticket, merged_children=(*ticket.merged_children, event.child_id))
    if isinstance(event, TicketUnmerged):
        unmerged = replace(ticket, merged_into=None)
        return _with_status(unmerged, event.restored_status, None, occurred_at, options)
    if isinstance(event, TicketCustomerContextChanged):
        return replace(
            ticket,
            company_id=event.company_id,
            requester_email=event.requester_email or ticket.requester_email,
            customer_context=event.customer_context,
        )
    if isinstance(event, CustomFieldsChanged):
        values = dict(ticket.custom_fields)
        for change in event.changes:
            if change.new is None:
                values.pop(change.key, None)
            else:
                values[change.key] = change.new
        return replace(ticket, custom_fields=values)
    if isinstance(event, ChildTicketUnmerged):
        children = tuple(c for c in ticket.merged_children if c != event.child_id)
        return replace(ticket, merged_children=children)
    return ticket  # event types this version does not fold still count towards the version


def _with_status(
    ticket: Ticket,
    status: str,
    category: StatusCategory | None,
    at: datetime,
    options: TicketOptions,
) -> Ticket:
    return replace(
        ticket,
        status=status,
        status_category=category or options.category_or_guess(status),
        status_history=(*ticket.status_history, (status, at)),
    )
