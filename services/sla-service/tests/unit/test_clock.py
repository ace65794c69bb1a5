"""SLA clocks: business time used, pauses, due instants, retargeting and reopening.

Hand-computed examples use the Jakarta office (Mon-Fri 08:00-12:00 and 13:00-17:00, UTC+7).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sla_service.domain import (
    BusinessCalendar,
    ClockTransitionError,
    HolidayRange,
    NaiveDatetimeError,
    SlaClock,
    Weekday,
)

JAKARTA = ZoneInfo("Asia/Jakarta")
HOUR = timedelta(hours=1)
ZERO = timedelta(0)
OFFICE = BusinessCalendar.office_hours("Asia/Jakarta", [("08:00", "12:00"), ("13:00", "17:00")])


def jkt(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant in June 2024, Jakarta time (3 June is a Monday)."""
    return datetime(2024, 6, day, hour, minute, tzinfo=JAKARTA)


# --- starting --------------------------------------------------------------------------------


def test_a_new_clock_runs_from_its_start() -> None:
    clock = SlaClock.start(jkt(3, 9))
    assert clock.is_running
    assert not clock.is_paused
    assert not clock.is_met
    assert clock.started_at == clock.running_since == clock.changed_at == jkt(3, 9)
    assert clock.started_at.tzinfo is UTC
    assert clock.due(OFFICE, 8 * HOUR) == jkt(4, 9)
    assert clock.elapsed(OFFICE, jkt(3, 14)) == 4 * HOUR
    assert clock.remaining(OFFICE, 8 * HOUR, jkt(3, 14)) == 4 * HOUR


def test_a_clock_can_start_paused() -> None:
    clock = SlaClock.start(jkt(3, 9), paused=True)
    assert clock.is_paused
    assert clock.due(OFFICE, HOUR) is None
    assert clock.elapsed(OFFICE, jkt(10)) == ZERO
    assert clock.resume(jkt(3, 10)).due(OFFICE, HOUR) == jkt(3, 11)


def test_start_outside_working_hours_counts_from_the_next_opening() -> None:
    clock = SlaClock.start(jkt(7, 16, 30))  # Friday
    assert clock.due(OFFICE, 4 * HOUR) == jkt(10, 11, 30)


def test_instants_must_be_aware() -> None:
    naive = datetime(2024, 6, 3, 9)
    with pytest.raises(NaiveDatetimeError):
        SlaClock.start(naive)
    clock = SlaClock.start(jkt(3, 9))
    with pytest.raises(NaiveDatetimeError):
        clock.pause(OFFICE, naive)
    with pytest.raises(NaiveDatetimeError):
        clock.elapsed(OFFICE, naive)
    with pytest.raises(ValidationError):
        SlaClock(started_at=naive, changed_at=naive)


# --- pausing ---------------------------------------------------------------------------------


def test_pause_and_resume_move_the_due_instant_by_the_paused_business_time() -> None:
    clock = SlaClock.start(jkt(3, 9))  # 8 h target: due Tuesday 09:00
    assert clock.due(OFFICE, 8 * HOUR) == jkt(4, 9)
    paused = clock.pause(OFFICE, jkt(3, 11))
    assert paused.business_elapsed == 2 * HOUR
    assert paused.due(OFFICE, 8 * HOUR) is None
    assert paused.elapsed(OFFICE, jkt(4, 10)) == 2 * HOUR
    resumed = paused.resume(jkt(4, 10))
    # 6 h left from Tuesday 10:00: 2 h before lunch, 4 after: due Tuesday 17:00.
    assert resumed.due(OFFICE, 8 * HOUR) == jkt(4, 17)
    # Paused Monday 11:00 to Tuesday 10:00 is 7 business hours; so is Tuesday 09:00 to 17:00.
    assert OFFICE.business_time_between(jkt(3, 11), jkt(4, 10)) == 7 * HOUR
    assert OFFICE.business_time_between(jkt(4, 9), jkt(4, 17)) == 7 * HOUR


