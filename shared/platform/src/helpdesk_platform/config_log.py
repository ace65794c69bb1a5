"""Configuration kept as events on a one-partition Kafka topic (SLA policies, assignment rules).

A service whose configuration is small and changed by administrators - not by the ticket flow -
keeps it as a single event stream on its own topic (``helpdesk.sla-policies.v1``,
``helpdesk.assignment-rules.v1``). Every replica reads the whole topic from the start and folds
it with the same pure function, so every replica holds the same configuration, and a restart
rebuilds it; nothing but Kafka stores it.

Writes are optimistic, like the event store's: an event carries in ``stream_version`` the version
it was decided on plus one. A reader accepts an event only if that is exactly its own version plus
one (and the fold accepts it); otherwise the event lost a race and every reader ignores it alike,
because every reader sees the one partition in the same order. :meth:`ConfigLog.append` sends an
event, waits until this replica has read it back and reports whether it was accepted (the new
version) or lost (:class:`ConfigConflict`), so an HTTP handler can answer 200 or 409.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Generic, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from helpdesk_events import (
    Actor,
    DomainEvent,
    EventEnvelope,
    decode_envelope,
    encode_envelope,
    kafka_headers,
)

log = structlog.get_logger("helpdesk_platform.config_log")

S = TypeVar("S")

#: The fold: the configuration after one more event. Raising ``ValueError`` refuses the event.
Fold = Callable[[S, EventEnvelope], S]


class ConfigConflict(Exception):
    """The configuration changed since the version the write was decided on."""

    def __init__(self, expected_version: int, actual_version: int) -> None:
        super().__init__(
            f"the configuration is at version {actual_version}, not {expected_version}; "
            "read it again and retry"
        )
        self.expected_version = expected_version
        self.actual_version = actual_version


class ConfigRefused(Exception):
    """The fold refused the event (it does not fit the configuration it arrived at)."""


class ConfigLog(Generic[S]):
    """One configuration stream: read from the start, followed live, written optimistically."""

    def __init__(
        self,
        *,
        bootstrap: str,
        topic: str,
        stream_id: uuid.UUID,
        stream_type: str,
        initial: S,
        fold: Fold[S],
        client_id: str = "config-log",
    ) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._partition = TopicPartition(topic, 0)
        self.stream_id = stream_id
        self.stream_type = stream_type
        self._fold = fold
        self._client_id = client_id
        self.state: S = initial
        self.version = 0
        self._offset = 0  # next offset to read
        # Own writes awaiting their read-back: event id -> version made, refusal, or None (lost).
        self._pending: set[uuid.UUID] = set()
        self._outcomes: dict[uuid.UUID, int | str | None] = {}
        self._advanced = asyncio.Condition()
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._reader: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[S, EventEnvelope], None]] = []
        self.caught_up = asyncio.Event()

    def on_change(self, listener: Callable[[S, EventEnvelope], None]) -> None:
        """Call ``listener(new_state, event)`` after every accepted event (in the reader task)."""
        self._listeners.append(listener)

    async def start(self, *, catch_up_seconds: float = 30.0) -> None:
        """Connect, and return once everything on the topic when called has been read."""
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id=f"{self._client_id}-reader",
            enable_auto_commit=False,
            group_id=None,
            isolation_level="read_committed",
        )
        await self._consumer.start()
        self._consumer.assign([self._partition])
        await self._consumer.seek_to_beginning(self._partition)
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=f"{self._client_id}-writer",
            acks="all",
            enable_idempotence=True,
        )
        await self._producer.start()
        end = (await self._consumer.end_offsets([self._partition]))[self._partition]
        self._reader = asyncio.create_task(self._read(), name=f"config-log {self._topic}")
        await asyncio.wait_for(self._wait_offset(end), catch_up_seconds)
        self.caught_up.set()
        log.info("configuration read", topic=self._topic, version=self.version)

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        for client in (self._consumer, self._producer):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.stop()

    async def append(
        self,
        event: DomainEvent,
        *,
        expected_version: int,
        actor: Actor,
        correlation_id: uuid.UUID | None = None,
        traceparent: str | None = None,
        read_back_seconds: float = 10.0,
    ) -> int:
        """Write ``event`` decided on ``expected_version``; the version it made, once read back.

        Raises :class:`ConfigConflict` when another write got there first and
        :class:`ConfigRefused` when the fold refused the event.
        """
        if expected_version != self.version:
            raise ConfigConflict(expected_version, self.version)
        assert self._producer is not None, "start() the log first"
        event_id = uuid.uuid4()
        envelope = EventEnvelope(
            event_id=event_id,
            event_type=event.event_type,
            schema_version=event.schema_version,
            stream_id=self.stream_id,
            stream_type=self.stream_type,
            stream_version=expected_version + 1,
            occurred_at=datetime.now(UTC),
            actor=actor,
            correlation_id=correlation_id or event_id,
            causation_id=None,
            data=event.model_dump(mode="json"),
        )
        self._pending.add(event_id)
        try:
            metadata = await self._producer.send_and_wait(
                self._topic,
                value=encode_envelope(envelope),
                key=str(self.stream_id).encode(),
                partition=0,
                headers=kafka_headers(envelope, traceparent),
            )
            await asyncio.wait_for(self._wait_offset(metadata.offset + 1), read_back_seconds)
        finally:
            self._pending.discard(event_id)
        outcome = self._outcomes.pop(event_id, None)
        if isinstance(outcome, int):
            return outcome
        if isinstance(outcome, str):
            raise ConfigRefused(outcome)
        raise ConfigConflict(expected_version, self.version)

    async def _wait_offset(self, offset: int) -> None:
        async with self._advanced:
            await self._advanced.wait_for(lambda: self._offset >= offset)

    async def _read(self) -> None:
        assert self._consumer is not None
        while True:
            try:
                batches = await self._consumer.getmany(self._partition, timeout_ms=200)
                records = batches.get(self._partition, [])
                position = await self._consumer.position(self._partition)
            except KafkaError as error:
                log.warning("configuration reader interrupted; retrying", error=repr(error))
                await asyncio.sleep(0.5)
                continue
            for record in records:
                self._apply(record.value or b"", record.offset)
            async with self._advanced:
                self._offset = max(self._offset, position)
                self._advanced.notify_all()

    def _settle(self, event_id: uuid.UUID, outcome: int | str | None) -> None:
        if event_id in self._pending:
            self._outcomes[event_id] = outcome

    def _apply(self, raw: bytes, offset: int) -> None:
        try:
            envelope = decode_envelope(raw)
        except ValueError as error:
            log.error("unreadable configuration event skipped", offset=offset, error=str(error))
            return
        if envelope.stream_id != self.stream_id:
            return
        if envelope.stream_version != self.version + 1:
            self._settle(envelope.event_id, None)
            log.info(
                "configuration write lost a race; ignored",
                event_type=envelope.event_type,
                decided_on=envelope.stream_version - 1,
                version=self.version,
            )
            return
        try:
            state = self._fold(self.state, envelope)
        except ValueError as error:
            self._settle(envelope.event_id, str(error))
            log.warning(
                "configuration event refused", event_type=envelope.event_type, error=str(error)
            )
            return
        self.state = state
        self.version += 1
        self._settle(envelope.event_id, self.version)
        for listener in self._listeners:
            listener(state, envelope)
