"""One batch of the SLA worker's input, decided in order: ticket events and timer ticks in,
SLA events to send and per-ticket states to store out.

Pure of Faust: the worker hands each message's bytes, partition and a way to read the stored
state; the batch keeps what the earlier messages of the batch changed, so a ticket's later event
sees them. The worker then sends every SLA event (one round trip for the batch), and only once
Kafka has them writes the states: a crash in between re-derives the same events (same ids) from
the unchanged table.
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


class SlaBatch(Generic[M]):
    """What a batch of messages leads to: SLA events to send, then per-ticket states to store."""

    def __init__(self, tracker: SlaTracker, load: Load) -> None:
        self.tracker = tracker
        self._load = load
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
        self, message: M, raw: bytes, partition: int, traceparent: str | None = None
    ) -> None:
        """A ticket event (raw envelope JSON); ``ValueError`` when it is not readable."""
        envelope = decode_envelope(raw)
        key = str(envelope.stream_id)
        state = self.load(key)
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
        outcome = self.tracker.fire(state, now)
        assert outcome.state is not None
        if outcome.events or outcome.state != state:
            self.sends.extend((e, None) for e in outcome.events)
            self.timer_events.extend(outcome.events)
            self.states[key] = (message, outcome.state)
            self.untouched.pop(key, None)
        elif key not in self.states:
            self.untouched[key] = state
