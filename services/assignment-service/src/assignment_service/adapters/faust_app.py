"""The assignment worker's Faust app: its topics, tables and the batch loop (Faust-specific I/O).

Three streams feed three tables (in RocksDB on the data directory, backed by compacted
changelog topics; helpdesk_platform.faust_tables):
``ticket-facts`` (tickets and SLA events, keyed by ticket), ``directory`` (one partition) and
``team-state`` (the internal topic ``<app_id>-team-requests``, keyed by team). Envelopes travel
as raw bytes; the service layer decodes them.

:func:`run_in_batches` is the at-least-once loop every stage runs: decide a batch of events, send
all the messages they lead to, wait for Kafka's acknowledgement, then write the tables - so a
crash in between makes the same decisions again (same command ids; the ticket service applies an
id once).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import faust
import orjson
import structlog
from pydantic import ValidationError

from assignment_service.service_layer.batch import Batch, CrashPoint, Handler
from assignment_service.settings import AssignmentSettings
from helpdesk_events.topics import ASSIGNMENT, DIRECTORY, SLA, TICKET_COMMANDS, TICKETS
from helpdesk_platform import faust_memory, faust_worker
from helpdesk_platform.faust_batches import header, send_bytes, skip_unreadable, write_tables
from helpdesk_platform.faust_web import web_settings
from helpdesk_platform.kafka_topics import COMPACTED, TopicSpec

log = structlog.get_logger("assignment_service.worker")

__all__ = [
    "BATCH_MAX",
    "BATCH_WITHIN",
    "AssignmentApp",
    "own_topics",
    "run_in_batches",
    "team_topic_name",
    "ticket_event_or_breach",
]

#: At most this many events per batch; a batch waits at most BATCH_WITHIN seconds to fill.
BATCH_MAX = 500
#: 20 ms: with 5 ms a batch held about one event at 100 tickets/s on the whole stack, and the
#: produce requests and commits per batch cost the machine more CPU than the 15 ms saved.
BATCH_WITHIN = 0.02


def team_topic_name(settings: AssignmentSettings) -> str:
    return f"{settings.app_id}-team-requests"


def own_topics(settings: AssignmentSettings) -> list[TopicSpec]:
    """The worker's own topics, created before it starts (see helpdesk_platform.kafka_topics)."""
    partitions, replication = settings.topic_partitions, settings.topic_replication_factor
    changelogs = {"ticket-facts": partitions, "directory": 1, "team-state": partitions}
    return [
        TopicSpec(team_topic_name(settings), partitions, replication),
        *(
            TopicSpec(f"{settings.app_id}-{table}-changelog", count, replication, COMPACTED)
            for table, count in changelogs.items()
        ),
    ]


def ticket_event_or_breach(message: Any) -> bool:
    """Of the SLA topic only breaches matter here; the others (most of it: timers started,
    warnings, met targets) are passed over by their header, without decoding them. A record
    without the header is decoded and judged by its envelope."""
    if message.topic != SLA:
        return True
    event_type = header(message.headers, "event_type")
    return event_type is None or event_type == b"SlaBreached"


