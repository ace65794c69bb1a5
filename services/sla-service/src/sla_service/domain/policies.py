"""SLA policies as managers configure them: the policy document, its fold, and the catalog.

A :class:`PolicyDocument` is what ``PUT /policies/{policy_id}`` takes and what
``SlaPolicySaved`` carries: an id, a name, a ``position`` in the ordered list, ``is_default``, an
optional ``condition`` on the ticket's fields (CEL, :mod:`helpdesk_conditions`) and active range,
the business ``calendar`` it counts in, and the :class:`~sla_service.domain.policy.SlaPolicy`
fields (``targets`` per priority, ``default_priority``, ``pausing``, ``fulfilling`` per status
category, ``pausing_statuses``, ``fulfilling_statuses`` per status name).

The saved policies are folded from ``SlaPolicySaved`` / ``SlaPolicyDeleted``
(:func:`fold_policies`); a ``ValueError`` refuses an event, alike on every replica:

* at most one saved policy is the default. Saving a policy with ``is_default`` while another
  saved policy holds that role is refused: change the default in place (``PUT`` its id), or save
  it with ``is_default: false`` first. The default has no condition and no active range (it is
  the policy of every ticket no other policy takes), and its ``position`` is not used;
* the default cannot be deleted;
* the id ``default`` is the built-in default's: a saved policy may use it only as the default
  (it then replaces the built-in one).

:class:`PolicyCatalog` is what the tracker reads: the effective
:class:`~sla_service.domain.selection.PolicySet` (saved policies by ``position``, then id; the
saved default, else the *built-in default* from the settings ``HELPDESK_SLA_POLICY`` /
``HELPDESK_SLA_CALENDAR``), and every *revision* (a digest of a policy's targets, statuses and
calendar) seen since the service started, so that a ticket whose policy changed can settle the
time it used under the calendar it was counted in before the new one applies.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from helpdesk_conditions import Condition
from sla_service.domain.calendar import BusinessCalendar
from sla_service.domain.policy import (
    DEFAULT_FULFILLING,
    DEFAULT_PAUSING,
    PriorityTargets,
    SlaMetric,
    SlaPolicy,
    StatusCategory,
    StatusName,
)
from sla_service.domain.selection import PolicyRule, PolicySet

__all__ = [
    "BUILT_IN_DEFAULT_ID",
    "UNAVAILABLE_FIELDS",
    "PolicyCatalog",
    "PolicyDocument",
    "SavedPolicies",
    "built_in_rule",
    "fold_policies",
    "parse_policy",
    "revision_of",
]

#: The id of the built-in default policy (from the settings).
BUILT_IN_DEFAULT_ID: Final = "default"
#: Ticket fields conditions may name that the SLA service does not keep per ticket.
UNAVAILABLE_FIELDS: Final = frozenset({"description"})


class PolicyDocument(BaseModel):
    """One SLA policy as the admin API takes it; see the module documentation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policy_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    name: str = Field(min_length=1, max_length=200)
    position: int = Field(default=0, description="lower first; ties by policy_id")
    is_default: bool = False
    condition: Condition | None = None
    active_from: AwareDatetime | None = None
    active_to: AwareDatetime | None = None
    calendar: BusinessCalendar
    targets: dict[str, PriorityTargets] = Field(min_length=1)
    default_priority: str = Field(
        min_length=1, description="the priority whose targets a priority not in targets gets"
    )
    pausing: dict[StatusCategory, frozenset[SlaMetric]] = Field(
        default_factory=lambda: dict(DEFAULT_PAUSING)
    )
    fulfilling: dict[StatusCategory, frozenset[SlaMetric]] = Field(
        default_factory=lambda: dict(DEFAULT_FULFILLING)
    )
    pausing_statuses: dict[StatusName, frozenset[SlaMetric]] = Field(default_factory=dict)
    fulfilling_statuses: dict[StatusName, frozenset[SlaMetric]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.condition is not None:
            unavailable = sorted(self.condition.fields & UNAVAILABLE_FIELDS)
            if unavailable:
                raise ValueError(
                    f"SLA policy conditions cannot read {', '.join(unavailable)} (the SLA service "
                    "does not keep it per ticket); use subject, tags or the other fields"
                )
        if self.is_default and (
            self.condition is not None or self.active_from is not None or self.active_to is not None
        ):
            raise ValueError(
                "the default policy takes every ticket no other policy takes: it has no condition "
                "and no active range"
            )
        if self.policy_id == BUILT_IN_DEFAULT_ID and not self.is_default:
            raise ValueError(
                f"the id {BUILT_IN_DEFAULT_ID!r} belongs to the default policy: "
                "save it with is_default true, or use another id"
            )
        if (
            self.active_from is not None
            and self.active_to is not None
            and self.active_to <= self.active_from
        ):
            raise ValueError("active_to must be after active_from")
        self.sla_policy()  # the targets, pausing and fulfilling must make a valid SlaPolicy
        return self

    def sla_policy(self) -> SlaPolicy:
        try:
            return SlaPolicy(
                name=self.name,
                targets=self.targets,
                default_priority=self.default_priority,
                pausing=self.pausing,
                fulfilling=self.fulfilling,
                pausing_statuses=self.pausing_statuses,
                fulfilling_statuses=self.fulfilling_statuses,
            )
        except ValidationError as error:
            raise ValueError(_problems(error)) from None

    def to_rule(self) -> PolicyRule:
        return PolicyRule(
            policy_id=self.policy_id,
            policy=self.sla_policy(),
            calendar=self.calendar,
            condition=self.condition,
            active_from=self.active_from,
            active_to=self.active_to,
            is_default=self.is_default,
        )


def _problems(error: ValidationError) -> str:
    """One readable line: ``field.path: message; ...`` (the condition's union noise left out)."""
    problems: list[str] = []
    for issue in error.errors():
        if issue["type"] == "is_instance_of":
            continue  # "should be a Condition": the text form's own error follows
        path = ".".join(
            str(part) for part in issue["loc"] if not str(part).startswith("function-after[")
        )
        message = issue["msg"].removeprefix("Value error, ")
        problems.append(f"{path}: {message}" if path else message)
    return "; ".join(problems) or str(error)


def parse_policy(raw: object) -> PolicyDocument:
    """A policy from its JSON; ``ValueError`` with a readable reason when it is not valid."""
    try:
        return PolicyDocument.model_validate(raw)
    except ValidationError as error:
        raise ValueError(_problems(error)) from None


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [_canonical(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return value


def revision_of(policy: SlaPolicy, calendar: BusinessCalendar) -> str:
    """A digest of what a ticket's clocks follow: targets, statuses, calendar (and the name)."""
    content = {
        "policy": _canonical(policy.model_dump(mode="json")),
        "calendar": _canonical(calendar.model_dump(mode="json")),
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def built_in_rule(policy: SlaPolicy, calendar: BusinessCalendar) -> PolicyRule:
    """The default policy from the settings, in force until a saved policy is the default."""
    return PolicyRule(
        policy_id=BUILT_IN_DEFAULT_ID, policy=policy, calendar=calendar, is_default=True
    )


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class SavedPolicies:
    """The fold's state: the saved policies, every revision saved, when each id last changed."""

    documents: Mapping[str, PolicyDocument] = field(default_factory=dict)
    rules: Mapping[str, PolicyRule] = field(default_factory=dict)
    #: revision -> rule, for every revision ever saved (kept: tickets may still follow one).
    history: Mapping[str, PolicyRule] = field(default_factory=dict)
    #: policy id -> the instant of its last save or deletion.
    changed_at: Mapping[str, datetime] = field(default_factory=dict)

    @property
    def default_id(self) -> str | None:
        return next((pid for pid, doc in self.documents.items() if doc.is_default), None)


def fold_policies(
    saved: SavedPolicies, event_type: str, data: Mapping[str, Any], at: datetime
) -> SavedPolicies:
    """The saved policies after one configuration event; ``ValueError`` refuses the event."""
    if event_type == "SlaPolicySaved":
        document = parse_policy(data.get("policy"))
        policy_id = document.policy_id
        current_default = saved.default_id
        if document.is_default and current_default not in (None, policy_id):
            raise ValueError(
                f"policy {current_default!r} is the default: change it in place, or save it with "
                f"is_default false first (the built-in default applies meanwhile)"
            )
        rule = document.to_rule()
        revision = revision_of(rule.policy, rule.calendar)
        return SavedPolicies(
            documents=_frozen({**saved.documents, policy_id: document}),
            rules=_frozen({**saved.rules, policy_id: rule}),
            history=_frozen({**saved.history, revision: rule}),
            changed_at=_frozen({**saved.changed_at, policy_id: at}),
        )
    if event_type == "SlaPolicyDeleted":
        policy_id = str(data.get("policy_id"))
        existing = saved.documents.get(policy_id)
        if existing is None:
            raise ValueError(f"there is no saved policy {policy_id!r}")
        if existing.is_default:
            raise ValueError(
                f"policy {policy_id!r} is the default and cannot be deleted; save it with "
                "is_default false first (the built-in default then applies)"
            )
        return SavedPolicies(
            documents=_frozen({k: v for k, v in saved.documents.items() if k != policy_id}),
            rules=_frozen({k: v for k, v in saved.rules.items() if k != policy_id}),
            history=saved.history,
            changed_at=_frozen({**saved.changed_at, policy_id: at}),
        )
    return saved


def _ordered(documents: Iterable[PolicyDocument]) -> list[PolicyDocument]:
    return sorted(documents, key=lambda doc: (doc.position, doc.policy_id))


@dataclass(frozen=True)
class PolicyCatalog:
    """The effective policy set and every revision a ticket may still follow (see the module)."""

    policies: PolicySet
    built_in: PolicyRule
    #: policy id -> the revision of its current rule.
    current: Mapping[str, str]
    #: revision -> rule (current and earlier revisions, and the built-in default).
    revisions: Mapping[str, PolicyRule]
    changed_at: Mapping[str, datetime]
    saved: SavedPolicies

    @classmethod
    def build(cls, saved: SavedPolicies, built_in: PolicyRule) -> PolicyCatalog:
        documents = _ordered(saved.documents.values())
        ordered = [saved.rules[doc.policy_id] for doc in documents if not doc.is_default]
        default_id = saved.default_id
        default = saved.rules[default_id] if default_id is not None else built_in
        policies = PolicySet(tuple(ordered), default)
        current = {
            rule.policy_id: revision_of(rule.policy, rule.calendar) for rule in (*ordered, default)
        }
        built_in_revision = revision_of(built_in.policy, built_in.calendar)
        revisions = {built_in_revision: built_in, **saved.history}
        for rule in (*ordered, default):
            revisions.setdefault(current[rule.policy_id], rule)
        return cls(
            policies=policies,
            built_in=built_in,
            current=current,
            revisions=revisions,
            changed_at=saved.changed_at,
            saved=saved,
        )

    @classmethod
    def of(cls, built_in: PolicyRule) -> PolicyCatalog:
        """Nothing saved: the built-in default only."""
        return cls.build(SavedPolicies(), built_in)

    @property
    def built_in_revision(self) -> str:
        return revision_of(self.built_in.policy, self.built_in.calendar)

    def resolve(self, policy_id: str) -> PolicyRule:
        """The current rule of ``policy_id``, or the default when it no longer exists."""
        return self.policies.get(policy_id) or self.policies.default

    def revision(self, rule: PolicyRule) -> str:
        """The revision of a current rule."""
        found = self.current.get(rule.policy_id)
        return found if found is not None else revision_of(rule.policy, rule.calendar)

    def at_revision(self, revision: str) -> PolicyRule | None:
        return self.revisions.get(revision)

    def ordered(self) -> list[PolicyRule]:
        """The effective policies in the order they are tried, the default last."""
        return [*self.policies.rules, self.policies.default]

    def describe(self) -> list[dict[str, Any]]:
        """Every effective policy as JSON (``saved`` false: the built-in default)."""
        described: list[dict[str, Any]] = []
        for rule in self.ordered():
            document = self.saved.documents.get(rule.policy_id)
            if document is not None:
                view = document.model_dump(mode="json")
            else:
                view = _describe_built_in(rule)
            described.append(_sorted_sets({**view, "saved": document is not None}))
        return described


def _describe_built_in(rule: PolicyRule) -> dict[str, Any]:
    policy = rule.policy.model_dump(mode="json")
    return {
        "policy_id": rule.policy_id,
        "position": None,
        "is_default": True,
        "condition": None,
        "active_from": None,
        "active_to": None,
        "calendar": rule.calendar.model_dump(mode="json"),
        **policy,
    }


def _sorted_sets(view: dict[str, Any]) -> dict[str, Any]:
    for key in ("pausing", "fulfilling", "pausing_statuses", "fulfilling_statuses"):
        if isinstance(view.get(key), dict):
            view[key] = {category: sorted(metrics) for category, metrics in view[key].items()}
    return view
