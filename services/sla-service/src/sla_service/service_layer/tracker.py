"""Per-ticket SLA tracking: apply ticket events and fire timers, deriving SLA events.

Everything here is pure: state in, ``(state, events)`` out. The worker keeps :class:`TicketSla`
in a changelog-backed table (as JSON) and publishes the events. The policies come from a
:class:`~sla_service.domain.policies.PolicyCatalog` (``tracker.policies``, replaced by the worker
when the configuration changes).

Rules
-----
* ``TicketCreated`` chooses the ticket's policy: the first policy, in order, active at the
  creation instant whose condition matches the ticket's fields (:func:`condition_fields`;
  ``created_hour`` is read in each policy's calendar time zone), else the default. It starts a
  clock per metric that policy targets for the ticket's priority (an unknown priority falls back
  to the policy's ``default_priority``), paused or met at once when the ticket starts in such a
  status category -> ``SlaTargetsSet`` (``policy``: the policy id). Every later computation of
  the ticket - due instants, warnings, breaches, pauses - uses that policy and its calendar.
* ``StatusChanged`` (``to_category``) and ``TicketMerged`` (the child is closed) move the clocks
  with :meth:`SlaPolicy.follow_status` (the status itself when the policy names it, else its
  category) -> ``SlaPaused`` / ``SlaResumed`` / ``SlaMet``.
* An event that changes a field conditions read (``PriorityChanged``, ``TeamChanged``,
  ``TagsChanged``, ``TicketFieldsChanged``, ``TicketCustomerContextChanged``,
  ``CustomFieldsChanged``, ``StatusChanged``, ``TicketAssigned``, ...) selects
  the policy again (still as of the creation instant, for active ranges). When another policy
  matches, the ticket switches to it at the event: the business time used so far is settled
  under the old policy's calendar and kept, the new policy's targets (for the ticket's priority)
  and calendar apply from then on -> ``SlaTargetsSet``. ``PriorityChanged`` always gives
  ``SlaTargetsSet`` (new targets, time used kept).
* When the ticket's policy is changed by a manager, the ticket follows the new revision from the
  instant of the change (or of its clocks' last change, if later); when the policy is deleted the
  ticket falls back to the default policy, likewise. This happens at the ticket's next event, or
  at once through a timer tick (:meth:`SlaTracker.next_timer` returns the instant, so the worker
  ticks the ticket) unless every clock of the ticket is met -> ``SlaTargetsSet``.
* On a switch, a metric the new policy has no target for keeps its target; a resolution target
  the ticket had no clock for starts a clock at the switch. When the two policies pause or fulfil
  differently, the clocks follow the new policy's rule for the ticket's current status category.
* ``MessageAdded`` that is public, not automated and written by an agent meets first response
  and the open next response. One that is public, not automated and written by the customer
  arms a next-response clock when the last public word was the agent's (first response met, no
  next response open) -> ``SlaTargetsSet`` with the ``next_response`` target; one clock per
  exchange, re-armed by the next customer message after the agent's reply.
* ``TeamChanged``, ``TicketAssigned`` and ``TicketUnassigned`` (and ``TicketCreated``'s fields)
  keep the ticket's ``team_id`` and ``assignee_id``, for questions by team or agent.
* Events of a ticket with ``stream_version <= last_version`` were applied already: dropped.
* :meth:`SlaTracker.fire` at ``now`` emits ``SlaWarning`` once ``warning_fraction`` of a target
  is used and ``SlaBreached`` once it is used up, each at most once per metric (recorded in the
  state). Their ``occurred_at`` is the instant the threshold was crossed, not when the timer
  ran, so a late or repeated firing derives the same envelope.

Event ids are ``derived_event_id(event_type, ticket_id, metric, cause)`` where ``cause`` is the
ticket event id, the due/warning instant for timer events, or
``policy/<policy id>/<revision>/<sla version>`` when a changed or deleted policy is caught up
with; ``stream_version`` counts the ticket's SLA events. A re-run from the same state (and the
same policies) therefore derives identical envelopes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from helpdesk_events import (
    Actor,
    ActorKind,
    DomainEvent,
    EventEnvelope,
    MessageAdded,
    PriorityChanged,
    StatusCategory,
    StatusChanged,
    TeamChanged,
    TicketAssigned,
    TicketCreated,
    TicketMerged,
    TicketUnassigned,
    Visibility,
    derived_event_id,
)
from helpdesk_events.registry import UnknownEventType
from helpdesk_events.sla import (
    SLA_STREAM,
    SlaBreached,
    SlaClockState,
    SlaMet,
    SlaMetricName,
    SlaPaused,
    SlaResumed,
    SlaTarget,
    SlaTargetsSet,
    SlaWarning,
)
from helpdesk_events.tickets import (
    CustomerContext,
    CustomFieldsChanged,
    CustomFieldValue,
    TagsChanged,
    TicketCustomerContextChanged,
    TicketFieldsChanged,
)
from sla_service.domain import BusinessCalendar, SlaClock, SlaMetric, SlaPolicy
from sla_service.domain.policies import BUILT_IN_DEFAULT_ID, PolicyCatalog, built_in_rule
from sla_service.domain.selection import PolicyRule

SERVICE_ACTOR = Actor(kind=ActorKind.SERVICE, id="sla-service")
_ZERO = timedelta(0)
#: Fields of ``TicketFieldsChanged`` that conditions read (description is not kept).
_EDITABLE_FIELDS = ("subject", "type", "category", "business_unit", "brand", "channel")


class MetricState(BaseModel):
    """One metric of one ticket: its target, clock, and which timer events were emitted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: timedelta
    clock: SlaClock
    warned: bool = False


