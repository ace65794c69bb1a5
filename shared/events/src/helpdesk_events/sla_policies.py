"""SLA configuration events (stream type ``sla-policies``, topic ``helpdesk.sla-policies.v1``,
one stream: the policy set, the named holiday lists and business calendars policies link, and the
calendar each team works by), read and written by the SLA service through
:class:`helpdesk_platform.config_log.ConfigLog`.

A policy travels as the JSON the SLA service's admin API accepts (its condition, active range,
calendar, targets per priority, pausing and fulfilling categories, position in the ordered list,
whether it is the default); the contract keeps it as an object so that the policy model can grow
without a new event version.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field

from helpdesk_events.registry import DomainEvent, event_type

SLA_POLICIES_STREAM = "sla-policies"


@event_type("SlaPolicySaved", version=1, stream_type=SLA_POLICIES_STREAM)
class SlaPolicySaved(DomainEvent):
    """A policy was created or replaced as a whole (``policy["policy_id"]`` names it)."""

    policy: dict[str, Any] = Field(description="the policy, as the SLA service's API takes it")


@event_type("SlaPolicyDeleted", version=1, stream_type=SLA_POLICIES_STREAM)
class SlaPolicyDeleted(DomainEvent):
    """A policy was removed (the default policy cannot be)."""

    policy_id: str = Field(min_length=1, max_length=100)


@event_type("HolidayListSaved", version=1, stream_type=SLA_POLICIES_STREAM)
class HolidayListSaved(DomainEvent):
    """A named holiday list was created or replaced (``holiday_list["holiday_list_id"]``); every
    policy and calendar linking it counts its holidays from now on."""

    holiday_list: dict[str, Any] = Field(
        description="holiday_list_id, name, holidays (as the SLA service's API takes them)"
    )


@event_type("HolidayListDeleted", version=1, stream_type=SLA_POLICIES_STREAM)
class HolidayListDeleted(DomainEvent):
    """A holiday list no policy or calendar links any more was removed."""

    holiday_list_id: str = Field(min_length=1, max_length=100)


@event_type("BusinessCalendarSaved", version=1, stream_type=SLA_POLICIES_STREAM)
class BusinessCalendarSaved(DomainEvent):
    """A named business calendar was created or replaced (``calendar["calendar_id"]``)."""

    calendar: dict[str, Any] = Field(
        description="calendar_id, name, calendar (time zone, hours, holidays), holiday_list_ids"
    )


@event_type("BusinessCalendarDeleted", version=1, stream_type=SLA_POLICIES_STREAM)
class BusinessCalendarDeleted(DomainEvent):
    """A named calendar no policy or team uses any more was removed."""

    calendar_id: str = Field(min_length=1, max_length=100)


@event_type("TeamCalendarSet", version=1, stream_type=SLA_POLICIES_STREAM)
class TeamCalendarSet(DomainEvent):
    """The named calendar a team works by (None: the team has none; policies then count in their
    own calendar for its tickets)."""

    team_id: uuid.UUID
    calendar_id: str | None = Field(default=None, min_length=1, max_length=100)
