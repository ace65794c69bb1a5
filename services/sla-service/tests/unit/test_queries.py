"""Breaching soon: running metrics due within the window or breached, by team or assignee."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk_events import (
    Actor,
    ActorKind,
    DomainEvent,
    EventEnvelope,
    StatusCategory,
    StatusChanged,
    TicketCreated,
)
from sla_service.domain import BusinessCalendar, PriorityTargets, SlaMetric, SlaPolicy
from sla_service.service_layer.queries import (
    MAX_WINDOW,
    DurationError,
    breaching_soon,
    parse_duration,
)
from sla_service.service_layer.tracker import SlaTracker, TicketSla

H = timedelta(hours=1)
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TEAM_A, TEAM_B, AGENT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
TRACKER = SlaTracker.for_policy(
    SlaPolicy(
        name="P",
        targets={
            "High": PriorityTargets(first_response=1 * H, resolution=4 * H),
            "Low": PriorityTargets(first_response=8 * H, resolution=40 * H),
        },
    ),
    BusinessCalendar.twenty_four_seven(),
)


def envelope(ticket_id: uuid.UUID, version: int, event: DomainEvent, at: datetime) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=ticket_id,
        stream_type="ticket",
        stream_version=version,
        occurred_at=at,
        actor=Actor(kind=ActorKind.AGENT, id="a"),
        correlation_id=uuid.uuid4(),
        data=event.model_dump(mode="json"),
    )


def ticket(
    priority: str, team: uuid.UUID | None = None, assignee: uuid.UUID | None = None
) -> TicketSla:
    event = TicketCreated(
        subject="s",
        channel="email",
        status="x",
        priority=priority,
        team_id=team,
        assignee_id=assignee,
    )
    state = TRACKER.apply(None, envelope(uuid.uuid4(), 1, event, T0), 0).state
    assert state is not None
    return state


@pytest.mark.parametrize(
    ("text", "expected"),
    [("PT2H", 2 * H), ("PT30M", H / 2), ("P1DT4H", 28 * H), ("PT90S", timedelta(seconds=90))],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "2h", "PT2X", "P1DT"])
def test_bad_durations_say_what_is_expected(text: str) -> None:
    with pytest.raises(DurationError, match="such as PT2H"):
        parse_duration(text)


def test_due_within_the_window_or_breached_soonest_first() -> None:
    high = ticket("High", TEAM_A, AGENT)
    low = ticket("Low", TEAM_B)
    now = T0 + H / 2  # high: first response due in 30 min, resolution in 3.5 h

    within_hour = breaching_soon(TRACKER, [low, high], now, H)
    assert [(b.ticket_id, b.metric, b.remaining_seconds) for b in within_hour] == [
        (high.ticket_id, SlaMetric.FIRST_RESPONSE, 1800.0)
    ]

    later = T0 + 2 * H  # high's first response is 1 h late
    found = breaching_soon(TRACKER, [low, high], later, 2 * H)
    assert [(b.metric, b.breached, b.remaining_seconds) for b in found] == [
        (SlaMetric.FIRST_RESPONSE, True, -3600.0),
        (SlaMetric.RESOLUTION, False, 7200.0),
    ]
    assert found[1].due_at == T0 + 4 * H


def test_filters_by_team_and_assignee() -> None:
    high = ticket("High", TEAM_A, AGENT)
    other = ticket("High", TEAM_B)
    both = [high, other]
    assert {b.ticket_id for b in breaching_soon(TRACKER, both, T0, H)} == {
        high.ticket_id,
        other.ticket_id,
    }
    assert {b.ticket_id for b in breaching_soon(TRACKER, both, T0, H, team_id=TEAM_B)} == {
        other.ticket_id
    }
    assert {b.ticket_id for b in breaching_soon(TRACKER, both, T0, H, assignee_id=AGENT)} == {
        high.ticket_id
    }
    assert breaching_soon(TRACKER, both, T0, H, team_id=TEAM_B, assignee_id=AGENT) == []


def test_paused_clocks_are_left_out_until_breached() -> None:
    high = ticket("High")
    paused = TRACKER.apply(
        high,
        envelope(
            high.ticket_id,
            2,
            StatusChanged(from_status="a", to_status="b", to_category=StatusCategory.PAUSED),
            T0 + H / 2,
        ),
        0,
    ).state
    assert paused is not None
    found = breaching_soon(TRACKER, [paused], T0 + H / 2, 10 * H)
    # resolution pauses (default policy rules); first response keeps running
    assert [b.metric for b in found] == [SlaMetric.FIRST_RESPONSE]


@pytest.mark.parametrize("text", ["P3000000D", "P367D", "PT9000H", "P99999999999999999999D"])
def test_windows_longer_than_a_year_are_refused(text: str) -> None:
    """Security issue #11, item 6: P3000000D overflowed the due-date arithmetic (a 500)."""
    with pytest.raises(DurationError, match="at most"):
        parse_duration(text)


def test_a_year_is_the_longest_window() -> None:
    assert parse_duration("P366D") == MAX_WINDOW == timedelta(days=366)
    assert breaching_soon(TRACKER, [], datetime(9000, 1, 1, tzinfo=UTC), MAX_WINDOW) == []
