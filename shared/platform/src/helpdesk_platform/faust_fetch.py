"""A fix for Faust workers: a bounded wait for Kafka fetches, so a busy worker does not stall.

Faust creates its worker consumer with ``fetch_max_wait_ms=1500`` (hard-coded, no setting).
aiokafka sends one fetch per broker at a time, and while some partitions still hold records the
worker has not taken, the next fetch asks only for the others. On a busy worker those others are
the quiet ones (the directory topic, teams with no traffic), so the broker holds that fetch for
the full 1.5 s while records pile up on the busy partitions, which cannot be fetched until it
returns. Seen on the assignment worker at 150 tickets/s: it went idle for about a second at a
time with thousands of tickets waiting, and every run fell about 3 s behind and stayed there.

:func:`install` makes Faust's worker consumers wait at most ``max_wait_ms`` instead. An idle
worker then sends a few more empty fetches per second (``1000 / max_wait_ms``), which cost little.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_MAX_WAIT_MS", "install"]

#: Bounds a stall to 50 ms; an idle worker sends 20 empty fetches a second.
DEFAULT_MAX_WAIT_MS = 50

_max_wait_ms: int | None = None


def install(max_wait_ms: int = DEFAULT_MAX_WAIT_MS) -> None:
    """Patch Faust's aiokafka driver (the last call's wait wins); call before the app starts."""
    global _max_wait_ms
    if max_wait_ms <= 0:
        raise ValueError("max_wait_ms must be positive")
    first = _max_wait_ms is None
    _max_wait_ms = max_wait_ms
    if not first:
        return
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    create = AIOKafkaConsumerThread._create_worker_consumer

    def create_worker_consumer(self: Any, transport: Any) -> Any:
        consumer = create(self, transport)
        # Read by the fetcher aiokafka builds in ``start()``; the constructor's argument has no
        # other way in through Faust.
        consumer._fetch_max_wait_ms = _max_wait_ms
        return consumer

    AIOKafkaConsumerThread._create_worker_consumer = create_worker_consumer  # type: ignore[method-assign]
