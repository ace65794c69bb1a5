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
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
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
from sla_service.domain.shared_calendars import (
    MAX_LINKED_LISTS,
    CalendarDocument,
    HolidayListDocument,
    InUseError,
    effective_calendar,
    linked_lists,
    parse_calendar,
    parse_holiday_list,
    with_holidays,
)
from sla_service.domain.validation import problems

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
    calendar: BusinessCalendar | None = Field(
        default=None, description="the calendar it counts in (or calendar_id)"
    )
    calendar_id: str | None = Field(default=None, description="a named calendar it counts in")
    holiday_list_ids: tuple[str, ...] = Field(
        default=(), max_length=MAX_LINKED_LISTS, description="holiday lists it counts as well"
    )
    use_team_calendar: bool = Field(
        default=False,
        description="count in the calendar of the ticket's team when the team has one",
    )
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
        if (self.calendar is None) == (self.calendar_id is None):
            raise ValueError(
                "a policy counts in a calendar: give calendar or calendar_id, not both"
            )
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
            raise ValueError(problems(error)) from None

    def to_rule(self, calendar: BusinessCalendar | None = None) -> PolicyRule:
        """The rule counting in ``calendar`` (the resolved one), else in its own calendar."""
        calendar = calendar or self.calendar
        if calendar is None:
            raise ValueError(f"policy {self.policy_id!r} names a calendar: resolve it first")
        policy = self.sla_policy()
        return PolicyRule(
            policy_id=self.policy_id,
            policy=policy,
            calendar=calendar,
            condition=self.condition,
            active_from=self.active_from,
            active_to=self.active_to,
            is_default=self.is_default,
            revision=revision_of(policy, calendar),
        )


def parse_policy(raw: object) -> PolicyDocument:
    """A policy from its JSON; ``ValueError`` with a readable reason when it is not valid."""
    try:
        return PolicyDocument.model_validate(raw)
    except ValidationError as error:
        raise ValueError(problems(error)) from None


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
    """The fold's state: the saved policies, the shared holiday lists and calendars, the teams'
    calendars, every revision saved, and when each policy last changed."""

    documents: Mapping[str, PolicyDocument] = field(default_factory=dict)
    #: policy id -> its rule, the linked calendar and holiday lists resolved.
    rules: Mapping[str, PolicyRule] = field(default_factory=dict)
    #: revision -> rule, for every revision ever saved (kept: tickets may still follow one).
    history: Mapping[str, PolicyRule] = field(default_factory=dict)
    #: policy id -> the instant of its last change (its own, or of what it links).
    changed_at: Mapping[str, datetime] = field(default_factory=dict)
    holiday_lists: Mapping[str, HolidayListDocument] = field(default_factory=dict)
    calendars: Mapping[str, CalendarDocument] = field(default_factory=dict)
    #: team id -> the calendar id the team works by.
    team_calendars: Mapping[uuid.UUID, str] = field(default_factory=dict)
    #: (policy id, team id) -> the policy's rule in the team's calendar (``use_team_calendar``).
    team_rules: Mapping[tuple[str, uuid.UUID], PolicyRule] = field(default_factory=dict)
    #: rule key (policy id, or (policy id, team id)) -> the documents its rule was made from.
    inputs: Mapping[Any, tuple[object, ...]] = field(default_factory=dict)

    @property
    def default_id(self) -> str | None:
        return next((pid for pid, doc in self.documents.items() if doc.is_default), None)

    def calendar_users(self, calendar_id: str) -> list[str]:
        """Who uses a named calendar: policies and teams."""
        return [
            *(
                f"policy {pid!r}"
                for pid, doc in self.documents.items()
                if doc.calendar_id == calendar_id
            ),
            *(f"team {team}" for team, cid in self.team_calendars.items() if cid == calendar_id),
        ]

    def holiday_list_users(self, holiday_list_id: str) -> list[str]:
        """Who links a holiday list: policies and named calendars."""
        return [
            *(
                f"policy {pid!r}"
                for pid, doc in self.documents.items()
                if holiday_list_id in doc.holiday_list_ids
            ),
            *(
                f"calendar {cid!r}"
                for cid, doc in self.calendars.items()
                if holiday_list_id in doc.holiday_list_ids
            ),
        ]


