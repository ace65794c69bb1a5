"""Pause and fulfil per status (#20 item 7): a status a policy names decides alone, the others
follow their category; checked rule by rule, then as timelines on an office-hours calendar whose
expected business times are worked out by hand (as the calendar oracle's cases are)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from helpdesk_events import (
    Actor,
    ActorKind,
    EventEnvelope,
    StatusCategory,
    StatusChanged,
    TicketCreated,
)
from sla_service.domain import BusinessCalendar, PriorityTargets, SlaMetric, SlaPolicy
from sla_service.domain.known_statuses import KnownStatuses, fold_options
from sla_service.domain.policies import parse_policy
from sla_service.service_layer.tracker import SlaTracker, TicketSla

H = timedelta(hours=1)
FIRST, NEXT, RESOLUTION = SlaMetric.FIRST_RESPONSE, SlaMetric.NEXT_RESPONSE, SlaMetric.RESOLUTION
PAUSED, ACTIVE, RESOLVED = StatusCategory.PAUSED, StatusCategory.ACTIVE, StatusCategory.RESOLVED
OFFICE = BusinessCalendar.office_hours("UTC", [("08:00", "17:00")])
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def policy(**rules: object) -> SlaPolicy:
    return SlaPolicy.model_validate(
        {
            "name": "Per status",
            "targets": {"Medium": PriorityTargets(first_response=2 * H, resolution=8 * H)},
            "default_priority": "Medium",
            **rules,
        }
    )


VENDOR = policy(
    pausing_statuses={"Waiting for Vendor": [RESOLUTION], "Awaiting Parts": [RESOLUTION]},
    fulfilling_statuses={"Solved": [RESOLUTION], "Closed": []},
)


# --- the rules -----------------------------------------------------------------------------------


def test_a_named_status_decides_alone_and_others_follow_their_category() -> None:
    # Named: pauses only what it lists, even in a working category.
    assert VENDOR.pauses(PAUSED, RESOLUTION, "Waiting for Vendor")
    assert not VENDOR.pauses(PAUSED, NEXT, "Waiting for Vendor")  # the category would pause it
    assert VENDOR.pauses(ACTIVE, RESOLUTION, "Awaiting Parts")
    # "Closed" is named with nothing: it neither fulfils nor pauses anything.
    assert not VENDOR.fulfils(StatusCategory.CLOSED, RESOLUTION, "Closed")
    assert not VENDOR.pauses(StatusCategory.CLOSED, FIRST, "Closed")
    assert VENDOR.fulfils(RESOLVED, RESOLUTION, "Solved")
    # Not named: the category's default rule.
    assert VENDOR.pauses(PAUSED, NEXT, "Waiting on Customer")
    assert VENDOR.pauses(PAUSED, RESOLUTION, None)
    assert VENDOR.fulfils(RESOLVED, RESOLUTION, "Done")
    assert not VENDOR.pauses(ACTIVE, RESOLUTION, "Open")


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            {"pausing_statuses": {"X": [RESOLUTION]}, "fulfilling_statuses": {"X": [RESOLUTION]}},
            "status 'X' cannot both pause and fulfil resolution",
        ),
        ({"fulfilling_statuses": {"Answered": [FIRST]}}, "cannot fulfil a response metric"),
        ({"pausing_statuses": {"": [RESOLUTION]}}, "at least 1 character"),
    ],
)
def test_status_rules_that_cannot_hold_are_refused(rules: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        policy(**rules)


def test_the_policy_document_carries_the_status_rules() -> None:
    document = parse_policy(
        {
            "policy_id": "vendor",
            "name": "Vendor",
            "calendar": {"time_zone": "UTC", "always_open": True},
            "targets": {"Medium": {"first_response": 3600, "resolution": 8 * 3600}},
            "default_priority": "Medium",
            "pausing_statuses": {"Waiting for Vendor": ["resolution"]},
        }
    )
    assert document.sla_policy().pauses(PAUSED, RESOLUTION, "Waiting for Vendor")
    with pytest.raises(ValueError, match="cannot fulfil a response metric"):
        parse_policy({**document.model_dump(), "fulfilling_statuses": {"X": ["next_response"]}})


# --- timelines -----------------------------------------------------------------------------------


def envelope(ticket: uuid.UUID, version: int, event: object, at: datetime) -> EventEnvelope:
    assert isinstance(event, TicketCreated | StatusChanged)
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=ticket,
        stream_type="ticket",
        stream_version=version,
        occurred_at=at,
        actor=Actor(kind=ActorKind.AGENT, id="someone"),
        correlation_id=ticket,
        data=event.model_dump(mode="json"),
    )


def timeline(tracker: SlaTracker, steps: list[tuple[str, StatusCategory, timedelta]]) -> TicketSla:
    """A ticket opened Monday 09:00 (New), then each (status, category, offset from 09:00)."""
    ticket = uuid.uuid4()
    created = TicketCreated(
        subject="s", channel="email", status="New", priority="Medium", status_category=None
    )
    outcome = tracker.apply(None, envelope(ticket, 1, created, MONDAY_9), partition=0)
    state = outcome.state
    previous = "New"
    for version, (status, category, offset) in enumerate(steps, start=2):
        change = StatusChanged(from_status=previous, to_status=status, to_category=category)
        outcome = tracker.apply(state, envelope(ticket, version, change, MONDAY_9 + offset), 0)
        state, previous = outcome.state, status
    assert state is not None
    return state


# (steps, the resolution clock's state, business time settled at its last stop, due if running)
CASES = [
    # A named pausing status in the "active" category pauses the resolution 10:00-14:00 ...
    (
        [("Awaiting Parts", ACTIVE, H), ("Open", ACTIVE, 5 * H)],
        "running",
        H,
        datetime(2026, 11, 24, 12, 0, tzinfo=UTC),  # 7 h left from Monday 14:00
    ),
    # ... while "Waiting for Vendor" pauses the resolution only - not the first response.
    (
        [("Waiting for Vendor", PAUSED, H)],
        "paused",
        H,
        None,
    ),
    # "Pending" is not named: its category pauses the resolution, over the night as well.
    (
        [("Pending", PAUSED, 2 * H), ("Open", ACTIVE, 24 * H)],
        "running",
        2 * H,
        datetime(2026, 11, 24, 15, 0, tzinfo=UTC),  # 6 h left from Tuesday 09:00
    ),
    # "Solved" fulfils the resolution after 3 office hours ...
    ([("Solved", RESOLVED, 3 * H)], "met", 3 * H, None),
    # ... "Closed" is named with nothing: the clock goes on counting through the evening.
    (
        [("Closed", StatusCategory.CLOSED, 3 * H)],
        "running",
        timedelta(0),  # never stopped: due after the day's eight office hours
        datetime(2026, 11, 23, 17, 0, tzinfo=UTC),
    ),
    # Reopened from "Solved": the time used is kept and counting goes on.
    (
        [("Solved", RESOLVED, H), ("Open", ACTIVE, 23 * H)],
        "running",
        H,
        datetime(2026, 11, 24, 15, 0, tzinfo=UTC),  # from Tuesday 08:00, 7 h left
    ),
]


@pytest.mark.parametrize(("steps", "clock_state", "used", "due"), CASES)
def test_timelines_per_status(
    steps: list[tuple[str, StatusCategory, timedelta]],
    clock_state: str,
    used: timedelta,
    due: datetime | None,
) -> None:
    tracker = SlaTracker.for_policy(VENDOR, OFFICE)
    state = timeline(tracker, steps)
    metric = state.metrics[RESOLUTION]
    clock = metric.clock
    assert ("met" if clock.is_met else "running" if clock.is_running else "paused") == clock_state
    assert clock.business_elapsed == used
    assert tracker.due_at(state, metric) == due


def test_the_first_response_runs_through_a_status_that_pauses_only_the_resolution() -> None:
    tracker = SlaTracker.for_policy(VENDOR, OFFICE)
    state = timeline(tracker, [("Waiting for Vendor", PAUSED, H)])
    first = state.metrics[FIRST]
    assert first.clock.is_running
    assert tracker.due_at(state, first) == MONDAY_9 + 2 * H


# --- checked against the ticket options ----------------------------------------------------------


def test_statuses_are_checked_against_the_ticket_options_once_known() -> None:
    unknown = KnownStatuses()
    unknown.check(VENDOR)  # the options were never read: nothing to check against
    options = {
        "priorities": ["Low", "Medium"],
        "statuses": [
            {"name": "New", "category": "new"},
            {"name": "Waiting for Vendor", "category": "paused"},
            {"name": "Solved", "category": "resolved"},
            {"name": "Closed", "category": "closed"},
        ],
    }
    known = fold_options(unknown, "TicketOptionsConfigured", options)
    assert known.statuses is not None and known.statuses["Solved"] is RESOLVED
    with pytest.raises(ValueError, match=r"no ticket status is named 'Awaiting Parts'") as error:
        known.check(VENDOR)
    assert "the statuses are: Closed, New, Solved, Waiting for Vendor" in str(error.value)
    known.check(policy(pausing_statuses={"Waiting for Vendor": [RESOLUTION]}))
    assert fold_options(known, "TeamCreated", {}) is known
