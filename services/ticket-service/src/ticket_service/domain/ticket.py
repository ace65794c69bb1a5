"""The Ticket aggregate: state folded from its events, and the decisions that emit new ones.

Commands (``create``, ``change_status``) check the rules against the current state and return
new event data; they never mutate. ``Ticket.replay`` folds stored events into state, so the
same code shows a ticket now or as it was at any earlier version.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from helpdesk_events import DomainEvent, StatusCategory, StatusChanged, TicketCreated
from ticket_service.domain.errors import InvalidTransition

#: Default statuses and their categories (admin-configurable lists come with the tickets issue).
DEFAULT_STATUSES: dict[str, StatusCategory] = {
    "New": StatusCategory.NEW,
    "Open": StatusCategory.ACTIVE,
    "In Progress": StatusCategory.ACTIVE,
    "Pending": StatusCategory.PAUSED,
    "Waiting on Customer": StatusCategory.PAUSED,
    "Solved": StatusCategory.RESOLVED,
    "Closed": StatusCategory.CLOSED,
}
DEFAULT_PRIORITIES: tuple[str, ...] = ("Low", "Medium", "High", "Urgent")
INITIAL_STATUS = "New"


@dataclass(frozen=True)
class Ticket:
    id: uuid.UUID
    version: int
    subject: str
    description: str
    requester_email: str | None
    requester_name: str | None
    channel: str
    status: str
    priority: str
    tags: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    status_history: tuple[tuple[str, datetime], ...] = field(default=())

    @property
    def status_category(self) -> StatusCategory:
        return DEFAULT_STATUSES[self.status]

    @staticmethod
    def replay(ticket_id: uuid.UUID, events: Iterable[tuple[DomainEvent, datetime]]) -> Ticket:
        """Fold a ticket's events (in stream order) into its state."""
        ticket: Ticket | None = None
        for event, occurred_at in events:
            ticket = apply(ticket, ticket_id, event, occurred_at)
        if ticket is None:
            raise ValueError(f"ticket {ticket_id} has no events")
        return ticket


def create(
    *,
    subject: str,
    description: str,
    channel: str,
    priority: str,
    requester_email: str | None = None,
    requester_name: str | None = None,
    tags: Iterable[str] = (),
) -> TicketCreated:
    """Decide the first event of a new ticket."""
    if priority not in DEFAULT_PRIORITIES:
        raise InvalidTransition(
            f"unknown priority {priority!r}; use one of {', '.join(DEFAULT_PRIORITIES)}"
        )
    clean_tags = tuple(dict.fromkeys(tag.strip().lower() for tag in tags if tag.strip()))
    return TicketCreated(
        subject=subject.strip(),
        description=description,
        requester_email=requester_email,
        requester_name=requester_name,
        channel=channel,
        status=INITIAL_STATUS,
        priority=priority,
        tags=clean_tags,
    )


def change_status(ticket: Ticket, to_status: str, reason: str | None = None) -> StatusChanged:
    """Decide a status change, or refuse it with a message saying why."""
    if to_status not in DEFAULT_STATUSES:
        raise InvalidTransition(
            f"unknown status {to_status!r}; use one of {', '.join(DEFAULT_STATUSES)}"
        )
    if ticket.status_category is StatusCategory.CLOSED:
        raise InvalidTransition(
            f"ticket {ticket.id} is Closed and cannot change; open a follow-up ticket instead"
        )
    if to_status == ticket.status:
        raise InvalidTransition(f"ticket {ticket.id} is already {to_status!r}")
    if DEFAULT_STATUSES[to_status] is StatusCategory.NEW:
        raise InvalidTransition("a ticket never goes back to New; use Open instead")
    return StatusChanged(from_status=ticket.status, to_status=to_status, reason=reason)


def apply(
    ticket: Ticket | None, ticket_id: uuid.UUID, event: DomainEvent, occurred_at: datetime
) -> Ticket:
    """The state after ``event``; ``ticket`` is None before the first event."""
    if isinstance(event, TicketCreated):
        if ticket is not None:
            raise ValueError(f"ticket {ticket_id} created twice")
        return Ticket(
            id=ticket_id,
            version=1,
            subject=event.subject,
            description=event.description,
            requester_email=event.requester_email,
            requester_name=event.requester_name,
            channel=event.channel,
            status=event.status,
            priority=event.priority,
            tags=event.tags,
            created_at=occurred_at,
            updated_at=occurred_at,
            status_history=((event.status, occurred_at),),
        )
    if ticket is None:
        raise ValueError(f"ticket {ticket_id}: {type(event).__name__} before TicketCreated")
    if isinstance(event, StatusChanged):
        return replace(
            ticket,
            version=ticket.version + 1,
            status=event.to_status,
            updated_at=occurred_at,
            status_history=(*ticket.status_history, (event.to_status, occurred_at)),
        )
    # Events this version does not fold still count towards the stream version.
    return replace(ticket, version=ticket.version + 1, updated_at=occurred_at)
