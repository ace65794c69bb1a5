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

A tick is held twice. The first end offset is read at the due instant; by the time the agent
has processed up to it, a lagging worker (a loaded machine, a backlog after an outage) may be
seconds later, and a reply held back by the outage (made before the due instant, on Kafka only
after it) may have arrived meanwhile: the tick is then held once more, up to the end offset read
when the first was reached (a chaos round with Kafka killed: a reply on Kafka 7 s before the
breach went out). Twice, not until nothing new arrives: under steady traffic that could hold a
breach for ever.

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
        #: Per partition, the held tickets, the offset each waits for and whether that is the
        #: last hold (False: the first, after which the end offset is read again).
        self._pending: dict[int, dict[str, tuple[int, bool]]] = {}

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

    def hold(
        self,
        due: Iterable[tuple[str, int]],
        end_offsets: Mapping[int, int],
        *,
        last: bool = True,
    ) -> None:
        """Hold due ``(ticket id, partition)`` pairs until their partition is processed up to
        ``end_offsets[partition]`` (read after they fell due); ``last=False`` for the first
        hold, after which :meth:`recheck` hands them back for a second. A ticket held already
        waits for the newer offset (end offsets only grow)."""
        for ticket_id, partition in due:
            self._pending.setdefault(partition, {})[ticket_id] = (end_offsets[partition], last)

    def recheck(self) -> list[tuple[str, int]]:
        """The first holds whose partition is processed far enough, taken off the gate: the
        worker reads the end offsets again and holds them a last time."""
        return [(tick.ticket_id, tick.partition) for tick in self._take(last=False)]

    def release(self) -> list[Tick]:
        """The ticks on their last hold whose partition is processed far enough, taken off the
        gate."""
        return self._take(last=True)

    def _take(self, *, last: bool) -> list[Tick]:
        ready: list[Tick] = []
        for partition, held in list(self._pending.items()):
            done = self._processed.get(partition)
            if done is None:
                continue
            go = [
                (ticket_id, offset)
                for ticket_id, (offset, final) in held.items()
                if offset <= done and final is last
            ]
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
