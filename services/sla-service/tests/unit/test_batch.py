"""One batch of the worker's stream decided in order, without Faust or Kafka."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpdesk_events import encode_envelope
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
