"""When a ticket created at a given instant would be due under a policy: the preview a manager
reads beside the policy form ("a High ticket created now would be due ...").

The due instants are the calendar's own business-time arithmetic
(:meth:`~sla_service.domain.calendar.BusinessCalendar.add_business_time`) from the creation
instant, exactly as a new ticket's running clock falls due when nothing pauses it. The next
response has no instant of its own (its clock starts with each customer message), so it is given
as its target only. Pure: time is passed in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sla_service.domain.calendar import BusinessCalendar, CalendarError
from sla_service.domain.policy import SlaMetric, SlaPolicy

__all__ = ["LONGEST_PREVIEWED", "due_preview"]

#: The longest target given a due instant: a year of working time (years of calendar days in
#: office hours). Longer ones would walk the calendar day by day for minutes, for a date that
#: tells a manager nothing a year does not.
LONGEST_PREVIEWED = timedelta(days=366)


def due_preview(
    policy: SlaPolicy, calendar: BusinessCalendar, priority: str, created_at: datetime
) -> dict[str, Any]:
    """The targets of ``priority`` and, for first response and resolution, the instant a ticket
    of that priority created at ``created_at`` would be due (``None``: no target, a target longer
    than :data:`LONGEST_PREVIEWED`, or no working time ahead)."""
    targets = policy.targets_for(priority)
    due: dict[str, str | None] = {}
    for metric in (SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION):
        target = targets.for_metric(metric)
        if target is None or target > LONGEST_PREVIEWED:
            due[metric.value] = None
            continue
        try:
            due[metric.value] = calendar.add_business_time(created_at, target).isoformat()
        except (CalendarError, OverflowError):  # no working time ahead; past the year 9999
            due[metric.value] = None
    return {
        "priority": priority,
        "target_seconds": {
            metric.value: (target.total_seconds() if target is not None else None)
            for metric in SlaMetric
            for target in [targets.for_metric(metric)]
        },
        "due_at": due,
    }
