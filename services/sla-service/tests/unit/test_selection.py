"""Policy selection: ordered, first match wins, active date ranges, exactly one default."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sla_service.domain import BusinessCalendar, PriorityTargets, SlaPolicy
from sla_service.domain.calendar import NaiveDatetimeError
from sla_service.domain.selection import PolicyRule, PolicySet, PolicySetError

HOUR = timedelta(hours=1)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class FieldEquals:
    """A stand-in condition: ``ticket[name] == value`` (the service uses CEL conditions)."""

    def __init__(self, name: str, value: object) -> None:
        self.name, self.value = name, value

    def matches(self, ticket: Mapping[str, Any], /) -> bool:
        return ticket.get(self.name) == self.value


def rule(policy_id: str, **kwargs: Any) -> PolicyRule:
    policy = SlaPolicy(name=policy_id, targets={"Medium": PriorityTargets(first_response=HOUR)})
    return PolicyRule(
        policy_id=policy_id, policy=policy, calendar=BusinessCalendar.twenty_four_seven(), **kwargs
    )


DEFAULT = rule("default", is_default=True)


def test_no_rule_matches_gives_the_default() -> None:
    policies = PolicySet.of([rule("vip", condition=FieldEquals("type", "vip")), DEFAULT])
    assert policies.select({"type": "question"}, T0).policy_id == "default"


def test_first_matching_rule_by_order_wins() -> None:
    policies = PolicySet.of(
        [
            DEFAULT,
            rule("urgent", condition=FieldEquals("priority", "Urgent")),
            rule("vip", condition=FieldEquals("type", "vip")),
        ]
    )
    assert policies.select({"priority": "Urgent", "type": "vip"}, T0).policy_id == "urgent"
    assert policies.select({"priority": "Low", "type": "vip"}, T0).policy_id == "vip"


def test_rule_without_condition_matches_every_ticket() -> None:
    policies = PolicySet.of([rule("all"), rule("never", condition=FieldEquals("x", 1)), DEFAULT])
    assert policies.select({}, T0).policy_id == "all"


@pytest.mark.parametrize(
    ("active_from", "active_to", "at", "expected"),
    [
        (T0, None, T0 - timedelta(seconds=1), "default"),
        (T0, None, T0, "ranged"),
        (None, T0, T0 - timedelta(seconds=1), "ranged"),
        (None, T0, T0, "default"),  # the end is exclusive
        (T0, T0 + HOUR, T0 + HOUR / 2, "ranged"),
        (T0, T0 + HOUR, T0 + HOUR, "default"),
    ],
)
def test_active_date_range(
    active_from: datetime | None, active_to: datetime | None, at: datetime, expected: str
) -> None:
    policies = PolicySet.of([rule("ranged", active_from=active_from, active_to=active_to), DEFAULT])
    assert policies.select({}, at).policy_id == expected


def test_empty_or_reversed_range_is_refused_with_the_bounds() -> None:
    with pytest.raises(PolicySetError, match=r"active_to .* must be after active_from"):
        rule("bad", active_from=T0, active_to=T0)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(NaiveDatetimeError):
        rule("naive", active_from=datetime(2026, 1, 1))
    with pytest.raises(NaiveDatetimeError):
        rule("r", active_from=T0).is_active(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    "rules",
    [
        [rule("a")],
        [DEFAULT, rule("other-default", is_default=True)],
    ],
)
def test_exactly_one_default(rules: list[PolicyRule]) -> None:
    with pytest.raises(PolicySetError, match="exactly one default"):
        PolicySet.of(rules)


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(PolicySetError, match="used twice"):
        PolicySet.of([rule("a"), rule("a"), DEFAULT])


def test_get_by_id_includes_the_default() -> None:
    policies = PolicySet.of([rule("a"), DEFAULT])
    assert policies.get("default") is DEFAULT
    assert policies.get("a") is not None
    assert policies.get("missing") is None
