"""Report arithmetic: compliance = met within target / (met within + breached), averages of met."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sla_service.domain import SlaMetric
from sla_service.domain.report import Outcome, report

T0 = datetime(2026, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)
TEAM_A, TEAM_B = sorted([uuid.uuid4(), uuid.uuid4()], key=str)
FIRST, RES = SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION


def outcome(
    metric: SlaMetric,
    day: int,
    group: uuid.UUID | None,
    *,
    met: bool,
    within: bool = False,
    seconds: float | None = None,
) -> Outcome:
    return Outcome(uuid.uuid4(), metric, T0 + day * DAY, group, met, within, seconds)


def test_compliance_and_averages_per_group_and_metric() -> None:
    outcomes = [
        outcome(FIRST, 1, TEAM_A, met=True, within=True, seconds=600),
        outcome(FIRST, 2, TEAM_A, met=True, within=True, seconds=1200),
        outcome(FIRST, 3, TEAM_A, met=True, within=False, seconds=7200),  # met late
        outcome(FIRST, 4, TEAM_A, met=False),  # breached, still open
        outcome(RES, 5, TEAM_A, met=True, within=True, seconds=3600),
        outcome(FIRST, 5, TEAM_B, met=False),
        outcome(FIRST, 40, TEAM_A, met=True, within=True, seconds=1),  # outside the period
    ]
    (a, b) = report(outcomes, T0, T0 + 30 * DAY)
    assert a.group == TEAM_A
    first = a.metrics[FIRST]
    assert (first.met_within, first.breached, first.met) == (2, 2, 3)
    assert first.compliance == 50.0
    assert first.average_seconds == (600 + 1200 + 7200) / 3
    assert a.metrics[RES].compliance == 100.0
    assert a.metrics[RES].average_seconds == 3600
    assert b.group == TEAM_B
    assert b.metrics[FIRST].compliance == 0.0
    assert b.metrics[FIRST].average_seconds is None


def test_period_is_half_open_and_ungrouped_tickets_form_their_own_group() -> None:
    outcomes = [
        outcome(FIRST, 0, None, met=True, within=True, seconds=60),
        outcome(FIRST, 10, None, met=True, within=True, seconds=60),  # at the end: excluded
    ]
    (only,) = report(outcomes, T0, T0 + 10 * DAY)
    assert only.group is None
    assert only.metrics[FIRST].met == 1
    assert report([], T0, T0 + DAY) == []
