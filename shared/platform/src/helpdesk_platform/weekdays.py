"""The days of the week as the helpdesk names them in JSON ("monday"), for every domain that
keeps working hours (the SLA calendars, the assignment schedules): one definition, so a day
written by one service reads the same in the other. Pure: no I/O, no framework."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

__all__ = ["WEEKDAYS", "Weekday"]


class Weekday(StrEnum):
    """A day of the week, named in full in JSON ("monday")."""

    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @classmethod
    def of(cls, day: date) -> Weekday:
        return WEEKDAYS[day.weekday()]

    def previous(self) -> Weekday:
        return WEEKDAYS[(WEEKDAYS.index(self) - 1) % 7]


#: Monday first, as ``date.weekday()`` counts.
WEEKDAYS: tuple[Weekday, ...] = tuple(Weekday)