class AssignmentApp:
    """The Faust app with its topics and tables (no handlers: the worker wires them)."""

    def __init__(self, settings: AssignmentSettings, paths: Iterable[str]) -> None:
        faust_worker.prepare()  # records never skipped, short fetch waits, RocksDB (issue #13)
        partitions = settings.topic_partitions
        self.app = faust.App(
            settings.app_id,
            broker=f"kafka://{settings.kafka_bootstrap}",
            store=faust_worker.STORE,
            datadir=str(settings.data_dir),
            topic_partitions=partitions,
            topic_replication_factor=settings.topic_replication_factor,
            topic_allow_declare=True,
            table_standby_replicas=0,
            consumer_auto_offset_reset="earliest",
            producer_acks=-1,
            # Up to 5 ms for a produce request to fill: fewer, larger requests (the socket
            # writes of one request per message were a fifth of the worker's CPU at 200/s).
            producer_linger=0.005,
            consumer_group_instance_id=settings.group_instance_id,
            broker_session_timeout=settings.session_timeout,
            broker_heartbeat_interval=min(3.0, settings.session_timeout / 4),
            web_enabled=True,
            web_bind=settings.http_host,
            web_port=settings.http_port,
            web_in_thread=False,
            **web_settings(paths),
        )
        self.team_topic_name = team_topic_name(settings)
        self.ticket_source = self._raw_topic(TICKETS, SLA, partitions=partitions)
        self.directory_source = self._raw_topic(DIRECTORY, partitions=1)
        self.team_topic = self._raw_topic(
            self.team_topic_name, partitions=partitions, internal=True
        )
        self.commands = self.app.topic(
            TICKET_COMMANDS, key_serializer="raw", value_serializer="raw"
        )
        self.assignment_events = self.app.topic(
            ASSIGNMENT, key_serializer="raw", value_serializer="raw"
        )
        schema: faust.Schema[str, Any] = faust.Schema(
            key_type=str, key_serializer="json", value_serializer="json"
        )
        self.facts_table = self.app.Table(
            "ticket-facts", default=None, partitions=partitions, schema=schema
        )
        self.directory_table = self.app.Table(
            "directory", default=None, partitions=1, schema=schema
        )
        self.team_table = self.app.Table(
            "team-state", default=None, partitions=partitions, schema=schema
        )
        faust_memory.freeze_after_recovery(self.app)

    def _raw_topic(self, *names: str, partitions: int, internal: bool = False) -> Any:
        """A topic of raw bytes (envelopes are decoded by the agents, not by Faust)."""
        return self.app.topic(
            *names,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=partitions,
            internal=internal,
        )

    async def send_all(self, sends: list[tuple[Any, bytes, bytes, Any]]) -> None:
        pending = [
            await send_bytes(self.app, topic.get_topic_name(), key, value, headers=headers)
            for topic, key, value, headers in sends
        ]
        await asyncio.gather(*pending)

    async def send_raw(self, topic_name: str, key: bytes, value: bytes) -> None:
        await send_bytes(self.app, topic_name, key, value)


async def run_in_batches(
    faust_app: AssignmentApp,
    stream: Any,
    handler: Handler,
    wanted: Callable[[Any], bool] | None = None,
    *,
    stage: str = "",
    crash: CrashPoint | None = None,
) -> None:
    """Run ``handler`` over batches of events: decide all, send all, wait, then write all.

    Events of a batch are decided in order, each seeing the writes of those before it; the
    messages they lead to are sent together and acknowledged by Kafka before any table write,
    so one round trip to Kafka serves the whole batch. The changelog records of a batch's writes
    are acknowledged with the next batch's messages.
    """
    written: list[Awaitable[Any]] = []
    # Up to BATCH_MAX events, waiting at most BATCH_WITHIN seconds for more: one round trip to
    # Kafka per batch. (Batches once lost events across the rebalance that follows a kill -9;
    # the cause was the seek after recovery, fixed by helpdesk_platform.faust_seek.)
    async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN):
        batch = Batch()
        for event in events:
            message = event.message
            if wanted is not None and not wanted(message):
                continue
            batch.begin(event)
            try:
                handler(batch, message.topic, message.value)
            except (ValidationError, ValueError, KeyError, orjson.JSONDecodeError) as error:
                batch.abandon()
                skip_unreadable(message, error)
            else:
                batch.keep()
        crashing = crash if batch.sends else None
        if crashing:
            crashing.reached(stage, "before-send")
        await asyncio.gather(faust_app.send_all(batch.sends), *written)
        if crashing:
            crashing.reached(stage, "after-send")
        for record in batch.logs:
            log.info(record.pop("event"), **record)
        written = await write_tables(faust_app.app, batch.writes)
        if crashing:
            crashing.reached(stage, "after-write")
