"""When an assignment rule is active: days of the week and hours of the day, in one time zone.

A :class:`Schedule` is read in the local wall-clock time of its IANA ``time_zone``. It is active
on its ``days`` from ``start`` until ``end``:

* ``00:00``-``24:00`` (the default) is the whole day; ``end`` may be written ``"24:00"``;
* ``08:00``-``17:00`` is active from 08:00 up to, not including, 17:00;
* ``22:00``-``06:00`` (``start`` after ``end``) is a night shift: it starts on a listed day and
  runs into the next morning, whether or not that next day is listed.

Wall-clock times follow the zone's daylight-saving rules: on a day when clocks jump, the window
is whatever local times that day has. This is simpler than the SLA service's business calendars
(no holidays, one window a day) because a rule only needs to know "is it on now?".
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

from helpdesk_platform.weekdays import WEEKDAYS, Weekday

__all__ = ["EVERY_DAY", "WORKWEEK", "NaiveDatetimeError", "Schedule", "Weekday"]

_MIDNIGHT = time(0)


class NaiveDatetimeError(ValueError):
    """A datetime without a time zone was given where an instant is needed."""


_WEEKDAYS = WEEKDAYS
EVERY_DAY: frozenset[Weekday] = frozenset(_WEEKDAYS)
WORKWEEK: frozenset[Weekday] = frozenset(_WEEKDAYS[:5])


def _format(value: time) -> str:
    return value.strftime("%H:%M") if value.second == value.microsecond == 0 else value.isoformat()


class Schedule(BaseModel):
    """Days of the week and a daily window of local time in which a rule is active."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    time_zone: str = "UTC"
    days: frozenset[Weekday] = Field(default=EVERY_DAY, min_length=1)
    start: time = _MIDNIGHT
    end: time = _MIDNIGHT

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value

    @field_validator("end", mode="before")
    @classmethod
    def _read_end_of_day(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip() in {"24:00", "24:00:00"}:
            return _MIDNIGHT
        return value

    @field_validator("start", "end")
    @classmethod
    def _wall_clock_only(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("schedule times are local wall-clock times: give them without a zone")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.end != _MIDNIGHT and self.start == self.end:
            raise ValueError(
                f"a schedule window cannot start and end at {_format(self.start)}; "
                "use 00:00-24:00 for the whole day"
            )
        return self

    @field_serializer("days")
    def _write_days(self, value: frozenset[Weekday]) -> list[str]:
        return [day.value for day in _WEEKDAYS if day in value]

    @field_serializer("start")
    def _write_start(self, value: time) -> str:
        return _format(value)

    @field_serializer("end")
    def _write_end(self, value: time) -> str:
        return "24:00" if value == _MIDNIGHT else _format(value)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def overnight(self) -> bool:
        """Whether the window runs past midnight into the next day."""
        return self.end != _MIDNIGHT and self.start > self.end

    def is_active(self, now: datetime) -> bool:
        """Whether the instant ``now`` (timezone-aware, any zone) falls in the schedule."""
        if now.tzinfo is None or now.utcoffset() is None:
            raise NaiveDatetimeError(f"a timezone-aware datetime is needed; got {now!r}")
        local = now.astimezone(self.zone)
        wall = local.time().replace(fold=0)
        day = Weekday.of(local.date())
        if self.end == _MIDNIGHT:
            return day in self.days and wall >= self.start
        if not self.overnight:
            return day in self.days and self.start <= wall < self.end
        return (day in self.days and wall >= self.start) or (
            day.previous() in self.days and wall < self.end
        )

    def __str__(self) -> str:
        days = ",".join(day.value[:3] for day in _WEEKDAYS if day in self.days)
        end = "24:00" if self.end == _MIDNIGHT else _format(self.end)
        return f"{days} {_format(self.start)}-{end} {self.time_zone}"
