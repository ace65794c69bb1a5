"""Business calendars: which instants are working time, and exact business-time arithmetic.

The model
---------
A :class:`BusinessCalendar` is read in the local wall-clock time of one IANA ``time_zone``:

* ``weekly_hours`` gives each weekday zero or more :class:`WorkingWindow` s, e.g. 08:00-12:00
  and 13:00-17:00. A window may end at 24:00 (the midnight that ends the day); a weekday left
  out has no working time.
* ``holidays`` are :class:`HolidayDate` (one date), :class:`HolidayRange` (inclusive dates) and
  :class:`YearlyHoliday` (a month and day every year). A holiday has no working time at all.
* ``always_open`` makes an explicit 24x7 calendar: every instant is working time.

Every method takes timezone-aware datetimes (in any zone; naive ones are rejected with
:class:`NaiveDatetimeError`) and returns UTC datetimes. The arithmetic is exact to the microsecond
and walks over days, never minutes: each date's working intervals are worked out once, as UTC
instants, and kept in a small per-calendar LRU cache.

Decisions
---------
* **Wall-clock bounds in DST transitions.** A window bound is placed at the *first instant at which
  the local clock reads that time (or later) on that date*:

  - an ordinary time is its only instant;
  - a time that occurs twice because clocks go back (a fold) is its first occurrence. A window
    01:00-04:00 on New York's fall-back day therefore lasts 4 real hours (01:00-02:00 is lived
    twice), and a window 00:00-01:30 that day ends at the first 01:30;
  - a time skipped because clocks go forward (a gap) is the instant of the jump. A window
    01:00-04:00 on New York's spring-forward day lasts 2 real hours, a window starting at 02:30
    that day starts at 03:00 EDT, and a window lying wholly in the gap is empty.

  The same rule places 24:00 (the next day's 00:00), so consecutive days never overlap or leave
  a hole between a window ending at 24:00 and one starting at 00:00.
* **Adding.** ``add_business_time(start, d)`` is the *earliest* instant ``e >= start`` with
  ``business_time_between(start, e) == d``. So ``d == 0`` gives ``start`` itself, even outside
  working time, and a duration that exactly uses up a window ends when the window closes (12:00),
  not when the next one opens (13:00). For ``d > 0`` counting begins at the next working instant.
* **Measuring.** ``business_time_between(start, end)`` is the working time in ``[start, end)``;
  zero when ``end <= start``.
* **29 February** as a yearly holiday falls in leap years only.
* **Termination.** A calendar must have some weekly working time (or be 24x7). If holidays still
  leave none for :data:`MAX_DAYS_WITHOUT_WORK` consecutive days, a forward search raises
  :class:`NoWorkingTimeError` instead of looping forever.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_serializer,
    field_validator,
    model_validator,
)

from helpdesk_platform.weekdays import WEEKDAYS, Weekday

__all__ = [
    "MAX_DAYS_WITHOUT_WORK",
    "WORKWEEK",
    "BusinessCalendar",
    "CalendarError",
    "Holiday",
    "HolidayDate",
    "HolidayRange",
    "Interval",
    "NaiveDatetimeError",
    "NoWorkingTimeError",
    "Weekday",
    "WorkingWindow",
    "YearlyHoliday",
]

#: Consecutive days without working time after which a forward search gives up (about 2 years).
MAX_DAYS_WITHOUT_WORK = 732

#: A half-open span of working time ``[opening, closing)`` in UTC.
Interval = tuple[datetime, datetime]

_UTC = UTC
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_ONE_DAY = timedelta(days=1)
_ONE_SECOND = timedelta(seconds=1)
_MIDNIGHT = time(0)
# Dates whose intervals one calendar keeps: about eleven years of days.
_INTERVAL_CACHE_SIZE = 4096


class CalendarError(ValueError):
    """A business-time computation cannot be done with these inputs."""


class NaiveDatetimeError(CalendarError):
    """A datetime without a time zone was given where an instant is needed."""


class NoWorkingTimeError(CalendarError):
    """The calendar has no working time ahead (within :data:`MAX_DAYS_WITHOUT_WORK` days)."""


_WEEKDAYS = WEEKDAYS
WORKWEEK: tuple[Weekday, ...] = _WEEKDAYS[:5]


def _format_wall_time(value: time) -> str:
    return value.strftime("%H:%M") if value.second == value.microsecond == 0 else value.isoformat()


def _since_midnight(value: time) -> timedelta:
    return timedelta(
        hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond
    )


class WorkingWindow(BaseModel):
    """Working hours within one day, in local wall-clock time: ``[start, end)``.

    ``end`` may be given as ``"24:00"`` (or ``time(0)``) for the midnight that ends the day.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: time
    end: time

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
            raise ValueError("window times are local wall-clock times: give them without a zone")
        return value

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        if not self.ends_at_midnight and self.start >= self.end:
            raise ValueError(
                f"a working window must start before it ends; got {self} "
                "(a window may end at 24:00, but not cross midnight: split it over two days)"
            )
        return self

    @field_serializer("start")
    def _write_start(self, value: time) -> str:
        return _format_wall_time(value)

    @field_serializer("end")
    def _write_end(self, value: time) -> str:
        return "24:00" if self.ends_at_midnight else _format_wall_time(value)

    @property
    def ends_at_midnight(self) -> bool:
        return self.end == _MIDNIGHT

    @property
    def start_offset(self) -> timedelta:
        """How long after local midnight the window opens."""
        return _since_midnight(self.start)

    @property
    def end_offset(self) -> timedelta:
        """How long after local midnight the window closes (24 h for a window ending at 24:00)."""
        return _ONE_DAY if self.ends_at_midnight else _since_midnight(self.end)

    def __str__(self) -> str:
        end = "24:00" if self.ends_at_midnight else _format_wall_time(self.end)
        return f"{_format_wall_time(self.start)}-{end}"


