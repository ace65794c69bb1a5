"""The preview of a policy: when a ticket created at an instant would be due, in business time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sla_service.domain.calendar import BusinessCalendar
from sla_service.domain.policy import PriorityTargets, SlaPolicy, UnknownPriorityError
from sla_service.domain.preview import due_preview

OFFICE = BusinessCalendar.model_validate(
    {
        "time_zone": "Asia/Jakarta",
        "weekly_hours": {
            day: [{"start": "08:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]
            for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
        },
        "holidays": [{"kind": "date", "on": "2030-01-01"}],
    }
)
POLICY = SlaPolicy(
    name="Office",
    targets={
        "High": PriorityTargets(
            first_response=timedelta(hours=2),
            next_response=timedelta(hours=4),
            resolution=timedelta(hours=9),
        ),
        "Low": PriorityTargets(first_response=timedelta(hours=8)),
    },
)


def test_due_instants_skip_nights_lunch_weekends_and_holidays() -> None:
    # Monday 31 December 2029, 11:00 in Jakarta (04:00 UTC); 1 January 2030 is a holiday.
    created = datetime(2029, 12, 31, 4, tzinfo=UTC)
    preview = due_preview(POLICY, OFFICE, "High", created)
    assert preview["priority"] == "High"
    assert preview["target_seconds"] == {
        "first_response": 7200,
        "next_response": 14400,
        "resolution": 32400,
    }
    # 11:00-12:00 and 13:00-14:00 on Monday: first response at 14:00 Jakarta (07:00 UTC).
    assert preview["due_at"]["first_response"] == "2029-12-31T07:00:00+00:00"
    # 5 h on Monday (11-12, 13-17), Tuesday is a holiday, 4 h more on Wednesday: 12:00 Jakarta.
    assert preview["due_at"]["resolution"] == "2030-01-02T05:00:00+00:00"


def test_a_metric_without_target_has_no_due_instant() -> None:
    preview = due_preview(POLICY, OFFICE, "Low", datetime(2030, 1, 7, 1, tzinfo=UTC))
    assert preview["due_at"]["resolution"] is None
    assert preview["target_seconds"]["next_response"] is None
    # Monday 7 January 2030 08:00 Jakarta: a full working day of 8 hours ends at 17:00.
    assert preview["due_at"]["first_response"] == "2030-01-07T10:00:00+00:00"


def test_an_unknown_priority_is_refused() -> None:
    with pytest.raises(UnknownPriorityError):
        due_preview(POLICY, OFFICE, "Urgent", datetime(2030, 1, 7, tzinfo=UTC))


def test_a_target_longer_than_a_year_is_not_walked_to() -> None:
    policy = SlaPolicy(
        name="Forever", targets={"Low": PriorityTargets(first_response=timedelta(days=3_000_000))}
    )
    preview = due_preview(policy, OFFICE, "Low", datetime(2030, 1, 7, tzinfo=UTC))
    assert preview["due_at"]["first_response"] is None
    assert preview["target_seconds"]["first_response"] == 3_000_000 * 86400
