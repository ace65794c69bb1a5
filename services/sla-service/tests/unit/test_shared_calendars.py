"""Holiday lists and business calendars as named, shared objects (#20 item 8), and the calendar a
team works by (#20 item 11): the configuration fold, and tickets' clocks following it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpdesk_events import ActorKind, EventEnvelope, TeamChanged, TicketCreated
from sla_service.domain import SlaMetric
from sla_service.domain.policies import (
    PolicyCatalog,
    SavedPolicies,
    built_in_rule,
    fold_policies,
)
from sla_service.domain.shared_calendars import InUseError
from sla_service.service_layer.tracker import SlaTracker, TicketSla
from sla_service.settings import default_calendar, default_policy

from .test_tracker import Ticket

H = timedelta(hours=1)
T0 = datetime(2027, 3, 8, 0, 0, tzinfo=UTC)  # a Monday
JAKARTA_TEAM, MUMBAI_TEAM = uuid.uuid4(), uuid.uuid4()
NYEPI = {"kind": "date", "on": "2027-03-09", "name": "Nyepi"}  # a Tuesday

INDONESIA = {"holiday_list_id": "id-2027", "name": "Indonesia 2027", "holidays": [NYEPI]}
JAKARTA = {
    "calendar_id": "jakarta",
    "name": "Jakarta office",
    "calendar": {
        "time_zone": "Asia/Jakarta",  # UTC+7
        "weekly_hours": {day: [{"start": "09:00", "end": "17:00"}] for day in WEEKDAYS}
        if (WEEKDAYS := ["monday", "tuesday", "wednesday", "thursday", "friday"])
        else {},
    },
    "holiday_list_ids": ["id-2027"],
}
MUMBAI = {
    "calendar_id": "mumbai",
    "name": "Mumbai office",
    "calendar": {
        "time_zone": "Asia/Kolkata",  # UTC+5:30
        "weekly_hours": {day: [{"start": "09:00", "end": "17:00"}] for day in WEEKDAYS},
    },
}
REGIONAL = {
    "policy_id": "regional",
    "name": "Regional",
    "calendar_id": "jakarta",
    "use_team_calendar": True,
    "position": 5,
    "targets": {"Medium": {"first_response": 4 * 3600, "resolution": 16 * 3600}},
    "default_priority": "Medium",
}
LINKED = {
    "policy_id": "linked",
    "name": "Around the clock but not on holidays",
    "position": 1,
    "condition": '"linked" in tags',
    "calendar": {"time_zone": "UTC", "always_open": True},
    "holiday_list_ids": ["id-2027"],
    "targets": {"Medium": {"first_response": 3600, "resolution": 48 * 3600}},
    "default_priority": "Medium",
}
BUILT_IN = built_in_rule(default_policy(), default_calendar())


def fold(*events: tuple[str, dict[str, Any]], at: datetime = T0 - 24 * H) -> SavedPolicies:
    saved = SavedPolicies()
    for event_type, data in events:
        saved = fold_policies(saved, event_type, data, at)
    return saved


BASE = (
    ("HolidayListSaved", {"holiday_list": INDONESIA}),
    ("BusinessCalendarSaved", {"calendar": JAKARTA}),
    ("BusinessCalendarSaved", {"calendar": MUMBAI}),
    ("SlaPolicySaved", {"policy": REGIONAL}),
    ("SlaPolicySaved", {"policy": LINKED}),
    ("TeamCalendarSet", {"team_id": str(JAKARTA_TEAM), "calendar_id": "jakarta"}),
    ("TeamCalendarSet", {"team_id": str(MUMBAI_TEAM), "calendar_id": "mumbai"}),
)


# --- the configuration ---------------------------------------------------------------------------


def test_a_linked_holiday_list_is_counted_by_the_policy_and_the_calendar() -> None:
    saved = fold(*BASE)
    assert saved.rules["linked"].calendar.is_holiday(datetime(2027, 3, 9).date())
    assert saved.rules["regional"].calendar.is_holiday(datetime(2027, 3, 9).date())
    assert not saved.team_rules[("regional", MUMBAI_TEAM)].calendar.is_holiday(
        datetime(2027, 3, 9).date()
    )


def test_a_changed_holiday_list_changes_the_policies_that_use_it_only() -> None:
    saved = fold(*BASE)
    later = T0 + H
    extra = {**INDONESIA, "holidays": [NYEPI, {"kind": "date", "on": "2027-03-10"}]}
    changed = fold_policies(saved, "HolidayListSaved", {"holiday_list": extra}, later)
    assert changed.rules["linked"].revision != saved.rules["linked"].revision
    assert changed.changed_at["linked"] == later
    assert changed.changed_at["regional"] == later  # its calendar links the list
    assert changed.rules["linked"].revision in changed.history
    # A list nobody links changes no policy.
    other = {"holiday_list_id": "sg-2027", "name": "Singapore", "holidays": []}
    untouched = fold_policies(changed, "HolidayListSaved", {"holiday_list": other}, later + H)
    assert untouched.changed_at == changed.changed_at


def test_a_holiday_list_or_calendar_in_use_cannot_be_deleted() -> None:
    saved = fold(*BASE)
    with pytest.raises(InUseError) as in_use:
        fold_policies(saved, "HolidayListDeleted", {"holiday_list_id": "id-2027"}, T0)
    assert in_use.value.users == ("calendar 'jakarta'", "policy 'linked'")
    with pytest.raises(InUseError, match="policy 'regional'") as calendar_in_use:
        fold_policies(saved, "BusinessCalendarDeleted", {"calendar_id": "jakarta"}, T0)
    assert f"team {JAKARTA_TEAM}" in calendar_in_use.value.users
    # Once nothing uses it, it goes.
    saved = fold_policies(
        saved, "TeamCalendarSet", {"team_id": str(MUMBAI_TEAM), "calendar_id": None}, T0
    )
    assert ("regional", MUMBAI_TEAM) not in saved.team_rules
    saved = fold_policies(saved, "BusinessCalendarDeleted", {"calendar_id": "mumbai"}, T0)
    assert "mumbai" not in saved.calendars


@pytest.mark.parametrize(
    ("event_type", "data", "message"),
    [
        (
            "SlaPolicySaved",
            {"policy": {**LINKED, "holiday_list_ids": ["nope"]}},
            "links the holiday list 'nope', which does not exist",
        ),
        (
            "SlaPolicySaved",
            {"policy": {**REGIONAL, "calendar_id": "nope"}},
            "counts in the calendar 'nope', which does not exist",
        ),
        (
            "SlaPolicySaved",
            {"policy": {**REGIONAL, "calendar": {"time_zone": "UTC", "always_open": True}}},
            "give calendar or calendar_id",
        ),
        (
            "TeamCalendarSet",
            {"team_id": str(uuid.uuid4()), "calendar_id": "nope"},
            "there is no calendar 'nope'",
        ),
        ("HolidayListDeleted", {"holiday_list_id": "nope"}, "there is no holiday list 'nope'"),
        (
            "HolidayListSaved",
            {"holiday_list": {"holiday_list_id": "x", "name": "X", "holidays": [{"kind": "?"}]}},
            "holidays",
        ),
    ],
)
def test_what_the_configuration_cannot_hold_is_refused(
    event_type: str, data: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fold_policies(fold(*BASE), event_type, data, T0)


# --- tickets -------------------------------------------------------------------------------------


def created(
    ticket: Ticket, team: uuid.UUID | None = None, tags: tuple[str, ...] = ()
) -> EventEnvelope:
    event = TicketCreated(
        subject="s", channel="email", status="New", priority="Medium", team_id=team, tags=tags
    )
    return ticket.envelope(event, T0, ActorKind.CUSTOMER)


def due(tracker: SlaTracker, state: TicketSla, metric: SlaMetric) -> datetime | None:
    return tracker.due_at(state, state.metrics[metric])


def test_a_jakarta_team_and_a_mumbai_team_count_their_own_hours_and_holidays() -> None:
    tracker = SlaTracker(PolicyCatalog.build(fold(*BASE), BUILT_IN))
    jakarta, mumbai, neither = Ticket(), Ticket(), Ticket()
    # Opened Monday 00:00 UTC: 07:00 in Jakarta, 05:30 in Mumbai.
    j = tracker.apply(None, created(jakarta, JAKARTA_TEAM), 0).state
    m = tracker.apply(None, created(mumbai, MUMBAI_TEAM), 0).state
    n = tracker.apply(None, created(neither), 0).state
    assert j is not None and m is not None and n is not None
    # First response, 4 h: Jakarta 09:00-13:00 WIB (02:00-06:00 UTC); Mumbai 09:00-13:00 IST.
    assert due(tracker, j, SlaMetric.FIRST_RESPONSE) == datetime(2027, 3, 8, 6, 0, tzinfo=UTC)
    assert due(tracker, m, SlaMetric.FIRST_RESPONSE) == datetime(2027, 3, 8, 7, 30, tzinfo=UTC)
    # A ticket without a team counts in the policy's own calendar (Jakarta's).
    assert due(tracker, n, SlaMetric.FIRST_RESPONSE) == datetime(2027, 3, 8, 6, 0, tzinfo=UTC)
    # Resolution, 16 h = two working days: Jakarta skips Nyepi (Tuesday), Mumbai does not.
    assert due(tracker, j, SlaMetric.RESOLUTION) == datetime(2027, 3, 10, 10, 0, tzinfo=UTC)
    assert due(tracker, m, SlaMetric.RESOLUTION) == datetime(2027, 3, 9, 11, 30, tzinfo=UTC)
    assert j.policy == m.policy == "regional"
    assert j.policy_revision != m.policy_revision


def test_moving_a_ticket_to_another_team_counts_on_in_that_teams_calendar() -> None:
    tracker = SlaTracker(PolicyCatalog.build(fold(*BASE), BUILT_IN))
    ticket = Ticket()
    state = tracker.apply(None, created(ticket, JAKARTA_TEAM), 0).state
    assert state is not None
    # Monday 04:00 UTC (11:00 WIB): 2 Jakarta hours used; Mumbai counts the other 14.
    moved = ticket.envelope(
        TeamChanged(from_team_id=JAKARTA_TEAM, to_team_id=MUMBAI_TEAM), T0 + 4 * H
    )
    outcome = tracker.apply(state, moved, 0)
    assert outcome.state is not None
    (event,) = outcome.events
    assert event.event_type == "SlaTargetsSet"
    resolution = {t["metric"]: t for t in event.data["targets"]}["resolution"]
    assert resolution["elapsed_seconds"] == 2 * 3600
    # 09:30-17:00 IST Monday is 7.5 h (from 04:00 UTC), then 6.5 h on Tuesday: 10:00 UTC.
    assert resolution["due_at"] == "2027-03-09T10:00:00Z"


def test_a_changed_holiday_list_recomputes_an_open_tickets_due_instants() -> None:
    saved = fold(*BASE)
    tracker = SlaTracker(PolicyCatalog.build(saved, BUILT_IN))
    ticket = Ticket()
    state = tracker.apply(None, created(ticket, tags=("linked",)), 0).state
    assert state is not None and state.policy == "linked"
    # 48 h around the clock, but not on Nyepi: due Thursday 00:00.
    assert due(tracker, state, SlaMetric.RESOLUTION) == datetime(2027, 3, 11, tzinfo=UTC)

    # A manager adds Wednesday to the list at Monday 06:00.
    change_at = T0 + 6 * H
    extra = {**INDONESIA, "holidays": [NYEPI, {"kind": "date", "on": "2027-03-10"}]}
    saved = fold_policies(saved, "HolidayListSaved", {"holiday_list": extra}, change_at)
    tracker.policies = PolicyCatalog.build(saved, BUILT_IN)
    assert tracker.next_timer(state) == change_at  # the worker ticks it at once
    outcome = tracker.fire(state, change_at + timedelta(seconds=1))
    assert outcome.state is not None
    # Targets set again (and the first response, 1 h, long overdue, warned and breached).
    assert [e.event_type for e in outcome.events] == ["SlaTargetsSet", "SlaWarning", "SlaBreached"]
    event = outcome.events[0]
    assert event.occurred_at == change_at
    resolution = {t["metric"]: t for t in event.data["targets"]}["resolution"]
    assert resolution["elapsed_seconds"] == 6 * 3600
    assert resolution["due_at"] == "2027-03-12T00:00:00Z"
    assert due(tracker, outcome.state, SlaMetric.RESOLUTION) == datetime(2027, 3, 12, tzinfo=UTC)
