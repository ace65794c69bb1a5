"""Worked examples with hand-computed answers: split hours, holidays, 24:00, empty days, long spans.

Most examples use an office in Jakarta (UTC+7, no DST), Monday to Friday 08:00-12:00 and
13:00-17:00: 8 business hours a day, 40 a week.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sla_service.domain import (
    MAX_DAYS_WITHOUT_WORK,
    BusinessCalendar,
    HolidayDate,
    HolidayRange,
    NoWorkingTimeError,
    Weekday,
    YearlyHoliday,
)
from sla_service.domain.calendar import Holiday

JAKARTA = ZoneInfo("Asia/Jakarta")
SPLIT_DAY = [("08:00", "12:00"), ("13:00", "17:00")]
HOUR = timedelta(hours=1)
EVERY_DAY = tuple(Weekday)


def office(*holidays: HolidayDate | HolidayRange | YearlyHoliday) -> BusinessCalendar:
    return BusinessCalendar.office_hours("Asia/Jakarta", SPLIT_DAY, holidays=holidays)


def jkt(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant given in Jakarta wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=JAKARTA)


# --- the example from the brief --------------------------------------------------------------


def test_four_hours_from_friday_afternoon_is_due_monday_morning() -> None:
    created = jkt(2024, 6, 7, 16, 30)  # a Friday
    due = office().add_business_time(created, 4 * HOUR)
    # Friday 16:30-17:00 is half an hour; Monday 08:00-11:30 the other three and a half.
    assert due == jkt(2024, 6, 10, 11, 30)
    assert due.tzinfo is UTC
    assert due == datetime(2024, 6, 10, 4, 30, tzinfo=UTC)
    assert office().business_time_between(created, due) == 4 * HOUR


def test_monday_holiday_moves_it_to_tuesday() -> None:
    calendar = office(HolidayDate(on=date(2024, 6, 10), name="Cuti bersama"))
    assert calendar.add_business_time(jkt(2024, 6, 7, 16, 30), 4 * HOUR) == jkt(2024, 6, 11, 11, 30)


# --- split windows -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        (jkt(2024, 6, 3, 8), 4 * HOUR, jkt(2024, 6, 3, 12)),  # uses the morning up: due at close
        (jkt(2024, 6, 3, 11), HOUR, jkt(2024, 6, 3, 12)),
        (jkt(2024, 6, 3, 11), 2 * HOUR, jkt(2024, 6, 3, 14)),  # lunch is skipped
        (
            jkt(2024, 6, 3, 11),
            HOUR + timedelta(microseconds=1),
            jkt(2024, 6, 3, 13) + timedelta(microseconds=1),
        ),
        (
            jkt(2024, 6, 3, 12, 30),
            timedelta(minutes=30),
            jkt(2024, 6, 3, 13, 30),
        ),  # starts in lunch
        (jkt(2024, 6, 3, 6), HOUR, jkt(2024, 6, 3, 9)),  # before opening
        (jkt(2024, 6, 3, 17), HOUR, jkt(2024, 6, 4, 9)),  # at closing
        (jkt(2024, 6, 3, 16), 8 * HOUR, jkt(2024, 6, 4, 16)),  # exactly a day of work
        (jkt(2024, 6, 8, 10), HOUR, jkt(2024, 6, 10, 9)),  # Saturday
        (jkt(2024, 6, 3, 8), 40 * HOUR, jkt(2024, 6, 7, 17)),  # a working week
        (jkt(2024, 6, 3, 8), 41 * HOUR, jkt(2024, 6, 10, 9)),
    ],
)
def test_add_over_split_windows(start: datetime, duration: timedelta, due: datetime) -> None:
    calendar = office()
    assert calendar.add_business_time(start, duration) == due
    assert calendar.business_time_between(start, due) == duration


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (jkt(2024, 6, 3, 11), jkt(2024, 6, 3, 14), 2 * HOUR),
        (jkt(2024, 6, 3, 12), jkt(2024, 6, 3, 13), timedelta(0)),  # lunch only
        (jkt(2024, 6, 3, 0), jkt(2024, 6, 4, 0), 8 * HOUR),
        (jkt(2024, 6, 7, 16, 30), jkt(2024, 6, 10, 8, 30), HOUR),  # over the weekend
        (jkt(2024, 6, 8, 0), jkt(2024, 6, 10, 0), timedelta(0)),  # the weekend itself
        (jkt(2024, 6, 3, 0), jkt(2024, 7, 1, 0), 4 * 40 * HOUR),  # four weeks
        (jkt(2024, 6, 3, 14), jkt(2024, 6, 3, 9), timedelta(0)),  # end before start
        (jkt(2024, 6, 3, 9), jkt(2024, 6, 3, 9), timedelta(0)),
    ],
)
def test_between_over_split_windows(start: datetime, end: datetime, expected: timedelta) -> None:
    assert office().business_time_between(start, end) == expected


def test_zero_duration_is_the_start_itself_even_outside_working_time() -> None:
    calendar = office()
    for start in (jkt(2024, 6, 3, 9), jkt(2024, 6, 3, 12, 30), jkt(2024, 6, 8, 10)):
        assert calendar.add_business_time(start, timedelta(0)) == start


def test_working_instants() -> None:
    calendar = office()
    assert calendar.is_working(jkt(2024, 6, 3, 8))
    assert calendar.is_working(jkt(2024, 6, 3, 11, 59))
    assert not calendar.is_working(jkt(2024, 6, 3, 12))  # windows are half-open
    assert not calendar.is_working(jkt(2024, 6, 8, 10))
    assert calendar.next_working_instant(jkt(2024, 6, 3, 12)) == jkt(2024, 6, 3, 13)
    assert calendar.next_working_instant(jkt(2024, 6, 3, 9, 15)) == jkt(2024, 6, 3, 9, 15)
    assert calendar.next_working_instant(jkt(2024, 6, 7, 17)) == jkt(2024, 6, 10, 8)


def test_accepts_instants_in_any_zone_and_answers_in_utc() -> None:
    calendar = office()
    start = datetime(2024, 6, 7, 11, 30, tzinfo=ZoneInfo("Europe/Berlin"))  # 16:30 in Jakarta
    due = calendar.add_business_time(start, 4 * HOUR)
    assert due == jkt(2024, 6, 10, 11, 30)
    assert due.utcoffset() == timedelta(0)
    assert calendar.next_working_instant(start).tzinfo is UTC


# --- holidays ----------------------------------------------------------------------------------


def test_single_date_holiday() -> None:
    calendar = office(HolidayDate(on=date(2024, 5, 1), name="Hari Buruh"))  # a Wednesday
    assert calendar.is_holiday(date(2024, 5, 1))
    assert calendar.working_intervals(date(2024, 5, 1)) == ()
    assert calendar.add_business_time(jkt(2024, 4, 30, 17), HOUR) == jkt(2024, 5, 2, 9)
    assert calendar.business_time_between(jkt(2024, 4, 29), jkt(2024, 5, 6)) == 32 * HOUR


def test_holiday_range_is_inclusive() -> None:
    lebaran = HolidayRange(first=date(2024, 4, 8), last=date(2024, 4, 12), name="Lebaran")
    calendar = office(lebaran)
    assert [calendar.is_holiday(date(2024, 4, day)) for day in range(7, 14)] == [
        False,
        True,
        True,
        True,
        True,
        True,
        False,
    ]
    # Friday 5 April 16:00 + 2 h: one hour on Friday, none in the Lebaran week, one on the 15th.
    assert calendar.add_business_time(jkt(2024, 4, 5, 16), 2 * HOUR) == jkt(2024, 4, 15, 9)


def test_yearly_holiday_recurs_every_year() -> None:
    calendar = office(YearlyHoliday(month=8, day=17, name="Hari Kemerdekaan"))
    assert all(calendar.is_holiday(date(year, 8, 17)) for year in range(1990, 2100))
    assert not calendar.is_holiday(date(2026, 8, 18))
    # 17 August 2026 is a Monday.
    assert calendar.add_business_time(jkt(2026, 8, 14, 16), 2 * HOUR) == jkt(2026, 8, 18, 9)


def test_yearly_29_february_is_a_holiday_in_leap_years_only() -> None:
    calendar = office(YearlyHoliday(month=2, day=29, name="Leap day"))
    assert calendar.is_holiday(date(2024, 2, 29))
    assert calendar.is_holiday(date(2028, 2, 29))
    assert not calendar.is_holiday(date(2025, 2, 28))
    assert not calendar.is_holiday(date(2025, 3, 1))
    # Wednesday 28 Feb 2024 17:00 + 8 h skips Thursday the 29th: due Friday 1 March 17:00.
    assert calendar.add_business_time(jkt(2024, 2, 28, 17), 8 * HOUR) == jkt(2024, 3, 1, 17)
    # In 2025 there is no such day, so Friday 28 Feb and Monday 3 March both work.
    assert calendar.add_business_time(jkt(2025, 2, 27, 17), 8 * HOUR) == jkt(2025, 2, 28, 17)
    assert calendar.business_time_between(jkt(2025, 2, 24), jkt(2025, 3, 8)) == 80 * HOUR


def test_holiday_on_a_weekend_changes_nothing() -> None:
    # 1 June 2024 (Hari Lahir Pancasila) is a Saturday.
    with_it = office(YearlyHoliday(month=6, day=1))
    assert with_it.business_time_between(jkt(2024, 5, 27), jkt(2024, 6, 10)) == 80 * HOUR


def test_holidays_of_all_kinds_together() -> None:
    holidays: list[Holiday] = [
        HolidayDate(on=date(2024, 6, 17)),  # Monday
        HolidayRange(first=date(2024, 6, 19), last=date(2024, 6, 20)),  # Wednesday, Thursday
        YearlyHoliday(month=6, day=21),  # Friday
    ]
    calendar = office(*holidays)
    assert calendar.business_time_between(jkt(2024, 6, 17), jkt(2024, 6, 24)) == 8 * HOUR
    assert calendar.add_business_time(jkt(2024, 6, 14, 17), 9 * HOUR) == jkt(2024, 6, 24, 9)


# --- long durations ----------------------------------------------------------------------------


def test_thousand_business_hours() -> None:
    # 1000 h at 8 h a day is 125 working days, 25 whole weeks: it ends on Friday of week 25.
    start = jkt(2024, 1, 1, 8)  # a Monday
    due = office().add_business_time(start, 1000 * HOUR)
    assert due == jkt(2024, 6, 21, 17)
    assert office().business_time_between(start, due) == 1000 * HOUR


def test_thousand_business_hours_around_holidays() -> None:
    calendar = office(
        HolidayRange(first=date(2024, 4, 8), last=date(2024, 4, 12)),  # five weekdays
        HolidayDate(on=date(2024, 5, 1)),  # a Wednesday
        YearlyHoliday(month=6, day=1),  # a Saturday in 2024: no effect
        YearlyHoliday(month=8, day=17),  # after the due date: no effect
    )
    # Six working days lost: Friday 21 June + 6 working days is Monday 1 July.
    assert calendar.add_business_time(jkt(2024, 1, 1, 8), 1000 * HOUR) == jkt(2024, 7, 1, 17)


def test_across_the_year_end_holiday_season() -> None:
    season = HolidayRange(first=date(2024, 12, 24), last=date(2025, 1, 1), name="Year end")
    calendar = office(season)
    start = jkt(2024, 12, 23, 16)  # Monday
    # 1 h on the 23rd, nothing until Thursday 2 January (8 h), then 7 h on Friday the 3rd.
    due = calendar.add_business_time(start, 16 * HOUR)
    assert due == jkt(2025, 1, 3, 16)
    assert calendar.business_time_between(start, due) == 16 * HOUR
    assert calendar.next_working_instant(jkt(2024, 12, 23, 17)) == jkt(2025, 1, 2, 8)


def test_a_year_of_business_time() -> None:
    calendar = office()
    start = jkt(2024, 1, 1, 8)
    year_of_work = calendar.business_time_between(start, jkt(2025, 1, 1, 8))
    assert year_of_work == 262 * 8 * HOUR  # 2024 has 262 weekdays
    assert calendar.add_business_time(start, year_of_work) == jkt(2024, 12, 31, 17)


# --- windows ending at 24:00 -------------------------------------------------------------------


def night_shift() -> BusinessCalendar:
    return BusinessCalendar.office_hours(
        "UTC", [("00:00", "06:00"), ("18:00", "24:00")], days=EVERY_DAY
    )


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_window_to_midnight_runs_on_into_the_next_day() -> None:
    calendar = night_shift()
    assert calendar.working_intervals(date(2024, 6, 3))[-1] == (
        utc(2024, 6, 3, 18),
        utc(2024, 6, 4),
    )
    assert calendar.add_business_time(utc(2024, 6, 3, 23), 2 * HOUR) == utc(2024, 6, 4, 1)
    assert calendar.business_time_between(utc(2024, 6, 3, 23), utc(2024, 6, 4, 1)) == 2 * HOUR
    assert calendar.is_working(utc(2024, 6, 4))
    assert calendar.is_working(utc(2024, 6, 3, 23, 59))
    assert calendar.add_business_time(utc(2024, 6, 3, 23), HOUR) == utc(2024, 6, 4)
    assert calendar.add_business_time(utc(2024, 6, 3, 5), 7 * HOUR) == utc(2024, 6, 4)


def test_window_to_midnight_before_a_day_off() -> None:
    calendar = BusinessCalendar.model_validate(
        {
            "time_zone": "Asia/Jakarta",
            "weekly_hours": {"friday": [{"start": "20:00", "end": "24:00"}]},
        }
    )
    friday = date(2024, 6, 7)
    assert calendar.working_intervals(friday) == ((jkt(2024, 6, 7, 20), jkt(2024, 6, 8)),)
    assert calendar.add_business_time(jkt(2024, 6, 7, 23), 2 * HOUR) == jkt(2024, 6, 14, 21)


# --- days without working time -----------------------------------------------------------------


def test_weekdays_without_windows_are_skipped() -> None:
    mondays = BusinessCalendar.office_hours("UTC", [("09:00", "10:00")], days=[Weekday.MONDAY])
    assert mondays.add_business_time(utc(2024, 6, 4, 9), HOUR) == utc(2024, 6, 10, 10)
    assert mondays.add_business_time(utc(2024, 6, 3, 9), 5 * HOUR) == utc(2024, 7, 1, 10)
    assert mondays.business_time_between(utc(2024, 6, 1), utc(2024, 7, 1)) == 4 * HOUR
    assert mondays.next_working_instant(utc(2024, 6, 3, 10)) == utc(2024, 6, 10, 9)


def test_no_working_time_ahead_raises_instead_of_looping() -> None:
    mondays = BusinessCalendar.office_hours(
        "UTC",
        [("09:00", "10:00")],
        days=[Weekday.MONDAY],
        holidays=[HolidayRange(first=date(2024, 1, 1), last=date(2030, 12, 31))],
    )
    start = utc(2024, 6, 1)
    with pytest.raises(NoWorkingTimeError, match=f"no working time in the {MAX_DAYS_WITHOUT_WORK}"):
        mondays.add_business_time(start, HOUR)
    with pytest.raises(NoWorkingTimeError):
        mondays.next_working_instant(start)
    # Measuring a finite span needs no search ahead, so it simply finds nothing.
    assert mondays.business_time_between(start, utc(2029, 1, 1)) == timedelta(0)
    assert not mondays.is_working(utc(2024, 6, 3, 9, 30))
    # After the holidays it works again.
    assert mondays.next_working_instant(utc(2030, 12, 31)) == utc(2031, 1, 6, 9)


def test_long_holiday_shorter_than_the_search_limit_is_crossed() -> None:
    calendar = office(HolidayRange(first=date(2024, 1, 1), last=date(2025, 6, 30)))
    assert calendar.next_working_instant(jkt(2024, 1, 1)) == jkt(2025, 7, 1, 8)


# --- 24x7 --------------------------------------------------------------------------------------


def test_twenty_four_seven_is_plain_arithmetic() -> None:
    calendar = BusinessCalendar.twenty_four_seven("Asia/Jakarta")
    start = jkt(2024, 6, 8, 3, 17)
    assert calendar.add_business_time(start, 100 * HOUR) == start + 100 * HOUR
    assert calendar.business_time_between(start, start + 100 * HOUR) == 100 * HOUR
    assert calendar.is_working(start)
    assert calendar.next_working_instant(start) == start
    assert calendar.working_intervals(date(2024, 6, 8)) == ((jkt(2024, 6, 8), jkt(2024, 6, 9)),)