def test_pause_and_resume_are_idempotent() -> None:
    clock = SlaClock.start(jkt(3, 9))
    paused = clock.pause(OFFICE, jkt(3, 10))
    assert paused.pause(OFFICE, jkt(3, 11)) == paused
    resumed = paused.resume(jkt(3, 14))
    assert resumed.resume(jkt(3, 15)) == resumed
    assert resumed.elapsed(OFFICE, jkt(3, 15)) == 2 * HOUR


def test_transitions_cannot_go_back_in_time() -> None:
    clock = SlaClock.start(jkt(3, 9)).pause(OFFICE, jkt(3, 11))
    with pytest.raises(ClockTransitionError, match="precedes the clock's last change"):
        clock.resume(jkt(3, 10))
    with pytest.raises(ClockTransitionError):
        clock.met(OFFICE, jkt(3, 10, 59))
    with pytest.raises(ClockTransitionError):
        SlaClock.start(jkt(3, 9)).pause(OFFICE, jkt(3, 8))


def test_readings_before_the_last_start_count_nothing_more() -> None:
    clock = SlaClock.start(jkt(3, 9)).pause(OFFICE, jkt(3, 10)).resume(jkt(3, 14))
    assert clock.elapsed(OFFICE, jkt(3, 11)) == HOUR


# --- meeting and breaching -------------------------------------------------------------------


def test_met_stops_the_clock_and_keeps_the_first_fulfilment() -> None:
    clock = SlaClock.start(jkt(3, 9)).met(OFFICE, jkt(3, 14, 30))
    assert clock.is_met
    assert clock.met_at == jkt(3, 14, 30)
    assert clock.business_elapsed == timedelta(hours=4, minutes=30)
    assert clock.due(OFFICE, 8 * HOUR) is None
    assert clock.elapsed(OFFICE, jkt(20)) == clock.business_elapsed
    assert clock.met(OFFICE, jkt(4, 9)) == clock
    assert clock.pause(OFFICE, jkt(4, 9)) == clock
    assert clock.resume(jkt(4, 9)) == clock


def test_met_while_paused_counts_nothing_more() -> None:
    clock = SlaClock.start(jkt(3, 9)).pause(OFFICE, jkt(3, 10)).met(OFFICE, jkt(4, 12))
    assert clock.business_elapsed == HOUR
    assert clock.met_at == jkt(4, 12)


def test_overdue_after_the_due_instant_even_outside_working_hours() -> None:
    clock = SlaClock.start(jkt(3, 8))  # 4 h target: due 12:00, when the morning window closes
    target = 4 * HOUR
    assert clock.due(OFFICE, target) == jkt(3, 12)
    assert not clock.is_overdue(OFFICE, target, jkt(3, 12))
    lunch = jkt(3, 12, 30)
    assert clock.is_overdue(OFFICE, target, lunch)
    assert clock.remaining(OFFICE, target, lunch) == ZERO  # no business time passes at lunch
    assert clock.remaining(OFFICE, target, jkt(3, 14)) == -HOUR


def test_a_paused_clock_is_overdue_only_past_its_target() -> None:
    target = 2 * HOUR
    on_time = SlaClock.start(jkt(3, 8)).pause(OFFICE, jkt(3, 10))
    assert not on_time.is_overdue(OFFICE, target, jkt(5))
    late = SlaClock.start(jkt(3, 8)).pause(OFFICE, jkt(3, 11))
    assert late.is_overdue(OFFICE, target, jkt(5))
    assert not late.met(OFFICE, jkt(5)).is_overdue(OFFICE, target, jkt(5))


def test_a_breach_is_recorded_once_and_kept() -> None:
    clock = SlaClock.start(jkt(3, 8))
    breached = clock.breach(jkt(3, 12))
    assert breached.breached
    assert not clock.breached
    assert breached.breach(jkt(3, 13)).breached_at == jkt(3, 12)
    later = breached.pause(OFFICE, jkt(3, 14)).resume(jkt(3, 15)).met(OFFICE, jkt(3, 16))
    assert later.breached_at == jkt(3, 12)
    assert later.met(OFFICE, jkt(3, 16)).reopen(jkt(4, 9)).breached


