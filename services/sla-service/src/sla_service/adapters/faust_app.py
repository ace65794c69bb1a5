"""The SLA worker's Faust app: its topics, its table and their codecs (Faust-specific I/O).

* ``source``: ``helpdesk.tickets.v1`` (raw envelope JSON) together with the worker's own
  ``<app_id>-timer-ticks`` topic (same partition count, so a ticket's events and its ticks meet
  on the same partition and are processed one at a time).
* ``table``: per-ticket state (:class:`~sla_service.service_layer.tracker.TicketSla`, as JSON,
  with its next timer under :data:`TIMER_MARK`: :func:`stored`) in ``sla-state``, kept in
  RocksDB and backed by the compacted changelog topic ``<app_id>-sla-state-changelog``, from
  which it is recovered on start and on rebalance. Faust creates its internal topics itself;
  :func:`own_topics` names them for :func:`helpdesk_platform.kafka_topics.ensure_topics`.
* ``sla``: ``helpdesk.sla.v1``, where derived SLA events go keyed by ticket id.

Nothing here decides anything: the worker (:mod:`sla_service.entrypoints.worker`) wires the
agent and the timer to the service layer's decisions.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

import faust
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from helpdesk_events import encode_envelope, kafka_headers
from helpdesk_events.envelope import EventEnvelope
from helpdesk_events.topics import SLA, TICKETS
from helpdesk_platform import faust_delivery, faust_worker
from helpdesk_platform.faust_batches import header, send_bytes
from helpdesk_platform.kafka_topics import COMPACTED, TopicSpec
from sla_service.service_layer.tick_gate import Tick
from sla_service.service_layer.tracker import TicketSla
from sla_service.settings import SlaSettings

TABLE_NAME = "sla-state"
#: The key of a table value that holds the ticket's next timer (not a field of the state), so
#: the due index is read back after a restart without working out every ticket's timers again.
TIMER_MARK = "_next_timer"
_MARK_PREFIX = b'{"' + TIMER_MARK.encode() + b'"'
#: The most a look at the timers waits for the tickets partitions' end offsets; the due tickets
#: are read again from the table at the next look when it is not enough.
END_OFFSETS_TIMEOUT_MS = 5_000


def ticks_topic_name(settings: SlaSettings) -> str:
    return f"{settings.app_id}-timer-ticks"


def own_topics(settings: SlaSettings) -> list[TopicSpec]:
    """The worker's own topics, created before it starts (see helpdesk_platform.kafka_topics)."""
    replication = settings.topic_replication_factor
    return [
        TopicSpec(ticks_topic_name(settings), settings.topic_partitions, replication),
        TopicSpec(
            f"{settings.app_id}-{TABLE_NAME}-changelog",
            settings.topic_partitions,
            replication,
            COMPACTED,
        ),
    ]


def traceparent_of(headers: Any) -> str | None:
    """The ``traceparent`` header of a Kafka message."""
    value = header(headers, "traceparent")
    return value.decode() if value else None


def read_tick(raw: bytes) -> tuple[str, int | None]:
    """The ticket id a timer tick is for and the offset of its tickets partition the agent must
    have processed first (None in a tick sent before that offset was added); ``ValueError`` when
    the tick is not readable."""
    try:
        value = orjson.loads(raw)
        offset = value.get("offset")
        if offset is not None and not isinstance(offset, int):
            raise ValueError(f"tick offset {offset!r}")
        return str(uuid.UUID(value["ticket_id"])), offset
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"unreadable tick: {error!r}") from error


def stored(state: TicketSla, next_timer: datetime | None, digest: str) -> dict[str, Any]:
    """The table value of ``state``: its JSON after :data:`TIMER_MARK`, its next timer, its
    partition and the digest of the policies the timer was worked out under (first, so a
    rebuild decodes only the mark: :func:`_mark_of`)."""
    mark = {
        "at": None if next_timer is None else next_timer.isoformat(),
        "digest": digest,
        "partition": state.partition,
    }
    return {TIMER_MARK: mark, **state.model_dump(mode="json")}


def _mark_of(raw: bytes) -> dict[str, Any] | None:
    """The mark at the start of a serialized :func:`stored` value, decoded alone (the mark
    holds no braces, so it ends at the first ``}``); None when the value has none."""
    if not raw.startswith(_MARK_PREFIX):
        return None
    try:
        found = orjson.loads(raw[: raw.index(b"}") + 1] + b"}")[TIMER_MARK]
    except (ValueError, KeyError, TypeError):
        return None
    return found if isinstance(found, dict) else None


def _holds(mark: Any, digest: str) -> bool:
    """Whether ``mark`` is a timer worked out under ``digest``."""
    return isinstance(mark, dict) and mark.get("digest") == digest and "partition" in mark


def _instant(mark: dict[str, Any]) -> datetime | None:
    at = mark.get("at")
    return None if at is None else datetime.fromisoformat(at)


def state_of(value: dict[str, Any]) -> TicketSla:
    """The state of a table value (:func:`stored`, or a bare state as kept before)."""
    if TIMER_MARK in value:
        value = {key: item for key, item in value.items() if key != TIMER_MARK}
    return TicketSla.model_validate(value)


