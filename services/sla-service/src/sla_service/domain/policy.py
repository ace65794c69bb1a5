"""SLA policies and SLA clocks.

The model
---------
An :class:`SlaPolicy` gives, per ticket priority, a target in *business time* (see
:mod:`sla_service.domain.calendar`) for each metric (:class:`SlaMetric`):

* ``first_response`` - from the ticket's creation until the first public reply of an agent;
* ``next_response`` - from a customer's message that awaits an answer until the agent's next
  public reply (one clock per such exchange);
* ``resolution`` - from the ticket's creation until it is resolved.

It also says which ticket status categories (:class:`StatusCategory`, the same categories the
ticket service gives its statuses) pause a metric and which fulfil it. The defaults, after the
product seed ("choose which statuses pause or fulfil the SLA", a Frappe Helpdesk-style product)
and the Freshdesk process seed ("send and set Waiting on Customer"):

=============  ===============================  ===============================================
category       pauses                           fulfils
=============  ===============================  ===============================================
``new``        -                                -
``active``     -                                -
``paused``     resolution, next_response        -
``resolved``   first_response, next_response    resolution
``closed``     first_response, next_response    resolution
=============  ===============================  ===============================================

``paused`` does not pause ``first_response``: a customer waiting for a first answer is still
waiting when an unanswered ticket is parked in Pending (as in Frappe Helpdesk, where hold time
extends only the resolution target), and a ticket is normally set to Waiting on Customer together
with a reply, which fulfils the first response anyway. Responses are fulfilled by replies, not by
statuses; a resolved or closed ticket only stops their clocks. Each policy can change all this.

Per status
----------
A policy may also name single statuses (``pausing_statuses`` / ``fulfilling_statuses``: status
name -> metrics), as the product seed asks ("choose which statuses pause or fulfil the SLA"): a
status named in either decides alone - the metrics it lists pause (or are fulfilled), the others
run - and its category's rule is not used; a status named in neither follows its category. So
"Waiting for Vendor" (category ``paused``) may pause only the resolution, "Awaiting Parts"
(category ``active``) may pause it too, and "Solved" may fulfil the resolution while "Closed"
only stops the clocks. The same limits hold as for categories: a status cannot both pause and
fulfil a metric, and responses are fulfilled by replies only.

An :class:`SlaClock` follows one metric of one ticket. It keeps the business time already used
(``business_elapsed``, settled whenever the clock stops or is retargeted) and, while it runs, the
instant it last started (``running_since``). Everything else - the due instant, the time left,
whether it is overdue - is derived from those and a calendar, so a pause, a change of priority or
policy (:meth:`SlaClock.retarget`) and a reopened ticket (:meth:`SlaClock.reopen`) all keep the
business time already used. Clocks are immutable: each transition returns a new clock. Time is
always passed in; nothing here reads a clock or does I/O.

A breach is the clock running past its due instant (:meth:`SlaClock.is_overdue`) or a stopped
clock whose used time exceeds the target. The clock records a breach only when told
(:meth:`SlaClock.breach`), so that whoever announces breaches announces each one once; they should
check :meth:`SlaClock.is_overdue` before every transition, because a clock stopped late no longer
knows its due instant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from helpdesk_events import StatusCategory
from sla_service.domain.calendar import BusinessCalendar, NaiveDatetimeError

__all__ = [
    "DEFAULT_FULFILLING",
    "DEFAULT_PAUSING",
    "ClockTransitionError",
    "PriorityTargets",
    "SlaClock",
    "SlaMetric",
    "SlaPolicy",
    "StatusCategory",
    "StatusName",
    "UnknownPriorityError",
]

_ZERO = timedelta(0)


class SlaMetric(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


DEFAULT_PAUSING: dict[StatusCategory, frozenset[SlaMetric]] = {
    StatusCategory.PAUSED: frozenset({SlaMetric.RESOLUTION, SlaMetric.NEXT_RESPONSE}),
    StatusCategory.RESOLVED: frozenset({SlaMetric.FIRST_RESPONSE, SlaMetric.NEXT_RESPONSE}),
    StatusCategory.CLOSED: frozenset({SlaMetric.FIRST_RESPONSE, SlaMetric.NEXT_RESPONSE}),
}
DEFAULT_FULFILLING: dict[StatusCategory, frozenset[SlaMetric]] = {
    StatusCategory.RESOLVED: frozenset({SlaMetric.RESOLUTION}),
    StatusCategory.CLOSED: frozenset({SlaMetric.RESOLUTION}),
}
#: A status name as the ticket service's options spell it.
StatusName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
# Statuses in which the work is under way: stopping a clock there would hide real waiting.
_WORKING_CATEGORIES = frozenset({StatusCategory.NEW, StatusCategory.ACTIVE})


class UnknownPriorityError(ValueError):
    """The policy has no targets for this priority."""


class ClockTransitionError(ValueError):
    """The clock cannot make this transition (wrong state, or time going backwards)."""


class PriorityTargets(BaseModel):
    """Targets for one priority, in business time; a metric without a target is not tracked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_response: timedelta
    next_response: timedelta | None = None
    resolution: timedelta | None = None

    @field_validator("first_response", "next_response", "resolution")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= _ZERO:
            raise ValueError(f"an SLA target must be a positive duration; got {value}")
        return value

    @model_validator(mode="after")
    def _response_within_resolution(self) -> Self:
        if self.resolution is not None and self.first_response > self.resolution:
            raise ValueError(
                f"the first-response target ({self.first_response}) cannot be longer than the "
                f"resolution target ({self.resolution})"
            )
        return self

    def for_metric(self, metric: SlaMetric) -> timedelta | None:
        target: timedelta | None = getattr(self, metric.value)
        return target


