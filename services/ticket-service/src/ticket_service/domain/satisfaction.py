"""Customer satisfaction (CSAT) and the customer's own "my issue is resolved" (pure rules).

A ticket may be rated once per resolution: each time it becomes Solved the customer may rate
it, and a reopened ticket solved again may be rated again. What a ticket's history says about
that is folded from its events (:func:`satisfaction_of`), so the rule needs no extra state on
the ticket aggregate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from helpdesk_events import DomainEvent, StatusCategory, StatusChanged
from helpdesk_events.tickets import RatingScale, SatisfactionRated
from ticket_service.domain.errors import InvalidTransition
from ticket_service.domain.options import DEFAULT_OPTIONS, TicketOptions
from ticket_service.domain.ticket import Ticket, change_status

#: How CSAT figures are grouped: by the ticket's team or its assignee.
CsatGroupBy = Literal["team", "assignee"]

MAX_COMMENT = 2000
#: What the customer's "my issue is resolved" records as the reason of the status change.
CUSTOMER_RESOLVED_REASON = "the customer confirmed the issue is resolved"


class AlreadyRated(InvalidTransition):
    """This resolution of the ticket was rated already (HTTP 409)."""


@dataclass(frozen=True)
class SatisfactionState:
    """How many times the ticket became Solved, and which of those resolutions were rated."""

    resolutions: int = 0
    rated: frozenset[int] = frozenset()


def satisfaction_of(events: Iterable[DomainEvent]) -> SatisfactionState:
    resolutions, rated = 0, set[int]()
    for event in events:
        if isinstance(event, StatusChanged) and event.to_category is StatusCategory.RESOLVED:
            resolutions += 1
        elif isinstance(event, SatisfactionRated):
            rated.add(event.resolution)
    return SatisfactionState(resolutions, frozenset(rated))


def is_satisfied(scale: RatingScale, score: int) -> bool:
    """CSAT's reading of a score: good, or 4-5 stars."""
    return score == 1 if scale is RatingScale.GOOD_BAD else score >= 4


def rate(
    ticket: Ticket,
    state: SatisfactionState,
    *,
    scale: RatingScale,
    score: int,
    comment: str | None = None,
) -> SatisfactionRated:
    """Decide a rating of the ticket's current resolution, or refuse it saying why."""
    if ticket.status_category is not StatusCategory.RESOLVED or state.resolutions == 0:
        raise InvalidTransition(
            f"ticket {ticket.id} is {ticket.status!r}: it can be rated once it is solved"
        )
    if state.resolutions in state.rated:
        raise AlreadyRated(
            f"ticket {ticket.id} is already rated for this resolution; "
            "it can be rated again if it is reopened and solved again"
        )
    allowed = (0, 1) if scale is RatingScale.GOOD_BAD else (1, 2, 3, 4, 5)
    if score not in allowed:
        raise InvalidTransition(
            f"a {scale.value} rating is one of {', '.join(map(str, allowed))}; got {score}"
        )
    text = (comment or "").strip() or None
    if text is not None and len(text) > MAX_COMMENT:
        raise InvalidTransition(f"the comment is limited to {MAX_COMMENT} characters")
    return SatisfactionRated(
        scale=scale,
        score=score,
        satisfied=is_satisfied(scale, score),
        comment=text,
        resolution=state.resolutions,
        team_id=ticket.team_id,
        assignee_id=ticket.assignee_id,
    )


def resolved_status(options: TicketOptions) -> str:
    """The status a customer's "my issue is resolved" sets: the first Solved-like one."""
    for status in options.statuses:
        if options.category_of(status) is StatusCategory.RESOLVED:
            return status
    raise InvalidTransition("no status means resolved in the configured options")


def resolve_by_customer(ticket: Ticket, options: TicketOptions = DEFAULT_OPTIONS) -> StatusChanged:
    """The customer confirms the issue is resolved: the ticket becomes Solved."""
    if ticket.status_category is StatusCategory.RESOLVED:
        raise InvalidTransition(f"ticket {ticket.id} is already {ticket.status!r}")
    return change_status(ticket, resolved_status(options), CUSTOMER_RESOLVED_REASON, options)
