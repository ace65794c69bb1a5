"""Questions answered from the per-ticket SLA state; pure (time is passed in).

A worker holds the state of the tickets of its own partitions only, so in a deployment of several
workers each one answers for its partitions (see the README); with one worker it answers for all.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from helpdesk_platform.auth import Principal
from sla_service.domain import SlaMetric
from sla_service.service_layer.tracker import SlaTracker, TicketSla

__all__ = [
    "MAX_WINDOW",
    "BreachingSoon",
    "DurationError",
    "breaching_soon",
    "breaching_soon_view",
    "parse_duration",
    "sees",
    "ticket_view",
]

#: The longest window asked about: a year (and a day). Longer ones overflowed ``now + within``
#: past the year 9999 (security issue #11) and tell nothing a year does not.
MAX_WINDOW = timedelta(days=366)

_DURATION = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


class DurationError(ValueError):
    """Not an ISO 8601 duration this service reads (PnDTnHnMnS)."""


def parse_duration(text: str) -> timedelta:
    """``PT2H``, ``P1DT30M``, ``PT90S`` ... as a timedelta (days, hours, minutes, seconds)."""
    match = _DURATION.match(text.strip().upper())
    if match is None or text.strip().upper() in {"P", "PT"} or text.strip().endswith("T"):
        raise DurationError(f"{text!r} is not an ISO 8601 duration such as PT2H, PT30M or P1DT4H")
    parts = {name: int(value) for name, value in match.groupdict().items() if value}
    try:
        duration = timedelta(**parts)
    except OverflowError:
        duration = timedelta.max
    if duration > MAX_WINDOW:
        raise DurationError(f"{text!r} is too long: a window of at most P366D (a year)")
    return duration


@dataclass(frozen=True)
class BreachingSoon:
    ticket_id: uuid.UUID
    metric: SlaMetric
    due_at: datetime | None
    remaining_seconds: float
    breached: bool
    team_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    priority: str


def breaching_soon(
    tracker: SlaTracker,
    states: Iterable[TicketSla],
    now: datetime,
    within: timedelta,
    team_id: uuid.UUID | None = None,
    assignee_id: uuid.UUID | None = None,
) -> list[BreachingSoon]:
    """Running metrics due by ``now + within`` or already breached, soonest first.

    ``remaining_seconds`` is business time left (negative once exceeded); met metrics are left
    out, and so are paused ones that are not breached (a paused clock falls due at no instant).
    """
    horizon = now + within
    found: list[BreachingSoon] = []
    for state in states:
        if team_id is not None and state.team_id != team_id:
            continue
        if assignee_id is not None and state.assignee_id != assignee_id:
            continue
        for name, metric in state.metrics.items():
            clock = metric.clock
            if clock.is_met:
                continue
            due = tracker.due_at(state, metric)
            remaining = metric.target - clock.elapsed(tracker.calendar_of(state), now)
            breached = clock.breached or remaining <= timedelta(0)
            if not breached and (due is None or due > horizon):
                continue
            found.append(
                BreachingSoon(
                    ticket_id=state.ticket_id,
                    metric=name,
                    due_at=due,
                    remaining_seconds=remaining.total_seconds(),
                    breached=breached,
                    team_id=state.team_id,
                    assignee_id=state.assignee_id,
                    priority=state.priority,
                )
            )
    found.sort(key=lambda item: (item.remaining_seconds, str(item.ticket_id), item.metric.value))
    return found


def breaching_soon_view(within: timedelta, found: Iterable[BreachingSoon]) -> dict[str, Any]:
    """The JSON answer of ``GET /sla/breaching-soon``."""
    return {
        "within_seconds": within.total_seconds(),
        "items": [
            {
                "ticket_id": str(item.ticket_id),
                "metric": item.metric.value,
                "due_at": item.due_at.isoformat() if item.due_at else None,
                "remaining_seconds": item.remaining_seconds,
                "breached": item.breached,
                "priority": item.priority,
                "team_id": str(item.team_id) if item.team_id else None,
                "assignee_id": str(item.assignee_id) if item.assignee_id else None,
            }
            for item in found
        ],
    }


def sees(caller: Principal, state: TicketSla) -> bool:
    """Whether ``caller`` may see the ticket's SLA: staff always, a customer when the ticket is
    theirs (the token's subject is the customer's id), as the ticket service decides."""
    if caller.is_staff:
        return True
    customer_id = state.fields.customer_id if state.fields else None
    try:
        return customer_id is not None and customer_id == uuid.UUID(caller.subject)
    except ValueError:
        return False


def ticket_view(tracker: SlaTracker, state: TicketSla, now: datetime) -> dict[str, Any]:
    """The JSON answer of ``GET /tickets/{ticket_id}/sla``: policy, clocks and due instants."""
    calendar = tracker.calendar_of(state)
    metrics = {}
    for name, metric in sorted(state.metrics.items()):
        due = tracker.due_at(state, metric)
        clock = metric.clock
        metrics[name.value] = {
            "state": "met" if clock.is_met else "running" if clock.is_running else "paused",
            "target_seconds": metric.target.total_seconds(),
            "elapsed_seconds": clock.elapsed(calendar, now).total_seconds(),
            "due_at": due.isoformat() if due else None,
            "met_at": clock.met_at.isoformat() if clock.met_at else None,
            "breached": clock.breached,
            "warned": metric.warned,
        }
    return {
        "ticket_id": str(state.ticket_id),
        "policy": state.policy,
        "priority": state.priority,
        "status_category": state.category.value,
        "team_id": str(state.team_id) if state.team_id else None,
        "assignee_id": str(state.assignee_id) if state.assignee_id else None,
        "metrics": metrics,
    }