class SlaPolicy(BaseModel):
    """Targets per priority, and which status categories pause or fulfil which metric."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    targets: dict[str, PriorityTargets] = Field(min_length=1)
    default_priority: str | None = None
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
        for status in sorted(self.pausing_statuses.keys() | self.fulfilling_statuses.keys()):
            paused = self.pausing_statuses.get(status, frozenset())
            fulfilled = self.fulfilling_statuses.get(status, frozenset())
            both = paused & fulfilled
            if both:
                names = ", ".join(sorted(metric.value for metric in both))
                raise ValueError(f"status {status!r} cannot both pause and fulfil {names}")
            if SlaMetric.FIRST_RESPONSE in fulfilled or SlaMetric.NEXT_RESPONSE in fulfilled:
                raise ValueError(
                    f"status {status!r} cannot fulfil a response metric: "
                    "responses are fulfilled by an agent's reply"
                )
        if self.default_priority is not None and self.default_priority not in self.targets:
            raise ValueError(
                f"the default priority {self.default_priority!r} has no targets in the policy"
            )
        for category in _WORKING_CATEGORIES:
            if self.pausing.get(category) or self.fulfilling.get(category):
                raise ValueError(
                    f"status category {category.value!r} means work is under way: "
                    "it can neither pause nor fulfil an SLA metric"
                )
        for category, paused in self.pausing.items():
            both = paused & self.fulfilling.get(category, frozenset())
            if both:
                names = ", ".join(sorted(metric.value for metric in both))
                raise ValueError(
                    f"status category {category.value!r} cannot both pause and fulfil {names}"
                )
        for category, fulfilled in self.fulfilling.items():
            if SlaMetric.FIRST_RESPONSE in fulfilled or SlaMetric.NEXT_RESPONSE in fulfilled:
                raise ValueError(
                    f"status category {category.value!r} cannot fulfil a response metric: "
                    "responses are fulfilled by an agent's reply"
                )
        return self

    def targets_for(self, priority: str) -> PriorityTargets:
        try:
            return self.targets[priority]
        except KeyError:
            known = ", ".join(sorted(self.targets))
            raise UnknownPriorityError(
                f"SLA policy {self.name!r} has no targets for priority {priority!r} "
                f"(it has: {known})"
            ) from None

    def target(self, priority: str, metric: SlaMetric) -> timedelta | None:
        return self.targets_for(priority).for_metric(metric)

    @property
    def statuses(self) -> frozenset[str]:
        """The statuses this policy names (each decides alone; see the module)."""
        return frozenset(self.pausing_statuses) | frozenset(self.fulfilling_statuses)

    def pauses(
        self, category: StatusCategory, metric: SlaMetric, status: str | None = None
    ) -> bool:
        if status is not None and status in self.statuses:
            return metric in self.pausing_statuses.get(status, frozenset())
        return metric in self.pausing.get(category, frozenset())

    def fulfils(
        self, category: StatusCategory, metric: SlaMetric, status: str | None = None
    ) -> bool:
        if status is not None and status in self.statuses:
            return metric in self.fulfilling_statuses.get(status, frozenset())
        return metric in self.fulfilling.get(category, frozenset())

    def fulfilled_by_a_status(self, metric: SlaMetric) -> bool:
        """Whether some status (or category) fulfils ``metric``: leaving it reopens the clock."""
        return any(
            metric in metrics
            for metrics in (*self.fulfilling.values(), *self.fulfilling_statuses.values())
        )

    def follow_status(
        self,
        clock: SlaClock,
        metric: SlaMetric,
        category: StatusCategory,
        calendar: BusinessCalendar,
        at: datetime,
        status: str | None = None,
    ) -> SlaClock:
        """The clock of ``metric`` after the ticket entered ``status`` of ``category`` at ``at``.

        A metric fulfilled by a status is met on entering it and reopened (keeping the time
        already used) on leaving it; otherwise the clock pauses or runs as the status (when the
        policy names it) or its category says. A clock met by a reply stays met.
        """
        if self.fulfils(category, metric, status):
            return clock.met(calendar, at)
        pause = self.pauses(category, metric, status)
        if clock.is_met:
            return clock.reopen(at, paused=pause) if self.fulfilled_by_a_status(metric) else clock
        return clock.pause(calendar, at) if pause else clock.resume(at)


def _instant(value: datetime | None, field: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(
            f"{field} must be a timezone-aware datetime; got naive {value.isoformat()}"
        )
    return value.astimezone(UTC)


class SlaClock(BaseModel):
    """The business time one SLA metric of one ticket has used, and whether it is counting.

    States: *running* (``running_since`` set), *paused* (neither ``running_since`` nor
    ``met_at``), *met* (``met_at`` set). ``changed_at`` is the instant of the last transition;
    a transition dated before it is refused, since it would rewrite what was already counted.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    started_at: datetime
    changed_at: datetime
    business_elapsed: timedelta = _ZERO
    running_since: datetime | None = None
    met_at: datetime | None = None
    breached_at: datetime | None = None

    @field_validator("started_at", "changed_at", "running_since", "met_at", "breached_at")
    @classmethod
    def _utc(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        return _instant(value, info.field_name or "instant")

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.business_elapsed < _ZERO:
            raise ValueError("business_elapsed cannot be negative")
        if self.running_since is not None and self.met_at is not None:
            raise ValueError("a met clock is not running: running_since must be empty")
        if self.changed_at < self.started_at:
            raise ValueError("changed_at cannot precede started_at")
        for field, value in (("running_since", self.running_since), ("met_at", self.met_at)):
            if value is not None and not self.started_at <= value <= self.changed_at:
                raise ValueError(f"{field} must lie between started_at and changed_at")
        return self

    # --- states ---------------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self.running_since is not None

    @property
    def is_met(self) -> bool:
        return self.met_at is not None

    @property
    def is_paused(self) -> bool:
        return self.running_since is None and self.met_at is None

    @property
    def breached(self) -> bool:
        return self.breached_at is not None

    # --- transitions ----------------------------------------------------------------------------

    @classmethod
    def start(cls, at: datetime, *, paused: bool = False) -> SlaClock:
        """A new clock at ``at``: running, or paused if the ticket starts in a pausing status."""
        at = _require_instant(at)
        return cls(started_at=at, changed_at=at, running_since=None if paused else at)

    def pause(self, calendar: BusinessCalendar, at: datetime) -> SlaClock:
        """Stop counting at ``at``, keeping the business time used; a no-op unless running."""
        at = self._check_not_before(at)
        if self.running_since is None:
            return self
        return self.model_copy(
            update={
                "business_elapsed": self.elapsed(calendar, at),
                "running_since": None,
                "changed_at": at,
            }
        )

    def resume(self, at: datetime) -> SlaClock:
        """Count again from ``at``; a no-op when running or met."""
        at = self._check_not_before(at)
        if not self.is_paused:
            return self
        return self.model_copy(update={"running_since": at, "changed_at": at})

    def met(self, calendar: BusinessCalendar, at: datetime) -> SlaClock:
        """The metric was fulfilled at ``at``; a met clock stays met at its first ``met_at``."""
        at = self._check_not_before(at)
        if self.met_at is not None:
            return self
        return self.model_copy(
            update={
                "business_elapsed": self.elapsed(calendar, at),
                "running_since": None,
                "met_at": at,
                "changed_at": at,
            }
        )

    def breach(self, at: datetime) -> SlaClock:
        """Record that the breach was observed at ``at``; kept through pauses and reopens."""
        at = _require_instant(at)
        if self.breached_at is not None:
            return self
        return self.model_copy(update={"breached_at": at})

    def retarget(self, calendar: BusinessCalendar, at: datetime) -> SlaClock:
        """Settle the time used so far under ``calendar`` (the one in force until ``at``).

        Call it when the priority or the policy changes at ``at``: the business time already
        used is kept, and from ``at`` on the new target (and the new policy's calendar) apply.
        """
        at = self._check_not_before(at)
        if self.running_since is None:
            return self
        return self.model_copy(
            update={
                "business_elapsed": self.elapsed(calendar, at),
                "running_since": at,
                "changed_at": at,
            }
        )

    def reopen(self, at: datetime, *, paused: bool = False) -> SlaClock:
        """Undo ``met`` at ``at``: counting goes on from the business time already used."""
        at = self._check_not_before(at)
        if self.met_at is None:
            raise ClockTransitionError("only a met clock can be reopened")
        return self.model_copy(
            update={"met_at": None, "running_since": None if paused else at, "changed_at": at}
        )

    # --- readings -------------------------------------------------------------------------------

    def elapsed(self, calendar: BusinessCalendar, now: datetime) -> timedelta:
        """Business time used by ``now`` (a reading before the last start counts nothing more)."""
        now = _require_instant(now)
        if self.running_since is None:
            return self.business_elapsed
        return self.business_elapsed + calendar.business_time_between(self.running_since, now)

    def due(self, calendar: BusinessCalendar, target: timedelta) -> datetime | None:
        """The instant the target is reached if the clock keeps running; None unless running.

        When the target was already used up before the clock last started (after a retarget to
        a shorter target, or a reopen), that start is the due instant: overdue from then on.
        """
        if self.running_since is None:
            return None
        left = max(target - self.business_elapsed, _ZERO)
        return calendar.add_business_time(self.running_since, left)

    def remaining(self, calendar: BusinessCalendar, target: timedelta, now: datetime) -> timedelta:
        """Business time left before the target at ``now``; negative once it is exceeded.

        Zero outside working hours can mean either due or overdue: ask :meth:`is_overdue`.
        """
        return target - self.elapsed(calendar, now)

    def is_overdue(self, calendar: BusinessCalendar, target: timedelta, now: datetime) -> bool:
        """Whether the unmet target is breached at ``now``.

        A running clock is overdue after its due instant; a paused one when the time it used
        exceeds the target; a met one never (a late fulfilment was recorded by :meth:`breach`).
        """
        now = _require_instant(now)
        if self.met_at is not None:
            return False
        due = self.due(calendar, target)
        if due is None:
            return self.business_elapsed > target
        return now > due

    # --- internals ------------------------------------------------------------------------------

    def _check_not_before(self, at: datetime) -> datetime:
        at = _require_instant(at)
        if at < self.changed_at:
            raise ClockTransitionError(
                f"transition at {at.isoformat()} precedes the clock's last change at "
                f"{self.changed_at.isoformat()}"
            )
        return at


def _require_instant(value: datetime) -> datetime:
    instant = _instant(value, "the instant")
    assert instant is not None
    return instant
