"""One batch of the SLA worker's input, decided in order: ticket events and timer ticks in,
SLA events to send and per-ticket states to store out.

Pure of Faust: the worker hands each message's bytes, partition and a way to read the stored
state; the batch keeps what the earlier messages of the batch changed, so a ticket's later event
sees them. The worker then sends every SLA event (one round trip for the batch), and only once
Kafka has them writes the states: a crash in between re-derives the same events (same ids) from
the unchanged table.

Timers due before a ticket event fire before it is applied (reliability issue #13): a tick
waits until the worker has read what was on Kafka at its instant (see
:mod:`sla_service.service_layer.tick_gate`), so an event that came after the due instant can be
processed before the tick. Applied first, a reply after the due instant would meet the target
without its breach, a pause would stop the clock without it. So the event's instant (its
``occurred_at``, never later than the wall clock) fires what was due by then, as a tick would
have; the next timer stored with the state tells cheaply when nothing is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar

from helpdesk_events import decode_envelope
from helpdesk_events.envelope import EventEnvelope
from sla_service.service_layer.tracker import SlaTracker, TicketSla

#: Whatever the worker wants back with a state to store (the Faust event that led to it).
M = TypeVar("M")

Load = Callable[[str], TicketSla | None]
#: The ticket's next timer as stored with its state: ``(known, instant)``; not known when the
#: state was stored under other policies or without it.
StoredTimer = Callable[[str], tuple[bool, datetime | None]]


def _unknown(key: str) -> tuple[bool, datetime | None]:
    return False, None


class SlaBatch(Generic[M]):
    """What a batch of messages leads to: SLA events to send, then per-ticket states to store."""

    def __init__(
        self, tracker: SlaTracker, load: Load, stored_timer: StoredTimer = _unknown
    ) -> None:
        self.tracker = tracker
        self._load = load
        self._stored_timer = stored_timer
        self.sends: list[tuple[EventEnvelope, str | None]] = []
        self.states: dict[str, tuple[M, TicketSla]] = {}  # key -> (latest message, new state)
        self.timer_events: list[EventEnvelope] = []
        #: Tickets ticked with nothing to do: their next timer, to put back on the due index.
        self.untouched: dict[str, TicketSla] = {}

    def load(self, key: str) -> TicketSla | None:
        """The ticket's state as the batch left it, else as the table has it."""
        staged = self.states.get(key)
        return staged[1] if staged is not None else self._load(key)

    def ticket_event(
        self,
        message: M,
        raw: bytes,
        partition: int,
        traceparent: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """A ticket event (raw envelope JSON); ``ValueError`` when it is not readable. With
        ``now``, the timers due by the event's instant (at most ``now``) fire first."""
        envelope = decode_envelope(raw)
        key = str(envelope.stream_id)
        state = self.load(key)
        if state is not None and now is not None:
            state = self._fire_due(message, key, state, min(envelope.occurred_at, now))
        outcome = self.tracker.apply(state, envelope, partition)
        if outcome.state is None or outcome.state == state:
            return
        self.sends.extend((e, traceparent) for e in outcome.events)
        self.states[key] = (message, outcome.state)
        self.untouched.pop(key, None)

    def tick(self, message: M, key: str, now: datetime) -> None:
        """A timer tick for ticket ``key`` at ``now``: its warnings, breaches and catch-ups."""
        state = self.load(key)
        if state is None:
            return
        if self._fire(message, key, state, now) is state and key not in self.states:
            self.untouched[key] = state

    def _fire_due(self, message: M, key: str, state: TicketSla, at: datetime) -> TicketSla:
        """The state after the timers due by ``at`` fired (skipped when the timer stored with
        an unchanged state says none is)."""
        if key not in self.states:
            known, instant = self._stored_timer(key)
            if known and (instant is None or instant > at):
                return state
        return self._fire(message, key, state, at)

    def _fire(self, message: M, key: str, state: TicketSla, at: datetime) -> TicketSla:
        """Fires what is due by ``at``; the state staged if that changed it, else ``state``."""
        outcome = self.tracker.fire(state, at)
        assert outcome.state is not None
        if not outcome.events and outcome.state == state:
            return state
        self.sends.extend((e, None) for e in outcome.events)
        self.timer_events.extend(outcome.events)
        self.states[key] = (message, outcome.state)
        self.untouched.pop(key, None)
        return outcome.state
