"""The outbox relay: publishes the event log to Kafka, in order, at least once.

It tails the log from its checkpoint (see ``PostgresEventStore.read_after``), sends each event
to its stream type's topic keyed by stream id with an idempotent producer, waits until Kafka has
acknowledged the whole batch, and only then moves the checkpoint. A crash or a Kafka outage
therefore never loses an event; at worst a batch is sent again with the same event ids, which
consumers deduplicate. A session advisory lock keeps one active relay per database, so replicas
stand by instead of interleaving.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from helpdesk_events import encode_envelope, kafka_headers
from helpdesk_events.topics import TOPIC_BY_STREAM_TYPE
from helpdesk_platform.telemetry import context_from_traceparent, inject_traceparent
from ticket_service.adapters.event_store import PostgresEventStore, RecordedEvent
from ticket_service.adapters.idle_pacer import IdlePacer
from ticket_service.adapters.session_lock import while_holding

log = structlog.get_logger()
tracer = trace.get_tracer("ticket_service.relay")

#: Advisory lock key held by the active relay (arbitrary, fixed).
RELAY_LOCK_KEY = 0x6865_6C70_6465_736B  # "helpdesk"


class OutboxRelay:
    def __init__(
        self,
        store: PostgresEventStore,
        pool: asyncpg.Pool,
        bootstrap: str,
        *,
        name: str = "kafka-relay",
        batch_size: int = 500,
        pacer: IdlePacer | None = None,
        max_backoff_seconds: float = 5.0,
    ) -> None:
        self._store = store
        self._pool = pool
        self._bootstrap = bootstrap
        self._name = name
        self._batch_size = batch_size
        self._pacer = pacer or IdlePacer()
        self._max_backoff = max_backoff_seconds
        self.published = 0

    def _producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=f"ticket-service-{self._name}",
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
            request_timeout_ms=10_000,
            retry_backoff_ms=200,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set, surviving Kafka and database outages."""
        await while_holding(
            self._pool,
            RELAY_LOCK_KEY,
            stop,
            lambda: self._publish_while_active(stop),
            standby_seconds=2.0,
            name="relay",
        )

    async def _publish_while_active(self, stop: asyncio.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            producer = self._producer()
            try:
                await producer.start()
                log.info("relay publishing", bootstrap=self._bootstrap, relay=self._name)
                backoff = 0.2
                await self._publish_until(producer, stop)
            except (TimeoutError, KafkaError, OSError, asyncpg.PostgresError) as error:
                log.warning(
                    "relay interrupted; will resume from its checkpoint",
                    error=repr(error),
                    retry_in_seconds=backoff,
                )
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, self._max_backoff)
            finally:
                with contextlib.suppress(Exception):
                    await producer.stop()

    async def _publish_until(self, producer: AIOKafkaProducer, stop: asyncio.Event) -> None:
        checkpoint = await self._store.load_checkpoint(self._name)
        while not stop.is_set():
            batch = await self._store.read_after(checkpoint, self._batch_size)
            if batch:
                await self.publish(producer, batch)
                checkpoint = batch[-1].log_position
                await self._store.save_checkpoint(self._name, checkpoint)
                self.published += len(batch)
            if len(batch) < self._batch_size:
                # Caught up: let events gather for a moment instead of spinning on tiny batches
                # (each loop costs a tail query, Kafka requests and a checkpoint write), and for
                # longer while the log stays quiet.
                await self._pacer.pause(len(batch))

    async def publish(self, producer: AIOKafkaProducer, batch: list[RecordedEvent]) -> None:
        """Send a batch and wait until Kafka acknowledged every message of it."""
        deliveries = []
        for recorded in batch:
            envelope = recorded.envelope
            topic = TOPIC_BY_STREAM_TYPE[envelope.stream_type]
            # The producer span continues the trace of the request that wrote the event.
            with tracer.start_as_current_span(
                f"publish {topic}",
                context=context_from_traceparent(recorded.traceparent),
                kind=SpanKind.PRODUCER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination.name": topic,
                    "messaging.message.id": str(envelope.event_id),
                    "messaging.kafka.message.key": str(envelope.stream_id),
                },
            ):
                traceparent = inject_traceparent() or recorded.traceparent
                deliveries.append(
                    await producer.send(
                        topic,
                        value=encode_envelope(envelope),
                        key=str(envelope.stream_id).encode(),
                        headers=kafka_headers(envelope, traceparent),
                    )
                )
        await asyncio.gather(*deliveries)
