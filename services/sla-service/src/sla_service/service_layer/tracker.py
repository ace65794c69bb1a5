"""Per-ticket SLA tracking: apply ticket events and fire timers, deriving SLA events.

Everything here is pure: state in, ``(state, events)`` out. The worker keeps :class:`TicketSla`
in a changelog-backed table (as JSON) and publishes the events.

Rules
-----
* ``TicketCreated`` starts a clock per metric the policy targets for the ticket's priority (an
  unknown priority falls back to the policy's ``default_priority``), paused or met at once when
  the ticket starts in such a status category -> ``SlaTargetsSet``.
* ``StatusChanged`` (``to_category``) and ``TicketMerged`` (the child is closed) move the clocks
  with :meth:`SlaPolicy.follow_status` -> ``SlaPaused`` / ``SlaResumed`` / ``SlaMet``.
* ``PriorityChanged`` settles the time used and applies the new priority's targets ->
  ``SlaTargetsSet``.
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
ticket event id, or the due/warning instant for timer events; ``stream_version`` counts the
ticket's SLA events. A re-run from the same state therefore derives identical envelopes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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
from sla_service.domain import BusinessCalendar, SlaClock, SlaMetric, SlaPolicy

SERVICE_ACTOR = Actor(kind=ActorKind.SERVICE, id="sla-service")
_ZERO = timedelta(0)


class MetricState(BaseModel):
    """One metric of one ticket: its target, clock, and which timer events were emitted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: timedelta
    clock: SlaClock
    warned: bool = False