class HolidayDate(BaseModel):
    """One holiday date."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["date"] = "date"
    on: date
    name: str = Field(default="", max_length=200)


class HolidayRange(BaseModel):
    """Consecutive holiday dates, ``first`` to ``last`` inclusive."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["range"] = "range"
    first: date
    last: date
    name: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.last < self.first:
            raise ValueError(
                f"a holiday range must not end before it starts; got {self.first} to {self.last}"
            )
        return self


class YearlyHoliday(BaseModel):
    """The same month and day every year. 29 February falls in leap years only."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["yearly"] = "yearly"
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    name: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _exists(self) -> Self:
        try:
            date(2000, self.month, self.day)  # a leap year, so that 29 February is accepted
        except ValueError:
            raise ValueError(
                f"no such day of the year: month {self.month}, day {self.day}"
            ) from None
        return self


Holiday = Annotated[HolidayDate | HolidayRange | YearlyHoliday, Field(discriminator="kind")]


class _IntervalCache:
    """A calendar's memo of each date's intervals (oldest entries are dropped first).

    It holds derived data only, so it takes no part in equality and pickles empty.
    """

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[date, tuple[Interval, ...]] = {}

    def get(self, day: date) -> tuple[Interval, ...] | None:
        return self._entries.get(day)

    def put(self, day: date, intervals: tuple[Interval, ...]) -> None:
        if len(self._entries) >= _INTERVAL_CACHE_SIZE:
            del self._entries[next(iter(self._entries))]
        self._entries[day] = intervals

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _IntervalCache)

    __hash__ = object.__hash__

    def __reduce__(self) -> tuple[type[_IntervalCache], tuple[()]]:
        return _IntervalCache, ()


def _as_utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveDatetimeError(
            f"{what} must be a timezone-aware datetime (an instant); got naive {moment.isoformat()}"
        )
    return moment.astimezone(_UTC)


def _check_duration(duration: timedelta) -> None:
    if duration < timedelta(0):
        raise CalendarError(f"a duration of business time cannot be negative; got {duration}")


class BusinessCalendar(BaseModel):
    """Working hours and holidays in one time zone; see the module docstring for the rules.

    Immutable: build a new calendar to change one (its cached intervals stay valid).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    time_zone: str = Field(examples=["Asia/Jakarta", "Europe/Berlin", "UTC"])
    weekly_hours: dict[Weekday, tuple[WorkingWindow, ...]] = Field(default_factory=dict)
    holidays: tuple[Holiday, ...] = ()
    always_open: bool = False

    _zone: ZoneInfo = PrivateAttr()
    _holiday_dates: frozenset[date] = PrivateAttr()
    _yearly_holidays: frozenset[tuple[int, int]] = PrivateAttr()
    _holiday_ranges: tuple[tuple[date, date], ...] = PrivateAttr()
    _cache: _IntervalCache = PrivateAttr(default_factory=_IntervalCache)

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def twenty_four_seven(cls, time_zone: str = "UTC") -> BusinessCalendar:
        """A calendar in which every instant is working time."""
        return cls(time_zone=time_zone, always_open=True)

    @classmethod
    def office_hours(
        cls,
        time_zone: str,
        windows: Iterable[tuple[time | str, time | str]],
        days: Iterable[Weekday] = WORKWEEK,
        holidays: Iterable[HolidayDate | HolidayRange | YearlyHoliday] = (),
    ) -> BusinessCalendar:
        """The same windows on each of ``days`` (Monday to Friday unless told)."""
        day_windows = tuple(
            WorkingWindow.model_validate({"start": start, "end": end}) for start, end in windows
        )
        return cls(
            time_zone=time_zone,
            weekly_hours=dict.fromkeys(days, day_windows),
            holidays=tuple(holidays),
        )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as 'Asia/Jakarta' or 'UTC'"
            ) from None
        return value

    @field_validator("weekly_hours")
    @classmethod
    def _windows_apart(
        cls, value: dict[Weekday, tuple[WorkingWindow, ...]]
    ) -> dict[Weekday, tuple[WorkingWindow, ...]]:
        normalised: dict[Weekday, tuple[WorkingWindow, ...]] = {}
        for weekday in _WEEKDAYS:  # keeps the week in order, whatever order it was given in
            windows = tuple(sorted(value.get(weekday, ()), key=lambda window: window.start_offset))
            for earlier, later in itertools.pairwise(windows):
                if later.start_offset < earlier.end_offset:
                    raise ValueError(
                        f"working windows on {weekday.value} overlap: {earlier} and {later}"
                    )
            if windows:
                normalised[weekday] = windows
        return normalised

    @model_validator(mode="after")
    def _has_working_time(self) -> Self:
        if self.always_open:
            if self.weekly_hours or self.holidays:
                raise ValueError(
                    "a 24x7 calendar (always_open) takes no weekly hours and no holidays; for "
                    "round-the-clock hours with holidays give every weekday the window 00:00-24:00"
                )
        elif not self.weekly_hours:
            raise ValueError(
                "the calendar has no working time: give at least one weekday a working window, "
                "or make it 24x7 (always_open)"
            )
        return self

    def model_post_init(self, context: Any, /) -> None:
        self._zone = ZoneInfo(self.time_zone)
        self._holiday_dates = frozenset(h.on for h in self.holidays if isinstance(h, HolidayDate))
        self._yearly_holidays = frozenset(
            (h.month, h.day) for h in self.holidays if isinstance(h, YearlyHoliday)
        )
        self._holiday_ranges = tuple(
            (h.first, h.last) for h in self.holidays if isinstance(h, HolidayRange)
        )

    # --- dates ----------------------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def is_holiday(self, day: date) -> bool:
        return (
            day in self._holiday_dates
            or (day.month, day.day) in self._yearly_holidays
            or any(first <= day <= last for first, last in self._holiday_ranges)
        )

    def windows_on(self, day: date) -> tuple[WorkingWindow, ...]:
        """The local working windows of ``day`` (none on a holiday)."""
        if self.always_open:
            return (WorkingWindow(start=_MIDNIGHT, end=_MIDNIGHT),)
        if self.is_holiday(day):
            return ()
        return self.weekly_hours.get(Weekday.of(day), ())

    def working_intervals(self, day: date) -> tuple[Interval, ...]:
        """The working time of local date ``day`` as ordered, disjoint UTC intervals."""
        return self._intervals_on(day)

    # --- instants -------------------------------------------------------------------------------

    def is_working(self, moment: datetime) -> bool:
        """Whether ``moment`` is working time."""
        moment = _as_utc(moment, "moment")
        if self.always_open:
            return True
        local_day = self._local_date(moment)
        return any(
            opening <= moment < closing
            for day in (local_day, local_day + _ONE_DAY)  # see _intervals_after
            for opening, closing in self._intervals_on(day)
        )

    def next_working_instant(self, moment: datetime) -> datetime:
        """``moment`` if it is working time, else the instant working time next begins."""
        moment = _as_utc(moment, "moment")
        if self.always_open:
            return moment
        for opening, _closing in self._intervals_after(moment):
            return opening
        raise AssertionError("unreachable: _intervals_after never ends without raising")

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant at which ``duration`` of business time has elapsed since ``start``.

        ``duration == 0`` gives ``start``. Raises :class:`NoWorkingTimeError` when the calendar
        runs out of working time.
        """
        start = _as_utc(start, "start")
        _check_duration(duration)
        if not duration:
            return start
        if self.always_open:
            return start + duration
        remaining = duration
        for opening, closing in self._intervals_after(start):
            available = closing - opening
            if remaining <= available:
                return opening + remaining
            remaining -= available
        raise AssertionError("unreachable: _intervals_after never ends without raising")

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """The business time in ``[start, end)``; zero when ``end <= start``."""
        start = _as_utc(start, "start")
        end = _as_utc(end, "end")
        if end <= start:
            return timedelta(0)
        if self.always_open:
            return end - start
        total = timedelta(0)
        last_day = self._local_date(end) + _ONE_DAY  # see _intervals_after
        day = self._local_date(start)
        while day <= last_day:
            for opening, closing in self._intervals_on(day):
                if closing > start and opening < end:
                    total += min(closing, end) - max(opening, start)
            day += _ONE_DAY
        return total

    # --- internals ------------------------------------------------------------------------------

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; with ``update``, a newly validated calendar, so derived data is rebuilt."""
        if not update:
            return super().model_copy(deep=deep)
        return self.model_validate({**self.model_dump(), **update})

    def __hash__(self) -> int:
        return hash(
            (self.time_zone, tuple(self.weekly_hours.items()), self.holidays, self.always_open)
        )

    def _intervals_on(self, day: date) -> tuple[Interval, ...]:
        intervals = self._cache.get(day)
        if intervals is None:
            intervals = self._compute_intervals(day)
            self._cache.put(day, intervals)
        return intervals

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self._zone).date()

    def _intervals_after(self, start: datetime) -> Iterator[Interval]:
        """Working intervals from ``start`` on, clipped to it; raises after too long without any."""
        # A date's intervals lie between the first instants its clock reads 00:00 and the next
        # date's 00:00. When clocks go back across midnight (St. John's until 2011: 00:01 ->
        # 23:01), an instant can read the previous date yet lie in the next date's span, but
        # never the other way round: so the search starts at the instant's own local date.
        day = self._local_date(start)
        days_without_work = 0
        while True:
            found = False
            for opening, closing in self._intervals_on(day):
                if closing > start:
                    found = True
                    yield max(opening, start), closing
            days_without_work = 0 if found else days_without_work + 1
            if days_without_work > MAX_DAYS_WITHOUT_WORK:
                raise NoWorkingTimeError(
                    f"no working time in the {MAX_DAYS_WITHOUT_WORK} days after "
                    f"{start.isoformat()}: check the calendar's weekly hours and holidays"
                )
            day += _ONE_DAY

    def _compute_intervals(self, day: date) -> tuple[Interval, ...]:
        intervals: list[Interval] = []
        for window in self.windows_on(day):
            opening = self._first_instant_at(day, window.start)
            closing = (
                self._first_instant_at(day + _ONE_DAY, _MIDNIGHT)
                if window.ends_at_midnight
                else self._first_instant_at(day, window.end)
            )
            if closing > opening:  # a window lying wholly in a DST gap is empty that day
                intervals.append((opening, closing))
        return tuple(intervals)

    def _first_instant_at(self, day: date, wall_time: time) -> datetime:
        """The first instant at which the local clock reads ``wall_time`` or later on ``day``."""
        wall = datetime.combine(day, wall_time)
        first = wall.replace(tzinfo=self._zone, fold=0)
        offset_before = first.utcoffset()
        offset_after = wall.replace(tzinfo=self._zone, fold=1).utcoffset()
        # A ZoneInfo always gives an offset.
        assert offset_before is not None
        assert offset_after is not None
        # PEP 495: fold=0 reads a time with the offset in force before a transition. In a fold
        # (clocks went back) that is the first occurrence; only a gap has offset_before < after.
        if offset_before >= offset_after:
            return first.astimezone(_UTC)
        # The time was skipped: the answer is the transition, the first whole second (tz data has
        # whole-second transitions) whose wall clock reads ``wall`` or later. Bisect between the
        # two readings of ``wall``: the lower lies before the jump, the upper after it.
        naive_utc = wall.replace(tzinfo=_UTC)
        low = (naive_utc - offset_after - _EPOCH) // _ONE_SECOND
        high = -((_EPOCH - (naive_utc - offset_before)) // _ONE_SECOND)  # ceiling division
        while high - low > 1:
            middle = (low + high) // 2
            if self._wall_clock_at(middle) >= wall:
                high = middle
            else:
                low = middle
        return _EPOCH + high * _ONE_SECOND

    def _wall_clock_at(self, epoch_seconds: int) -> datetime:
        return (_EPOCH + epoch_seconds * _ONE_SECOND).astimezone(self._zone).replace(tzinfo=None)