class SlaFaustApp:
    """The Faust app with its topics and table (see the module documentation)."""

    def __init__(self, settings: SlaSettings, openapi_paths: dict[str, Any]) -> None:
        partitions = settings.topic_partitions
        self.app = faust_worker.create_app(settings, openapi_paths)
        self._bootstrap = settings.kafka_bootstrap
        self._offsets_client_id = f"{settings.app_id}-end-offsets"
        self._offsets: AIOKafkaConsumer | None = None  # started at the first use
        self.ticks_topic_name = ticks_topic_name(settings)
        # internal: creates the ticks topic; the tickets topic exists already.
        self.source = faust_worker.raw_topic(
            self.app, TICKETS, self.ticks_topic_name, partitions=partitions, internal=True
        )
        self.ticks = faust_worker.raw_topic(
            self.app, self.ticks_topic_name, partitions=partitions, internal=True
        )
        self.sla = self.app.topic(SLA, key_serializer="raw", value_serializer="raw")
        self.table = self.app.Table(
            TABLE_NAME,
            default=None,
            partitions=partitions,
            schema=faust.Schema(key_type=str, key_serializer="json", value_serializer="json"),
        )

    # --- the table ------------------------------------------------------------------------------

    def load(self, key: str) -> TicketSla | None:
        value = self.table.get(key)
        return None if value is None else state_of(value)

    def stored_timer(self, key: str, digest: str) -> tuple[bool, datetime | None]:
        """``(known, instant)``: the next timer stored with the ticket's state, known when it
        was worked out under ``digest`` (see :func:`stored`)."""
        value = self.table.get(key)
        mark = None if value is None else value.get(TIMER_MARK)
        if mark is None or not _holds(mark, digest):
            return False, None
        return True, _instant(mark)

    def states(self) -> list[tuple[str, TicketSla]]:
        """Every ticket state this worker holds (its partitions)."""
        return [(key, state_of(value)) for key, value in list(self.table.items())]

    def timers(
        self, digest: str, next_timer: Callable[[TicketSla], datetime | None]
    ) -> Iterator[tuple[str, int, datetime | None, bool]]:
        """``(ticket id, partition, next timer, stored)`` of every ticket this worker holds.

        The instant stored with a state is used (``stored`` True) when it was worked out under
        ``digest`` (the tracker's
        :attr:`~sla_service.service_layer.tracker.SlaTracker.timer_digest` now); any other
        state is read and ``next_timer`` works it out. From RocksDB only the mark at the start
        of each value is decoded (Faust's codecs over whole values took 49-60 s of a rebuild of
        100,000 tickets at load 22; validating them and working their timers out 55 s before).
        """
        raw_items = getattr(self.table.data, "raw_items", None)
        if raw_items is None:  # another store: Faust decodes
            for key, value in list(self.table.items()):
                mark = value.get(TIMER_MARK)
                if _holds(mark, digest):
                    yield key, mark["partition"], _instant(mark), True
                else:
                    state = state_of(value)
                    yield key, state.partition, next_timer(state), False
            return
        for raw_key, raw_value in raw_items():
            key = orjson.loads(raw_key)
            mark = _mark_of(raw_value)
            if mark is not None and _holds(mark, digest):
                yield key, mark["partition"], _instant(mark), True
            else:
                state = state_of(orjson.loads(raw_value))
                yield key, state.partition, next_timer(state), False

    # --- sending --------------------------------------------------------------------------------

    async def publish(self, events: Iterable[tuple[EventEnvelope, str | None]]) -> None:
        """Send and wait until Kafka has every event (before the table is updated).

        Each event goes with the ``traceparent`` header of the ticket event it came from (timer
        events have none).
        """
        topic = self.sla.get_topic_name()
        pending = [
            await send_bytes(
                self.app,
                topic,
                str(envelope.stream_id).encode(),
                encode_envelope(envelope),
                headers=kafka_headers(envelope, traceparent),
            )
            for envelope, traceparent in events
        ]
        await asyncio.gather(*pending)

    async def send_ticks(self, ticks: Iterable[Tick]) -> None:
        """Each tick on its ticket's partition, with the offset it waits for."""
        pending = [
            await send_bytes(
                self.app,
                self.ticks_topic_name,
                tick.ticket_id.encode(),
                orjson.dumps({"ticket_id": tick.ticket_id, "offset": tick.offset}),
                partition=tick.partition,
            )
            for tick in ticks
        ]
        await asyncio.gather(*pending)

    # --- offsets of the tickets topic -----------------------------------------------------------

    async def end_offsets(self, partitions: Iterable[int]) -> dict[int, int]:
        """The end offsets of these tickets partitions, asked of Kafka now (one ListOffsets
        request; not the consumer's cached highwater, which is stale while a partition is
        paused).

        Through a client of its own with a short request timeout: through Faust's consumer
        thread the request waited out aiokafka's 90 s timeout after a Kafka restart (a chaos
        round: breaches 100-170 s late), and it holds one of the two workers of that thread,
        which Faust's own fetches and commits go through."""
        consumer = self._offsets
        if consumer is None:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                client_id=self._offsets_client_id,
                enable_auto_commit=False,
                group_id=None,
                request_timeout_ms=END_OFFSETS_TIMEOUT_MS,
            )
            try:
                await consumer.start()
            except BaseException:
                await consumer.stop()
                raise
            self._offsets = consumer
        found = await consumer.end_offsets([TopicPartition(TICKETS, p) for p in set(partitions)])
        return {tp.partition: offset for tp, offset in found.items()}

    def resume_offsets(self) -> dict[int, int]:
        """Where each tickets partition resumed at its last seek (everything before it was
        processed by the group): see :func:`helpdesk_platform.faust_delivery.resume_offsets`."""
        resumed = faust_delivery.resume_offsets(self.app.consumer)
        return {tp.partition: offset for tp, offset in list(resumed.items()) if tp.topic == TICKETS}
