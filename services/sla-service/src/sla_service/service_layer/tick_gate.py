"""The tick gate: a timer tick may act only once the worker has read what was on Kafka at its
instant (reliability issue #13, "breach not due").

The SLA worker fires its timers by the wall clock, but judges a ticket by the state its agent has
built from ``helpdesk.tickets.v1``. After a restart (or a relay flushing a backlog) the agent is
behind: the reply that met a first response can already be on Kafka, before the due instant, and
not yet processed - a tick acted on then breaches a ticket that was answered in time.

So a tick for a ticket on tickets partition ``p``, due at ``T``, goes out only once every record
of ``p`` that was on Kafka at ``T`` has been processed. The worker reads ``p``'s end offset when
the ticket falls due (at a look at ``now >= T``: a bound that covers everything on Kafka at
``T``, conservative) and holds the tick here until the agent has processed ``p`` up to it. The
offset goes with the tick; the agent acts on a tick only when it has processed its partition up
to that offset (a tick sent before a crash and read after the restart, with the tickets backlog
still coming, is deferred: the ticket goes back on the due index as due now and is held here
again).

Pure: the worker hands in end offsets, processed offsets and revocations, and sends what
:meth:`TickGate.release` gives back. Pending ticks are in memory only: a crash rebuilds the due
index from the table, which derives them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Tick:
    """A tick that may go out: the ticket, its partition, and the offset of that partition the
    agent must have processed before acting on it."""

    ticket_id: str
    partition: int
    offset: int


class TickGate:
    """Ticks held until their partition is processed up to the end offset they wait for."""

    def __init__(self) -> None:
        #: Per partition, the offset before which every record has been processed.
        self._processed: dict[int, int] = {}
        #: Per partition, the held tickets and the offset each waits for.
        self._pending: dict[int, dict[str, int]] = {}

    def __len__(self) -> int:
        return sum(len(held) for held in self._pending.values())

    # --- what the agent has processed -----------------------------------------------------------

    def processed(self, partition: int) -> int | None:
        """The offset before which every record of ``partition`` is processed (None: unknown)."""
        return self._processed.get(partition)

    def advance(self, partition: int, next_offset: int) -> None:
        """Every record of ``partition`` before ``next_offset`` is processed (its state stored,
        or committed by the group, or read at the seek where the partition resumed). Never goes
        back: an older figure is ignored."""
        current = self._processed.get(partition)
        if current is None or next_offset > current:
            self._processed[partition] = next_offset

    def caught_up(self, partition: int, offset: int | None, seen: int | None = None) -> bool:
        """Whether a tick that waits for ``offset`` of ``partition`` may act now; ``seen``: the
        offset processed so far in the batch at hand (its states are visible to the tick). A
        tick without an offset (sent before the gate existed) never may: it is deferred once."""
        if offset is None:
            return False
        done = max(self._processed.get(partition, -1), -1 if seen is None else seen)
        return done >= offset

    # --- held ticks -----------------------------------------------------------------------------

    def hold(self, due: Iterable[tuple[str, int]], end_offsets: Mapping[int, int]) -> None:
        """Hold due ``(ticket id, partition)`` pairs until their partition is processed up to
        ``end_offsets[partition]`` (read after they fell due). A ticket held already waits for
        the newer offset (end offsets only grow)."""
        for ticket_id, partition in due:
            self._pending.setdefault(partition, {})[ticket_id] = end_offsets[partition]

    def release(self) -> list[Tick]:
        """The held ticks whose partition is processed far enough, taken off the gate."""
        ready: list[Tick] = []
        for partition, held in list(self._pending.items()):
            done = self._processed.get(partition)
            if done is None:
                continue
            go = [(ticket_id, offset) for ticket_id, offset in held.items() if offset <= done]
            for ticket_id, offset in go:
                del held[ticket_id]
                ready.append(Tick(ticket_id, partition, offset))
            if not held:
                del self._pending[partition]
        return ready

    def drop_pending(self) -> None:
        """Forget every held tick (the due index is rebuilt from the table, which holds them)."""
        self._pending.clear()

    def revoke(self, partitions: Iterable[int] | None = None) -> None:
        """Partitions taken away (None: all): their held ticks and processed offsets are dropped
        (another worker owns them now; when one comes back, its resume offset is the start)."""
        if partitions is None:
            self._pending.clear()
            self._processed.clear()
            return
        for partition in partitions:
            self._pending.pop(partition, None)
            self._processed.pop(partition, None)
