"""SLA policy documents, their fold from configuration events, and the effective catalog."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sla_service.domain import BusinessCalendar, PriorityTargets, SlaMetric, SlaPolicy
from sla_service.domain.policies import (
    BUILT_IN_DEFAULT_ID,
    PolicyCatalog,
    SavedPolicies,
    built_in_rule,
    fold_policies,
    parse_policy,
    revision_of,
)
from sla_service.domain.selection import PolicyRule, PolicySet

H = timedelta(hours=1)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BUILT_IN = built_in_rule(
    SlaPolicy(
        name="Built-in",
        targets={"Medium": PriorityTargets(first_response=8 * H, resolution=72 * H)},
        default_priority="Medium",
    ),
    BusinessCalendar.office_hours("UTC", [("08:00", "17:00")]),
)


def document(policy_id: str = "vip", **overrides: Any) -> dict[str, Any]:
    return {
        "policy_id": policy_id,
        "name": policy_id.upper(),
        "condition": 'priority == "Urgent" && "vip" in tags',
        "calendar": {"time_zone": "UTC", "always_open": True},
        "targets": {"Urgent": {"first_response": 600, "resolution": "PT2H"}},
        "default_priority": "Urgent",
        **overrides,
    }


def saved(*events: tuple[str, dict[str, Any]], at: datetime = T0) -> SavedPolicies:
    state = SavedPolicies()
    for event_type, data in events:
        state = fold_policies(state, event_type, data, at)
    return state


def save(raw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return ("SlaPolicySaved", {"policy": raw})


def delete(policy_id: str) -> tuple[str, dict[str, Any]]:
    return ("SlaPolicyDeleted", {"policy_id": policy_id})


# --- the document --------------------------------------------------------------------------------


def test_document_parses_into_a_rule_and_dumps_back() -> None:
    parsed = parse_policy(document(active_from="2026-01-01T00:00:00+07:00"))
    rule = parsed.to_rule()
    assert rule.policy_id == "vip"
    assert rule.policy.target("Urgent", SlaMetric.FIRST_RESPONSE) == timedelta(minutes=10)
    assert rule.calendar.always_open
    assert rule.condition is not None
    assert rule.condition.matches({"priority": "Urgent", "tags": ["vip"]})
    assert not rule.condition.matches({"priority": "Urgent", "tags": []})
    dumped = parsed.model_dump(mode="json")
    assert dumped["condition"] == 'priority == "Urgent" && "vip" in tags'
    assert parse_policy(dumped) == parsed  # what the event carries parses back alike


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"condition": 'prority == "High"'}, "unknown field 'prority' (did you mean 'priority'?)"),
        ({"condition": 'priority == "High" &&'}, "condition: syntax error at line 1"),
        ({"condition": "priority"}, "must come out true or false"),
        ({"condition": 'description.contains("x")'}, "cannot read description"),
        ({"default_priority": "Low"}, "the default priority 'Low' has no targets"),
        ({"default_priority": None}, "default_priority"),
        ({"targets": {}}, "targets"),
        (
            {"targets": {"Urgent": {"first_response": 7200, "resolution": 3600}}},
            "cannot be longer than the resolution target",
        ),
        ({"pausing": {"active": ["resolution"]}}, "work is under way"),
        ({"calendar": {"time_zone": "Mars/Olympus", "always_open": True}}, "unknown time zone"),
        ({"active_from": "2026-01-01T00:00:00"}, "active_from"),
        (
            {"active_from": "2026-02-01T00:00:00Z", "active_to": "2026-01-01T00:00:00Z"},
            "active_to must be after active_from",
        ),
        ({"is_default": True}, "has no condition and no active range"),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
        ({"policy_id": "has space"}, "policy_id"),
    ],
)
def test_invalid_documents_are_refused_with_a_clear_reason(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        parse_policy(document(**overrides))
    assert "is-instance" not in str(caught.value)  # no pydantic union noise


def test_the_id_default_is_only_for_the_default() -> None:
    with pytest.raises(ValueError, match="belongs to the default policy"):
        parse_policy(document(BUILT_IN_DEFAULT_ID, condition=None))
    assert parse_policy(document(BUILT_IN_DEFAULT_ID, condition=None, is_default=True)).is_default


# --- the fold ------------------------------------------------------------------------------------


def test_save_replace_and_delete() -> None:
    state = saved(save(document("vip")), save(document("gold", condition=None, position=5)))
    assert set(state.documents) == {"vip", "gold"}
    state = fold_policies(state, *save(document("vip", name="Very important")), T0 + H)
    assert state.documents["vip"].name == "Very important"
    assert state.changed_at == {"vip": T0 + H, "gold": T0}
    state = fold_policies(state, *delete("gold"), T0 + 2 * H)
    assert set(state.documents) == {"vip"}
    assert state.changed_at["gold"] == T0 + 2 * H
    # Every revision saved is kept: tickets may still follow an earlier one.
    assert len(state.history) == 3


def test_deleting_an_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="there is no saved policy 'nope'"):
        saved(delete("nope"))


def test_the_default_cannot_be_deleted() -> None:
    state = saved(save(document("standard", condition=None, is_default=True)))
    with pytest.raises(ValueError, match="'standard' is the default and cannot be deleted"):
        fold_policies(state, *delete("standard"), T0)


def test_a_second_default_is_refused_and_the_default_changes_in_place() -> None:
    state = saved(save(document("standard", condition=None, is_default=True)))
    with pytest.raises(ValueError, match="policy 'standard' is the default: change it in place"):
        fold_policies(state, *save(document("other", condition=None, is_default=True)), T0)
    # In place: allowed.
    state = fold_policies(
        state, *save(document("standard", condition=None, is_default=True, name="Std")), T0
    )
    assert state.default_id == "standard"
    # Giving up the role: allowed (the built-in default applies again), then another can take it.
    state = fold_policies(state, *save(document("standard", condition=None)), T0)
    assert state.default_id is None
    state = fold_policies(state, *save(document("other", condition=None, is_default=True)), T0)
    assert state.default_id == "other"
    state = fold_policies(state, *delete("standard"), T0)
    assert set(state.documents) == {"other"}


def test_other_event_types_change_nothing() -> None:
    state = saved(save(document()))
    assert fold_policies(state, "SomethingElse", {}, T0) is state


# --- the catalog ---------------------------------------------------------------------------------


def test_nothing_saved_gives_the_built_in_default() -> None:
    catalog = PolicyCatalog.of(BUILT_IN)
    assert [rule.policy_id for rule in catalog.ordered()] == [BUILT_IN_DEFAULT_ID]
    assert catalog.resolve("anything") is BUILT_IN
    (view,) = catalog.describe()
    assert view["saved"] is False
    assert view["is_default"] is True
    assert view["name"] == "Built-in"
    assert view["calendar"]["time_zone"] == "UTC"


def test_policies_are_ordered_by_position_then_id_and_the_default_comes_last() -> None:
    state = saved(
        save(document("b", position=1)),
        save(document("a", position=1)),
        save(document("z", position=-3)),
    )
    catalog = PolicyCatalog.build(state, BUILT_IN)
    assert [rule.policy_id for rule in catalog.ordered()] == ["z", "a", "b", BUILT_IN_DEFAULT_ID]
    assert [view["saved"] for view in catalog.describe()] == [True, True, True, False]


def test_a_saved_default_replaces_the_built_in_one() -> None:
    state = saved(save(document(BUILT_IN_DEFAULT_ID, condition=None, is_default=True)))
    catalog = PolicyCatalog.build(state, BUILT_IN)
    assert catalog.policies.default.policy.name == "DEFAULT"
    assert catalog.policies.default is not BUILT_IN
    # The built-in revision is still known (tickets counted under it settle their time with it).
    assert catalog.at_revision(catalog.built_in_revision) is BUILT_IN


def test_deleted_policies_resolve_to_the_default_and_their_revisions_stay_known() -> None:
    state = saved(save(document("vip")))
    revision = PolicyCatalog.build(state, BUILT_IN).current["vip"]
    catalog = PolicyCatalog.build(fold_policies(state, *delete("vip"), T0), BUILT_IN)
    assert catalog.resolve("vip") is catalog.policies.default
    old = catalog.at_revision(revision)
    assert old is not None
    assert old.policy_id == "vip"


def test_revision_follows_content_not_identity() -> None:
    one = parse_policy(document()).to_rule()
    same = parse_policy(document(position=9, condition=None)).to_rule()
    other = parse_policy(
        document(targets={"Urgent": {"first_response": 601, "resolution": 7200}})
    ).to_rule()
    assert revision_of(one.policy, one.calendar) == revision_of(same.policy, same.calendar)
    assert revision_of(one.policy, one.calendar) != revision_of(other.policy, other.calendar)


# --- selection: created_hour ------------------------------------------------------------------


def _hours_rule(policy_id: str, zone: str) -> PolicyRule:
    return parse_policy(
        document(
            policy_id,
            condition="created_hour >= 17",
            calendar={"time_zone": zone, "always_open": True},
        )
    ).to_rule()


def test_created_hour_is_read_in_each_policys_time_zone() -> None:
    jakarta = _hours_rule("after-hours-jakarta", "Asia/Jakarta")  # UTC+7
    policies = PolicySet.of([jakarta, BUILT_IN])
    created = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)  # 18:00 in Jakarta
    assert policies.select({}, created, created_at=created) is jakarta
    early = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 16:00 in Jakarta
    assert policies.select({}, early, created_at=early) is BUILT_IN
    # Without created_at, created_hour is missing: the condition does not match.
    assert policies.select({}, created) is BUILT_IN
