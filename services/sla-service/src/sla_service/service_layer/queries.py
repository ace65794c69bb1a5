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

from sla_service.domain import SlaMetric
from sla_service.service_layer.tracker import SlaTracker, TicketSla

__all__ = ["MAX_WINDOW", "BreachingSoon", "DurationError", "breaching_soon", "parse_duration"]

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