# --- retargeting -------------------------------------------------------------------------------


def test_retarget_keeps_the_business_time_used() -> None:
    clock = SlaClock.start(jkt(3, 9))
    retargeted = clock.retarget(OFFICE, jkt(3, 11))  # Low (24 h) -> High (4 h) after 2 h
    assert retargeted.business_elapsed == 2 * HOUR
    assert retargeted.running_since == jkt(3, 11)
    assert retargeted.elapsed(OFFICE, jkt(3, 15)) == clock.elapsed(OFFICE, jkt(3, 15))
    assert retargeted.due(OFFICE, 4 * HOUR) == jkt(3, 14)
    assert retargeted.due(OFFICE, 24 * HOUR) == clock.due(OFFICE, 24 * HOUR) == jkt(6, 9)


def test_retarget_to_a_target_already_used_up_is_overdue_at_once() -> None:
    clock = SlaClock.start(jkt(3, 9)).retarget(OFFICE, jkt(3, 11))
    assert clock.due(OFFICE, HOUR) == jkt(3, 11)
    assert not clock.is_overdue(OFFICE, HOUR, jkt(3, 11))
    assert clock.is_overdue(OFFICE, HOUR, jkt(3, 11, 1))
    assert clock.remaining(OFFICE, HOUR, jkt(3, 11)) == -HOUR


def test_retarget_to_another_calendar_measures_each_part_with_its_own() -> None:
    round_the_clock = BusinessCalendar.twenty_four_seven()
    clock = SlaClock.start(jkt(7, 16))  # Friday, office calendar: 1 h used by 17:00
    switched = clock.retarget(OFFICE, jkt(8, 10))  # Saturday: moved to a 24x7 policy
    assert switched.business_elapsed == HOUR
    assert switched.elapsed(round_the_clock, jkt(8, 13)) == 4 * HOUR
    assert switched.due(round_the_clock, 8 * HOUR) == jkt(8, 17)


def test_retarget_of_a_paused_or_met_clock_changes_nothing() -> None:
    paused = SlaClock.start(jkt(3, 9)).pause(OFFICE, jkt(3, 10))
    assert paused.retarget(OFFICE, jkt(3, 11)) == paused
    met = SlaClock.start(jkt(3, 9)).met(OFFICE, jkt(3, 10))
    assert met.retarget(OFFICE, jkt(3, 11)) == met


# --- reopening ---------------------------------------------------------------------------------


def test_reopen_counts_the_time_already_used() -> None:
    resolved = SlaClock.start(jkt(3, 9)).met(OFFICE, jkt(3, 15))  # 3 h + 2 h = 5 h used
    assert resolved.business_elapsed == 5 * HOUR
    reopened = resolved.reopen(jkt(5, 9))  # Wednesday 09:00, 8 h target: 3 h left
    assert reopened.is_running
    assert reopened.met_at is None
    assert reopened.due(OFFICE, 8 * HOUR) == jkt(5, 12)
    assert reopened.elapsed(OFFICE, jkt(5, 10)) == 6 * HOUR


def test_reopen_into_a_pausing_status() -> None:
    reopened = SlaClock.start(jkt(3, 9)).met(OFFICE, jkt(3, 10)).reopen(jkt(4, 9), paused=True)
    assert reopened.is_paused
    assert reopened.business_elapsed == HOUR


def test_only_a_met_clock_can_be_reopened() -> None:
    with pytest.raises(ClockTransitionError, match="only a met clock"):
        SlaClock.start(jkt(3, 9)).reopen(jkt(3, 10))


# --- the value object itself -------------------------------------------------------------------


