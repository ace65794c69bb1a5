"""One batch of the worker's stream decided in order, without Faust or Kafka."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpdesk_events import Visibility, encode_envelope
from sla_service.domain import BusinessCalendar
from sla_service.service_layer.batch import SlaBatch
from sla_service.service_layer.tracker import SlaTracker, TicketSla

from .test_tracker import POLICY, T0, Ticket

H = timedelta(hours=1)


@pytest.fixture
def tracker() -> SlaTracker:
    return SlaTracker.for_policy(POLICY, BusinessCalendar.twenty_four_seven())


def test_a_later_message_of_the_batch_sees_what_an_earlier_one_changed(
    tracker: SlaTracker,
) -> None:
    table: dict[str, TicketSla] = {}
    batch: SlaBatch[str] = SlaBatch(tracker, table.get)
    ticket = Ticket()
    key = str(ticket.id)
    batch.ticket_event("m1", encode_envelope(ticket.created()), 4, traceparent="00-a-b-01")
    # A tick in the same batch, after the first response was due (1 h, High): it reads the
    # state the batch staged, not the (empty) table.
    batch.tick("m2", key, T0 + 2 * H)
    assert [(e.event_type, tp) for e, tp in batch.sends] == [
        ("SlaTargetsSet", "00-a-b-01"),
        ("SlaWarning", None),
        ("SlaBreached", None),
    ]
    assert [e.event_type for e in batch.timer_events] == ["SlaWarning", "SlaBreached"]
    message, state = batch.states[key]
    assert message == "m2"  # the latest message, whose offset the table write goes with
    assert state.partition == 4
    assert state.metrics[next(iter(state.metrics))].clock.breached
    assert table == {}  # nothing is stored by the batch itself


def test_a_tick_with_nothing_to_do_only_puts_the_ticket_back_on_the_index(
    tracker: SlaTracker,
) -> None:
    ticket = Ticket()
    created = tracker.apply(None, ticket.created(), 0).state
    assert created is not None
    table = {str(ticket.id): created}
    batch: SlaBatch[str] = SlaBatch(tracker, table.get)
    batch.tick("m1", str(ticket.id), T0 + timedelta(minutes=1))
    batch.tick("m2", "00000000-0000-4000-8000-000000000000", T0)  # not tracked: nothing
    assert batch.sends == [] and batch.states == {}
    assert batch.untouched == {str(ticket.id): created}


def test_an_unreadable_ticket_event_is_a_value_error(tracker: SlaTracker) -> None:
    batch: SlaBatch[str] = SlaBatch(tracker, {}.get)
    with pytest.raises(ValueError, match=r"validation errors? for EventEnvelope"):
        batch.ticket_event("m1", b'{"not": "an envelope"}', 0)
    assert batch.sends == [] and batch.states == {}


def _created(tracker: SlaTracker, ticket: Ticket) -> dict[str, TicketSla]:
    state = tracker.apply(None, ticket.created(), 0).state  # High: first response due T0 + 1 h
    assert state is not None
    return {str(ticket.id): state}


def _types(batch: SlaBatch[str]) -> list[tuple[str, object]]:
    return [(e.event_type, e.data.get("within_target")) for e, _ in batch.sends]


def test_a_reply_after_the_due_instant_read_before_the_tick_comes_after_the_breach(
    tracker: SlaTracker,
) -> None:
    """The tick waits until what was on Kafka at the due instant is read; a reply that came
    later can be processed first, and must not meet the target without its breach."""
    ticket = Ticket()
    table = _created(tracker, ticket)
    batch: SlaBatch[str] = SlaBatch(tracker, table.get)
    late_reply = ticket.message(T0 + 1 * H + timedelta(seconds=1))
    batch.ticket_event("m1", encode_envelope(late_reply), 0, now=T0 + 1 * H + timedelta(seconds=5))
    assert _types(batch) == [("SlaWarning", None), ("SlaBreached", None), ("SlaMet", False)]
    assert [e.event_type for e in batch.timer_events] == ["SlaWarning", "SlaBreached"]
    batch.tick("m2", str(ticket.id), T0 + 1 * H + timedelta(seconds=6))
    assert len(batch.sends) == 3  # the tick after it finds nothing left to fire


def test_a_reply_before_the_due_instant_read_late_meets_the_target(
    tracker: SlaTracker,
) -> None:
    """Read after the due instant (the worker was behind), a reply made before it meets the
    target: only what was due by the reply's instant fires first (the warning)."""
    ticket = Ticket()
    table = _created(tracker, ticket)
    batch: SlaBatch[str] = SlaBatch(tracker, table.get)
    reply = ticket.message(T0 + 1 * H - timedelta(minutes=1))
    batch.ticket_event("m1", encode_envelope(reply), 0, now=T0 + 2 * H)
    assert _types(batch) == [("SlaWarning", None), ("SlaMet", True)]


def test_an_event_never_fires_timers_ahead_of_the_wall_clock(tracker: SlaTracker) -> None:
    ticket = Ticket()
    table = _created(tracker, ticket)
    batch: SlaBatch[str] = SlaBatch(tracker, table.get)
    reply = ticket.message(T0 + 2 * H)  # dated after the due instant, read before it
    batch.ticket_event("m1", encode_envelope(reply), 0, now=T0 + 30 * timedelta(minutes=1))
    assert _types(batch) == [("SlaMet", False)]  # late by its own date, and nothing fired


def test_the_timer_stored_with_the_state_saves_working_out_what_is_due(
    tracker: SlaTracker,
) -> None:
    ticket = Ticket()
    table = _created(tracker, ticket)
    key = str(ticket.id)
    stored = {key: (True, T0 + 3 * H)}  # the stored timer says: nothing due before 3 h
    batch: SlaBatch[str] = SlaBatch(tracker, table.get, stored.__getitem__)
    note = ticket.message(T0 + 2 * H, visibility=Visibility.INTERNAL)
    batch.ticket_event("m1", encode_envelope(note), 0, now=T0 + 2 * H)
    assert _types(batch) == []  # trusted: nothing fired (the timer is what the worker stored)
    stored[key] = (False, None)  # stored under other policies: worked out
    batch = SlaBatch(tracker, table.get, stored.__getitem__)
    batch.ticket_event("m1", encode_envelope(note), 0, now=T0 + 2 * H)
    assert [t for t, _ in _types(batch)] == ["SlaWarning", "SlaBreached"]
    stored[key] = (True, T0 + 45 * timedelta(minutes=1))
    batch = SlaBatch(tracker, table.get, stored.__getitem__)
    batch.ticket_event("m1", encode_envelope(note), 0, now=T0 + 2 * H)
    assert [t for t, _ in _types(batch)] == ["SlaWarning", "SlaBreached"]
