"""BusinessCalendar as a model: validation messages, normal form, serialisation, equality."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from sla_service.domain import (
    BusinessCalendar,
    HolidayDate,
    HolidayRange,
    NaiveDatetimeError,
    Weekday,
    WorkingWindow,
    YearlyHoliday,
)

SPLIT_DAY = [("08:00", "12:00"), ("13:00", "17:00")]


def jakarta() -> BusinessCalendar:
    return BusinessCalendar.office_hours("Asia/Jakarta", SPLIT_DAY)


# --- windows ---------------------------------------------------------------------------------


def test_window_reads_clock_strings() -> None:
    window = WorkingWindow.model_validate({"start": "08:30", "end": "17:00"})
    assert window.start == time(8, 30)
    assert window.end == time(17)
    assert window.end_offset - window.start_offset == timedelta(hours=8, minutes=30)
    assert str(window) == "08:30-17:00"


@pytest.mark.parametrize("end", ["24:00", "24:00:00", time(0)])
def test_window_may_end_at_midnight(end: str | time) -> None:
    window = WorkingWindow.model_validate({"start": "18:00", "end": end})
    assert window.ends_at_midnight
    assert window.end_offset == timedelta(hours=24)
    assert window.model_dump(mode="json") == {"start": "18:00", "end": "24:00"}
    assert str(window) == "18:00-24:00"


def test_whole_day_window() -> None:
    window = WorkingWindow(start=time(0), end=time(0))
    assert window.end_offset - window.start_offset == timedelta(hours=24)
    assert window.model_dump(mode="json") == {"start": "00:00", "end": "24:00"}


@pytest.mark.parametrize(
    ("start", "end"),
    [("12:00", "08:00"), ("09:00", "09:00"), ("22:00", "02:00")],
)
def test_window_must_start_before_it_ends(start: str, end: str) -> None:
    with pytest.raises(ValidationError, match="must start before it ends"):
        WorkingWindow.model_validate({"start": start, "end": end})


def test_window_cannot_start_at_24() -> None:
    with pytest.raises(ValidationError):
        WorkingWindow.model_validate({"start": "24:00", "end": "24:00"})


def test_window_times_are_wall_clock_times() -> None:
    with pytest.raises(ValidationError, match="without a zone"):
        WorkingWindow(start=time(8, tzinfo=UTC), end=time(9))


def test_window_keeps_seconds_when_it_has_them() -> None:
    window = WorkingWindow(start=time(8, 0, 30), end=time(9))
    assert window.model_dump(mode="json") == {"start": "08:00:30", "end": "09:00"}


# --- calendar validation ---------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd", "Asia/Jakarta "])
def test_unknown_time_zone_is_refused(zone: str) -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        BusinessCalendar.office_hours(zone, SPLIT_DAY)


def test_overlapping_windows_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"windows on monday overlap: 08:00-12:00 and 11:00"):
        BusinessCalendar.office_hours("UTC", [("08:00", "12:00"), ("11:00", "13:00")])


def test_windows_may_touch_and_come_in_any_order() -> None:
    calendar = BusinessCalendar.office_hours(
        "UTC", [("13:00", "17:00"), ("12:00", "13:00"), ("08:00", "12:00")]
    )
    assert [str(w) for w in calendar.weekly_hours[Weekday.MONDAY]] == [
        "08:00-12:00",
        "12:00-13:00",
        "13:00-17:00",
    ]
    monday = date(2024, 6, 3)
    intervals = calendar.working_intervals(monday)
    assert sum((end - start for start, end in intervals), timedelta()) == timedelta(hours=9)


def test_calendar_needs_working_time() -> None:
    with pytest.raises(ValidationError, match="no working time"):
        BusinessCalendar(time_zone="UTC")
    with pytest.raises(ValidationError, match="no working time"):
        BusinessCalendar(time_zone="UTC", weekly_hours={Weekday.MONDAY: ()})


def test_24x7_takes_no_hours_or_holidays() -> None:
    with pytest.raises(ValidationError, match="24x7"):
        BusinessCalendar(
            time_zone="UTC",
            always_open=True,
            weekly_hours={Weekday.MONDAY: (WorkingWindow(start=time(8), end=time(9)),)},
        )
    with pytest.raises(ValidationError, match="24x7"):
        BusinessCalendar(
            time_zone="UTC", always_open=True, holidays=(HolidayDate(on=date(2024, 1, 1)),)
        )


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        BusinessCalendar.model_validate(
            {"time_zone": "UTC", "always_open": True, "working_hours": {}}
        )


def test_holiday_range_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match="must not end before it starts"):
        HolidayRange(first=date(2024, 12, 31), last=date(2024, 12, 24))


@pytest.mark.parametrize(("month", "day"), [(2, 30), (4, 31), (13, 1), (0, 1), (1, 0)])
def test_yearly_holiday_must_exist(month: int, day: int) -> None:
    with pytest.raises(ValidationError):
        YearlyHoliday(month=month, day=day)


def test_yearly_holiday_may_be_29_february() -> None:
    assert YearlyHoliday(month=2, day=29).day == 29


def test_calendar_is_immutable() -> None:
    calendar = jakarta()
    with pytest.raises(ValidationError):
        calendar.time_zone = "UTC"  # type: ignore[misc]


# --- serialisation, equality -----------------------------------------------------------------


def test_json_round_trip() -> None:
    calendar = BusinessCalendar.model_validate(
        {
            "time_zone": "Asia/Jakarta",
            "weekly_hours": {
                "friday": [{"start": "13:00", "end": "17:00"}, {"start": "08:00", "end": "11:30"}],
                "saturday": [{"start": "20:00", "end": "24:00"}],
            },
            "holidays": [
                {"kind": "date", "on": "2024-04-10", "name": "Idul Fitri"},
                {"kind": "range", "first": "2024-12-24", "last": "2025-01-01"},
                {"kind": "yearly", "month": 8, "day": 17, "name": "Hari Kemerdekaan"},
            ],
        }
    )
    document = calendar.model_dump_json()
    again = BusinessCalendar.model_validate_json(document)
    assert again == calendar
    assert again.model_dump_json() == document
    assert calendar.model_dump(mode="json")["weekly_hours"] == {
        "friday": [{"start": "08:00", "end": "11:30"}, {"start": "13:00", "end": "17:00"}],
        "saturday": [{"start": "20:00", "end": "24:00"}],
    }


def test_equality_and_hash_ignore_cached_intervals() -> None:
    used, fresh = jakarta(), jakarta()
    used.working_intervals(date(2024, 6, 3))
    assert used == fresh
    assert hash(used) == hash(fresh)
    assert len({used, fresh}) == 1
    assert jakarta() != BusinessCalendar.office_hours("UTC", SPLIT_DAY)


def test_pickles_without_its_cache() -> None:
    calendar = jakarta()
    monday = date(2024, 6, 3)
    expected = calendar.working_intervals(monday)
    copy = pickle.loads(pickle.dumps(calendar))
    assert copy == calendar
    assert copy.working_intervals(monday) == expected


def test_model_copy_with_update_rebuilds_derived_data() -> None:
    calendar = jakarta()
    monday = date(2024, 6, 3)
    calendar.working_intervals(monday)  # fill the cache before copying
    in_utc = calendar.model_copy(update={"time_zone": "UTC"})
    assert in_utc.working_intervals(monday)[0] == (
        datetime(2024, 6, 3, 8, tzinfo=UTC),
        datetime(2024, 6, 3, 12, tzinfo=UTC),
    )
    with pytest.raises(ValidationError, match="unknown time zone"):
        calendar.model_copy(update={"time_zone": "Nowhere/Land"})


# --- instants must be aware ------------------------------------------------------------------


def test_naive_datetimes_are_refused_everywhere() -> None:
    calendar = jakarta()
    naive = datetime(2024, 6, 3, 9)
    aware = naive.replace(tzinfo=UTC)
    hour = timedelta(hours=1)
    calls: list[Callable[[], object]] = [
        lambda: calendar.add_business_time(naive, hour),
        lambda: calendar.business_time_between(naive, aware),
        lambda: calendar.business_time_between(aware, naive),
        lambda: calendar.next_working_instant(naive),
        lambda: calendar.is_working(naive),
    ]
    for call in calls:
        with pytest.raises(NaiveDatetimeError, match="timezone-aware"):
            call()
    assert issubclass(NaiveDatetimeError, ValueError)


def test_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        jakarta().add_business_time(datetime(2024, 6, 3, tzinfo=UTC), timedelta(seconds=-1))
