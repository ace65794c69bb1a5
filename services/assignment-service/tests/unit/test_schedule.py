"""Assignment days and hours: inside and outside the window, across time zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from assignment_service.domain import (
    EVERY_DAY,
    WORKWEEK,
    NaiveDatetimeError,
    Schedule,
    Weekday,
)

JAKARTA = ZoneInfo("Asia/Jakarta")  # UTC+7, no DST
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = Schedule(time_zone="Asia/Jakarta", days=WORKWEEK, start=time(8), end=time(17))


def jakarta(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Jakarta in the week of Monday 2 March 2026."""
    return datetime(2026, 3, day, hour, minute, tzinfo=JAKARTA)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (jakarta(2, 8), True),  # Monday 08:00 - the window opens
        (jakarta(2, 7, 59), False),
        (jakarta(2, 12), True),
        (jakarta(2, 16, 59), True),
        (jakarta(2, 17), False),  # closes at 17:00
        (jakarta(6, 9), True),  # Friday
        (jakarta(7, 9), False),  # Saturday
        (jakarta(8, 12), False),  # Sunday
        (datetime(2026, 3, 2, 8, 59, 59, 999999, tzinfo=JAKARTA), True),
    ],
)
def test_office_hours_in_jakarta(now: datetime, expected: bool) -> None:
    assert OFFICE.is_active(now) is expected


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        (datetime(2026, 3, 2, 1, 0, tzinfo=UTC), True),  # Mon 08:00 in Jakarta
        (datetime(2026, 3, 2, 0, 59, tzinfo=UTC), False),  # Mon 07:59 in Jakarta
        (datetime(2026, 3, 2, 9, 59, tzinfo=UTC), True),  # Mon 16:59
        (datetime(2026, 3, 2, 10, 0, tzinfo=UTC), False),  # Mon 17:00
        # Sunday 23:30 UTC is already Monday 06:30 in Jakarta: outside (too early)...
        (datetime(2026, 3, 1, 23, 30, tzinfo=UTC), False),
        # ...and Monday 01:30 UTC is Monday 08:30 there, inside, though it's Sunday in New York.
        (datetime(2026, 3, 2, 1, 30, tzinfo=UTC), True),
        # Friday 16:30 Jakarta = Friday 09:30 UTC: inside; Saturday 02:00 UTC = Sat 09:00: out.
        (datetime(2026, 3, 6, 9, 30, tzinfo=UTC), True),
        (datetime(2026, 3, 7, 2, 0, tzinfo=UTC), False),
    ],
)
def test_the_window_is_read_in_the_rule_time_zone(utc: datetime, expected: bool) -> None:
    assert OFFICE.is_active(utc) is expected
    # The same instant, written in any other zone, gives the same answer.
    assert OFFICE.is_active(utc.astimezone(NEW_YORK)) is expected
    assert OFFICE.is_active(utc.astimezone(timezone(timedelta(hours=-11)))) is expected


def test_default_is_always() -> None:
    always = Schedule()
    assert always.days == EVERY_DAY
    for hour in range(0, 24 * 7, 5):
        assert always.is_active(datetime(2026, 3, 2, tzinfo=UTC) + timedelta(hours=hour))


def test_until_midnight() -> None:
    evening = Schedule(time_zone="Asia/Jakarta", days={Weekday.MONDAY}, start="18:00", end="24:00")
    assert evening.end == time(0)
    assert evening.is_active(jakarta(2, 18))
    assert evening.is_active(jakarta(2, 23, 59))
    assert not evening.is_active(jakarta(3, 0))  # Tuesday 00:00
    assert not evening.is_active(jakarta(2, 17, 59))