def _resolved(saved: SavedPolicies, at: datetime) -> SavedPolicies:
    """``saved`` with every rule worked out again from the documents and what they link; a
    policy whose revision changed (its own or a linked list's, calendar's or team calendar's
    change) is marked changed at ``at`` and its revision kept in the history.

    A rule whose inputs are the very same documents as before is kept as it was (documents are
    immutable and replaced on every change), so a change costs the rules it touches only."""
    lists = saved.holiday_lists
    rules: dict[str, PolicyRule] = {}
    team_rules: dict[tuple[str, uuid.UUID], PolicyRule] = {}
    inputs: dict[Any, tuple[object, ...]] = {}

    def calendar_inputs(calendar_id: str, owner: str) -> tuple[CalendarDocument, ...]:
        named = saved.calendars.get(calendar_id)
        if named is None:
            raise ValueError(
                f"{owner} counts in the calendar {calendar_id!r}, which does not exist"
            )
        return (named,)

    def make_rule(
        key: Any, document: PolicyDocument, named: tuple[CalendarDocument, ...]
    ) -> PolicyRule:
        owner = f"policy {document.policy_id!r}"
        own = linked_lists(document.holiday_list_ids, lists, owner)
        theirs = [
            holiday_list
            for calendar in named
            for holiday_list in linked_lists(calendar.holiday_list_ids, lists, owner)
        ]
        used: tuple[object, ...] = (document, *named, *theirs, *own)
        inputs[key] = used
        previous = saved.inputs.get(key)
        kept = saved.team_rules.get(key) if isinstance(key, tuple) else saved.rules.get(key)
        if (
            kept is not None
            and previous is not None
            and len(previous) == len(used)
            and all(a is b for a, b in zip(previous, used, strict=True))
        ):
            return kept
        base = effective_calendar(named[0], lists) if named else document.calendar
        assert base is not None
        return document.to_rule(with_holidays(base, own))

    for policy_id, document in saved.documents.items():
        owner = f"policy {policy_id!r}"
        named = () if document.calendar_id is None else calendar_inputs(document.calendar_id, owner)
        rules[policy_id] = make_rule(policy_id, document, named)
        if document.use_team_calendar:
            for team_id, calendar_id in saved.team_calendars.items():
                team_named = calendar_inputs(calendar_id, f"team {team_id}")
                key = (policy_id, team_id)
                team_rules[key] = make_rule(key, document, team_named)
    history = dict(saved.history)
    changed_at = dict(saved.changed_at)
    before = {key: rule.revision for key, rule in saved.rules.items()}
    before_team = {key: rule.revision for key, rule in saved.team_rules.items()}
    for policy_id, rule in rules.items():
        history.setdefault(rule.revision, rule)
        if before.get(policy_id) != rule.revision:
            changed_at[policy_id] = at
    for key, rule in team_rules.items():
        history.setdefault(rule.revision, rule)
        if before_team.get(key) != rule.revision:
            changed_at[key[0]] = at
    for key in before_team.keys() - team_rules.keys():
        changed_at[key[0]] = at  # the team no longer has a calendar: back to the policy's
    return replace(
        saved,
        rules=_frozen(rules),
        team_rules=MappingProxyType(team_rules),
        history=_frozen(history),
        changed_at=_frozen(changed_at),
        inputs=MappingProxyType(inputs),
    )


def _without(mapping: Mapping[Any, Any], key: Any) -> Mapping[Any, Any]:
    return MappingProxyType({k: v for k, v in mapping.items() if k != key})


def _with(mapping: Mapping[Any, Any], key: Any, value: Any) -> Mapping[Any, Any]:
    return MappingProxyType({**mapping, key: value})


def _check_unused(what: str, exists: bool, users: list[str]) -> None:
    """A shared object may be deleted when it exists and nothing uses it."""
    if not exists:
        raise ValueError(f"there is no {what}")
    if users:
        raise InUseError(f"the {what}", users)