class TicketFields(BaseModel):
    """The ticket's fields that policy conditions read, besides those :class:`TicketSla` has."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    priority: str = Field(default="", description="as on the ticket (targets may use another)")
    status: str = ""
    subject: str | None = None
    channel: str | None = None
    type: str | None = None
    category: str | None = None
    business_unit: str | None = None
    brand: str | None = None
    tags: tuple[str, ...] = ()
    customer_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    #: The customer's and company's attributes (``TicketCreated.customer_context``, followed by
    #: ``TicketCustomerContextChanged``), so "Enterprise" policies apply by themselves.
    customer_tags: tuple[str, ...] = ()
    customer_country: str | None = None
    company_tags: tuple[str, ...] = ()
    company_tier: str | None = None
    company_country: str | None = None
    customer_language: str | None = None
    #: Custom field values by key (``TicketCreated.custom_fields``, ``CustomFieldsChanged``).
    custom: dict[str, CustomFieldValue] = Field(default_factory=dict)


def _context_fields(context: CustomerContext | None) -> dict[str, Any]:
    """The :class:`TicketFields` a customer context gives (all empty without one)."""
    context = context or CustomerContext()
    return {
        "customer_tags": context.customer_tags,
        "customer_country": context.customer_country,
        "company_tags": context.company_tags,
        "company_tier": context.company_tier,
        "company_country": context.company_country,
        "customer_language": context.customer_language,
    }


class TicketSla(BaseModel):
    """What the service keeps per ticket (the table value, as JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ticket_id: uuid.UUID
    partition: int = Field(ge=0, description="partition of the ticket's events (timers)")
    policy: str = Field(description="id of the policy the ticket follows")
    priority: str = Field(description="the priority whose targets apply")
    category: StatusCategory
    last_version: int = Field(ge=1, description="last ticket stream_version applied")
    sla_version: int = Field(default=0, ge=0, description="SLA events emitted so far")
    causation_id: uuid.UUID
    correlation_id: uuid.UUID
    metrics: dict[SlaMetric, MetricState]
    team_id: uuid.UUID | None = Field(default=None, description="for breaching-soon by team")
    assignee_id: uuid.UUID | None = Field(default=None, description="for breaching-soon by agent")
    policy_revision: str | None = Field(
        default=None,
        description="revision of the policy the clocks were computed under (None: kept before "
        "policies were configurable, i.e. the built-in default)",
    )
    created_at: datetime | None = Field(default=None, description="policies are chosen as of it")
    fields: TicketFields | None = Field(
        default=None, description="what conditions read (None: kept before policies)"
    )


@dataclass
class Outcome:
    """The state after a step (None: the ticket is not tracked) and the events it derived."""

    state: TicketSla | None
    events: list[EventEnvelope] = field(default_factory=list)


def condition_fields(state: TicketSla) -> dict[str, Any]:
    """The ticket fields policy conditions read (names of ``helpdesk_conditions.TICKET_FIELDS``;
    ids as text, tags as a list; ``created_hour`` is added per policy when selecting)."""
    fields = state.fields or TicketFields(priority=state.priority)
    return {
        "subject": fields.subject,
        "channel": fields.channel,
        "status": fields.status or None,
        "status_category": state.category.value,
        "priority": fields.priority or None,
        "type": fields.type,
        "category": fields.category,
        "team_id": str(state.team_id) if state.team_id else None,
        "assignee_id": str(state.assignee_id) if state.assignee_id else None,
        "tags": list(fields.tags),
        "business_unit": fields.business_unit,
        "brand": fields.brand,
        "customer_id": str(fields.customer_id) if fields.customer_id else None,
        "company_id": str(fields.company_id) if fields.company_id else None,
        "customer_tags": list(fields.customer_tags),
        "customer_country": fields.customer_country,
        "company_tags": list(fields.company_tags),
        "company_tier": fields.company_tier,
        "company_country": fields.company_country,
        "customer_language": fields.customer_language,
        "custom": {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in fields.custom.items()
        },
    }


class SlaTracker:
    """Applies the policies of :attr:`policies`; see the module docstring."""

    def __init__(self, policies: PolicyCatalog, warning_fraction: float = 0.75) -> None:
        if not 0 < warning_fraction < 1:
            raise ValueError(f"warning_fraction must lie in (0, 1); got {warning_fraction}")
        self.policies = policies
        self.warning_fraction = warning_fraction

    @classmethod
    def for_policy(
        cls, policy: SlaPolicy, calendar: BusinessCalendar, warning_fraction: float = 0.75
    ) -> SlaTracker:
        """One policy for every ticket (the built-in default only)."""
        return cls(PolicyCatalog.of(built_in_rule(policy, calendar)), warning_fraction)

    # --- policies -------------------------------------------------------------------------------

    def rule_of(self, state: TicketSla) -> PolicyRule:
        """The policy the ticket's clocks were last computed under (its revision)."""
        if state.policy_revision is None:
            return self.policies.built_in
        rule = self.policies.at_revision(state.policy_revision)
        return rule if rule is not None else self.policies.resolve(state.policy)

    def calendar_of(self, state: TicketSla) -> BusinessCalendar:
        return self.rule_of(state).calendar

    def pending_policy(self, state: TicketSla) -> tuple[PolicyRule, datetime] | None:
        """The policy the ticket must now follow, and from when, if its own changed or is gone.

        From the instant the policy was changed or deleted (or the default replaced), or of the
        ticket's last clock change if that is later (or unknown).
        """
        state = self._normalized(state)
        assert state.policy_revision is not None
        rule = self.policies.resolve(state.policy, state.team_id)
        if rule.policy_id == state.policy and self.policies.revision(rule) == state.policy_revision:
            return None
        floor = max(
            (metric.clock.changed_at for metric in state.metrics.values()),
            default=_created_at(state),
        )
        since = self.policies.changed_at.get(state.policy) or self.policies.changed_at.get(
            rule.policy_id
        )
        return rule, floor if since is None else max(since, floor)

    def select(self, state: TicketSla) -> PolicyRule:
        """The policy the ticket's fields choose (active ranges as of its creation), in its
        team's calendar when the policy counts in it."""
        created_at = _created_at(state)
        rule = self.policies.policies.select(
            condition_fields(state), created_at, created_at=created_at
        )
        return self.policies.for_team(rule, state.team_id)

    @staticmethod
    def priority_for(rule: PolicyRule, priority: str) -> str:
        """The priority whose targets ``rule`` applies to a ticket of ``priority``."""
        policy = rule.policy
        if priority in policy.targets:
            return priority
        if policy.default_priority is not None:
            return policy.default_priority
        policy.targets_for(priority)  # raises UnknownPriorityError with the known ones
        raise AssertionError("unreachable")

    def _normalized(self, state: TicketSla) -> TicketSla:
        """A state kept before policies were configurable follows the built-in default."""
        if state.policy_revision is not None:
            return state
        return state.model_copy(
            update={
                "policy": BUILT_IN_DEFAULT_ID,
                "policy_revision": self.policies.built_in_revision,
            }
        )

    # --- readings -------------------------------------------------------------------------------

    def due_at(self, state: TicketSla, metric: MetricState) -> datetime | None:
        return metric.clock.due(self.calendar_of(state), metric.target)

    def warn_at(self, state: TicketSla, metric: MetricState) -> datetime | None:
        """When the warning threshold is crossed, if the clock runs and no warning was sent."""
        if metric.warned or metric.clock.breached:
            return None
        return metric.clock.due(self.calendar_of(state), metric.target * self.warning_fraction)

    @property
    def timer_digest(self) -> str:
        """Everything :meth:`next_timer` depends on besides the state (see
        :attr:`PolicyCatalog.timer_digest`): the same digest, the same next timer."""
        return f"{self.policies.timer_digest}/{self.warning_fraction}"

    def next_timer(self, state: TicketSla) -> datetime | None:
        """The earliest instant at which :meth:`fire` would emit something.

        That is the instant the ticket's policy changed when it has not caught up with it yet
        (and some clock is not met).
        """
        unmet = [metric for metric in state.metrics.values() if not metric.clock.is_met]
        if unmet:
            pending = self.pending_policy(state)
            if pending is not None:
                return pending[1]
        instants: list[datetime] = []
        for metric in unmet:
            warn = self.warn_at(state, metric)
            if warn is not None:
                instants.append(warn)
            if not metric.clock.breached:
                due = self.due_at(state, metric)
                if due is not None:
                    instants.append(due)
        return min(instants, default=None)

    # --- ticket events --------------------------------------------------------------------------

    def apply(self, state: TicketSla | None, envelope: EventEnvelope, partition: int) -> Outcome:
        """The ticket ``envelope`` applied to ``state``; stale and foreign events change nothing."""
        if envelope.stream_type != "ticket":
            return Outcome(state)
        if state is not None and envelope.stream_version <= state.last_version:
            return Outcome(state)
        try:
            event = envelope.payload()
        except UnknownEventType:
            event = None
        if state is None:
            if isinstance(event, TicketCreated):
                return self._created(event, envelope, partition)
            return Outcome(None)  # created before this service tracked it: nothing to time
        state = self._normalized(state).model_copy(
            update={
                "last_version": envelope.stream_version,
                "causation_id": envelope.event_id,
                "correlation_id": envelope.correlation_id,
            }
        )
        step = _Step(self, state, envelope)
        step.catch_up_policy()
        at = envelope.occurred_at
        before = condition_fields(step.state)
        step.note_fields(event)
        if isinstance(event, PriorityChanged):
            rule = self.select(step.state) if step.state.fields else self.rule_of(step.state)
            step.switch(rule, event.to_priority, at, str(envelope.event_id))
        elif condition_fields(step.state) != before and step.state.fields is not None:
            rule = self.select(step.state)
            # Another policy, or the same one in another team's calendar.
            if (rule.policy_id, self.policies.revision(rule)) != (
                step.state.policy,
                step.state.policy_revision,
            ):
                step.switch(rule, step.state.fields.priority, at, str(envelope.event_id))
        if isinstance(event, StatusChanged) and event.to_category is not None:
            step.follow_status(event.to_category, at, status=event.to_status)
        elif isinstance(event, TicketMerged):
            step.follow_status(StatusCategory.CLOSED, at, status=None)
        elif isinstance(event, MessageAdded) and _is_first_response(event, envelope):
            step.meet(SlaMetric.FIRST_RESPONSE, at)
            step.meet(SlaMetric.NEXT_RESPONSE, at)
        elif isinstance(event, MessageAdded) and _is_customer_message(event, envelope):
            step.await_answer(at)
        return step.outcome()

    def _created(self, event: TicketCreated, envelope: EventEnvelope, partition: int) -> Outcome:
        at = envelope.occurred_at
        category = event.status_category or StatusCategory.NEW
        fields = TicketFields(
            priority=event.priority,
            status=event.status,
            subject=event.subject,
            channel=event.channel,
            type=event.type,
            category=event.category,
            business_unit=event.business_unit,
            brand=event.brand,
            tags=event.tags,
            customer_id=event.customer_id,
            company_id=event.company_id,
            custom=dict(event.custom_fields),
            **_context_fields(event.customer_context),
        )
        # A first state, to select the policy from the ticket's fields.
        state = TicketSla(
            ticket_id=envelope.stream_id,
            partition=partition,
            policy=self.policies.policies.default.policy_id,
            priority=event.priority,
            category=category,
            last_version=envelope.stream_version,
            causation_id=envelope.event_id,
            correlation_id=envelope.correlation_id,
            metrics={},
            team_id=event.team_id,
            assignee_id=event.assignee_id,
            created_at=at,
            fields=fields,
        )
        rule = self.select(state)
        policy = rule.policy
        priority = self.priority_for(rule, event.priority)
        metrics: dict[SlaMetric, MetricState] = {}
        for metric in SlaMetric:
            target = policy.target(priority, metric)
            if target is None or metric is SlaMetric.NEXT_RESPONSE:
                continue  # next response needs a customer message first: not tracked yet
            clock = SlaClock.start(at, paused=policy.pauses(category, metric, event.status))
            if policy.fulfils(category, metric, event.status):
                clock = clock.met(rule.calendar, at)
            metrics[metric] = MetricState(target=target, clock=clock)
        state = state.model_copy(
            update={
                "policy": rule.policy_id,
                "policy_revision": self.policies.revision(rule),
                "priority": priority,
                "metrics": metrics,
            }
        )
        step = _Step(self, state, envelope)
        step.targets_set(str(envelope.event_id), at)
        return step.outcome()

    # --- timers ---------------------------------------------------------------------------------

    def fire(self, state: TicketSla, now: datetime) -> Outcome:
        """Warnings and breaches due by ``now``, each emitted once per metric.

        A ticket whose policy changed or was deleted catches up with it first.
        """
        step = _Step(self, self._normalized(state), None)
        step.catch_up_policy()
        current = step.state
        calendar = self.calendar_of(current)
        for name, metric in sorted(current.metrics.items()):
            if metric.clock.is_met:
                continue
            warn = self.warn_at(current, metric)
            due = self.due_at(current, metric)
            if warn is not None and due is not None and warn <= now:
                step.emit(
                    SlaWarning(
                        ticket_id=current.ticket_id,
                        metric=SlaMetricName(name.value),
                        due_at=due,
                        threshold=self.warning_fraction,
                        # Zero when a retarget left less than nothing (already overdue).
                        lead_seconds=max(
                            metric.target - metric.clock.elapsed(calendar, warn), _ZERO
                        ).total_seconds(),
                    ),
                    metric=name,
                    cause=warn.isoformat(),
                    at=warn,
                )
                metric = metric.model_copy(update={"warned": True})
                step.put(name, metric)
            if due is not None and not metric.clock.breached and due <= now:
                step.emit(
                    SlaBreached(
                        ticket_id=current.ticket_id,
                        metric=SlaMetricName(name.value),
                        due_at=due,
                        target_seconds=metric.target.total_seconds(),
                    ),
                    metric=name,
                    cause=due.isoformat(),
                    at=due,
                )
                step.put(
                    name,
                    metric.model_copy(update={"clock": metric.clock.breach(due), "warned": True}),
                )
        return step.outcome()


def _created_at(state: TicketSla) -> datetime:
    if state.created_at is not None:
        return state.created_at
    started = [metric.clock.started_at for metric in state.metrics.values()]
    assert started, "a ticket kept without created_at has clocks"
    return min(started)


def _is_first_response(event: MessageAdded, envelope: EventEnvelope) -> bool:
    return (
        event.visibility is Visibility.PUBLIC
        and not event.automated
        and envelope.actor.kind is ActorKind.AGENT
    )


def _is_customer_message(event: MessageAdded, envelope: EventEnvelope) -> bool:
    return (
        event.visibility is Visibility.PUBLIC
        and not event.automated
        and envelope.actor.kind is ActorKind.CUSTOMER
    )


class _Step:
    """Accumulates the state changes and derived events of one step."""

    def __init__(self, tracker: SlaTracker, state: TicketSla, cause: EventEnvelope | None) -> None:
        self.tracker = tracker
        self.state = state
        self.cause = cause
        self.events: list[EventEnvelope] = []

    @property
    def rule(self) -> PolicyRule:
        return self.tracker.rule_of(self.state)

    def outcome(self) -> Outcome:
        return Outcome(self.state, self.events)

    def put(self, name: SlaMetric, metric: MetricState) -> None:
        self.state = self.state.model_copy(update={"metrics": {**self.state.metrics, name: metric}})

    def emit(
        self, event: DomainEvent, *, metric: SlaMetric | None, cause: str, at: datetime
    ) -> None:
        version = self.state.sla_version + 1
        self.state = self.state.model_copy(update={"sla_version": version})
        ticket_id = self.state.ticket_id
        self.events.append(
            EventEnvelope(
                event_id=derived_event_id(
                    event.event_type, ticket_id, metric.value if metric else "-", cause
                ),
                event_type=event.event_type,
                schema_version=event.schema_version,
                stream_id=ticket_id,
                stream_type=SLA_STREAM,
                stream_version=version,
                occurred_at=at,
                actor=SERVICE_ACTOR,
                correlation_id=self.state.correlation_id,
                causation_id=self.state.causation_id,
                data=event.model_dump(mode="json"),
            )
        )

    def _ticket_cause(self) -> str:
        assert self.cause is not None
        return str(self.cause.event_id)

    def targets_set(self, cause: str, at: datetime) -> None:
        calendar = self.tracker.calendar_of(self.state)
        targets = tuple(
            SlaTarget(
                metric=SlaMetricName(name.value),
                target_seconds=metric.target.total_seconds(),
                elapsed_seconds=metric.clock.elapsed(calendar, at).total_seconds(),
                state=_clock_state(metric.clock),
                due_at=self.tracker.due_at(self.state, metric),
            )
            for name, metric in sorted(self.state.metrics.items())
        )
        self.emit(
            SlaTargetsSet(
                ticket_id=self.state.ticket_id,
                policy=self.state.policy,
                priority=self.state.priority,
                targets=targets,
            ),
            metric=None,
            cause=cause,
            at=at,
        )

    def note_fields(self, event: DomainEvent | None) -> None:
        """Keep what the event changes of the fields conditions read (and team / assignee)."""
        state = self.state
        fields = state.fields
        update: dict[str, Any] = {}
        changes: dict[str, Any] = {}
        if isinstance(event, TeamChanged):
            update["team_id"] = event.to_team_id
        elif isinstance(event, TicketAssigned):
            update["assignee_id"] = event.assignee_id
        elif isinstance(event, TicketUnassigned):
            update["assignee_id"] = None
        elif isinstance(event, StatusChanged):
            changes["status"] = event.to_status
            if event.to_category is not None:
                update["category"] = event.to_category
        elif isinstance(event, PriorityChanged):
            changes["priority"] = event.to_priority
        elif isinstance(event, TicketFieldsChanged):
            for change in event.changes:
                if change.field in _EDITABLE_FIELDS:
                    changes[change.field] = change.new
        elif isinstance(event, TicketCustomerContextChanged):
            changes.update(company_id=event.company_id, **_context_fields(event.customer_context))
        elif isinstance(event, CustomFieldsChanged) and fields is not None:
            custom = dict(fields.custom)
            for custom_change in event.changes:
                if custom_change.new is None:
                    custom.pop(custom_change.key, None)
                else:
                    custom[custom_change.key] = custom_change.new
            changes["custom"] = custom
        elif isinstance(event, TagsChanged) and fields is not None:
            removed = set(event.removed)
            kept = [tag for tag in fields.tags if tag not in removed]
            kept += [tag for tag in event.added if tag not in kept]
            changes["tags"] = tuple(kept)
        if changes and fields is not None:
            update["fields"] = fields.model_copy(update=changes)
        if update:
            self.state = state.model_copy(update=update)

    def catch_up_policy(self) -> None:
        """Follow the ticket's policy as it is now, if it was changed or deleted."""
        pending = self.tracker.pending_policy(self.state)
        if pending is None:
            return
        rule, since = pending
        revision = self.tracker.policies.revision(rule)
        cause = f"policy/{rule.policy_id}/{revision}/{self.state.sla_version}"
        fields = self.state.fields
        priority = (
            fields.priority if fields is not None and fields.priority else self.state.priority
        )
        self.switch(rule, priority, since, cause)

    def switch(self, rule: PolicyRule, priority: str, at: datetime, cause: str) -> None:
        """Follow ``rule`` and its targets for ``priority`` from ``at``, keeping the time used."""
        old = self.rule
        effective = self.tracker.priority_for(rule, priority)
        for name, metric in sorted(self.state.metrics.items()):
            target = rule.policy.target(effective, name)
            moment = max(at, metric.clock.changed_at)
            clock = metric.clock
            if not clock.is_met:
                clock = clock.retarget(old.calendar, moment)
            self.put(
                name,
                metric.model_copy(
                    update={"target": metric.target if target is None else target, "clock": clock}
                ),
            )
        self.state = self.state.model_copy(
            update={
                "policy": rule.policy_id,
                "policy_revision": self.tracker.policies.revision(rule),
                "priority": effective,
            }
        )
        category = self.state.category
        resolution = rule.policy.target(effective, SlaMetric.RESOLUTION)
        if SlaMetric.RESOLUTION not in self.state.metrics and resolution is not None:
            # Not retroactive: the clock counts from the switch.
            paused = rule.policy.pauses(category, SlaMetric.RESOLUTION, self.status)
            clock = SlaClock.start(at, paused=paused)
            if rule.policy.fulfils(category, SlaMetric.RESOLUTION, self.status):
                clock = clock.met(rule.calendar, at)
            self.put(SlaMetric.RESOLUTION, MetricState(target=resolution, clock=clock))
        if _status_rules(old.policy) != _status_rules(rule.policy):
            self.follow_status(category, at, cause, status=self.status)
        settled = max(
            (metric.clock.changed_at for metric in self.state.metrics.values()), default=at
        )
        self.targets_set(cause, max(at, settled))

    @property
    def status(self) -> str | None:
        """The ticket's status, when known (states kept before policies have none)."""
        fields = self.state.fields
        return fields.status or None if fields is not None else None

    def follow_status(
        self,
        category: StatusCategory,
        at: datetime,
        cause: str | None = None,
        *,
        status: str | None,
    ) -> None:
        self.state = self.state.model_copy(update={"category": category})
        policy = self.rule.policy
        calendar = self.rule.calendar
        for name, metric in sorted(self.state.metrics.items()):
            moment = max(at, metric.clock.changed_at)
            clock = policy.follow_status(metric.clock, name, category, calendar, moment, status)
            self._transition(name, metric, clock, moment, cause)

    def meet(self, name: SlaMetric, at: datetime) -> None:
        metric = self.state.metrics.get(name)
        if metric is None or metric.clock.is_met:
            return
        moment = max(at, metric.clock.changed_at)
        clock = metric.clock.met(self.rule.calendar, moment)
        self._transition(name, metric, clock, moment)

    def await_answer(self, at: datetime) -> None:
        """A customer's public message: arm a next-response clock for this exchange.

        Only when the last public word was the agent's: the first response is met (or not
        tracked) and no next-response clock is open; a further customer message in the same
        exchange changes nothing. The clock starts paused in a pausing status category.
        """
        policy = self.rule.policy
        target = policy.target(self.state.priority, SlaMetric.NEXT_RESPONSE)
        if target is None:
            return
        metrics = self.state.metrics
        current = metrics.get(SlaMetric.NEXT_RESPONSE)
        if current is not None and not current.clock.is_met:
            return
        first = metrics.get(SlaMetric.FIRST_RESPONSE)
        if first is not None and not first.clock.is_met:
            return
        paused = policy.pauses(self.state.category, SlaMetric.NEXT_RESPONSE, self.status)
        self.put(
            SlaMetric.NEXT_RESPONSE,
            MetricState(target=target, clock=SlaClock.start(at, paused=paused)),
        )
        self.targets_set(self._ticket_cause(), at)

    def _transition(
        self,
        name: SlaMetric,
        before: MetricState,
        clock: SlaClock,
        at: datetime,
        cause: str | None = None,
    ) -> None:
        if clock == before.clock:
            return
        after = before.model_copy(update={"clock": clock})
        self.put(name, after)
        cause = cause if cause is not None else self._ticket_cause()
        calendar = self.rule.calendar
        ticket_id = self.state.ticket_id
        metric_name = SlaMetricName(name.value)
        if clock.is_met and not before.clock.is_met:
            elapsed = clock.elapsed(calendar, at)
            self.emit(
                SlaMet(
                    ticket_id=ticket_id,
                    metric=metric_name,
                    met_at=at,
                    elapsed_seconds=elapsed.total_seconds(),
                    within_target=elapsed <= before.target and not before.clock.breached,
                ),
                metric=name,
                cause=cause,
                at=at,
            )
        elif clock.is_paused and before.clock.is_running:
            elapsed = clock.elapsed(calendar, at)
            self.emit(
                SlaPaused(
                    ticket_id=ticket_id,
                    metric=metric_name,
                    paused_at=at,
                    elapsed_seconds=elapsed.total_seconds(),
                    remaining_seconds=(before.target - elapsed).total_seconds(),
                ),
                metric=name,
                cause=cause,
                at=at,
            )
        elif clock.is_running and not before.clock.is_running:
            due = self.tracker.due_at(self.state, after)
            assert due is not None
            self.emit(
                SlaResumed(ticket_id=ticket_id, metric=metric_name, resumed_at=at, due_at=due),
                metric=name,
                cause=cause,
                at=at,
            )


def _status_rules(policy: SlaPolicy) -> tuple[Any, ...]:
    """What decides how a policy's clocks follow statuses."""
    return (
        policy.pausing,
        policy.fulfilling,
        policy.pausing_statuses,
        policy.fulfilling_statuses,
    )


def _clock_state(clock: SlaClock) -> SlaClockState:
    if clock.is_met:
        return SlaClockState.MET
    return SlaClockState.RUNNING if clock.is_running else SlaClockState.PAUSED