def test_overnight_shift_belongs_to_the_day_it_starts() -> None:
    night = Schedule(time_zone="Asia/Jakarta", days={Weekday.FRIDAY}, start="22:00", end="06:00")
    assert night.overnight
    assert night.is_active(jakarta(6, 22))  # Friday 22:00
    assert night.is_active(jakarta(7, 5, 59))  # Saturday 05:59, still Friday's shift
    assert not night.is_active(jakarta(7, 6))
    assert not night.is_active(jakarta(7, 22))  # Saturday night is not listed
    assert not night.is_active(jakarta(6, 5))  # Friday early morning: Thursday's shift, unlisted
    assert not night.is_active(jakarta(6, 21, 59))


def test_daylight_saving_follows_wall_clock() -> None:
    ny = Schedule(time_zone="America/New_York", days=EVERY_DAY, start="09:00", end="17:00")
    # 09:00 in New York is 14:00 UTC in winter (EST) and 13:00 UTC in summer (EDT).
    assert ny.is_active(datetime(2026, 1, 5, 14, 0, tzinfo=UTC))
    assert not ny.is_active(datetime(2026, 1, 5, 13, 30, tzinfo=UTC))
    assert ny.is_active(datetime(2026, 7, 6, 13, 0, tzinfo=UTC))
    assert not ny.is_active(datetime(2026, 7, 6, 21, 0, tzinfo=UTC))
    # The spring-forward day (8 March 2026): 02:00-03:00 never happens, 09:00 still opens.
    assert ny.is_active(datetime(2026, 3, 8, 13, 0, tzinfo=UTC))
    assert not ny.is_active(datetime(2026, 3, 8, 12, 59, tzinfo=UTC))


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(NaiveDatetimeError, match="timezone-aware"):
        OFFICE.is_active(datetime(2026, 3, 2, 9))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "unknown time zone"),
        ({"time_zone": ""}, "unknown time zone"),
        ({"days": []}, "at least 1"),
        ({"days": ["funday"]}, "monday"),
        ({"start": "09:00", "end": "09:00"}, "cannot start and end"),
        ({"start": "25:00"}, "valid time"),
        ({"start": "09:00+07:00"}, "wall-clock"),
        ({"extra": 1}, "Extra inputs"),
    ],
)
def test_invalid_schedules(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Schedule.model_validate(data)


def test_json_round_trip() -> None:
    assert OFFICE.model_dump(mode="json") == {
        "time_zone": "Asia/Jakarta",
        "days": ["monday", "tuesday", "wednesday", "thursday", "friday"],
        "start": "08:00",
        "end": "17:00",
    }
    assert Schedule.model_validate_json(OFFICE.model_dump_json()) == OFFICE
    whole = Schedule()
    assert whole.model_dump(mode="json")["end"] == "24:00"
    assert Schedule.model_validate_json(whole.model_dump_json()) == whole
    assert str(OFFICE) == "mon,tue,wed,thu,fri 08:00-17:00 Asia/Jakarta"


@given(
    minutes=st.integers(0, 60 * 24 * 14),
    start=st.integers(0, 23),
    length=st.integers(1, 23),
    days=st.frozensets(st.sampled_from(list(Weekday)), min_size=1),
)
def test_matches_a_brute_force_reading(
    minutes: int, start: int, length: int, days: frozenset[Weekday]
) -> None:
    """Against a direct reading in Jakarta (fixed UTC+7): in window iff the shift covers it."""
    end = (start + length) % 24
    schedule = Schedule(time_zone="Asia/Jakarta", days=days, start=time(start), end=time(end))
    now = datetime(2026, 3, 2, tzinfo=UTC) + timedelta(minutes=minutes)
    local = now.astimezone(JAKARTA)
    # The shift that starts on day d covers [d + start, d + start + length) hours.
    expected = False
    for back in (0, 1):
        shift_day = local.date() - timedelta(days=back)
        opening = datetime.combine(shift_day, time(start), JAKARTA)
        if Weekday.of(shift_day) in days and opening <= local < opening + timedelta(hours=length):
            expected = True
    assert schedule.is_active(now) is expected
