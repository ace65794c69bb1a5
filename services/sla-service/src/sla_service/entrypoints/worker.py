"""The SLA worker: a Faust app that times every ticket's SLA.

* One agent consumes ``helpdesk.tickets.v1`` (raw envelope JSON) together with the service's own
  ``<app_id>-timer-ticks`` topic (same partition count, so a ticket's events and its ticks meet
  on the same partition and are processed one at a time).
* Per-ticket state (:class:`TicketSla`, as JSON) lives in the table ``sla-state``, kept in RocksDB
  and backed by the compacted changelog topic ``<app_id>-sla-state-changelog``, from which it is
  recovered on start and on rebalance. Faust creates its internal topics itself.
* Derived SLA events go to ``helpdesk.sla.v1`` keyed by ticket id; they are acknowledged by Kafka
  before the table is updated, so a crash in between re-derives the same events (same ids).
* Timers: an in-memory :class:`DueIndex` (rebuilt from the table after every assignment and
  recovery) is looked at every ``timer_interval`` seconds; a ticket whose instant has come gets a
  tick on its partition of the ticks topic, and the agent then emits its ``SlaWarning`` /
  ``SlaBreached`` (a Faust table can only be changed from within a stream). A tick is taken off
  the index before Kafka has it (reliability issue #13): a crash rebuilds the index from the
  table, and a send that fails marks the index for a rebuild, so no due ticket is forgotten.
* SLA policies: every replica reads ``helpdesk.sla-policies.v1`` from the start through
  :class:`helpdesk_platform.config_log.ConfigLog` and folds it
  (:func:`~sla_service.domain.policies.fold_policies`); the tracker reads the resulting
  :class:`~sla_service.domain.policies.PolicyCatalog`. Ticket events and timers wait until the
  policies are read; a change of policies rebuilds the due index, so tickets whose policy changed
  or was deleted are ticked and catch up at once.
* HTTP (aiohttp, Faust's web server): ``/healthz``, ``/readyz``, ``/openapi.json``,
  ``GET /tickets/{ticket_id}/sla`` (a bearer token: staff see every ticket's, a customer their own
  tickets' only, as on the ticket service), ``GET /sla/breaching-soon`` (staff) and the policies
  API for managers (:mod:`sla_service.entrypoints.policies_api`). Nothing else is served: Faust's
  own views (``/table``, ``/router``, ...) would show the table to anyone
  (:mod:`helpdesk_platform.faust_web`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import faust
import orjson
import structlog
from faust.web import Request, Response, View
from pydantic import ValidationError

from helpdesk_events import decode_envelope, encode_envelope, kafka_headers
from helpdesk_events import sla as _sla_events  # noqa: F401  (registers the SLA event types)
from helpdesk_events.envelope import EventEnvelope
from helpdesk_events.sla_policies import SLA_POLICIES_STREAM
from helpdesk_events.topics import SLA, SLA_POLICIES, TICKETS
from helpdesk_platform import faust_memory, faust_worker
from helpdesk_platform.auth import Principal
from helpdesk_platform.config_http import BearerAuth, HttpRefusal
from helpdesk_platform.config_log import ConfigLog
from helpdesk_platform.faust_batches import header, send_bytes, skip_unreadable, write_tables
from helpdesk_platform.faust_web import web_settings
from helpdesk_platform.kafka_topics import COMPACTED, TopicSpec
from sla_service.domain.policies import (
    PolicyCatalog,
    SavedPolicies,
    built_in_rule,
    fold_policies,
)
from sla_service.entrypoints.policies_api import OPENAPI_PATHS, PoliciesApi
from sla_service.service_layer.due_index import DueIndex
from sla_service.service_layer.queries import breaching_soon, parse_duration
from sla_service.service_layer.tracker import SlaTracker, TicketSla
from sla_service.settings import SlaSettings

log = structlog.get_logger("sla_service.worker")

TABLE_NAME = "sla-state"
#: The one stream of the policies topic (a fixed id, the same on every replica).
POLICIES_STREAM_ID = uuid.uuid5(uuid.NAMESPACE_URL, "helpdesk:sla-policies")


def _now() -> datetime:
    return datetime.now(UTC)


def _fold_policies(saved: SavedPolicies, envelope: EventEnvelope) -> SavedPolicies:
    return fold_policies(saved, envelope.event_type, envelope.data, envelope.occurred_at)


class SlaWorker:
    """The Faust app with its topics, table, agent, timer and web pages."""

    def __init__(self, settings: SlaSettings) -> None:
        faust_worker.prepare()  # records never skipped, short fetch waits, RocksDB (issue #13)
        self.settings = settings
        #: The built-in default policy (settings), until a saved policy is the default.
        self.built_in = built_in_rule(settings.policy, settings.calendar)
        self.tracker = SlaTracker(PolicyCatalog.of(self.built_in), settings.warning_fraction)
        self.policies: ConfigLog[SavedPolicies] = ConfigLog(
            bootstrap=settings.kafka_bootstrap,
            topic=SLA_POLICIES,
            stream_id=POLICIES_STREAM_ID,
            stream_type=SLA_POLICIES_STREAM,
            initial=SavedPolicies(),
            fold=_fold_policies,
            client_id=settings.app_id,
        )
        self.policies_api = PoliciesApi(
            self.policies, lambda: self.tracker.policies, settings.jwt_public_key_file
        )
        self.auth = BearerAuth(settings.jwt_public_key_file)
        self.index = DueIndex()
        self._index_dirty = True
        self._index_stale = False  # a rebuild wanted without leaving readiness
        self._assigned = False
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
            broker_session_timeout=settings.session_timeout,
            broker_heartbeat_interval=min(3.0, settings.session_timeout / 4),
            web_enabled=True,
            web_bind=settings.http_host,
            web_port=settings.http_port,
            web_in_thread=False,
            **web_settings(OPENAPI["paths"]),
        )
        self.ticks_topic_name = ticks_topic_name(settings)
        self.source = self.app.topic(
            TICKETS,
            self.ticks_topic_name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=partitions,
            internal=True,  # creates the ticks topic; the tickets topic exists already
        )
        self.ticks = self.app.topic(
            self.ticks_topic_name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=partitions,
            internal=True,
        )
        self.sla = self.app.topic(SLA, key_serializer="raw", value_serializer="raw")
        self.table = self.app.Table(
            TABLE_NAME,
            default=None,
            partitions=partitions,
            schema=faust.Schema(key_type=str, key_serializer="json", value_serializer="json"),
        )
        self.app.agent(self.source, name="sla-tracker")(self._process)
        self.app.timer(settings.timer_interval)(self._look_at_timers)
        self.app.task(self._start_policies)
        self.app.on_partitions_assigned.connect(self._on_assigned)
        self.app.on_partitions_revoked.connect(self._on_revoked)
        self.table.on_recover(self._on_recovered)
        self._add_pages()

    # --- stream ---------------------------------------------------------------------------------

    async def _start_policies(self) -> None:
        self.policies.on_change(self._on_policies_changed)
        await self.policies.start()

    def _on_policies_changed(self, saved: SavedPolicies, event: EventEnvelope) -> None:
        self.tracker.policies = PolicyCatalog.build(saved, self.built_in)
        # Tickets whose policy changed or was deleted fall due at once (next_timer): rebuild.
        self._index_dirty = True
        if self.policies.caught_up.is_set():
            log.info(
                event.event_type,
                version=self.policies.version,
                policy_id=event.data.get("policy_id")
                or event.data.get("policy", {}).get("policy_id"),
            )

    async def _process(self, stream: Any) -> None:
        """Batches of events: each decided in order (seeing the batch's earlier changes), then
        every SLA event they led to is sent and acknowledged by Kafka - one round trip for the
        batch - and only then are the table and the due index written. A crash in between
        re-derives the same events (same ids) from the unchanged table."""
        await self.policies.caught_up.wait()  # no ticket is timed before the policies are read
        written: list[Awaitable[Any]] = []  # the changelog records of the batch before
        async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN):
            batch = _Batch()
            for event in events:
                message = event.message
                try:
                    if message.topic == self.ticks_topic_name:
                        self._on_tick(batch, event, message.value)
                    else:
                        self._on_ticket_event(
                            batch, event, message.value, traceparent_of(message.headers)
                        )
                except (ValidationError, ValueError, orjson.JSONDecodeError) as error:
                    skip_unreadable(message, error)
            await asyncio.gather(self._publish(batch.sends), *written)
            written = await write_tables(
                self.app,
                [
                    (event, self.table, key, state.model_dump(mode="json"))
                    for key, (event, state) in batch.states.items()
                ],
            )
            for key, (_, state) in batch.states.items():
                self.index.set(key, state.partition, self.tracker.next_timer(state))
            for envelope in batch.timer_events:
                log.info(
                    envelope.event_type,
                    ticket_id=str(envelope.stream_id),
                    metric=envelope.data.get("metric"),
                    due_at=envelope.data.get("due_at"),
                    event_id=str(envelope.event_id),
                )

    def _on_ticket_event(
        self, batch: _Batch, event: Any, raw: bytes, traceparent: str | None = None
    ) -> None:
        envelope = decode_envelope(raw)
        key = str(envelope.stream_id)
        state = batch.load(key, self._load)
        outcome = self.tracker.apply(state, envelope, event.message.partition)
        if outcome.state is None or outcome.state == state:
            return
        batch.sends.extend((e, traceparent) for e in outcome.events)
        batch.states[key] = (event, outcome.state)

    def _on_tick(self, batch: _Batch, event: Any, raw: bytes) -> None:
        key = str(uuid.UUID(orjson.loads(raw)["ticket_id"]))
        state = batch.load(key, self._load)
        if state is None:
            return
        outcome = self.tracker.fire(state, _now())
        assert outcome.state is not None
        if outcome.events or outcome.state != state:
            batch.sends.extend((e, None) for e in outcome.events)
            batch.timer_events.extend(outcome.events)
            batch.states[key] = (event, outcome.state)
        elif key not in batch.states:
            self.index.set(key, state.partition, self.tracker.next_timer(state))

    def _load(self, key: str) -> TicketSla | None:
        value = self.table.get(key)
        return None if value is None else TicketSla.model_validate(value)

    async def _publish(self, events: list[tuple[EventEnvelope, str | None]]) -> None:
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

    # --- timers ---------------------------------------------------------------------------------

    async def _on_assigned(self, *args: Any, **kwargs: Any) -> None:
        self._assigned = True
        self._index_dirty = True

    async def _on_revoked(self, *args: Any, **kwargs: Any) -> None:
        self._index_dirty = True

    async def _on_recovered(self) -> None:
        self._index_dirty = True

    def _settled(self) -> bool:
        return not (self.app.rebalancing or self.app.in_recovery)

    def ready(self) -> bool:
        return (
            self._assigned
            and self._settled()
            and not self._index_dirty
            and self.policies.caught_up.is_set()
        )

    def _rebuild_index(self) -> None:
        self.index.clear()
        for key, value in list(self.table.items()):
            state = TicketSla.model_validate(value)
            self.index.set(key, state.partition, self.tracker.next_timer(state))
        self._index_dirty = self._index_stale = False
        log.info("due index rebuilt", tickets=len(self.index))
        # The table and the index are now the bulk of the heap: keep later collections off them.
        faust_memory.freeze_survivors()

    async def _look_at_timers(self) -> None:
        if not self._settled() or not self.policies.caught_up.is_set():
            return
        if self._index_dirty or self._index_stale:
            self._rebuild_index()
        due = self.index.pop_due(_now())
        try:
            pending = [
                await send_bytes(
                    self.app,
                    self.ticks_topic_name,
                    key.encode(),
                    orjson.dumps({"ticket_id": key}),
                    partition=partition,
                )
                for key, partition in due
            ]
            await asyncio.gather(*pending)
        except BaseException:
            # Ticks that did not reach Kafka are off the index: read it again from the table at
            # the next look (the worker stays ready; a tick sent twice fires once).
            self._index_stale = True
            raise

    # --- HTTP -----------------------------------------------------------------------------------

    def _add_pages(self) -> None:
        app = self.app
        worker = self

        @app.page("/healthz")
        async def healthz(web: View, request: Request) -> Response:
            return web.json({"status": "ok"})

        @app.page("/readyz")
        async def readyz(web: View, request: Request) -> Response:
            ready = worker.ready()
            return web.json(
                {"status": "ready" if ready else "starting"}, status=200 if ready else 503
            )

        @app.page("/openapi.json")
        async def openapi(web: View, request: Request) -> Response:
            return web.json(OPENAPI)

        @app.page("/tickets/{ticket_id}/sla")
        async def ticket_sla(web: View, request: Request, ticket_id: str) -> Response:
            try:
                caller = worker.auth.caller(request.headers.get("Authorization"))
            except HttpRefusal as refusal:
                return web.json({"detail": refusal.detail}, status=refusal.status)
            try:
                key = str(uuid.UUID(ticket_id))
            except ValueError:
                return web.json({"detail": "ticket id must be a UUID"}, status=422)
            state = worker._load(key)
            if state is None or not sees(caller, state):
                # The same answer for another customer's ticket: never reveal that it exists.
                return web.json({"detail": "no SLA is tracked for this ticket"}, status=404)
            return web.json(worker.view_of(state))

        self.policies_api.add_pages(app)

        @app.page("/sla/breaching-soon")
        async def sla_breaching_soon(web: View, request: Request) -> Response:
            try:
                worker.auth.staff(
                    request.headers.get("Authorization"), action="list tickets breaching soon"
                )
            except HttpRefusal as refusal:
                return web.json({"detail": refusal.detail}, status=refusal.status)
            query = request.query
            try:
                within = parse_duration(query.get("within", "PT2H"))
                team_id = _uuid_or_none(query.get("team_id"), "team_id")
                assignee_id = _uuid_or_none(query.get("assignee_id"), "assignee_id")
            except ValueError as error:
                return web.json({"detail": str(error)}, status=422)
            states = [TicketSla.model_validate(value) for _, value in list(worker.table.items())]
            found = breaching_soon(worker.tracker, states, _now(), within, team_id, assignee_id)
            return web.json(
                {
                    "within_seconds": within.total_seconds(),
                    "items": [
                        {
                            "ticket_id": str(item.ticket_id),
                            "metric": item.metric.value,
                            "due_at": item.due_at.isoformat() if item.due_at else None,
                            "remaining_seconds": item.remaining_seconds,
                            "breached": item.breached,
                            "priority": item.priority,
                            "team_id": str(item.team_id) if item.team_id else None,
                            "assignee_id": str(item.assignee_id) if item.assignee_id else None,
                        }
                        for item in found
                    ],
                }
            )

    def view_of(self, state: TicketSla) -> dict[str, Any]:
        now = _now()
        calendar = self.tracker.calendar_of(state)
        metrics = {}
        for name, metric in sorted(state.metrics.items()):
            due = self.tracker.due_at(state, metric)
            clock = metric.clock
            metrics[name.value] = {
                "state": "met" if clock.is_met else "running" if clock.is_running else "paused",
                "target_seconds": metric.target.total_seconds(),
                "elapsed_seconds": clock.elapsed(calendar, now).total_seconds(),
                "due_at": due.isoformat() if due else None,
                "met_at": clock.met_at.isoformat() if clock.met_at else None,
                "breached": clock.breached,
                "warned": metric.warned,
            }
        return {
            "ticket_id": str(state.ticket_id),
            "policy": state.policy,
            "priority": state.priority,
            "status_category": state.category.value,
            "team_id": str(state.team_id) if state.team_id else None,
            "assignee_id": str(state.assignee_id) if state.assignee_id else None,
            "metrics": metrics,
        }


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "SLA service", "version": "0.1.0"},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
    },
    "paths": {
        "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"description": "up"}}}},
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {"200": {"description": "the OpenAPI document"}},
            }
        },
        "/readyz": {
            "get": {
                "summary": "Readiness (partitions assigned, state recovered, policies read)",
                "responses": {"200": {"description": "ready"}, "503": {"description": "not yet"}},
            }
        },
        "/tickets/{ticket_id}/sla": {
            "get": {
                "summary": "The SLA clocks of one ticket (staff; a customer their own tickets')",
                "security": [{"bearer": []}],
                "parameters": [
                    {
                        "name": "ticket_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "format": "uuid"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": (
                            "policy, priority, status category, team_id and assignee_id; "
                            "targets, clocks and due instants per metric"
                        )
                    },
                    "401": {"description": "no valid bearer token"},
                    "404": {"description": "no SLA is tracked for this ticket (or not yours)"},
                    "422": {"description": "the ticket id is not a UUID"},
                },
            }
        },
        "/sla/breaching-soon": {
            "get": {
                "summary": (
                    "Running metrics due within a window or already breached, soonest first "
                    "(this worker's partitions only; staff)"
                ),
                "security": [{"bearer": []}],
                "parameters": [
                    {
                        "name": "within",
                        "in": "query",
                        "schema": {"type": "string", "default": "PT2H"},
                        "description": "ISO 8601 duration (PnDTnHnMnS), at most P366D",
                    },
                    {
                        "name": "team_id",
                        "in": "query",
                        "schema": {"type": "string", "format": "uuid"},
                    },
                    {
                        "name": "assignee_id",
                        "in": "query",
                        "schema": {"type": "string", "format": "uuid"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": (
                            "within_seconds; items: ticket_id, metric, due_at, remaining_seconds "
                            "(business time, negative once exceeded), breached, priority, team_id, "
                            "assignee_id"
                        )
                    },
                    "401": {"description": "no valid bearer token"},
                    "403": {"description": "not staff"},
                    "422": {
                        "description": (
                            "within is not a duration (or longer than P366D) or an id is not a UUID"
                        )
                    },
                },
            }
        },
        **OPENAPI_PATHS,
    },
}


#: At most this many events per batch; a batch waits at most BATCH_WITHIN seconds to fill.
BATCH_MAX = 500
#: 50 ms: SLA events are about targets minutes or hours away; larger batches mean fewer produce
#: requests and commits (at 100 tickets/s on the whole stack the worker took 0.22-0.25 cores
#: instead of 0.27-0.28 with 10 ms).
BATCH_WITHIN = 0.05


class _Batch:
    """What a batch of events leads to: SLA events to send, then per-ticket states to store."""

    def __init__(self) -> None:
        self.sends: list[tuple[EventEnvelope, str | None]] = []
        self.states: dict[str, tuple[Any, TicketSla]] = {}  # key -> (latest event, new state)
        self.timer_events: list[EventEnvelope] = []

    def load(self, key: str, load: Callable[[str], TicketSla | None]) -> TicketSla | None:
        """The ticket's state as the batch left it, else as the table has it."""
        staged = self.states.get(key)
        return staged[1] if staged is not None else load(key)


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


def create_worker(settings: SlaSettings | None = None) -> SlaWorker:
    return SlaWorker(settings or SlaSettings())


def sees(caller: Principal, state: TicketSla) -> bool:
    """Whether ``caller`` may see the ticket's SLA: staff always, a customer when the ticket is
    theirs (the token's subject is the customer's id), as the ticket service decides."""
    if caller.is_staff:
        return True
    customer_id = state.fields.customer_id if state.fields else None
    try:
        return customer_id is not None and customer_id == uuid.UUID(caller.subject)
    except ValueError:
        return False


def _uuid_or_none(value: str | None, name: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValueError(f"{name} must be a UUID; got {value!r}") from None


def traceparent_of(headers: Any) -> str | None:
    """The ``traceparent`` header of a Kafka message."""
    value = header(headers, "traceparent")
    return value.decode() if value else None
