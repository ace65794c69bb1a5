"""Holiday lists and business calendars as named objects shared by policies and teams.

The seed asks to "link a holiday list": a national holiday is entered once, in a
:class:`HolidayListDocument`, and every policy (``holiday_list_ids``) or named calendar that links
the list counts it. A :class:`CalendarDocument` is a named
:class:`~sla_service.domain.calendar.BusinessCalendar` (a time zone, weekly hours, its own
holidays) that policies link by ``calendar_id`` instead of carrying a calendar of their own, and
that a team works by (regional teams: a Jakarta team and a Mumbai team each count their own
hours and holidays; a policy with ``use_team_calendar`` counts in the ticket's team's calendar).

What a policy counts in is always a plain :class:`BusinessCalendar`: the linked objects are
resolved (:func:`effective_calendar`) whenever the configuration changes, so a changed holiday
list gives the policies that use it a new revision, and their open tickets' due instants are
computed again (:mod:`sla_service.service_layer.tracker`). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sla_service.domain.calendar import BusinessCalendar, Holiday, Weekday
from sla_service.domain.validation import problems

__all__ = [
    "ID_PATTERN",
    "CalendarDocument",
    "HolidayListDocument",
    "InUseError",
    "effective_calendar",
    "parse_calendar",
    "parse_holiday_list",
    "with_holidays",
]

#: Ids managers choose for policies, holiday lists and calendars.
ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
#: At most this many holiday lists linked from one policy or calendar.
MAX_LINKED_LISTS: Final = 20


class InUseError(ValueError):
    """A holiday list or calendar cannot be deleted while something uses it."""

    def __init__(self, what: str, users: Iterable[str]) -> None:
        self.users = tuple(sorted(users))
        super().__init__(f"{what} is in use by {', '.join(self.users)}: unlink it first")


class HolidayListDocument(BaseModel):
    """A named list of holidays (dates, ranges, yearly dates), e.g. "Indonesia 2027"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    holiday_list_id: str = Field(min_length=1, max_length=100, pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    holidays: tuple[Holiday, ...] = Field(default=(), max_length=1000)


class CalendarDocument(BaseModel):
    """A named business calendar and the holiday lists it links."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    calendar_id: str = Field(min_length=1, max_length=100, pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    calendar: BusinessCalendar
    holiday_list_ids: tuple[str, ...] = Field(default=(), max_length=MAX_LINKED_LISTS)


def parse_holiday_list(raw: object) -> HolidayListDocument:
    """A holiday list from its JSON; ``ValueError`` with a readable reason when not valid."""
    try:
        return HolidayListDocument.model_validate(raw)
    except ValidationError as error:
        raise ValueError(problems(error)) from None


def parse_calendar(raw: object) -> CalendarDocument:
    """A named calendar from its JSON; ``ValueError`` with a readable reason when not valid."""
    try:
        return CalendarDocument.model_validate(raw)
    except ValidationError as error:
        raise ValueError(problems(error)) from None


def with_holidays(
    calendar: BusinessCalendar, lists: Iterable[HolidayListDocument]
) -> BusinessCalendar:
    """``calendar`` counting the holidays of ``lists`` as well (a new, validated calendar); a
    24x7 calendar becomes every weekday 00:00-24:00 with those holidays."""
    extra = [holiday for holiday_list in lists for holiday in holiday_list.holidays]
    if not extra:
        return calendar
    data = calendar.model_dump()
    if calendar.always_open:
        # Round the clock but for the holidays: every weekday 00:00-24:00.
        whole_day = [{"start": "00:00", "end": "24:00"}]
        data.update(always_open=False, weekly_hours={day: whole_day for day in Weekday})
    return BusinessCalendar.model_validate({**data, "holidays": [*data["holidays"], *extra]})


def linked_lists(
    ids: Iterable[str], lists: Mapping[str, HolidayListDocument], owner: str
) -> list[HolidayListDocument]:
    """The holiday lists ``ids`` name; ``ValueError`` naming one that does not exist."""
    found = []
    for list_id in ids:
        holiday_list = lists.get(list_id)
        if holiday_list is None:
            raise ValueError(f"{owner} links the holiday list {list_id!r}, which does not exist")
        found.append(holiday_list)
    return found


def effective_calendar(
    document: CalendarDocument, lists: Mapping[str, HolidayListDocument]
) -> BusinessCalendar:
    """A named calendar with the holidays of the lists it links."""
    owner = f"calendar {document.calendar_id!r}"
    return with_holidays(document.calendar, linked_lists(document.holiday_list_ids, lists, owner))
