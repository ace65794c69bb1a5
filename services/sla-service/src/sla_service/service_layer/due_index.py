"""The due index: per ticket, the next instant its SLA timers fire (in memory, rebuildable).

A heap ordered by instant with lazy removal: :meth:`DueIndex.set` replaces a ticket's entry,
:meth:`DueIndex.pop_due` takes the tickets whose instant has come. A popped ticket is out of the
index until it is :meth:`set` again (after its state was updated), so a ticket is handed out once
per due instant even when the timer looks many times a second.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime


class DueIndex:
    def __init__(self) -> None:
        self._heap: list[tuple[datetime, str]] = []
        self._next: dict[str, tuple[datetime, int]] = {}

    def __len__(self) -> int:
        return len(self._next)

    def set(self, ticket_id: str, partition: int, instant: datetime | None) -> None:
        """The ticket's next timer instant on ``partition``; None removes it."""
        if instant is None:
            self._next.pop(ticket_id, None)
            return
        current = self._next.get(ticket_id)
        self._next[ticket_id] = (instant, partition)
        if current is None or current[0] != instant:
            heapq.heappush(self._heap, (instant, ticket_id))

    def load(self, entries: Iterable[tuple[str, int, datetime | None]]) -> None:
        """Replace the index with ``(ticket_id, partition, instant)`` entries (None: no timer),
        in one pass and one heapify: a restart loads every open ticket (1,000,000 pushes one
        by one cost more than the reading)."""
        self._next = {
            ticket_id: (instant, partition)
            for ticket_id, partition, instant in entries
            if instant is not None
        }
        self._heap = [(instant, ticket_id) for ticket_id, (instant, _) in self._next.items()]
        heapq.heapify(self._heap)

    def next_instant(self) -> datetime | None:
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: datetime) -> list[tuple[str, int]]:
        """``(ticket_id, partition)`` of every ticket due by ``now``, removed from the index."""
        due: list[tuple[str, int]] = []
        while True:
            self._drop_stale()
            if not self._heap or self._heap[0][0] > now:
                return due
            _, ticket_id = heapq.heappop(self._heap)
            _, partition = self._next.pop(ticket_id)
            due.append((ticket_id, partition))

    def clear(self) -> None:
        self._heap.clear()
        self._next.clear()

    def _drop_stale(self) -> None:
        while self._heap:
            instant, ticket_id = self._heap[0]
            entry = self._next.get(ticket_id)
            if entry is not None and entry[0] == instant:
                return
            heapq.heappop(self._heap)
