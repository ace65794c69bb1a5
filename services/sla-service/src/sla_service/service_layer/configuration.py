"""The SLA configuration as managers read and change it: policies, holiday lists, business
calendars and teams' calendars, one configuration with one version.

The use cases behind the policies and calendars APIs (:mod:`sla_service.entrypoints.policies_api`,
:mod:`sla_service.entrypoints.calendars_api`), so those only parse, call and map the errors below
to statuses. A change names the version it was decided on; what every replica's fold would refuse
is refused here and never written; the changes are events on ``helpdesk.sla-policies.v1``, written
through :class:`~helpdesk_platform.config_log.ConfigLog` (which raises
:class:`~helpdesk_platform.config_log.ConfigConflict` when another write got there first).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from aiokafka.errors import KafkaError
from pydantic import BaseModel, ValidationError

from helpdesk_events import Actor, ActorKind, DomainEvent
from helpdesk_events.sla_policies import (
    BusinessCalendarDeleted,
    BusinessCalendarSaved,
    HolidayListDeleted,
    HolidayListSaved,
    SlaPolicyDeleted,
    SlaPolicySaved,
    TeamCalendarSet,
)
from helpdesk_platform.auth import Principal
from helpdesk_platform.config_log import ConfigConflict, ConfigLog, ConfigRefused
from sla_service.domain.known_statuses import KnownStatuses
from sla_service.domain.policies import (
    BUILT_IN_DEFAULT_ID,
    PolicyCatalog,
    SavedPolicies,
    fold_policies,
    parse_policy,
)
from sla_service.domain.preview import due_preview
from sla_service.domain.shared_calendars import (
    CalendarDocument,
    HolidayListDocument,
    InUseError,
    parse_calendar,
    parse_holiday_list,
)
from sla_service.domain.validation import problems

__all__ = [
    "CALENDARS",
    "HOLIDAY_LISTS",
    "ConfigConflict",
    "InUseError",
    "Invalid",
    "NotFound",
    "NotReady",
    "NotWritten",
    "SharedKind",
    "SlaConfiguration",
]

log = structlog.get_logger("sla_service.policies_api")


class NotReady(Exception):
    """The configuration is still being read."""


class NotFound(LookupError):
    pass


class Invalid(ValueError):
    """The document or the change is not valid (the message says why)."""


class NotWritten(Exception):
    """Kafka did not take the change; retry."""


@dataclass(frozen=True)
class SharedKind:
    """One kind of named shared object and how the configuration keeps it."""

    path: str  # "/holiday-lists"
    id_field: str  # "holiday_list_id"
    noun: str  # "holiday list"
    model: type[BaseModel]
    parse: Callable[[object], BaseModel]
    items: Callable[[SavedPolicies], Mapping[str, BaseModel]]
    users: Callable[[SavedPolicies, str], list[str]]
    saved: Callable[[dict[str, Any]], DomainEvent]
    deleted: Callable[[str], DomainEvent]


HOLIDAY_LISTS = SharedKind(
    path="/holiday-lists",
    id_field="holiday_list_id",
    noun="holiday list",
    model=HolidayListDocument,
    parse=parse_holiday_list,
    items=lambda saved: saved.holiday_lists,
    users=SavedPolicies.holiday_list_users,
    saved=lambda document: HolidayListSaved(holiday_list=document),
    deleted=lambda key: HolidayListDeleted(holiday_list_id=key),
)
CALENDARS = SharedKind(
    path="/calendars",
    id_field="calendar_id",
    noun="calendar",
    model=CalendarDocument,
    parse=parse_calendar,
    items=lambda saved: saved.calendars,
    users=SavedPolicies.calendar_users,
    saved=lambda document: BusinessCalendarSaved(calendar=document),
    deleted=lambda key: BusinessCalendarDeleted(calendar_id=key),
)


def _now() -> datetime:
    return datetime.now(UTC)


class SlaConfiguration:
    """Reads answer ``{"version": ..., ...}``; changes answer the same after the change, with the
    version it made. ``catalog()`` gives the effective policies of the current configuration."""

    def __init__(
        self,
        config: ConfigLog[SavedPolicies],
        catalog: Callable[[], PolicyCatalog],
        statuses: Callable[[], KnownStatuses] = KnownStatuses,
    ) -> None:
        self.config = config
        self.catalog = catalog
        self.statuses = statuses

    @property
    def version(self) -> int:
        return self.config.version

    def require_ready(self) -> None:
        if not self.config.caught_up.is_set():
            raise NotReady("the SLA policies are still being read; retry shortly")

    # --- policies -------------------------------------------------------------------------------

    def policies(self) -> dict[str, Any]:
        return {"version": self.config.version, "policies": self.catalog().describe()}

    def policy(self, policy_id: str) -> dict[str, Any]:
        views = self.catalog().describe()
        view = next((view for view in views if view["policy_id"] == policy_id), None)
        if view is None:
            raise NotFound(f"there is no policy {policy_id!r}")
        return {"version": self.config.version, **view}

    async def save_policy(
        self, policy_id: str, body: dict[str, Any], expected: int, principal: Principal
    ) -> dict[str, Any]:
        if body.setdefault("policy_id", policy_id) != policy_id:
            raise Invalid("policy_id in the body differs from the path")
        try:
            policy = parse_policy(body)
            self.statuses().check(policy.sla_policy())
        except ValueError as error:
            raise Invalid(str(error)) from None
        event = SlaPolicySaved(policy=policy.model_dump(mode="json"))
        return await self.change(event, expected, principal, self.policies)

    def preview_policy(
        self, policy_id: str, body: dict[str, Any], now: datetime | None = None
    ) -> dict[str, Any]:
        """What saving ``body`` would refuse (:class:`Invalid`, the same reasons), else when a
        ticket of each of its priorities created ``now`` would be due under it. Nothing is
        written: the form calls this as the manager types. A policy counting in its team's
        calendar is previewed in its own."""
        now = now or _now()
        if body.setdefault("policy_id", policy_id) != policy_id:
            raise Invalid("policy_id in the body differs from the path")
        try:
            policy = parse_policy(body)
            self.statuses().check(policy.sla_policy())
            event = SlaPolicySaved(policy=policy.model_dump(mode="json"))
            state = fold_policies(
                self.config.state, event.event_type, event.model_dump(mode="json"), now
            )
        except ValueError as error:  # InUseError cannot come of a save
            raise Invalid(str(error)) from None
        rule = state.rules[policy_id]
        return {
            "version": self.config.version,
            "policy_id": policy_id,
            "created_at": now.isoformat(),
            "time_zone": rule.calendar.time_zone,
            "priorities": [
                due_preview(rule.policy, rule.calendar, priority, now)
                for priority in policy.targets
            ],
        }

    async def delete_policy(
        self, policy_id: str, expected: int, principal: Principal
    ) -> dict[str, Any]:
        if policy_id not in self.config.state.documents:
            if policy_id == BUILT_IN_DEFAULT_ID:
                raise Invalid("the built-in default policy cannot be deleted")
            raise NotFound(f"there is no saved policy {policy_id!r}")
        event = SlaPolicyDeleted(policy_id=policy_id)
        return await self.change(event, expected, principal, self.policies)

    # --- holiday lists and calendars ------------------------------------------------------------

    def _view(self, kind: SharedKind, key: str) -> dict[str, Any] | None:
        saved = self.config.state
        document = kind.items(saved).get(key)
        if document is None:
            return None
        return {**document.model_dump(mode="json"), "used_by": kind.users(saved, key)}

    def items(self, kind: SharedKind) -> dict[str, Any]:
        keys = sorted(kind.items(self.config.state))
        views = [self._view(kind, key) for key in keys]
        return {"version": self.config.version, kind.path.strip("/"): views}

    def item(self, kind: SharedKind, key: str) -> dict[str, Any]:
        view = self._view(kind, key)
        if view is None:
            raise NotFound(f"there is no {kind.noun} {key!r}")
        return {"version": self.config.version, **view}

    async def save_item(
        self, kind: SharedKind, key: str, body: dict[str, Any], expected: int, principal: Principal
    ) -> dict[str, Any]:
        if body.setdefault(kind.id_field, key) != key:
            raise Invalid(f"{kind.id_field} in the body differs from the path")
        try:
            document = kind.parse(body)
        except ValueError as error:
            raise Invalid(str(error)) from None
        event = kind.saved(document.model_dump(mode="json"))
        return await self.change(event, expected, principal, lambda: self._view(kind, key) or {})

    async def delete_item(
        self, kind: SharedKind, key: str, expected: int, principal: Principal
    ) -> dict[str, Any]:
        if key not in kind.items(self.config.state):
            raise NotFound(f"there is no {kind.noun} {key!r}")
        return await self.change(kind.deleted(key), expected, principal, lambda: self.items(kind))

    # --- teams' calendars -----------------------------------------------------------------------

    def _team_view(self, team_id: uuid.UUID) -> dict[str, Any]:
        calendar_id = self.config.state.team_calendars.get(team_id)
        return {"team_id": str(team_id), "calendar_id": calendar_id}

    def team_calendar(self, team_id: uuid.UUID) -> dict[str, Any]:
        return {"version": self.config.version, **self._team_view(team_id)}

    async def set_team_calendar(
        self, team_id: uuid.UUID, body: dict[str, Any], expected: int, principal: Principal
    ) -> dict[str, Any]:
        calendar_id = body.get("calendar_id")
        if set(body) != {"calendar_id"} or not isinstance(calendar_id, str | None):
            raise Invalid('the body is {"calendar_id": "<a calendar id>"} (null: none)')
        try:
            event = TeamCalendarSet(team_id=team_id, calendar_id=calendar_id or None)
        except ValidationError as error:
            raise Invalid(problems(error)) from None
        return await self.change(event, expected, principal, lambda: self._team_view(team_id))

    # --- the one way to change it ---------------------------------------------------------------

    async def change(
        self,
        event: DomainEvent,
        expected: int,
        principal: Principal,
        answer: Callable[[], dict[str, Any]],
    ) -> dict[str, Any]:
        """Append a configuration event decided on version ``expected``; ``answer()`` after the
        change, with the new version. Raises :class:`ConfigConflict` (the configuration moved
        on), :class:`InUseError` (what is deleted is in use), :class:`Invalid` (the fold
        refuses it) or :class:`NotWritten`."""
        if expected != self.config.version:
            raise ConfigConflict(expected, self.config.version)
        try:
            # What every replica's fold would refuse is answered here, and never written.
            fold_policies(
                self.config.state, event.event_type, event.model_dump(mode="json"), _now()
            )
        except InUseError:
            raise
        except ValueError as error:
            raise Invalid(str(error)) from None
        actor = Actor(kind=ActorKind.AGENT, id=principal.subject, role=principal.role.value)
        try:
            version = await self.config.append(event, expected_version=expected, actor=actor)
        except ConfigRefused as error:
            raise Invalid(str(error)) from None
        except (KafkaError, TimeoutError) as error:
            log.warning("SLA policy change not written", error=repr(error))
            raise NotWritten("the change could not be written to Kafka; retry") from None
        log.info(event.event_type, version=version, actor=principal.subject)
        return {**answer(), "version": version}
