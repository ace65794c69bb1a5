"""Ticket events and timers in, SLA events out (pure, no Kafka)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

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
)
from helpdesk_events.tickets import (
    CustomerContext,
    CustomFieldChange,
    CustomFieldsChanged,
    TagsChanged,
    TicketCustomerContextChanged,
)
from sla_service.domain import BusinessCalendar, PriorityTargets, SlaMetric, SlaPolicy
from sla_service.domain.policies import (
    PolicyCatalog,
    SavedPolicies,
    built_in_rule,
    fold_policies,
)
from sla_service.service_layer.tracker import Outcome, SlaTracker, TicketSla
from sla_service.settings import default_calendar, default_policy

H = timedelta(hours=1)
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
POLICY = SlaPolicy(
    name="Test",
    targets={
        "High": PriorityTargets(first_response=1 * H, resolution=4 * H),
        "Low": PriorityTargets(first_response=8 * H, resolution=40 * H),
    },
    default_priority="Low",
)


class Ticket:
    def __init__(self) -> None:
        self.id = uuid.uuid4()
        self.version = 0
        self.correlation_id = uuid.uuid4()

    def envelope(
        self, event: DomainEvent, at: datetime, actor: ActorKind = ActorKind.AGENT
    ) -> EventEnvelope:
        self.version += 1
        return EventEnvelope(
            event_id=uuid.uuid4(),
            event_type=event.event_type,
            schema_version=event.schema_version,
            stream_id=self.id,
            stream_type="ticket",
            stream_version=self.version,
            occurred_at=at,
            actor=Actor(kind=actor, id="someone"),
            correlation_id=self.correlation_id,
            data=event.model_dump(mode="json"),
        )

    def created(
        self, priority: str = "High", category: StatusCategory = StatusCategory.NEW
    ) -> EventEnvelope:
        event = TicketCreated(
            subject="s", channel="email", status="x", priority=priority, status_category=category
        )
        return self.envelope(event, T0, ActorKind.CUSTOMER)

    def status(self, category: StatusCategory, at: datetime) -> EventEnvelope:
        return self.envelope(
            StatusChanged(from_status="a", to_status="b", to_category=category), at
        )

    def message(
        self,
        at: datetime,
        actor: ActorKind = ActorKind.AGENT,
        visibility: Visibility = Visibility.PUBLIC,
        automated: bool = False,
    ) -> EventEnvelope:
        event = MessageAdded(
            message_id=uuid.uuid4(),
            visibility=visibility,
            body_html="b",
            body_text="b",
            automated=automated,
        )
        return self.envelope(event, at, actor)


@pytest.fixture
def tracker() -> SlaTracker:
    return SlaTracker.for_policy(POLICY, BusinessCalendar.twenty_four_seven())


def run(tracker: SlaTracker, *envelopes: EventEnvelope) -> tuple[TicketSla, Outcome]:
    state: TicketSla | None = None
    outcome = Outcome(None)
    events = []
    for envelope in envelopes:
        outcome = tracker.apply(state, envelope, partition=3)
        state = outcome.state
        events.extend(outcome.events)
    assert state is not None
    return state, Outcome(state, events)


def types(outcome: Outcome) -> list[str]:
    return [e.event_type for e in outcome.events]


def test_created_sets_targets_with_due_instants(tracker: SlaTracker) -> None:
    ticket = Ticket()
    created = ticket.created()
    state, outcome = run(tracker, created)
    (event,) = outcome.events
    assert event.event_type == "SlaTargetsSet"
    assert (event.stream_id, event.stream_type, event.stream_version) == (ticket.id, "sla", 1)
    assert event.causation_id == created.event_id
    assert event.correlation_id == ticket.correlation_id
    assert event.actor.kind is ActorKind.SERVICE
    assert event.actor.id == "sla-service"
    assert event.occurred_at == T0
    assert {t["metric"]: t["due_at"] for t in event.data["targets"]} == {
        "first_response": "2026-11-23T10:00:00Z",
        "resolution": "2026-11-23T13:00:00Z",
    }
    assert state.partition == 3
    assert state.last_version == 1


def test_unknown_priority_falls_back_to_the_default(tracker: SlaTracker) -> None:
    state, _ = run(tracker, Ticket().created(priority="Whatever"))
    assert state.priority == "Low"
    assert state.metrics[SlaMetric.RESOLUTION].target == 40 * H


def test_events_before_creation_and_of_other_streams_are_ignored(tracker: SlaTracker) -> None:
    ticket = Ticket()
    ticket.version = 4
    assert tracker.apply(None, ticket.status(StatusCategory.PAUSED, T0), 0).state is None
    foreign = ticket.created().model_copy(update={"stream_type": "customer"})
    assert tracker.apply(None, foreign, 0).state is None


def test_stale_versions_are_dropped(tracker: SlaTracker) -> None:
    ticket = Ticket()
    state, _ = run(tracker, ticket.created())
    paused = ticket.status(StatusCategory.PAUSED, T0 + H)
    state, first = run_from(tracker, state, paused)
    assert types(first) == ["SlaPaused"]
    again, replay = run_from(tracker, state, paused)
    assert replay.events == []
    assert again == state


def run_from(
    tracker: SlaTracker, state: TicketSla, *envelopes: EventEnvelope
) -> tuple[TicketSla, Outcome]:
    events = []
    for envelope in envelopes:
        outcome = tracker.apply(state, envelope, partition=3)
        assert outcome.state is not None
        state = outcome.state
        events.extend(outcome.events)
    return state, Outcome(state, events)


def test_pause_and_resume_move_the_due_by_the_paused_business_time(tracker: SlaTracker) -> None:
    ticket = Ticket()
    _, outcome = run(
        tracker,
        ticket.created(),
        ticket.status(StatusCategory.PAUSED, T0 + H),
        ticket.status(StatusCategory.ACTIVE, T0 + 3 * H),
    )
    assert types(outcome) == ["SlaTargetsSet", "SlaPaused", "SlaResumed"]
    paused, resumed = outcome.events[1:]
    assert paused.data["metric"] == "resolution"
    assert paused.data["elapsed_seconds"] == 3600
    assert paused.data["remaining_seconds"] == 3 * 3600
    assert resumed.data["due_at"] == "2026-11-23T15:00:00Z"  # 13:00 + 2 h paused
    assert [e.stream_version for e in outcome.events] == [1, 2, 3]


def test_business_calendar_counts_only_working_time() -> None:
    tracker = SlaTracker.for_policy(default_policy(), default_calendar())
    friday_afternoon = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    ticket = Ticket()
    created = ticket.envelope(
        TicketCreated(subject="s", channel="web", status="New", priority="Urgent"),
        friday_afternoon,
        ActorKind.CUSTOMER,
    )
    _, outcome = run(tracker, created)
    dues = {t["metric"]: t["due_at"] for t in outcome.events[0].data["targets"]}
    # 1 h first response: 16:00-17:00 Friday. 4 h resolution: 1 h Friday + 3 h Monday.
    assert dues == {
        "first_response": "2026-11-27T17:00:00Z",
        "resolution": "2026-11-30T11:00:00Z",
    }


def test_only_a_public_human_agent_reply_meets_first_response(tracker: SlaTracker) -> None:
    ticket = Ticket()
    _, outcome = run(
        tracker,
        ticket.created(),
        ticket.message(T0 + H / 6, actor=ActorKind.CUSTOMER),
        ticket.message(T0 + H / 4, visibility=Visibility.INTERNAL),
        ticket.message(T0 + H / 3, automated=True),
        ticket.message(T0 + H / 2),
        ticket.message(T0 + H),
    )
    assert types(outcome) == ["SlaTargetsSet", "SlaMet"]
    met = outcome.events[1]
    assert met.data["metric"] == "first_response"
    assert met.data["met_at"] == "2026-11-23T09:30:00Z"
    assert met.data["within_target"] is True


def test_resolving_meets_resolution_and_reopening_resumes_it(tracker: SlaTracker) -> None:
    ticket = Ticket()
    state, outcome = run(
        tracker,
        ticket.created(),
        ticket.message(T0 + H / 2),
        ticket.status(StatusCategory.RESOLVED, T0 + 2 * H),
        ticket.status(StatusCategory.ACTIVE, T0 + 5 * H),
    )
    assert types(outcome) == ["SlaTargetsSet", "SlaMet", "SlaMet", "SlaResumed"]
    assert outcome.events[2].data["metric"] == "resolution"
    assert outcome.events[3].data["due_at"] == "2026-11-23T16:00:00Z"  # 2 h left from 14:00
    assert state.metrics[SlaMetric.FIRST_RESPONSE].clock.is_met


def test_merged_child_stops_its_clocks(tracker: SlaTracker) -> None:
    ticket = Ticket()
    state, outcome = run(
        tracker, ticket.created(), ticket.envelope(TicketMerged(parent_id=uuid.uuid4()), T0 + H)
    )
    assert tracker.next_timer(state) is None
    assert "SlaMet" in types(outcome)


def test_priority_change_keeps_time_used_and_sets_new_targets(tracker: SlaTracker) -> None:
    ticket = Ticket()
    _, outcome = run(
        tracker,
        ticket.created(priority="Low"),
        ticket.envelope(PriorityChanged(from_priority="Low", to_priority="High"), T0 + 2 * H),
    )
    assert types(outcome) == ["SlaTargetsSet", "SlaTargetsSet"]
    retargeted = outcome.events[1]
    assert retargeted.data["priority"] == "High"
    targets = {t["metric"]: t for t in retargeted.data["targets"]}
    assert targets["resolution"]["due_at"] == "2026-11-23T13:00:00Z"
    # 1 h first response, 2 h used: overdue from the change on.
    assert targets["first_response"]["due_at"] == "2026-11-23T11:00:00Z"


def test_timers_warn_then_breach_once_each_with_deterministic_envelopes(
    tracker: SlaTracker,
) -> None:
    ticket = Ticket()
    state, _ = run(tracker, ticket.created())
    assert tracker.next_timer(state) == T0 + 45 * timedelta(minutes=1)
    assert tracker.fire(state, T0 + H / 2).events == []

    warned = tracker.fire(state, T0 + 50 * timedelta(minutes=1))
    assert types(warned) == ["SlaWarning"]
    warning = warned.events[0]
    assert warning.occurred_at == T0 + 45 * timedelta(minutes=1)
    assert warning.data["lead_seconds"] == 15 * 60
    assert warning.data["due_at"] == "2026-11-23T10:00:00Z"
    assert warned.state is not None
    assert tracker.fire(warned.state, T0 + 55 * timedelta(minutes=1)).events == []

    breached = tracker.fire(warned.state, T0 + H + timedelta(seconds=1))
    assert types(breached) == ["SlaBreached"]
    assert breached.events[0].occurred_at == T0 + H
    assert breached.state is not None
    assert tracker.fire(breached.state, T0 + 2 * H).events == []
    assert tracker.next_timer(breached.state) == T0 + 3 * H  # resolution warning

    # Firing again from the same state (a restart before the state was saved) derives the
    # same envelopes, ids included.
    assert tracker.fire(warned.state, T0 + H + timedelta(seconds=5)).events == breached.events


def test_late_timer_emits_warning_and_breach_together(tracker: SlaTracker) -> None:
    state, _ = run(tracker, Ticket().created())
    outcome = tracker.fire(state, T0 + 5 * H)
    assert types(outcome) == ["SlaWarning", "SlaBreached", "SlaWarning", "SlaBreached"]
    assert [e.data["metric"] for e in outcome.events] == [
        "first_response",
        "first_response",
        "resolution",
        "resolution",
    ]
    assert outcome.state is not None
    assert tracker.next_timer(outcome.state) is None


def test_paused_and_met_clocks_do_not_fire(tracker: SlaTracker) -> None:
    ticket = Ticket()
    state, _ = run(
        tracker,
        ticket.created(),
        ticket.message(T0 + H / 2),
        ticket.status(StatusCategory.PAUSED, T0 + H),
    )
    assert tracker.next_timer(state) is None
    assert tracker.fire(state, T0 + 100 * H).events == []


def test_late_reply_is_met_outside_the_target(tracker: SlaTracker) -> None:
    ticket = Ticket()
    state, _ = run(tracker, ticket.created())
    fired = tracker.fire(state, T0 + 2 * H)
    assert fired.state is not None
    _, outcome = run_from(tracker, fired.state, ticket.message(T0 + 2 * H))
    (met,) = outcome.events
    assert met.data["within_target"] is False


def test_warning_fraction_must_be_a_fraction() -> None:
    with pytest.raises(ValueError, match="warning_fraction"):
        SlaTracker.for_policy(POLICY, BusinessCalendar.twenty_four_seven(), warning_fraction=1.0)


NEXT_POLICY = SlaPolicy(
    name="Next",
    targets={"High": PriorityTargets(first_response=1 * H, next_response=2 * H, resolution=8 * H)},
)


def _next_targets(outcome: Outcome) -> list[dict[str, object]]:
    return [
        target
        for event in outcome.events
        if event.event_type == "SlaTargetsSet"
        for target in event.data["targets"]
        if target["metric"] == "next_response"
    ]


def test_next_response_is_armed_per_exchange_and_met_by_the_agent_reply() -> None:
    tracker = SlaTracker.for_policy(NEXT_POLICY, BusinessCalendar.twenty_four_seven())
    ticket = Ticket()
    state, outcome = run(
        tracker,
        ticket.created(),
        ticket.message(T0 + H / 6, actor=ActorKind.CUSTOMER),  # first response still open
        ticket.message(T0 + H / 2),  # first response met
        ticket.message(T0 + H, actor=ActorKind.CUSTOMER),  # exchange 1 armed
        ticket.message(T0 + 2 * H, actor=ActorKind.CUSTOMER),  # same exchange: nothing
        ticket.message(T0 + 2 * H, visibility=Visibility.INTERNAL),  # not an answer
        ticket.message(T0 + 2 * H, automated=True),  # not an answer
        ticket.message(T0 + 3 * H + H / 2),  # meets exchange 1, late
        ticket.message(T0 + 4 * H, actor=ActorKind.CUSTOMER),  # exchange 2 armed
        ticket.message(T0 + 5 * H),  # meets exchange 2
    )
    assert types(outcome) == [
        "SlaTargetsSet",
        "SlaMet",
        "SlaTargetsSet",
        "SlaMet",
        "SlaTargetsSet",
        "SlaMet",
    ]
    armed = _next_targets(outcome)
    assert [t["due_at"] for t in armed] == ["2026-11-23T12:00:00Z", "2026-11-23T15:00:00Z"]
    mets = [e.data for e in outcome.events if e.event_type == "SlaMet"]
    assert [(m["metric"], m["elapsed_seconds"], m["within_target"]) for m in mets] == [
        ("first_response", 1800.0, True),
        ("next_response", 9000.0, False),
        ("next_response", 3600.0, True),
    ]
    assert state.metrics[SlaMetric.NEXT_RESPONSE].clock.is_met
    # Each exchange derives its own ids.
    assert len({e.event_id for e in outcome.events}) == len(outcome.events)


def test_next_response_pauses_in_a_paused_status_and_is_not_tracked_without_a_target(
    tracker: SlaTracker,
) -> None:
    next_tracker = SlaTracker.for_policy(NEXT_POLICY, BusinessCalendar.twenty_four_seven())
    ticket = Ticket()
    state, outcome = run(
        next_tracker,
        ticket.created(),
        ticket.message(T0 + H / 2),
        ticket.message(T0 + H, actor=ActorKind.CUSTOMER),
        ticket.status(StatusCategory.PAUSED, T0 + 2 * H),
    )
    paused = {e.data["metric"]: e.data for e in outcome.events if e.event_type == "SlaPaused"}
    assert set(paused) == {"next_response", "resolution"}
    assert paused["next_response"]["remaining_seconds"] == 3600.0
    assert next_tracker.due_at(state, state.metrics[SlaMetric.NEXT_RESPONSE]) is None

    other = Ticket()
    state, outcome = run(
        tracker,  # POLICY has no next_response target
        other.created(),
        other.message(T0 + H / 2),
        other.message(T0 + H, actor=ActorKind.CUSTOMER),
    )
    assert SlaMetric.NEXT_RESPONSE not in state.metrics
    assert types(outcome) == ["SlaTargetsSet", "SlaMet"]


def test_team_and_assignee_are_kept_from_creation_and_changes(tracker: SlaTracker) -> None:
    ticket = Ticket()
    team_a, team_b, agent_1, agent_2 = (uuid.uuid4() for _ in range(4))
    created = TicketCreated(
        subject="s",
        channel="email",
        status="x",
        priority="High",
        team_id=team_a,
        assignee_id=agent_1,
    )
    state, outcome = run(tracker, ticket.envelope(created, T0, ActorKind.CUSTOMER))
    assert (state.team_id, state.assignee_id) == (team_a, agent_1)

    moves = [
        (TeamChanged(from_team_id=team_a, to_team_id=team_b), (team_b, agent_1)),
        (TicketAssigned(assignee_id=agent_2, previous_assignee_id=agent_1), (team_b, agent_2)),
        (TicketUnassigned(previous_assignee_id=agent_2), (team_b, None)),
        (TeamChanged(from_team_id=team_b, to_team_id=None), (None, None)),
    ]
    for event, expected in moves:
        outcome = tracker.apply(state, ticket.envelope(event, T0 + H), partition=3)
        assert outcome.state is not None
        state = outcome.state
        assert (state.team_id, state.assignee_id) == expected
        assert outcome.events == []  # no SLA event: only what breaching-soon filters on


# --- policies chosen per ticket ------------------------------------------------------------------

OFFICE = BusinessCalendar.office_hours("UTC", [("08:00", "17:00")])
STANDARD = SlaPolicy(
    name="Standard",
    targets={
        "Urgent": PriorityTargets(first_response=2 * H, resolution=8 * H),
        "Low": PriorityTargets(first_response=8 * H, resolution=40 * H),
    },
    default_priority="Low",
)
VIP = {
    "policy_id": "vip",
    "name": "VIP",
    "condition": 'priority == "Urgent" && "vip" in tags',
    "calendar": {"time_zone": "UTC", "always_open": True},
    "targets": {"Urgent": {"first_response": 1800, "resolution": 4 * 3600}},
    "default_priority": "Urgent",
}


def catalog(*changes: tuple[str, dict[str, Any], datetime]) -> PolicyCatalog:
    saved = SavedPolicies()
    for event_type, data, at in changes:
        saved = fold_policies(saved, event_type, data, at)
    return PolicyCatalog.build(saved, built_in_rule(STANDARD, OFFICE))


def saved_at(document: dict[str, Any], at: datetime = T0 - 24 * H) -> tuple[str, Any, datetime]:
    return ("SlaPolicySaved", {"policy": document}, at)


@pytest.fixture
def chooser() -> SlaTracker:
    return SlaTracker(catalog(saved_at(VIP)))


def created(
    ticket: Ticket, at: datetime = T0, priority: str = "Urgent", tags: tuple[str, ...] = ()
) -> EventEnvelope:
    event = TicketCreated(
        subject="VPN down", channel="email", status="New", priority=priority, tags=tags
    )
    return ticket.envelope(event, at, ActorKind.CUSTOMER)


def targets_of(event: EventEnvelope) -> dict[str, dict[str, Any]]:
    assert event.event_type == "SlaTargetsSet"
    return {target["metric"]: target for target in event.data["targets"]}


def test_each_ticket_gets_the_first_matching_policy_and_its_calendar(chooser: SlaTracker) -> None:
    vip, plain = Ticket(), Ticket()
    vip_state, vip_outcome = run(chooser, created(vip, tags=("vip",)))
    plain_state, plain_outcome = run(chooser, created(plain))

    assert (vip_state.policy, plain_state.policy) == ("vip", "default")
    assert vip_outcome.events[0].data["policy"] == "vip"
    assert plain_outcome.events[0].data["policy"] == "default"
    # VIP: 30 min / 4 h around the clock; the default: 2 h / 8 h of office hours.
    assert {m: t["due_at"] for m, t in targets_of(vip_outcome.events[0]).items()} == {
        "first_response": "2026-11-23T09:30:00Z",
        "resolution": "2026-11-23T13:00:00Z",
    }
    assert {m: t["due_at"] for m, t in targets_of(plain_outcome.events[0]).items()} == {
        "first_response": "2026-11-23T11:00:00Z",
        "resolution": "2026-11-23T17:00:00Z",
    }
    assert chooser.calendar_of(vip_state).always_open
    assert chooser.calendar_of(plain_state) == OFFICE
    due = chooser.due_at(vip_state, vip_state.metrics[SlaMetric.RESOLUTION])
    assert due == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    assert chooser.next_timer(vip_state) == T0 + timedelta(minutes=22, seconds=30)


def test_a_tag_change_switches_policy_keeping_the_business_time_used(
    chooser: SlaTracker,
) -> None:
    ticket = Ticket()
    monday_4pm = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    state, outcome = run(
        chooser,
        created(ticket, at=monday_4pm),
        ticket.message(monday_4pm + H / 2),  # first response met
        ticket.envelope(TagsChanged(added=("vip",)), monday_4pm + 4 * H),  # 20:00
    )
    assert types(outcome) == ["SlaTargetsSet", "SlaMet", "SlaTargetsSet"]
    switched = outcome.events[2]
    assert switched.data["policy"] == "vip"
    resolution = targets_of(switched)["resolution"]
    # One office hour (16-17) used under the default; VIP counts the 3 h left around the clock.
    assert resolution["elapsed_seconds"] == 3600
    assert resolution["target_seconds"] == 4 * 3600
    assert resolution["due_at"] == "2026-11-23T23:00:00Z"
    assert state.policy == "vip"

    # And back: 1 h more used under VIP; the default's 8 h leave 6 h of office time.
    _, back = run_from(
        chooser, state, ticket.envelope(TagsChanged(removed=("vip",)), monday_4pm + 5 * H)
    )
    (event,) = back.events
    assert event.data["policy"] == "default"
    assert targets_of(event)["resolution"]["elapsed_seconds"] == 2 * 3600
    assert targets_of(event)["resolution"]["due_at"] == "2026-11-24T14:00:00Z"


def test_a_field_change_that_keeps_the_policy_sets_nothing(chooser: SlaTracker) -> None:
    ticket = Ticket()
    state, _ = run(chooser, created(ticket, tags=("vip",)))
    _, outcome = run_from(chooser, state, ticket.envelope(TagsChanged(added=("vpn",)), T0 + H))
    assert outcome.events == []


def test_a_priority_change_selects_the_policy_again(chooser: SlaTracker) -> None:
    ticket = Ticket()
    state, outcome = run(
        chooser,
        created(ticket, priority="Low", tags=("vip",)),
        ticket.envelope(PriorityChanged(from_priority="Low", to_priority="Urgent"), T0 + H),
    )
    assert types(outcome) == ["SlaTargetsSet", "SlaTargetsSet"]
    first, second = outcome.events
    assert (first.data["policy"], first.data["priority"]) == ("default", "Low")
    assert (second.data["policy"], second.data["priority"]) == ("vip", "Urgent")
    # 1 h of office time used; VIP's 30 min first response is overdue from the change on.
    assert targets_of(second)["first_response"]["due_at"] == "2026-11-23T10:00:00Z"
    assert (state.policy, state.priority) == ("vip", "Urgent")


def test_a_changed_policy_applies_from_the_change_at_the_next_timer(chooser: SlaTracker) -> None:
    ticket = Ticket()
    state, _ = run(chooser, created(ticket, tags=("vip",)), ticket.message(T0 + H / 6))
    longer = {**VIP, "targets": {"Urgent": {"first_response": 1800, "resolution": 6 * 3600}}}
    chooser.policies = catalog(saved_at(VIP), saved_at(longer, T0 + H))

    assert chooser.next_timer(state) == T0 + H  # catch up at once
    fired = chooser.fire(state, T0 + 2 * H)
    assert types(fired) == ["SlaTargetsSet"]
    (event,) = fired.events
    assert event.occurred_at == T0 + H
    assert event.data["policy"] == "vip"
    assert targets_of(event)["resolution"]["due_at"] == "2026-11-23T15:00:00Z"
    assert targets_of(event)["resolution"]["elapsed_seconds"] == 3600
    # The same state fires the same envelope (ids included); once caught up, nothing pending.
    assert chooser.fire(state, T0 + 3 * H).events == fired.events
    assert fired.state is not None
    assert chooser.pending_policy(fired.state) is None
    assert chooser.next_timer(fired.state) == T0 + 4 * H + H / 2  # 75 % of 6 h


def test_a_ticket_event_catches_up_with_a_changed_policy_first(chooser: SlaTracker) -> None:
    ticket = Ticket()
    state, _ = run(chooser, created(ticket, tags=("vip",)))
    longer = {**VIP, "targets": {"Urgent": {"first_response": 3600, "resolution": 6 * 3600}}}
    chooser.policies = catalog(saved_at(VIP), saved_at(longer, T0 + H / 2))
    _, outcome = run_from(
        chooser,
        state,
        ticket.envelope(PriorityChanged(from_priority="Urgent", to_priority="Urgent"), T0 + H),
    )
    assert types(outcome) == ["SlaTargetsSet", "SlaTargetsSet"]
    assert [e.occurred_at for e in outcome.events] == [T0 + H / 2, T0 + H]
    assert len({e.event_id for e in outcome.events}) == 2
    assert targets_of(outcome.events[0])["first_response"]["due_at"] == "2026-11-23T10:00:00Z"


def test_a_deleted_policys_tickets_fall_back_to_the_default(chooser: SlaTracker) -> None:
    ticket = Ticket()
    state, _ = run(chooser, created(ticket, tags=("vip",)), ticket.message(T0 + H / 6))
    chooser.policies = catalog(saved_at(VIP), ("SlaPolicyDeleted", {"policy_id": "vip"}, T0 + H))
    fired = chooser.fire(state, T0 + H)
    (event,) = fired.events
    assert event.data["policy"] == "default"
    # 1 h used around the clock (09-10), 7 h of office time left from 10:00.
    assert targets_of(event)["resolution"]["elapsed_seconds"] == 3600
    assert targets_of(event)["resolution"]["due_at"] == "2026-11-23T17:00:00Z"
    assert fired.state is not None
    assert fired.state.policy == "default"
    assert chooser.calendar_of(fired.state) == OFFICE


def test_a_saved_default_takes_over_the_built_in_defaults_tickets(chooser: SlaTracker) -> None:
    ticket = Ticket()
    state, _ = run(chooser, created(ticket))
    assert state.policy == "default"
    standard = {
        **VIP,
        "policy_id": "standard",
        "name": "Standard 24x7",
        "condition": None,
        "is_default": True,
    }
    chooser.policies = catalog(saved_at(VIP), saved_at(standard, T0 + H))
    fired = chooser.fire(state, T0 + H)
    assert [e.data["policy"] for e in fired.events if e.event_type == "SlaTargetsSet"] == [
        "standard"
    ]


def test_a_ticket_whose_clocks_are_all_met_catches_up_only_at_its_next_event(
    chooser: SlaTracker,
) -> None:
    ticket = Ticket()
    state, _ = run(
        chooser,
        created(ticket, tags=("vip",)),
        ticket.message(T0 + H / 6),
        ticket.status(StatusCategory.CLOSED, T0 + H),
    )
    chooser.policies = catalog(saved_at(VIP), ("SlaPolicyDeleted", {"policy_id": "vip"}, T0 + H))
    assert chooser.pending_policy(state) is not None
    assert chooser.next_timer(state) is None  # no tick for closed tickets
    _, outcome = run_from(chooser, state, ticket.status(StatusCategory.ACTIVE, T0 + 2 * H))
    assert types(outcome) == ["SlaTargetsSet", "SlaResumed"]
    assert outcome.events[0].data["policy"] == "default"


def test_switching_to_a_policy_that_pauses_differently_moves_the_clocks(
    chooser: SlaTracker,
) -> None:
    never_pauses = {**VIP, "pausing": {}}
    chooser.policies = catalog(saved_at(never_pauses))
    ticket = Ticket()
    _, outcome = run(
        chooser,
        created(ticket),  # default: Pending pauses resolution
        ticket.status(StatusCategory.PAUSED, T0 + H),
        ticket.envelope(TagsChanged(added=("vip",)), T0 + 2 * H),
    )
    assert types(outcome) == ["SlaTargetsSet", "SlaPaused", "SlaResumed", "SlaTargetsSet"]
    resumed = outcome.events[2]
    assert resumed.data["metric"] == "resolution"
    assert resumed.data["resumed_at"] == "2026-11-23T11:00:00Z"
    assert targets_of(outcome.events[3])["resolution"]["state"] == "running"


def test_state_kept_before_policies_follows_the_built_in_default_quietly(
    chooser: SlaTracker,
) -> None:
    ticket = Ticket()
    state, _ = run(chooser, created(ticket))
    legacy = state.model_copy(
        update={"policy": "Standard", "policy_revision": None, "created_at": None, "fields": None}
    )
    assert chooser.next_timer(legacy) == chooser.next_timer(state)
    after, outcome = run_from(chooser, legacy, ticket.status(StatusCategory.PAUSED, T0 + H))
    assert types(outcome) == ["SlaPaused"]
    assert (after.policy, after.policy_revision) == ("default", state.policy_revision)


def test_a_target_already_used_up_by_a_retarget_warns_with_no_lead_and_breaches(
    tracker: SlaTracker,
) -> None:
    ticket = Ticket()
    state, _ = run(
        tracker,
        ticket.created(priority="Low"),
        ticket.envelope(PriorityChanged(from_priority="Low", to_priority="High"), T0 + 2 * H),
    )
    fired = tracker.fire(state, T0 + 2 * H)
    first = [e for e in fired.events if e.data["metric"] == "first_response"]
    assert [e.event_type for e in first] == ["SlaWarning", "SlaBreached"]
    assert first[0].data["lead_seconds"] == 0
    assert first[1].data["due_at"] == "2026-11-23T11:00:00Z"


# --- the customer's context and custom fields ----------------------------------------------------

ENTERPRISE = {
    "policy_id": "enterprise",
    "name": "Enterprise",
    "condition": 'company_tier == "Enterprise"',
    "calendar": {"time_zone": "UTC", "always_open": True},
    "targets": {"Urgent": {"first_response": 1800, "resolution": 4 * 3600}},
    "default_priority": "Urgent",
}
INDIA_GOLD = {
    "policy_id": "india-gold",
    "name": "India, gold accounts",
    "position": 1,
    "condition": 'customer_country == "IN" && custom.plan == "gold" && "key" in company_tags',
    "calendar": {"time_zone": "Asia/Kolkata", "always_open": True},
    "targets": {"Urgent": {"first_response": 900, "resolution": 3600}},
    "default_priority": "Urgent",
}


def created_for(
    ticket: Ticket,
    context: CustomerContext | None,
    custom: dict[str, Any] | None = None,
    at: datetime = T0,
) -> EventEnvelope:
    event = TicketCreated(
        subject="VPN down",
        channel="email",
        status="New",
        priority="Urgent",
        customer_context=context,
        custom_fields=custom or {},
    )
    return ticket.envelope(event, at, ActorKind.CUSTOMER)


def test_the_company_tier_chooses_the_enterprise_policy_without_an_agent() -> None:
    tracker = SlaTracker(catalog(saved_at(ENTERPRISE)))
    enterprise, plain = Ticket(), Ticket()
    state, _ = run(tracker, created_for(enterprise, CustomerContext(company_tier="Enterprise")))
    other, _ = run(tracker, created_for(plain, CustomerContext(company_tier="SMB")))
    assert (state.policy, other.policy) == ("enterprise", "default")


def test_a_change_of_the_customers_context_selects_the_policy_again() -> None:
    tracker = SlaTracker(catalog(saved_at(ENTERPRISE)))
    ticket = Ticket()
    company = uuid.uuid4()
    state, outcome = run(
        tracker,
        created_for(ticket, None),
        ticket.envelope(
            TicketCustomerContextChanged(
                company_id=company, customer_context=CustomerContext(company_tier="Enterprise")
            ),
            T0 + H,
        ),
    )
    assert types(outcome) == ["SlaTargetsSet", "SlaTargetsSet"]
    assert outcome.events[1].data["policy"] == "enterprise"
    assert state.fields is not None and state.fields.company_id == company
    # One office hour used under the default (09-10), then 4 h around the clock: 3 h left.
    assert targets_of(outcome.events[1])["resolution"]["due_at"] == "2026-11-23T13:00:00Z"

    # The company leaves the tier: back to the default.
    _, back = run_from(
        tracker,
        state,
        ticket.envelope(
            TicketCustomerContextChanged(customer_context=CustomerContext()), T0 + 2 * H
        ),
    )
    assert [e.data["policy"] for e in back.events] == ["default"]


def test_custom_fields_and_countries_are_read_by_conditions() -> None:
    tracker = SlaTracker(catalog(saved_at(ENTERPRISE), saved_at(INDIA_GOLD)))
    ticket = Ticket()
    context = CustomerContext(customer_country="IN", company_tags=("key",))
    state, _ = run(tracker, created_for(ticket, context, {"plan": "silver"}))
    assert state.policy == "default"
    gold = CustomFieldsChanged(changes=(CustomFieldChange(key="plan", old="silver", new="gold"),))
    state, outcome = run_from(tracker, state, ticket.envelope(gold, T0 + H))
    assert [e.data["policy"] for e in outcome.events] == ["india-gold"]
    assert state.fields is not None and state.fields.custom == {"plan": "gold"}
    cleared = CustomFieldsChanged(changes=(CustomFieldChange(key="plan", old="gold", new=None),))
    state, outcome = run_from(tracker, state, ticket.envelope(cleared, T0 + 2 * H))
    assert [e.data["policy"] for e in outcome.events] == ["default"]
    assert state.fields is not None and state.fields.custom == {}


# --- the next timer stored with the state (reliability issue #13) --------------------------------


def test_the_timer_digest_names_what_the_next_timer_depends_on() -> None:
    """The worker stores each ticket's next timer with this digest and uses it after a restart
    only under the same digest: an equal catalog read again gives the same digest, and every
    change that can move a next timer gives another."""
    base = SlaTracker(catalog(saved_at(VIP)))
    assert SlaTracker(catalog(saved_at(VIP))).timer_digest == base.timer_digest
    longer = {**VIP, "targets": {"Urgent": {"first_response": 3600, "resolution": 6 * 3600}}}
    changed = [
        SlaTracker(catalog(saved_at(VIP), saved_at(longer, T0))),
        SlaTracker(catalog(saved_at(VIP), ("SlaPolicyDeleted", {"policy_id": "vip"}, T0))),
        SlaTracker(catalog()),
        SlaTracker(catalog(saved_at(VIP)), warning_fraction=0.5),
        SlaTracker(
            PolicyCatalog.build(
                catalog(saved_at(VIP)).saved,
                built_in_rule(STANDARD, BusinessCalendar.office_hours("UTC", [("09:00", "17:00")])),
            )
        ),
    ]
    digests = {tracker.timer_digest for tracker in changed}
    assert base.timer_digest not in digests
    assert len(digests) == len(changed)


def test_a_stored_state_reads_back_with_its_next_timer(chooser: SlaTracker) -> None:
    from sla_service.adapters.faust_app import TIMER_MARK, _mark_of, state_of, stored

    ticket = Ticket()
    state, _ = run(chooser, created(ticket, tags=("vip",)))
    due = chooser.next_timer(state)
    assert due is not None
    mark = {"at": due.isoformat(), "digest": chooser.timer_digest, "partition": state.partition}
    # Serialized as Faust's json codec (stdlib, with spaces) or orjson would: the mark is read
    # alone from the start of the bytes, and the whole value gives the state back.
    for raw in (
        orjson.dumps(stored(state, due, chooser.timer_digest)),
        json.dumps(stored(state, due, chooser.timer_digest)).encode(),
    ):
        assert _mark_of(raw) == mark
        value = orjson.loads(raw)
        assert value[TIMER_MARK] == mark
        assert state_of(value) == state
    assert datetime.fromisoformat(mark["at"]) == due
    assert _mark_of(orjson.dumps(state.model_dump(mode="json"))) is None
    assert _mark_of(b'{"_next_timer": "broken') is None
    # A state stored before the mark existed still reads.
    assert state_of(state.model_dump(mode="json")) == state
    assert stored(state, None, "d")[TIMER_MARK]["at"] is None
