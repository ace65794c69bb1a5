"""A batch of events and what it leads to: messages to send, then table writes (no Faust here).

The worker decides every event of a batch in order, sends all the messages they lead to, waits
for Kafka's acknowledgement, and only then writes the tables (see
:func:`assignment_service.adapters.faust_app.run_in_batches`). :class:`Batch` is the staging area
in between: reads see the batch's own earlier writes, and each event's effects are kept only when
its handler returns, so an event that fails leaves nothing behind. A table is anything with
``get`` and ``items`` (a Faust table in the worker, a dict in the unit tests).

:class:`CrashPoint` is a test hook that ends the process like ``kill -9`` at a chosen instant of a
chosen stage, to show that no instant loses work.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import structlog

from helpdesk_events import EventEnvelope, encode_envelope, kafka_headers

log = structlog.get_logger("assignment_service.worker")

__all__ = ["Batch", "CrashPoint", "Handler"]


class CrashPoint:
    """A test hook (setting ``crash_at``): end the process like ``kill -9`` at a chosen point of
    a chosen stage's n-th batch with messages - before its sends, after Kafka acknowledged them,
    or after its table writes were handed to the producer - to show that no instant loses work.
    """

    POINTS = ("before-send", "after-send", "after-write")

    def __init__(self, stage: str, point: str, count: int) -> None:
        if point not in self.POINTS:
            raise ValueError(f"crash point {point!r} is not one of {', '.join(self.POINTS)}")
        self.stage, self.point, self.left = stage, point, count

    @classmethod
    def parse(cls, text: str | None) -> CrashPoint | None:
        if not text:
            return None
        stage, point, count = text.split(":")
        return cls(stage, point, int(count))

    def reached(self, stage: str, point: str) -> None:
        if stage != self.stage or point != self.point:
            return
        self.left -= 1
        if self.left <= 0:
            log.warning("crash point reached: exiting like kill -9", stage=stage, point=point)
            os._exit(137)


class Batch:
    """What a batch of events leads to: messages to send, then table writes.

    Reads see the batch's own earlier writes. Each event's effects are staged until the handler
    returns, so an event that fails leaves nothing behind.
    """

    def __init__(self) -> None:
        self.sends: list[tuple[Any, bytes, bytes, Any]] = []
        self.writes: list[tuple[Any, Any, str, Any]] = []
        self.logs: list[dict[str, Any]] = []
        self._overlay: dict[tuple[int, str], Any] = {}
        self._event: Any = None
        self._sends: list[tuple[Any, bytes, bytes, Any]] = []
        self._writes: list[tuple[Any, Any, str, Any]] = []

    def begin(self, event: Any) -> None:
        self._event = event
        self._sends, self._writes = [], []

    def keep(self) -> None:
        self.sends.extend(self._sends)
        self.writes.extend(self._writes)
        for _, table, key, value in self._writes:
            self._overlay[(id(table), key)] = value

    def abandon(self) -> None:
        self._sends, self._writes = [], []

    def get(self, table: Any, key: str) -> Any:
        for _, staged_table, staged_key, value in reversed(self._writes):
            if staged_table is table and staged_key == key:
                return value
        marker = (id(table), key)
        if marker in self._overlay:
            return self._overlay[marker]
        return table.get(key)

    def put(self, table: Any, key: str, value: Any) -> None:
        self._writes.append((self._event, table, key, value))

    def scan(self, table: Any, prefix: str) -> list[tuple[str, Any]]:
        """The table's entries under a key prefix, with the batch's writes (reads a whole
        partition's keys: for rare messages only)."""
        found = {key: value for key, value in table.items() if key.startswith(prefix)}
        for (table_id, key), value in self._overlay.items():
            if table_id == id(table) and key.startswith(prefix):
                found[key] = value
        for _, staged_table, key, value in self._writes:
            if staged_table is table and key.startswith(prefix):
                found[key] = value
        return [(key, value) for key, value in found.items() if value is not None]

    def send(self, topic: Any, key: bytes, value: bytes, headers: Any) -> None:
        self._sends.append((topic, key, value, headers))

    def send_envelope(self, topic: Any, envelope: EventEnvelope, **log_fields: Any) -> None:
        """Send an envelope keyed by its stream id, and log it (with ``log_fields``) once the
        batch's sends are acknowledged."""
        key = str(envelope.stream_id).encode()
        self.send(topic, key, encode_envelope(envelope), kafka_headers(envelope, None))
        self.logs.append(
            {"event": envelope.event_type, "ticket_id": str(envelope.stream_id), **log_fields}
        )


#: A stage's handler: one event (its topic and raw value) into the batch.
Handler = Callable[[Batch, str, bytes], None]
