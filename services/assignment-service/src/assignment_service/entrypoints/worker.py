"""The assignment worker: a Faust app that assigns tickets by the rules of their team.

Three agents, three tables (in RocksDB on the data directory, backed by compacted changelog
topics; helpdesk_platform.faust_tables):

* ``ticket-facts`` (stage 1) consumes ``helpdesk.tickets.v1`` and ``helpdesk.sla.v1`` (same
  partitions, same key: the ticket id). It folds each ticket's facts
  (:func:`~assignment_service.domain.ticket_facts.fold_ticket`) and forwards the facts to the
  ticket's team (old and new team on a team change) - and an ``SlaBreached`` - on the internal
  topic ``<app_id>-team-requests``, keyed by team id: the repartition by team.
* ``directory`` (stage 1b) consumes ``helpdesk.directory.v1`` (one partition): agents'
  availability, activity and teams; it fans out member changes to each team concerned, and team
  details (name, escalation target: a created team gets its default rule).
* ``team-state`` (stage 2) consumes the team topic and runs
  :func:`~assignment_service.service_layer.team_stage.handle`: it chooses agents, sends
  ``AssignTicket`` / ``EscalateTicket`` on ``helpdesk.ticket-commands.v1``, and waits for Kafka's
  acknowledgement before it writes the table, so a crash in between makes the same choice again
  (same command id; the ticket service applies it once).

Forwarded messages, too, are acknowledged before a stage's table is written. Writing the state
and producing the output are still two steps, so every ``reconcile_interval`` seconds the worker
re-sends the facts of each open team ticket without an assignee to its team stage, which decides
what nobody decided and re-sends what nobody answered (see
:mod:`~assignment_service.service_layer.team_stage`, reliability issue #13). The saved rules come
from ``helpdesk.assignment-rules.v1`` through :class:`helpdesk_platform.config_log.ConfigLog`.

HTTP (aiohttp, Faust's web server): ``/healthz``, ``/readyz``, ``/openapi.json`` and the rules
API for managers: ``GET /rules``, ``PUT /rules/{rule_id}``, ``DELETE /rules/{rule_id}``. A rule
naming a team or agent the directory stage has not seen is refused (422). Nothing else is
served: Faust's own views (``/table/ticket-facts/<id>``, ``/router``, ...) would show the tables
to anyone (:mod:`helpdesk_platform.faust_web`).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import faust
import orjson
import structlog
from faust.web import Request, Response, View
from pydantic import ValidationError
from pydantic.json_schema import models_json_schema

from assignment_service.domain.rule_set import (
    RuleSet,
    check_references,
    effective_rules,
    fold_rules,
    parse_rule,
)
from assignment_service.domain.rules import AssignmentRule
from assignment_service.domain.ticket_facts import TicketFacts, fold_ticket, stored_needs_agent
from assignment_service.service_layer import team_stage
from assignment_service.settings import AssignmentSettings
from helpdesk_events import (
    Actor,
    ActorKind,
    EventEnvelope,
    decode_envelope,
    encode_envelope,
    kafka_headers,
)
from helpdesk_events.assignment import (
    ASSIGNMENT_RULES_STREAM,
    AssignmentRuleDeleted,
    AssignmentRuleSaved,
)
from helpdesk_events.topics import ASSIGNMENT_RULES, DIRECTORY, SLA, TICKET_COMMANDS, TICKETS
from helpdesk_platform import faust_memory, faust_worker
from helpdesk_platform.config_http import BearerAuth, HttpRefusal, etag, expected_version
from helpdesk_platform.config_log import ConfigConflict, ConfigLog, ConfigRefused
from helpdesk_platform.faust_batches import header, send_bytes, skip_unreadable, write_tables
from helpdesk_platform.faust_web import web_settings
from helpdesk_platform.kafka_topics import COMPACTED, TopicSpec

log = structlog.get_logger("assignment_service.worker")

RULES_ACTION = "change assignment rules"

#: The one stream of the rules topic (a fixed id, the same on every replica).
RULES_STREAM_ID = uuid.uuid5(uuid.NAMESPACE_URL, "helpdesk:assignment-rules")


def _now() -> datetime:
    return datetime.now(UTC)


def _fold_rules(rules: RuleSet, envelope: EventEnvelope) -> RuleSet:
    return fold_rules(rules, envelope.event_type, envelope.data)


class AssignmentWorker:
    """The Faust app with its topics, tables, agents and web pages."""

    def __init__(self, settings: AssignmentSettings) -> None:
        faust_worker.prepare()  # records never skipped, short fetch waits, RocksDB (issue #13)
        self.settings = settings
        self._assigned = False
        self.auth = BearerAuth(settings.jwt_public_key_file)
        self._background: set[asyncio.Future[Any]] = set()
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
            broker_session_timeout=settings.session_timeout,
            broker_heartbeat_interval=min(3.0, settings.session_timeout / 4),
            web_enabled=True,
            web_bind=settings.http_host,
            web_port=settings.http_port,
            web_in_thread=False,
            **web_settings(OPENAPI["paths"]),
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
        self.rules: ConfigLog[RuleSet] = ConfigLog(
            bootstrap=settings.kafka_bootstrap,
            topic=ASSIGNMENT_RULES,
            stream_id=RULES_STREAM_ID,
            stream_type=ASSIGNMENT_RULES_STREAM,
            initial={},
            fold=_fold_rules,
            client_id=settings.app_id,
        )
        self.app.agent(self.ticket_source, name="ticket-facts")(self._process_tickets)
        self.app.agent(self.directory_source, name="directory")(self._process_directory)
        self.app.agent(self.team_topic, name="team-state")(self._process_teams)
        self.app.task(self._start_rules)
        self.app.timer(settings.reconcile_interval)(self._reconcile)
        self._crash_at = CrashPoint.parse(settings.crash_at)
        self.app.on_partitions_assigned.connect(self._on_assigned)
        faust_memory.freeze_after_recovery(self.app)
        self._add_pages()

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

    # --- lifecycle --------------------------------------------------------------------------

    async def _start_rules(self) -> None:
        self.rules.on_change(self._on_rules_changed)
        await self.rules.start()

    def _on_rules_changed(self, rules: RuleSet, event: EventEnvelope) -> None:
        if not self.rules.caught_up.is_set():
            return  # replaying the history at start: nothing waits yet
        # Tell every team (on its own partition of the team topic) to try its waiting tickets.
        for team_id in list(self.team_names()):
            message = {"kind": "rules", "team_id": str(team_id)}
            sending = asyncio.ensure_future(
                self.team_topic.send(key=str(team_id).encode(), value=orjson.dumps(message))
            )
            self._background.add(sending)
            sending.add_done_callback(self._background.discard)

    async def _on_assigned(self, *args: Any, **kwargs: Any) -> None:
        self._assigned = True

    def ready(self) -> bool:
        settled = not (self.app.rebalancing or self.app.in_recovery)
        return self._assigned and settled and self.rules.caught_up.is_set()

    # --- streams ----------------------------------------------------------------------------

    async def _reconcile(self) -> None:
        """Re-send each open team ticket without an assignee to its team (see the module
        docstring); only when the partitions are settled and recovered."""
        if not self.ready():
            return
        sent = 0
        for index, stored in enumerate(list(self.facts_table.values())):
            if index % 1000 == 999:
                await asyncio.sleep(0)  # a large table is looked at without stalling the streams
            if stored is None or not stored_needs_agent(stored):
                continue
            team_id = str(stored["team_id"])
            message = {"kind": "reconcile", "team_id": team_id, "facts": stored}
            await send_bytes(
                self.app, self.team_topic_name, team_id.encode(), orjson.dumps(message)
            )
            sent += 1
        if sent:
            log.info("reconcile: open team tickets without an assignee re-sent", tickets=sent)

    async def _in_batches(
        self,
        stream: Any,
        handler: Handler,
        wanted: Callable[[Any], bool] | None = None,
        *,
        stage: str = "",
    ) -> None:
        """Run ``handler`` over batches of events: decide all, send all, wait, then write all.

        Events of a batch are decided in order, each seeing the writes of those before it; the
        messages they lead to are sent together and acknowledged by Kafka before any table
        write, so one round trip to Kafka serves the whole batch. The changelog records of a
        batch's writes are acknowledged with the next batch's messages.
        """
        written: list[Awaitable[Any]] = []
        async for events in self._batches(stream):
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
            crash = self._crash_at if batch.sends else None
            if crash:
                crash.reached(stage, "before-send")
            await asyncio.gather(self._send_all(batch.sends), *written)
            if crash:
                crash.reached(stage, "after-send")
            for record in batch.logs:
                log.info(record.pop("event"), **record)
            written = await write_tables(self.app, batch.writes)
            if crash:
                crash.reached(stage, "after-write")

    async def _batches(self, stream: Any) -> Any:
        # Up to BATCH_MAX events, waiting at most BATCH_WITHIN seconds for more: one round trip
        # to Kafka per batch. (Batches once lost events across the rebalance that follows a
        # kill -9; the cause was the seek after recovery, fixed by helpdesk_platform.faust_seek.)
        async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN):
            yield events

    async def _send_all(self, sends: list[tuple[Any, bytes, bytes, Any]]) -> None:
        pending = [
            await send_bytes(self.app, topic.get_topic_name(), key, value, headers=headers)
            for topic, key, value, headers in sends
        ]
        await asyncio.gather(*pending)

    async def _process_tickets(self, stream: Any) -> None:
        await self._in_batches(
            stream, self._on_ticket_or_sla_event, _ticket_event_or_breach, stage="ticket-facts"
        )

    async def _process_directory(self, stream: Any) -> None:
        await self._in_batches(stream, self._on_directory_event, stage="directory")

    async def _process_teams(self, stream: Any) -> None:
        await self.rules.caught_up.wait()
        await self._in_batches(stream, self._on_team_message, stage="team-state")

    def _forward(self, batch: Batch, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            batch.send(self.team_topic, message["team_id"].encode(), orjson.dumps(message), None)

    def _on_ticket_or_sla_event(self, batch: Batch, topic: str, raw: bytes) -> None:
        envelope = decode_envelope(raw)
        key = str(envelope.stream_id)
        stored = batch.get(self.facts_table, key)
        before = None if stored is None else TicketFacts.model_validate(stored)
        if topic == SLA:
            if envelope.event_type == "SlaBreached" and before is not None and before.team_id:
                breach = {
                    "kind": "breach",
                    "team_id": str(before.team_id),
                    "facts": before.model_dump(mode="json"),
                    "cause": str(envelope.event_id),
                }
                self._forward(batch, [breach])
            return
        after = fold_ticket(
            before,
            ticket_id=envelope.stream_id,
            event_type=envelope.event_type,
            version=envelope.stream_version,
            event_id=envelope.event_id,
            data=envelope.data,
        )
        if after is None or after == before:
            return
        facts = after.model_dump(mode="json")
        if before is None or _matters(before, after):
            teams = {team for team in (before.team_id if before else None, after.team_id) if team}
            self._forward(
                batch, [{"kind": "ticket", "team_id": str(team), "facts": facts} for team in teams]
            )
        batch.put(self.facts_table, key, facts)

    def _on_directory_event(self, batch: Batch, topic: str, raw: bytes) -> None:
        envelope = decode_envelope(raw)
        data = envelope.data
        kind = envelope.event_type
        if kind in ("TeamCreated", "TeamDetailsChanged"):
            team_id = envelope.stream_id
            message: dict[str, Any] = {"kind": "team", "team_id": str(team_id)}
            for name in ("name", "tier", "escalates_to"):
                if kind == "TeamCreated" or data.get(name) is not None:
                    message[name] = data.get(name)
            self._forward(batch, [message])
            if data.get("name"):
                # Kept in the table (not only in memory), so a restarted worker still knows the
                # teams created before its committed offset.
                batch.put(self.directory_table, f"team:{team_id}", {"name": data["name"]})
            return
        if kind in ("TeamMemberAdded", "TeamMemberRemoved"):
            agent_id = uuid.UUID(data["agent_id"])
            agent = self._agent(batch, agent_id)
            teams = set(agent["teams"])
            if kind == "TeamMemberAdded":
                teams.add(str(envelope.stream_id))
            else:
                teams.discard(str(envelope.stream_id))
            member = kind == "TeamMemberAdded"
            self._forward(batch, [_member_message(envelope.stream_id, agent_id, agent, member)])
            batch.put(self.directory_table, f"agent:{agent_id}", {**agent, "teams": sorted(teams)})
            return
        changes: dict[str, Any] = {}
        if kind == "AgentAvailabilityChanged":
            changes["availability"] = data["to_availability"]
        elif kind == "AgentDeactivated":
            changes["active"] = False
        elif kind == "AgentReactivated":
            changes["active"] = True
        elif kind != "AgentInvited":
            return
        agent_id = envelope.stream_id
        agent = {**self._agent(batch, agent_id), **changes}
        self._forward(
            batch,
            [_member_message(uuid.UUID(team), agent_id, agent, True) for team in agent["teams"]],
        )
        batch.put(self.directory_table, f"agent:{agent_id}", agent)

    def _agent(self, batch: Batch, agent_id: uuid.UUID) -> dict[str, Any]:
        stored = batch.get(self.directory_table, f"agent:{agent_id}")
        if stored is None:
            return {"availability": "active", "active": True, "teams": []}
        return dict(stored)

    def _on_team_message(self, batch: Batch, topic: str, raw: bytes) -> None:
        message = orjson.loads(raw)
        table = self.team_table
        outcome = team_stage.handle(
            message,
            lambda key: batch.get(table, key),
            self.rules.state,
            _now(),
            lambda prefix: batch.scan(table, prefix),
        )
        for command in outcome.commands:
            batch.send(
                self.commands,
                str(command.stream_id).encode(),
                encode_envelope(command),
                kafka_headers(command, None),
            )
            batch.logs.append(
                {
                    "event": command.event_type,
                    "ticket_id": str(command.stream_id),
                    "agent_id": command.data.get("agent_id"),
                    "rule_id": command.data.get("rule_id"),
                    "event_id": str(command.event_id),
                }
            )
        for key, value in outcome.ordered_writes():
            batch.put(table, key, value)

    # --- HTTP -------------------------------------------------------------------------------

    def _principal_error(self, web: View, request: Request) -> Response | None:
        """None when the caller is a manager; else the 401/403 (503: no key yet) response."""
        try:
            self.auth.role(request.headers.get("Authorization"), action=RULES_ACTION)
        except HttpRefusal as refusal:
            return web.json({"detail": refusal.detail}, status=refusal.status)
        return None

    def team_known(self, team_id: uuid.UUID) -> bool:
        """Whether the directory stage has seen the team created."""
        return self.directory_table.get(f"team:{team_id}") is not None

    def team_names(self) -> dict[uuid.UUID, str]:
        """team id -> name, for GET /rules (the teams' implied default rules) and rule changes."""
        return {
            uuid.UUID(key.removeprefix("team:")): value["name"]
            for key, value in list(self.directory_table.items())
            if key.startswith("team:") and value is not None
        }

    def agent_known(self, agent_id: uuid.UUID) -> bool:
        """Whether the directory stage has seen the agent (invited, or added to a team)."""
        return self.directory_table.get(f"agent:{agent_id}") is not None

    def rules_document(self) -> dict[str, Any]:
        rules = effective_rules(self.rules.state, sorted(self.team_names().items()))
        return {
            "version": self.rules.version,
            "rules": [
                {**rule.model_dump(mode="json"), "saved": rule.rule_id in self.rules.state}
                for rule in rules
            ],
        }

    async def _write_rule(
        self, web: View, request: Request, event: AssignmentRuleSaved | AssignmentRuleDeleted
    ) -> Response:
        try:
            expected = expected_version(request.headers.get("If-Match"), read_from="GET /rules")
        except HttpRefusal as refusal:
            return web.json({"detail": refusal.detail}, status=refusal.status)
        actor = Actor(kind=ActorKind.AGENT, id="manager", role="manager")
        try:
            version = await self.rules.append(event, expected_version=expected, actor=actor)
        except ConfigConflict as error:
            return web.json({"detail": str(error)}, status=409)
        except ConfigRefused as error:
            return web.json({"detail": str(error)}, status=422)
        response = web.json({**self.rules_document(), "version": version})
        response.headers["ETag"] = etag(version)
        return response

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

        @app.page("/rules")
        class RulesPage(View):
            async def get(self, request: Request) -> Response:
                denied = worker._principal_error(self, request)
                if denied is not None:
                    return denied
                response = self.json(worker.rules_document())
                response.headers["ETag"] = etag(worker.rules.version)
                return response

        @app.page("/rules/{rule_id}")
        class RulePage(View):
            async def put(self, request: Request, rule_id: str) -> Response:
                denied = worker._principal_error(self, request)
                if denied is not None:
                    return denied
                try:
                    body = orjson.loads(await request.read())
                except orjson.JSONDecodeError:
                    return self.json({"detail": "the body must be a JSON rule"}, status=422)
                if not isinstance(body, dict):
                    return self.json({"detail": "the body must be a JSON object"}, status=422)
                if body.setdefault("rule_id", rule_id) != rule_id:
                    return self.json(
                        {"detail": "rule_id in the body differs from the path"}, status=422
                    )
                try:
                    rule = parse_rule(body)
                    check_references(rule, worker.team_known, worker.agent_known)
                except ValueError as error:
                    return self.json({"detail": str(error)}, status=422)
                event = AssignmentRuleSaved(rule=rule.model_dump(mode="json"))
                return await worker._write_rule(self, request, event)

            async def delete(self, request: Request, rule_id: str) -> Response:
                denied = worker._principal_error(self, request)
                if denied is not None:
                    return denied
                if rule_id not in worker.rules.state:
                    return self.json({"detail": f"there is no saved rule {rule_id!r}"}, status=404)
                return await worker._write_rule(
                    self, request, AssignmentRuleDeleted(rule_id=rule_id)
                )


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
    """What a batch of events leads to: messages to send, then table writes (see _in_batches).

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


Handler = Callable[[Batch, str, bytes], None]

#: At most this many events per batch; a batch waits at most BATCH_WITHIN seconds to fill.
BATCH_MAX = 500
#: 20 ms: with 5 ms a batch held about one event at 100 tickets/s on the whole stack, and the
#: produce requests and commits per batch cost the machine more CPU than the 15 ms saved.
BATCH_WITHIN = 0.02


def _ticket_event_or_breach(message: Any) -> bool:
    """Of the SLA topic only breaches matter here; the others (most of it: timers started,
    warnings, met targets) are passed over by their header, without decoding them. A record
    without the header is decoded and judged by its envelope."""
    if message.topic != SLA:
        return True
    event_type = header(message.headers, "event_type")
    return event_type is None or event_type == b"SlaBreached"


def _matters(before: TicketFacts, after: TicketFacts) -> bool:
    """Whether the team stage must hear of the change (more than a new version)."""
    same_version = before.model_copy(
        update={"version": after.version, "last_event_id": after.last_event_id}
    )
    return same_version != after


def _member_message(
    team_id: uuid.UUID, agent_id: uuid.UUID, agent: Mapping[str, Any], member: bool
) -> dict[str, Any]:
    return {
        "kind": "member",
        "team_id": str(team_id),
        "agent_id": str(agent_id),
        "member": member,
        "availability": agent["availability"],
        "active": agent["active"],
    }


_RULE_ID = {"name": "rule_id", "in": "path", "required": True, "schema": {"type": "string"}}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": "the rules version read (ETag of GET /rules)",
}
_WRITE_RESPONSES = {
    "200": {"description": "the rules after the change; ETag: the new version"},
    "401": {"description": "no valid bearer token"},
    "403": {"description": "not a manager"},
    "409": {"description": "the rules changed since the If-Match version"},
    "422": {
        "description": "the rule is not valid, or names a team or agent that does not exist "
        "(the message says why)"
    },
    "428": {"description": "If-Match is missing"},
}


def _rule_schemas() -> dict[str, Any]:
    """The JSON Schema of a rule (from the pydantic model), as OpenAPI component schemas. The
    body's ``rule_id`` may be left out: the path names the rule."""
    _, top = models_json_schema(
        [(AssignmentRule, "validation")], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = dict(top["$defs"])
    rule = dict(schemas["AssignmentRule"])
    rule["required"] = [name for name in rule.get("required", []) if name != "rule_id"]
    schemas["AssignmentRule"] = rule
    return schemas


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Assignment service", "version": "0.1.0"},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        "schemas": _rule_schemas(),
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
                "summary": "Readiness (partitions assigned, state and rules recovered)",
                "responses": {"200": {"description": "ready"}, "503": {"description": "not yet"}},
            }
        },
        "/rules": {
            "get": {
                "summary": "The assignment rules in order, with each team's implied default",
                "security": [{"bearer": []}],
                "responses": {
                    "200": {"description": "version and rules; ETag: the version"},
                    "401": {"description": "no valid bearer token"},
                    "403": {"description": "not a manager"},
                },
            }
        },
        "/rules/{rule_id}": {
            "put": {
                "summary": "Create or replace a rule",
                "security": [{"bearer": []}],
                "parameters": [_RULE_ID, _IF_MATCH],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/AssignmentRule"}
                        }
                    },
                },
                "responses": _WRITE_RESPONSES,
            },
            "delete": {
                "summary": "Delete a saved rule (a team default comes back)",
                "security": [{"bearer": []}],
                "parameters": [_RULE_ID, _IF_MATCH],
                "responses": {**_WRITE_RESPONSES, "404": {"description": "no such saved rule"}},
            },
        },
    },
}


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


def create_worker(settings: AssignmentSettings | None = None) -> AssignmentWorker:
    return AssignmentWorker(settings or AssignmentSettings())