class TicketSla(BaseModel):
    """What the service keeps per ticket (the table value, as JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ticket_id: uuid.UUID
    partition: int = Field(ge=0, description="partition of the ticket's events (timers)")
    policy: str
    priority: str
    category: StatusCategory
    last_version: int = Field(ge=1, description="last ticket stream_version applied")
    sla_version: int = Field(default=0, ge=0, description="SLA events emitted so far")
    causation_id: uuid.UUID
    correlation_id: uuid.UUID
    metrics: dict[SlaMetric, MetricState]
    team_id: uuid.UUID | None = Field(default=None, description="for breaching-soon by team")
    assignee_id: uuid.UUID | None = Field(default=None, description="for breaching-soon by agent")


@dataclass
class Outcome:
    """The state after a step (None: the ticket is not tracked) and the events it derived."""

    state: TicketSla | None
    events: list[EventEnvelope] = field(default_factory=list)


class SlaTracker:
    """Applies one policy and one calendar; see the module docstring."""

    def __init__(
        self, policy: SlaPolicy, calendar: BusinessCalendar, warning_fraction: float = 0.75
    ) -> None:
        if not 0 < warning_fraction < 1:
            raise ValueError(f"warning_fraction must lie in (0, 1); got {warning_fraction}")
        self.policy = policy
        self.calendar = calendar
        self.warning_fraction = warning_fraction

    # --- readings -------------------------------------------------------------------------------

    def due_at(self, metric: MetricState) -> datetime | None:
        return metric.clock.due(self.calendar, metric.target)

    def warn_at(self, metric: MetricState) -> datetime | None:
        """When the warning threshold is crossed, if the clock runs and no warning was sent."""
        if metric.warned or metric.clock.breached:
            return None
        return metric.clock.due(self.calendar, metric.target * self.warning_fraction)

    def next_timer(self, state: TicketSla) -> datetime | None:
        """The earliest instant at which :meth:`fire` would emit something."""
        instants: list[datetime] = []
        for metric in state.metrics.values():
            if metric.clock.is_met:
                continue
            warn = self.warn_at(metric)
            if warn is not None:
                instants.append(warn)
            if not metric.clock.breached:
                due = self.due_at(metric)
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
        state = state.model_copy(
            update={
                "last_version": envelope.stream_version,
                "causation_id": envelope.event_id,
                "correlation_id": envelope.correlation_id,
            }
        )
        step = _Step(self, state, envelope)
        at = envelope.occurred_at
        if isinstance(event, StatusChanged) and event.to_category is not None:
            step.follow_status(event.to_category, at)
        elif isinstance(event, TicketMerged):
            step.follow_status(StatusCategory.CLOSED, at)
        elif isinstance(event, PriorityChanged):
            step.change_priority(event.to_priority, at)
        elif isinstance(event, TeamChanged):
            step.state = step.state.model_copy(update={"team_id": event.to_team_id})
        elif isinstance(event, TicketAssigned):
            step.state = step.state.model_copy(update={"assignee_id": event.assignee_id})
        elif isinstance(event, TicketUnassigned):
            step.state = step.state.model_copy(update={"assignee_id": None})
        elif isinstance(event, MessageAdded) and _is_first_response(event, envelope):
            step.meet(SlaMetric.FIRST_RESPONSE, at)
            step.meet(SlaMetric.NEXT_RESPONSE, at)
        elif isinstance(event, MessageAdded) and _is_customer_message(event, envelope):
            step.await_answer(at)
        return step.outcome()

    def _created(self, event: TicketCreated, envelope: EventEnvelope, partition: int) -> Outcome:
        at = envelope.occurred_at
        category = event.status_category or StatusCategory.NEW
        priority = self._priority(event.priority)
        metrics: dict[SlaMetric, MetricState] = {}
        for metric in SlaMetric:
            target = self.policy.target(priority, metric)
            if target is None or metric is SlaMetric.NEXT_RESPONSE:
                continue  # next response needs a customer message first: not tracked yet
            clock = SlaClock.start(at, paused=self.policy.pauses(category, metric))
            if self.policy.fulfils(category, metric):
                clock = clock.met(self.calendar, at)
            metrics[metric] = MetricState(target=target, clock=clock)
        state = TicketSla(
            ticket_id=envelope.stream_id,
            partition=partition,
            policy=self.policy.name,
            priority=priority,
            category=category,
            last_version=envelope.stream_version,
            causation_id=envelope.event_id,
            correlation_id=envelope.correlation_id,
            metrics=metrics,
            team_id=event.team_id,
            assignee_id=event.assignee_id,
        )
        step = _Step(self, state, envelope)
        step.targets_set()
        return step.outcome()

    def _priority(self, priority: str) -> str:
        if priority in self.policy.targets:
            return priority
        if self.policy.default_priority is not None:
            return self.policy.default_priority
        self.policy.targets_for(priority)  # raises UnknownPriorityError with the known ones
        raise AssertionError("unreachable")

    # --- timers ---------------------------------------------------------------------------------

    def fire(self, state: TicketSla, now: datetime) -> Outcome:
        """Warnings and breaches due by ``now``, each emitted once per metric."""
        step = _Step(self, state, None)
        for name, metric in sorted(state.metrics.items()):
            if metric.clock.is_met:
                continue
            warn = self.warn_at(metric)
            due = self.due_at(metric)
            if warn is not None and due is not None and warn <= now:
                step.emit(
                    SlaWarning(
                        ticket_id=state.ticket_id,
                        metric=SlaMetricName(name.value),
                        due_at=due,
                        threshold=self.warning_fraction,
                        lead_seconds=(
                            metric.target - metric.clock.elapsed(self.calendar, warn)
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
                        ticket_id=state.ticket_id,
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

    def _ticket_cause(self) -> tuple[str, datetime]:
        assert self.cause is not None
        return str(self.cause.event_id), self.cause.occurred_at

    def targets_set(self) -> None:
        cause, at = self._ticket_cause()
        calendar = self.tracker.calendar
        targets = tuple(
            SlaTarget(
                metric=SlaMetricName(name.value),
                target_seconds=metric.target.total_seconds(),
                elapsed_seconds=metric.clock.elapsed(calendar, at).total_seconds(),
                state=_clock_state(metric.clock),
                due_at=self.tracker.due_at(metric),
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

    def follow_status(self, category: StatusCategory, at: datetime) -> None:
        self.state = self.state.model_copy(update={"category": category})
        for name, metric in sorted(self.state.metrics.items()):
            moment = max(at, metric.clock.changed_at)
            clock = self.tracker.policy.follow_status(
                metric.clock, name, category, self.tracker.calendar, moment
            )
            self._transition(name, metric, clock, moment)

    def meet(self, name: SlaMetric, at: datetime) -> None:
        metric = self.state.metrics.get(name)
        if metric is None or metric.clock.is_met:
            return
        moment = max(at, metric.clock.changed_at)
        self._transition(name, metric, metric.clock.met(self.tracker.calendar, moment), moment)

    def await_answer(self, at: datetime) -> None:
        """A customer's public message: arm a next-response clock for this exchange.

        Only when the last public word was the agent's: the first response is met (or not
        tracked) and no next-response clock is open; a further customer message in the same
        exchange changes nothing. The clock starts paused in a pausing status category.
        """
        policy = self.tracker.policy
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
        paused = policy.pauses(self.state.category, SlaMetric.NEXT_RESPONSE)
        self.put(
            SlaMetric.NEXT_RESPONSE,
            MetricState(target=target, clock=SlaClock.start(at, paused=paused)),
        )
        self.targets_set()

    def change_priority(self, priority: str, at: datetime) -> None:
        priority = self.tracker._priority(priority)
        calendar = self.tracker.calendar
        for name, metric in sorted(self.state.metrics.items()):
            target = self.tracker.policy.target(priority, name)
            if target is None:
                continue
            moment = max(at, metric.clock.changed_at)
            clock = metric.clock if metric.clock.is_met else metric.clock.retarget(calendar, moment)
            self.put(name, metric.model_copy(update={"target": target, "clock": clock}))
        self.state = self.state.model_copy(update={"priority": priority})
        self.targets_set()

    def _transition(
        self, name: SlaMetric, before: MetricState, clock: SlaClock, at: datetime
    ) -> None:
        if clock == before.clock:
            return
        after = before.model_copy(update={"clock": clock})
        self.put(name, after)
        cause, _ = self._ticket_cause()
        calendar = self.tracker.calendar
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
            due = self.tracker.due_at(after)
            assert due is not None
            self.emit(
                SlaResumed(ticket_id=ticket_id, metric=metric_name, resumed_at=at, due_at=due),
                metric=name,
                cause=cause,
                at=at,
            )


def _clock_state(clock: SlaClock) -> SlaClockState:
    if clock.is_met:
        return SlaClockState.MET
    return SlaClockState.RUNNING if clock.is_running else SlaClockState.PAUSED
