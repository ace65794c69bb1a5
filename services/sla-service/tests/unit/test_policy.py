"""SLA policies: targets per priority, which status categories pause or fulfil which metric."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from sla_service.domain import (
    BusinessCalendar,
    PriorityTargets,
    SlaClock,
    SlaMetric,
    SlaPolicy,
    StatusCategory,
    UnknownPriorityError,
)

HOUR = timedelta(hours=1)
FIRST, NEXT, RESOLUTION = SlaMetric.FIRST_RESPONSE, SlaMetric.NEXT_RESPONSE, SlaMetric.RESOLUTION


def default_policy() -> SlaPolicy:
    return SlaPolicy(
        name="Default",
        targets={
            "Urgent": PriorityTargets(first_response=HOUR, next_response=HOUR, resolution=4 * HOUR),
            "High": PriorityTargets(first_response=2 * HOUR, resolution=8 * HOUR),
            "Medium": PriorityTargets(first_response=4 * HOUR, resolution=24 * HOUR),
            "Low": PriorityTargets(first_response=8 * HOUR),
        },
        default_priority="Medium",
    )


# --- targets ---------------------------------------------------------------------------------


def test_targets_per_priority_and_metric() -> None:
    policy = default_policy()
    assert policy.target("Urgent", FIRST) == HOUR
    assert policy.target("Urgent", NEXT) == HOUR
    assert policy.target("High", RESOLUTION) == 8 * HOUR
    assert policy.target("High", NEXT) is None  # not tracked
    assert policy.target("Low", RESOLUTION) is None
    assert policy.targets_for("Medium").first_response == 4 * HOUR


def test_unknown_priority_is_a_clear_error() -> None:
    with pytest.raises(
        UnknownPriorityError, match=r"no targets for priority 'Critical'.*High, Low"
    ):
        default_policy().target("Critical", FIRST)


@pytest.mark.parametrize("bad", [timedelta(0), -HOUR])
def test_targets_must_be_positive(bad: timedelta) -> None:
    with pytest.raises(ValidationError, match="positive duration"):
        PriorityTargets(first_response=bad)
    with pytest.raises(ValidationError, match="positive duration"):
        PriorityTargets(first_response=HOUR, resolution=bad)


def test_first_response_cannot_outlast_resolution() -> None:
    with pytest.raises(ValidationError, match="cannot be longer than the resolution target"):
        PriorityTargets(first_response=5 * HOUR, resolution=4 * HOUR)


def test_policy_needs_targets_and_a_known_default() -> None:
    with pytest.raises(ValidationError):
        SlaPolicy(name="Empty", targets={})
    with pytest.raises(ValidationError, match="default priority 'Urgent' has no targets"):
        SlaPolicy(
            name="P",
            targets={"Low": PriorityTargets(first_response=HOUR)},
            default_priority="Urgent",
        )


def test_policy_reads_targets_from_json() -> None:
    policy = SlaPolicy.model_validate_json(
        """{"name": "Enterprise",
            "targets": {"High": {"first_response": "PT30M", "resolution": "PT4H"}},
            "pausing": {"paused": ["resolution"]},
            "fulfilling": {"resolved": ["resolution"], "closed": ["resolution"]}}"""
    )
    assert policy.target("High", FIRST) == timedelta(minutes=30)
    assert policy.pauses(StatusCategory.PAUSED, RESOLUTION)
    assert not policy.pauses(StatusCategory.PAUSED, NEXT)
    assert SlaPolicy.model_validate_json(policy.model_dump_json()) == policy


# --- which statuses pause or fulfil which metric ------------------------------------------------


@pytest.mark.parametrize(
    ("category", "paused", "fulfilled"),
    [
        (StatusCategory.NEW, set(), set()),
        (StatusCategory.ACTIVE, set(), set()),
        (StatusCategory.PAUSED, {RESOLUTION, NEXT}, set()),
        (StatusCategory.RESOLVED, {FIRST, NEXT}, {RESOLUTION}),
        (StatusCategory.CLOSED, {FIRST, NEXT}, {RESOLUTION}),
    ],
)
def test_default_pause_and_fulfil_rules(
    category: StatusCategory, paused: set[SlaMetric], fulfilled: set[SlaMetric]
) -> None:
    policy = default_policy()
    assert {m for m in SlaMetric if policy.pauses(category, m)} == paused
    assert {m for m in SlaMetric if policy.fulfils(category, m)} == fulfilled


def test_rules_can_be_changed_per_policy() -> None:
    strict = default_policy().model_copy(
        update={"pausing": {StatusCategory.PAUSED: frozenset({FIRST, NEXT, RESOLUTION})}}
    )
    assert strict.pauses(StatusCategory.PAUSED, FIRST)
    assert not strict.pauses(StatusCategory.RESOLVED, FIRST)


@pytest.mark.parametrize(
    ("pausing", "fulfilling", "message"),
    [
        ({StatusCategory.ACTIVE: frozenset({RESOLUTION})}, {}, "work is under way"),
        ({}, {StatusCategory.NEW: frozenset({RESOLUTION})}, "work is under way"),
        (
            {StatusCategory.RESOLVED: frozenset({RESOLUTION})},
            {StatusCategory.RESOLVED: frozenset({RESOLUTION})},
            "cannot both pause and fulfil resolution",
        ),
        ({}, {StatusCategory.CLOSED: frozenset({FIRST})}, "fulfilled by an agent's reply"),
    ],
)
def test_incoherent_rules_are_refused(
    pausing: dict[StatusCategory, frozenset[SlaMetric]],
    fulfilling: dict[StatusCategory, frozenset[SlaMetric]],
    message: str,
) -> None:
    with pytest.raises(ValidationError, match=message):
        SlaPolicy(
            name="P",
            targets={"Low": PriorityTargets(first_response=HOUR)},
            pausing=pausing,
            fulfilling=fulfilling,
        )


# --- following a ticket's status changes ---------------------------------------------------------

ROUND_THE_CLOCK = BusinessCalendar.twenty_four_seven()
T0 = datetime(2024, 6, 3, 9, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_resolution_clock_through_a_ticket_life() -> None:
    policy, calendar = default_policy(), ROUND_THE_CLOCK
    clock = SlaClock.start(at(0))

    def follow(clock: SlaClock, category: StatusCategory, hours: float) -> SlaClock:
        return policy.follow_status(clock, RESOLUTION, category, calendar, at(hours))

    clock = follow(clock, StatusCategory.ACTIVE, 1)  # Open: keeps running
    assert clock.is_running
    clock = follow(clock, StatusCategory.PAUSED, 2)  # Waiting on Customer: 2 h used
    assert clock.is_paused
    assert clock.business_elapsed == 2 * HOUR
    clock = follow(clock, StatusCategory.PAUSED, 3)  # Pending: still paused, nothing counted
    clock = follow(clock, StatusCategory.ACTIVE, 5)  # the customer answered
    assert clock.running_since == at(5)
    clock = follow(clock, StatusCategory.RESOLVED, 6)  # Solved: met with 3 h used
    assert clock.met_at == at(6)
    assert clock.business_elapsed == 3 * HOUR
    clock = follow(clock, StatusCategory.CLOSED, 7)  # Closed after Solved: still met at 6 h
    assert clock.met_at == at(6)
    clock = follow(clock, StatusCategory.ACTIVE, 30)  # reopened: counts on from 3 h
    assert clock.is_running
    assert clock.met_at is None
    assert clock.elapsed(calendar, at(31)) == 4 * HOUR
    clock = follow(clock, StatusCategory.RESOLVED, 31)
    clock = follow(clock, StatusCategory.PAUSED, 40)  # reopened straight into Pending
    assert clock.is_paused
    assert clock.business_elapsed == 4 * HOUR


def test_first_response_keeps_running_while_pending() -> None:
    policy = default_policy()
    clock = SlaClock.start(at(0))
    clock = policy.follow_status(clock, FIRST, StatusCategory.PAUSED, ROUND_THE_CLOCK, at(1))
    assert clock.is_running
    assert clock.elapsed(ROUND_THE_CLOCK, at(3)) == 3 * HOUR
    # Solving the ticket stops the response clock without fulfilling it; reopening resumes it.
    clock = policy.follow_status(clock, FIRST, StatusCategory.RESOLVED, ROUND_THE_CLOCK, at(3))
    assert clock.is_paused
    assert not clock.is_met
    clock = policy.follow_status(clock, FIRST, StatusCategory.ACTIVE, ROUND_THE_CLOCK, at(10))
    assert clock.elapsed(ROUND_THE_CLOCK, at(11)) == 4 * HOUR


def test_a_response_met_by_a_reply_stays_met_through_status_changes() -> None:
    policy = default_policy()
    clock = SlaClock.start(at(0)).met(ROUND_THE_CLOCK, at(1))
    for hours, category in enumerate(
        [StatusCategory.PAUSED, StatusCategory.RESOLVED, StatusCategory.ACTIVE], start=2
    ):
        clock = policy.follow_status(clock, FIRST, category, ROUND_THE_CLOCK, at(hours))
        assert clock.met_at == at(1)
        assert clock.business_elapsed == HOUR