def fold_policies(
    saved: SavedPolicies, event_type: str, data: Mapping[str, Any], at: datetime
) -> SavedPolicies:
    """The configuration after one event; ``ValueError`` refuses the event (:class:`InUseError`
    when it would delete a holiday list or calendar something still uses)."""
    if event_type == "SlaPolicySaved":
        document = parse_policy(data.get("policy"))
        policy_id = document.policy_id
        current_default = saved.default_id
        if document.is_default and current_default not in (None, policy_id):
            raise ValueError(
                f"policy {current_default!r} is the default: change it in place, or save it with "
                f"is_default false first (the built-in default applies meanwhile)"
            )
        changed = replace(saved, documents=_with(saved.documents, policy_id, document))
        resolved = _resolved(changed, at)
        # Saved again unchanged, a policy still counts as changed (as before shared calendars).
        return replace(resolved, changed_at=_with(resolved.changed_at, policy_id, at))
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
        changed = replace(saved, documents=_without(saved.documents, policy_id))
        resolved = _resolved(changed, at)
        return replace(resolved, changed_at=_with(resolved.changed_at, policy_id, at))
    if event_type == "HolidayListSaved":
        holiday_list = parse_holiday_list(data.get("holiday_list"))
        lists = _with(saved.holiday_lists, holiday_list.holiday_list_id, holiday_list)
        return _resolved(replace(saved, holiday_lists=lists), at)
    if event_type == "HolidayListDeleted":
        list_id = str(data.get("holiday_list_id"))
        _check_unused(
            f"holiday list {list_id!r}",
            list_id in saved.holiday_lists,
            saved.holiday_list_users(list_id),
        )
        return replace(saved, holiday_lists=_without(saved.holiday_lists, list_id))
    if event_type == "BusinessCalendarSaved":
        calendar = parse_calendar(data.get("calendar"))
        calendars = _with(saved.calendars, calendar.calendar_id, calendar)
        return _resolved(replace(saved, calendars=calendars), at)
    if event_type == "BusinessCalendarDeleted":
        calendar_id = str(data.get("calendar_id"))
        _check_unused(
            f"calendar {calendar_id!r}",
            calendar_id in saved.calendars,
            saved.calendar_users(calendar_id),
        )
        return replace(saved, calendars=_without(saved.calendars, calendar_id))
    if event_type == "TeamCalendarSet":
        team_id = uuid.UUID(str(data.get("team_id")))
        named = data.get("calendar_id")
        if named is None:
            team_calendars = _without(saved.team_calendars, team_id)
        elif named not in saved.calendars:
            raise ValueError(f"there is no calendar {named!r}")
        else:
            team_calendars = _with(saved.team_calendars, team_id, str(named))
        return _resolved(replace(saved, team_calendars=team_calendars), at)
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
        revisions.update((rule.revision, rule) for rule in saved.team_rules.values())
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

    @cached_property
    def timer_digest(self) -> str:
        """A digest of everything in the catalog a ticket's next timer depends on.

        Two catalogs with the same digest give every ticket state the same next timer: the
        rules a state may have been computed under (revisions are digests of policy and
        calendar), each policy's current revision, the default, the team calendars and when
        each policy changed. The worker stores it with each ticket's next timer, so a restart
        under the same catalog uses the stored instant instead of working it out again.
        """
        described = {
            "built_in": self.built_in_revision,
            "default": self.policies.default.policy_id,
            "current": sorted(self.current.items()),
            "revisions": sorted(self.revisions),
            "team": sorted(
                (policy_id, str(team_id), self.revision(rule))
                for (policy_id, team_id), rule in self.saved.team_rules.items()
            ),
            "changed_at": sorted((key, at.isoformat()) for key, at in self.changed_at.items()),
        }
        return hashlib.sha256(json.dumps(described).encode()).hexdigest()[:32]

    def resolve(self, policy_id: str, team_id: uuid.UUID | None = None) -> PolicyRule:
        """The current rule of ``policy_id``, or the default when it no longer exists, in the
        calendar of the ticket's team when the policy counts in it (:meth:`for_team`)."""
        return self.for_team(self.policies.get(policy_id) or self.policies.default, team_id)

    def for_team(self, rule: PolicyRule, team_id: uuid.UUID | None) -> PolicyRule:
        """``rule`` in the calendar of team ``team_id`` when the policy uses the team's calendar
        and the team has one; else ``rule`` itself."""
        if team_id is None:
            return rule
        return self.saved.team_rules.get((rule.policy_id, team_id), rule)

    def revision(self, rule: PolicyRule) -> str:
        """The revision of a current rule."""
        if rule.revision:
            return rule.revision
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
        "calendar_id": None,
        "holiday_list_ids": [],
        "use_team_calendar": False,
        **policy,
    }


def _sorted_sets(view: dict[str, Any]) -> dict[str, Any]:
    for key in ("pausing", "fulfilling", "pausing_statuses", "fulfilling_statuses"):
        if isinstance(view.get(key), dict):
            view[key] = {category: sorted(metrics) for category, metrics in view[key].items()}
    return view
