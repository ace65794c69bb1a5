"""Daylight saving time: windows are wall-clock times, business time is real elapsed time.

Rule under test: a window bound is the first instant at which the local clock reads that time
(or later) on that date. So a time repeated when clocks go back counts from its first occurrence,
and a time skipped when clocks go forward is placed at the jump.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla_service.domain import BusinessCalendar, Weekday, WorkingWindow

HOUR = timedelta(hours=1)
EVERY_DAY = tuple(Weekday)


def every_day(zone: str, *windows: tuple[str, str]) -> BusinessCalendar:
    return BusinessCalendar.office_hours(zone, list(windows), days=EVERY_DAY)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def length(calendar: BusinessCalendar, day: date) -> timedelta:
    return sum((end - start for start, end in calendar.working_intervals(day)), timedelta())


# --- a window 01:00-04:00 on the transition days -----------------------------------------------


@pytest.mark.parametrize(
    ("zone", "spring", "fall", "spring_interval", "fall_interval"),
    [
        (
            "America/New_York",
            date(2024, 3, 10),  # 02:00 EST -> 03:00 EDT
            date(2024, 11, 3),  # 02:00 EDT -> 01:00 EST
            (utc(2024, 3, 10, 6), utc(2024, 3, 10, 8)),  # 01:00 EST .. 04:00 EDT
            (utc(2024, 11, 3, 5), utc(2024, 11, 3, 9)),  # 01:00 EDT .. 04:00 EST
        ),
        (
            "Europe/Berlin",
            date(2024, 3, 31),  # 02:00 CET -> 03:00 CEST
            date(2024, 10, 27),  # 03:00 CEST -> 02:00 CET
            (utc(2024, 3, 31, 0), utc(2024, 3, 31, 2)),  # 01:00 CET .. 04:00 CEST
            (utc(2024, 10, 26, 23), utc(2024, 10, 27, 3)),  # 01:00 CEST .. 04:00 CET
        ),
    ],
)
def test_window_across_the_transition_is_two_or_four_real_hours(
    zone: str,
    spring: date,
    fall: date,
    spring_interval: tuple[datetime, datetime],
    fall_interval: tuple[datetime, datetime],
) -> None:
    calendar = every_day(zone, ("01:00", "04:00"))
    assert calendar.working_intervals(spring) == (spring_interval,)
    assert calendar.working_intervals(fall) == (fall_interval,)
    assert length(calendar, spring) == 2 * HOUR
    assert length(calendar, fall) == 4 * HOUR
    assert length(calendar, spring - timedelta(days=1)) == 3 * HOUR
    assert length(calendar, fall + timedelta(days=1)) == 3 * HOUR
    # Three business hours from the opening end an hour later on the spring day.
    assert calendar.add_business_time(spring_interval[0], 3 * HOUR) == (
        calendar.working_intervals(spring + timedelta(days=1))[0][0] + HOUR
    )
    assert calendar.add_business_time(fall_interval[0], 3 * HOUR) == fall_interval[0] + 3 * HOUR


def test_half_hour_transitions_of_lord_howe() -> None:
    # Clocks go back 02:00 -> 01:30 on 7 April 2024 and forward 02:00 -> 02:30 on 6 October.
    calendar = every_day("Australia/Lord_Howe", ("01:00", "03:00"))
    assert length(calendar, date(2024, 4, 7)) == timedelta(hours=2, minutes=30)
    assert length(calendar, date(2024, 10, 6)) == timedelta(hours=1, minutes=30)
    assert calendar.working_intervals(date(2024, 10, 6)) == (
        (utc(2024, 10, 5, 14, 30), utc(2024, 10, 5, 16)),  # 01:00 +10:30 .. 03:00 +11
    )


# --- bounds inside a gap ---------------------------------------------------------------------


def test_bound_in_a_gap_is_placed_at_the_jump() -> None:
    spring = date(2024, 3, 10)  # New York: 02:00-03:00 does not exist
    jump = utc(2024, 3, 10, 7)
    starts_in_gap = every_day("America/New_York", ("02:30", "05:00"))
    assert starts_in_gap.working_intervals(spring) == ((jump, utc(2024, 3, 10, 9)),)
    ends_in_gap = every_day("America/New_York", ("01:00", "02:30"))
    assert ends_in_gap.working_intervals(spring) == ((utc(2024, 3, 10, 6), jump),)


def test_window_wholly_in_a_gap_is_empty_that_day() -> None:
    calendar = every_day("America/New_York", ("02:10", "02:50"))
    spring = date(2024, 3, 10)
    assert calendar.working_intervals(spring) == ()
    assert not calendar.is_working(utc(2024, 3, 10, 7))
    # Saturday 02:50 EST + 10 min: 02:10 EDT on Monday (06:10 UTC) + 10 min.
    saturday_close = utc(2024, 3, 9, 7, 50)
    assert calendar.add_business_time(saturday_close, timedelta(minutes=10)) == utc(
        2024, 3, 11, 6, 20
    )
    assert calendar.business_time_between(utc(2024, 3, 9), utc(2024, 3, 12)) == timedelta(
        minutes=80
    )


def test_midnight_in_a_gap_santiago() -> None:
    # Chile springs forward at 24:00 on Saturday 7 September 2024: 8 September has no 00:00-01:00.
    calendar = every_day("America/Santiago", ("00:00", "24:00"))
    jump = utc(2024, 9, 8, 4)
    assert calendar.working_intervals(date(2024, 9, 7)) == ((utc(2024, 9, 7, 4), jump),)
    assert calendar.working_intervals(date(2024, 9, 8)) == ((jump, utc(2024, 9, 9, 3)),)
    assert length(calendar, date(2024, 9, 8)) == 23 * HOUR
    first_hour = every_day("America/Santiago", ("00:00", "01:00"))
    assert first_hour.working_intervals(date(2024, 9, 8)) == ()
    # Falling back at 24:00 on 6 April repeats 23:00-24:00: that Saturday lasts 25 hours.
    assert length(calendar, date(2024, 4, 6)) == 25 * HOUR


def test_a_skipped_day_apia() -> None:
    # Samoa skipped 30 December 2011, jumping from the 29th straight to the 31st.
    calendar = every_day("Pacific/Apia", ("00:00", "24:00"))
    assert calendar.working_intervals(date(2011, 12, 30)) == ()
    (_, end_29th), (start_31st, _) = (
        calendar.working_intervals(date(2011, 12, 29))[0],
        calendar.working_intervals(date(2011, 12, 31))[0],
    )
    assert end_29th == start_31st
    zone = ZoneInfo("Pacific/Apia")
    start = datetime(2011, 12, 29, tzinfo=zone)
    end = datetime(2012, 1, 1, tzinfo=zone)
    assert calendar.business_time_between(start, end) == 48 * HOUR
    assert end.astimezone(UTC) - start.astimezone(UTC) == 48 * HOUR


# --- bounds inside a fold --------------------------------------------------------------------


def test_bound_in_a_fold_is_its_first_occurrence() -> None:
    fall = date(2024, 11, 3)  # New York: 01:00-02:00 happens twice
    ends_in_fold = every_day("America/New_York", ("00:00", "01:30"))
    assert ends_in_fold.working_intervals(fall) == ((utc(2024, 11, 3, 4), utc(2024, 11, 3, 5, 30)),)
    starts_in_fold = every_day("America/New_York", ("01:30", "02:00"))
    # From the first 01:30 (EDT) until the clock first reads 02:00 (EST): an hour and a half.
    assert starts_in_fold.working_intervals(fall) == (
        (utc(2024, 11, 3, 5, 30), utc(2024, 11, 3, 7)),
    )
    assert starts_in_fold.is_working(utc(2024, 11, 3, 6, 45))  # 01:45 EST, the second pass


def test_midnight_in_a_fold_havana() -> None:
    # Cuba falls back 01:00 -> 00:00 on 3 November 2024: that day's midnight happens twice.
    calendar = every_day("America/Havana", ("00:00", "24:00"))
    first_midnight = utc(2024, 11, 3, 4)
    assert calendar.working_intervals(date(2024, 11, 2))[0][1] == first_midnight
    assert calendar.working_intervals(date(2024, 11, 3))[0][0] == first_midnight
    assert length(calendar, date(2024, 11, 3)) == 25 * HOUR
    assert calendar.is_working(utc(2024, 11, 3, 5, 30))  # 00:30 CST, the second pass


def test_fold_across_midnight_st_johns() -> None:
    # Until 2011 Newfoundland fell back at 00:01 to 23:01 of the day before: on 7 November 2010
    # the clock read 00:00 (02:30 UTC), then 23:01-23:59 of the 6th again, then 00:00 again.
    calendar = every_day("America/St_Johns", ("00:00", "01:00"), ("23:00", "24:00"))
    first_midnight = utc(2010, 11, 7, 2, 30)
    assert calendar.working_intervals(date(2010, 11, 6))[-1] == (
        utc(2010, 11, 7, 1, 30),
        first_midnight,
    )
    assert calendar.working_intervals(date(2010, 11, 7))[0] == (
        first_midnight,
        utc(2010, 11, 7, 4, 30),
    )
    second_pass = utc(2010, 11, 7, 3)  # reads 23:30 on the 6th, but lies in the 7th's window
    assert calendar.is_working(second_pass)
    assert calendar.next_working_instant(second_pass) == second_pass
    assert calendar.add_business_time(second_pass, HOUR) == utc(2010, 11, 7, 4)
    # 1.5 h left in the 7th's first window; the rest from 23:00 NST (02:30 UTC on the 8th).
    assert calendar.add_business_time(second_pass, 2 * HOUR) == utc(2010, 11, 8, 3)
    assert calendar.business_time_between(utc(2010, 11, 7, 1), second_pass) == timedelta(minutes=90)


# --- office hours around a transition --------------------------------------------------------


def test_office_hours_keep_their_length_across_a_transition() -> None:
    calendar = BusinessCalendar.office_hours("America/New_York", [("09:00", "17:00")])
    friday_4pm = utc(2024, 3, 8, 21)  # 16:00 EST
    monday_10am = utc(2024, 3, 11, 14)  # 10:00 EDT
    assert calendar.add_business_time(friday_4pm, 2 * HOUR) == monday_10am
    assert calendar.business_time_between(friday_4pm, monday_10am) == 2 * HOUR
    berlin = BusinessCalendar.office_hours("Europe/Berlin", [("08:00", "16:00")])
    friday_3pm = utc(2024, 10, 25, 13)  # 15:00 CEST
    assert berlin.add_business_time(friday_3pm, 2 * HOUR) == utc(2024, 10, 28, 8)  # 09:00 CET


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("America/New_York", date(2024, 3, 10), 23),
        ("America/New_York", date(2024, 11, 3), 25),
        ("Europe/Berlin", date(2024, 3, 31), 23),
        ("Europe/Berlin", date(2024, 10, 27), 25),
        ("Europe/Berlin", date(2024, 6, 1), 24),
    ],
)
def test_whole_days_are_their_real_length(zone: str, day: date, hours: int) -> None:
    calendar = every_day(zone, ("00:00", "24:00"))
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    assert calendar.business_time_between(start, end) == hours * HOUR
    assert calendar.add_business_time(start, hours * HOUR) == end


# --- an independent oracle for window bounds near transitions ---------------------------------

TRANSITION_ZONES = (
    "America/New_York",
    "Europe/Berlin",
    "Europe/Dublin",
    "Australia/Lord_Howe",
    "America/Santiago",
    "America/Havana",
    "America/St_Johns",
    "Asia/Gaza",
    "Africa/Casablanca",
    "Pacific/Apia",
)


@cache
def transition_dates(zone_name: str) -> tuple[date, ...]:
    """Local dates next to an offset change in 2010-2026 (found by scanning noons)."""
    zone = ZoneInfo(zone_name)
    days: set[date] = set()
    day = date(2010, 1, 1)
    previous = datetime.combine(day, time(12), tzinfo=zone).utcoffset()
    while day < date(2027, 1, 1):
        day += timedelta(days=1)
        offset = datetime.combine(day, time(12), tzinfo=zone).utcoffset()
        if offset != previous:
            days.update({day - timedelta(days=1), day})
        previous = offset
    return tuple(sorted(days))


def first_reading_at_or_after(zone: ZoneInfo, wall: datetime) -> datetime:
    """The first whole minute at which the local clock reads ``wall`` or later, by scanning."""
    moment = wall.replace(tzinfo=UTC) - timedelta(hours=15)
    while moment.astimezone(zone).replace(tzinfo=None) < wall:
        moment += timedelta(minutes=1)
    return moment


@st.composite
def minute_windows(draw: st.DrawFn) -> tuple[WorkingWindow, ...]:
    bounds = sorted(
        draw(
            st.sets(st.integers(0, 24 * 60), min_size=2, max_size=6).filter(
                lambda s: len(s) % 2 == 0
            )
        )
    )
    windows = []
    for opening, closing in zip(bounds[::2], bounds[1::2], strict=True):
        windows.append(
            WorkingWindow(
                start=time(opening // 60, opening % 60),
                end=time(0) if closing == 24 * 60 else time(closing // 60, closing % 60),
            )
        )
    return tuple(windows)


@settings(max_examples=150, deadline=None)
@given(
    zone_name=st.sampled_from(TRANSITION_ZONES),
    pick=st.integers(min_value=0),
    windows=minute_windows(),
)
def test_bounds_match_a_scanning_oracle(
    zone_name: str, pick: int, windows: tuple[WorkingWindow, ...]
) -> None:
    days = transition_dates(zone_name)
    day = days[pick % len(days)]
    zone = ZoneInfo(zone_name)
    calendar = BusinessCalendar(time_zone=zone_name, weekly_hours=dict.fromkeys(EVERY_DAY, windows))
    expected = []
    for window in windows:
        opening = first_reading_at_or_after(zone, datetime.combine(day, window.start))
        closing = first_reading_at_or_after(
            zone, datetime.combine(day, time(0)) + window.end_offset
        )
        if closing > opening:
            expected.append((opening, closing))
    assert calendar.working_intervals(day) == tuple(expected)