def test_clock_round_trips_through_json() -> None:
    clock = SlaClock.start(jkt(3, 9)).pause(OFFICE, jkt(3, 11)).breach(jkt(3, 11))
    assert SlaClock.model_validate_json(clock.model_dump_json()) == clock


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"business_elapsed": -HOUR}, "cannot be negative"),
        ({"running_since": jkt(3, 10), "met_at": jkt(3, 10)}, "met clock is not running"),
        ({"changed_at": jkt(3, 8)}, "changed_at cannot precede started_at"),
        ({"running_since": jkt(3, 12)}, "running_since must lie between"),
    ],
)
def test_incoherent_clocks_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SlaClock.model_validate({"started_at": jkt(3, 9), "changed_at": jkt(3, 11), **fields})


# --- properties --------------------------------------------------------------------------------

CALENDARS = (
    OFFICE,
    BusinessCalendar.office_hours(
        "America/New_York",
        [("07:30", "12:00"), ("12:30", "18:00")],
        holidays=[HolidayRange(first=date(2024, 12, 24), last=date(2025, 1, 1))],
    ),
    BusinessCalendar.office_hours(
        "Europe/Berlin", [("00:00", "02:30"), ("20:00", "24:00")], days=tuple(Weekday)
    ),
    BusinessCalendar.twenty_four_seven("UTC"),
)
instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2026, 1, 1), timezones=st.just(UTC)
)
gaps = st.timedeltas(min_value=ZERO, max_value=timedelta(days=20))
targets = st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(hours=80))


@settings(max_examples=200, deadline=None)
@given(
    calendar=st.sampled_from(CALENDARS),
    start=instants,
    target=targets,
    until_pause=gaps,
    pause_length=gaps,
)
def test_pausing_moves_due_by_exactly_the_paused_business_time(
    calendar: BusinessCalendar,
    start: datetime,
    target: timedelta,
    until_pause: timedelta,
    pause_length: timedelta,
) -> None:
    clock = SlaClock.start(start)
    due = clock.due(calendar, target)
    assert due is not None
    paused_at = start + until_pause
    assume(paused_at < due)
    resumed_at = paused_at + pause_length
    moved = clock.pause(calendar, paused_at).resume(resumed_at).due(calendar, target)
    assert moved is not None
    paused_business_time = calendar.business_time_between(paused_at, resumed_at)
    assert moved >= due
    assert calendar.business_time_between(due, moved) == paused_business_time
    assert moved == calendar.add_business_time(due, paused_business_time)


transitions = st.lists(
    st.tuples(st.sampled_from(["pause", "resume", "retarget", "met", "reopen"]), gaps),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(calendar=st.sampled_from(CALENDARS), start=instants, steps=transitions, target=targets)
def test_elapsed_is_the_business_time_of_the_running_spans(
    calendar: BusinessCalendar,
    start: datetime,
    steps: list[tuple[str, timedelta]],
    target: timedelta,
) -> None:
    clock = SlaClock.start(start)
    running_since: datetime | None = start
    counted = ZERO
    now = start
    for action, wait in steps:
        now += wait
        before = clock.elapsed(calendar, now)
        if action == "pause":
            clock = clock.pause(calendar, now)
        elif action == "resume":
            clock = clock.resume(now)
        elif action == "retarget":
            clock = clock.retarget(calendar, now)
        elif action == "met":
            clock = clock.met(calendar, now)
        elif clock.is_met:
            clock = clock.reopen(now)
        # No transition changes the business time used so far.
        assert clock.elapsed(calendar, now) == before
        # Track the running spans independently of the clock.
        if running_since is not None and not clock.is_running:
            counted += calendar.business_time_between(running_since, now)
            running_since = None
        elif running_since is None and clock.is_running:
            running_since = now
    later = now + timedelta(days=3)
    expected = counted + (
        calendar.business_time_between(running_since, later) if running_since else ZERO
    )
    assert clock.elapsed(calendar, later) == expected
    assert clock.remaining(calendar, target, later) == target - expected
    due = clock.due(calendar, target)
    if due is not None:
        assert clock.elapsed(calendar, due) == max(target, clock.business_elapsed)
        assert clock.is_overdue(calendar, target, later) == (later > due)
