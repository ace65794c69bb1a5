"""Properties of business-time arithmetic over random calendars, instants and durations."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sla_service.domain import (
    BusinessCalendar,
    HolidayDate,
    HolidayRange,
    Weekday,
    WorkingWindow,
    YearlyHoliday,
)
from sla_service.domain.calendar import Holiday

ZONES = (
    "UTC",
    "Asia/Jakarta",
    "Asia/Kolkata",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "America/Santiago",
    "America/Havana",
)
FIXED_OFFSET_ZONES = ("UTC", "Asia/Jakarta", "Asia/Kolkata", "Asia/Kathmandu")
MICROSECOND = timedelta(microseconds=1)
ZERO = timedelta(0)


# --- strategies ------------------------------------------------------------------------------


def _minute(minutes: int) -> time:
    return time(0) if minutes == 24 * 60 else time(minutes // 60, minutes % 60)


@st.composite
def day_windows(draw: st.DrawFn, max_windows: int = 3) -> tuple[WorkingWindow, ...]:
    """Zero or more disjoint windows on whole minutes (touching ones included)."""
    count = draw(st.integers(0, max_windows))
    bounds = sorted(draw(st.lists(st.integers(0, 24 * 60), min_size=2 * count, max_size=2 * count)))
    windows = []
    for opening, closing in zip(bounds[::2], bounds[1::2], strict=True):
        if opening < closing:
            windows.append(WorkingWindow(start=_minute(opening), end=_minute(closing)))
    return tuple(windows)


dates = st.dates(min_value=date(2019, 6, 1), max_value=date(2031, 6, 1))
holidays: st.SearchStrategy[Holiday] = st.one_of(
    st.builds(HolidayDate, on=dates),
    st.builds(
        lambda first, days: HolidayRange(first=first, last=first + timedelta(days=days)),
        dates,
        st.integers(0, 30),
    ),
    # Any day of a leap year, so 29 February comes up too.
    st.dates(min_value=date(2024, 1, 1), max_value=date(2024, 12, 31)).map(
        lambda day: YearlyHoliday(month=day.month, day=day.day)
    ),
)


@st.composite
def calendars(draw: st.DrawFn, zones: tuple[str, ...] = ZONES) -> BusinessCalendar:
    week = {weekday: draw(day_windows()) for weekday in Weekday}
    weekly_total = sum(
        (w.end_offset - w.start_offset for windows in week.values() for w in windows), ZERO
    )
    # Sparse weeks make long searches slow, not wrong; keep the examples quick.
    assume(weekly_total >= timedelta(hours=2))
    return BusinessCalendar(
        time_zone=draw(st.sampled_from(zones)),
        weekly_hours=week,
        holidays=tuple(draw(st.lists(holidays, max_size=4))),
    )


instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=ZERO, max_value=timedelta(hours=120))
positive_durations = st.timedeltas(min_value=MICROSECOND, max_value=timedelta(hours=120))
spans = st.timedeltas(min_value=ZERO, max_value=timedelta(days=30))


# --- adding and measuring --------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(calendar=calendars(), start=instants, duration=durations)
def test_measuring_what_was_added_gives_it_back(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    due = calendar.add_business_time(start, duration)
    assert due >= start
    assert due.tzinfo is UTC
    assert calendar.business_time_between(start, due) == duration


@settings(max_examples=200, deadline=None)
@given(calendar=calendars(), start=instants, duration=positive_durations)
def test_added_instant_is_the_earliest(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    due = calendar.add_business_time(start, duration)
    assert calendar.business_time_between(start, due - MICROSECOND) == duration - MICROSECOND
    assert calendar.is_working(due - MICROSECOND)


@settings(max_examples=200, deadline=None)
@given(calendar=calendars(), start=instants, first=durations, second=durations)
def test_adding_is_strictly_increasing_in_the_duration_and_composes(
    calendar: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    shorter, longer = sorted((first, second))
    assume(shorter < longer)
    assert calendar.add_business_time(start, shorter) < calendar.add_business_time(start, longer)
    assert calendar.add_business_time(start, first + second) == calendar.add_business_time(
        calendar.add_business_time(start, first), second
    )


@settings(max_examples=200, deadline=None)
@given(calendar=calendars(), start=instants, delay=spans, duration=durations)
def test_adding_never_decreases_with_a_later_start(
    calendar: BusinessCalendar, start: datetime, delay: timedelta, duration: timedelta
) -> None:
    assert calendar.add_business_time(start, duration) <= calendar.add_business_time(
        start + delay, duration
    )


@settings(max_examples=200, deadline=None)
@given(calendar=calendars(), start=instants, first=spans, second=spans)
def test_measuring_is_additive_over_split_points(
    calendar: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    middle, end = start + first, start + first + second
    whole = calendar.business_time_between(start, end)
    assert whole == calendar.business_time_between(start, middle) + calendar.business_time_between(
        middle, end
    )
    assert ZERO <= whole <= end - start
    assert calendar.business_time_between(end, start) == ZERO


@settings(max_examples=200, deadline=None)
@given(calendar=calendars(), moment=instants)
def test_working_instants_agree_with_measuring(
    calendar: BusinessCalendar, moment: datetime
) -> None:
    following = calendar.next_working_instant(moment)
    assert following >= moment
    assert calendar.is_working(following)
    assert calendar.business_time_between(moment, following) == ZERO
    assert calendar.is_working(moment) == (following == moment)
    assert calendar.is_working(moment) == (
        calendar.business_time_between(moment, moment + MICROSECOND) == MICROSECOND
    )
    assert calendar.add_business_time(moment, MICROSECOND) == following + MICROSECOND


@settings(max_examples=100, deadline=None)
@given(calendar=calendars(), first_day=dates, count=st.integers(1, 40))
def test_intervals_are_ordered_and_disjoint_across_days(
    calendar: BusinessCalendar, first_day: date, count: int
) -> None:
    intervals = [
        interval
        for offset in range(count)
        for interval in calendar.working_intervals(first_day + timedelta(days=offset))
    ]
    for opening, closing in intervals:
        assert opening < closing
        assert opening.tzinfo is UTC
    for (_, earlier_close), (later_open, _) in itertools.pairwise(intervals):
        assert earlier_close <= later_open


@settings(max_examples=100, deadline=None)
@given(calendar=calendars(), day=dates)
def test_holidays_have_no_working_time(calendar: BusinessCalendar, day: date) -> None:
    holiday = calendar.model_copy(update={"holidays": (*calendar.holidays, HolidayDate(on=day))})
    assert holiday.working_intervals(day) == ()
    zone = ZoneInfo(calendar.time_zone)
    noon = datetime.combine(day, time(12), tzinfo=zone)
    assert not holiday.is_working(noon)


# --- 24x7: plain arithmetic --------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    explicit=st.booleans(),
    start=instants,
    duration=st.timedeltas(min_value=ZERO, max_value=timedelta(days=400)),
)
def test_round_the_clock_is_plain_arithmetic(
    zone: str, explicit: bool, start: datetime, duration: timedelta
) -> None:
    calendar = (
        BusinessCalendar.twenty_four_seven(zone)
        if explicit
        else BusinessCalendar.office_hours(zone, [("00:00", "24:00")], days=tuple(Weekday))
    )
    assert calendar.add_business_time(start, duration) == start + duration
    assert calendar.business_time_between(start, start + duration) == duration
    assert calendar.business_time_between(start + duration, start) == ZERO
    assert calendar.is_working(start)
    assert calendar.next_working_instant(start) == start


# --- an independent brute-force oracle (fixed-offset zones) ----------------------------------


def brute_force_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Count whole minutes whose local wall-clock time lies in a window of a non-holiday."""
    zone = ZoneInfo(calendar.time_zone)
    minutes = 0
    moment = start
    while moment < end:
        local = moment.astimezone(zone)
        since_midnight = timedelta(hours=local.hour, minutes=local.minute)
        windows = (
            ()
            if calendar.is_holiday(local.date())
            else calendar.weekly_hours.get(Weekday.of(local.date()), ())
        )
        if any(w.start_offset <= since_midnight < w.end_offset for w in windows):
            minutes += 1
        moment += timedelta(minutes=1)
    return timedelta(minutes=minutes)


minute_instants = instants.map(lambda moment: moment.replace(second=0, microsecond=0))


@settings(max_examples=60, deadline=None)
@given(
    calendar=calendars(FIXED_OFFSET_ZONES),
    start=minute_instants,
    minutes=st.integers(0, 3 * 24 * 60),
)
def test_measuring_matches_brute_force(
    calendar: BusinessCalendar, start: datetime, minutes: int
) -> None:
    end = start + timedelta(minutes=minutes)
    expected = brute_force_between(calendar, start, end)
    assert calendar.business_time_between(start, end) == expected
    if expected:
        assert calendar.add_business_time(start, expected) <= end
