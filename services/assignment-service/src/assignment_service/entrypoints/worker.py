"""The assignment worker: the wiring of Faust agents and timers to the service layer.

Three agents, three tables (see :mod:`assignment_service.adapters.faust_app`):

* ``ticket-facts`` (stage 1, :class:`~assignment_service.service_layer.facts_stage.FactsStage`)
  consumes ``helpdesk.tickets.v1`` and ``helpdesk.sla.v1`` (same partitions, same key: the ticket
  id), folds each ticket's facts and forwards them - and an ``SlaBreached`` - to the ticket's
  team on the internal topic ``<app_id>-team-requests``, keyed by team id;
* ``directory`` (stage 1b, :mod:`~assignment_service.service_layer.directory_stage`)
  consumes ``helpdesk.directory.v1`` (one partition): agents' availability, activity and teams;
* ``team-state`` (stage 2, :mod:`~assignment_service.service_layer.team_stage`) chooses agents and
  sends ``AssignTicket`` / ``UnassignTicket`` / ``EscalateTicket`` on
  ``helpdesk.ticket-commands.v1``, and waits for Kafka's acknowledgement before it writes the
  table, so a crash in between makes the same choice again (same command id).

Writing the state and producing the output are two steps, so every ``reconcile_interval``
seconds the worker re-sends the facts of each open team ticket without an assignee to its team
stage (reliability issue #13). The saved rules come from ``helpdesk.assignment-rules.v1``
through :class:`helpdesk_platform.config_log.ConfigLog`.

HTTP (Faust's web server): ``/healthz``, ``/readyz``, ``/openapi.json`` and the admin API
(:mod:`assignment_service.entrypoints.admin_api`). Nothing else is served: Faust's own views would
show the tables to anyone (:mod:`helpdesk_platform.faust_web`).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog

from assignment_service.adapters.faust_app import (
    AssignmentApp,
    own_topics,
    run_in_batches,
    team_topic_name,
    ticket_event_or_breach,
)
from assignment_service.domain.routing import RoutingConfig, fold_routing
from assignment_service.domain.rule_set import RuleSet, fold_rules
from assignment_service.domain.ticket_facts import TicketFacts
from assignment_service.entrypoints.admin_api import RULES_OPERATIONS, RulesApi
from assignment_service.entrypoints.api_docs import openapi_document, served_paths
from assignment_service.entrypoints.routing_api import ROUTING_OPERATIONS, RoutingApi
from assignment_service.entrypoints.unassignable_api import UNASSIGNABLE_OPERATIONS, UnassignableApi
from assignment_service.service_layer.batch import CrashPoint
from assignment_service.service_layer.directory_stage import DirectoryStage, DirectoryView
from assignment_service.service_layer.facts_stage import (
    FactsStage,
    reconcile_messages,
    route_command,
)
from assignment_service.service_layer.team_batch import TeamStage
from assignment_service.settings import AssignmentSettings
from helpdesk_events import EventEnvelope, encode_envelope
from helpdesk_events.assignment import ASSIGNMENT_RULES_STREAM
from helpdesk_events.topics import ASSIGNMENT_RULES
from helpdesk_platform.config_http import BearerAuth
from helpdesk_platform.config_log import ConfigLog
from helpdesk_platform.faust_worker import add_health_pages

log = structlog.get_logger("assignment_service.worker")

__all__ = ["RULES_STREAM_ID", "AssignmentWorker", "create_worker", "own_topics", "team_topic_name"]

#: The assignment rules' stream of the rules topic (a fixed id, the same on every replica).
RULES_STREAM_ID = uuid.uuid5(uuid.NAMESPACE_URL, "helpdesk:assignment-rules")
#: The team routing's stream of the same topic.
ROUTING_STREAM_ID = uuid.uuid5(uuid.NAMESPACE_URL, "helpdesk:assignment-routing")


#: Every route the worker serves, for the OpenAPI document and Faust's web server.
OPERATIONS = [*RULES_OPERATIONS, *ROUTING_OPERATIONS, *UNASSIGNABLE_OPERATIONS]


def _now() -> datetime:
    return datetime.now(UTC)


def _fold_rules(rules: RuleSet, envelope: EventEnvelope) -> RuleSet:
    return fold_rules(rules, envelope.event_type, envelope.data)


def _fold_routing(config: RoutingConfig, envelope: EventEnvelope) -> RoutingConfig:
    return fold_routing(config, envelope.event_type, envelope.data)


class AssignmentWorker:
    """The Faust app with its agents, timer and web pages, wired to the service layer."""

    def __init__(self, settings: AssignmentSettings) -> None:
        self.settings = settings
        self._assigned = False
        self._background: set[asyncio.Future[Any]] = set()
        self.faust = AssignmentApp(settings, served_paths(OPERATIONS))
        self.app = self.faust.app
        self.team_topic_name = self.faust.team_topic_name
        self.team_topic = self.faust.team_topic
        self.facts_table = self.faust.facts_table
        self.directory_table = self.faust.directory_table
        self.team_table = self.faust.team_table
        self.rules: ConfigLog[RuleSet] = ConfigLog(
            bootstrap=settings.kafka_bootstrap,
            topic=ASSIGNMENT_RULES,
            stream_id=RULES_STREAM_ID,
            stream_type=ASSIGNMENT_RULES_STREAM,
            initial={},
            fold=_fold_rules,
            client_id=settings.app_id,
        )
        self.routing: ConfigLog[RoutingConfig] = ConfigLog(
            bootstrap=settings.kafka_bootstrap,
            topic=ASSIGNMENT_RULES,
            stream_id=ROUTING_STREAM_ID,
            stream_type=ASSIGNMENT_RULES_STREAM,
            initial=RoutingConfig(),
            fold=_fold_routing,
            client_id=f"{settings.app_id}-routing",
        )
        self.directory = DirectoryView(self.directory_table)
        self.facts_stage = FactsStage(
            self.facts_table,
            self.team_topic,
            self.faust.commands,
            lambda: self.routing.state,
            _now,
            self.directory.team_languages,
        )
        self.directory_stage = DirectoryStage(self.directory_table, self.team_topic)
        self.team_stage = TeamStage(
            self.team_table,
            self.faust.commands,
            self.faust.assignment_events,
            lambda: self.rules.state,
            _now,
        )
        auth = BearerAuth(settings.jwt_public_key_file)
        self.rules_api = RulesApi(self.rules, self.directory, auth)
        self.routing_api = RoutingApi(self.routing, self.directory, auth)
        self.unassignable_api = UnassignableApi(
            lambda: list(self.team_table.items()),
            lambda: list(self.facts_table.values()),
            lambda: self.routing.state,
            auth,
            self.directory.team_languages,
        )
        self._crash_at = CrashPoint.parse(settings.crash_at)
        self.app.agent(self.faust.ticket_source, name="ticket-facts")(self._process_tickets)
        self.app.agent(self.faust.directory_source, name="directory")(self._process_directory)
        self.app.agent(self.team_topic, name="team-state")(self._process_teams)
        self.app.task(self._start_rules)
        self.app.timer(settings.reconcile_interval)(self._reconcile)
        self.app.on_partitions_assigned.connect(self._on_assigned)
        self._add_pages()

    # --- lifecycle --------------------------------------------------------------------------

    async def _start_rules(self) -> None:
        self.rules.on_change(self._on_rules_changed)
        await asyncio.gather(self.rules.start(), self.routing.start())

    def _on_rules_changed(self, rules: RuleSet, event: EventEnvelope) -> None:
        if not self.rules.caught_up.is_set():
            return  # replaying the history at start: nothing waits yet
        # Tell every team (on its own partition of the team topic) to try its waiting tickets.
        for team_id in list(self.directory.team_names()):
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
        caught_up = self.rules.caught_up.is_set() and self.routing.caught_up.is_set()
        return self._assigned and settled and caught_up

    # --- streams ----------------------------------------------------------------------------

    async def _reconcile(self) -> None:
        """Re-send each open team ticket without an assignee to its team, and route again each
        open ticket without a team (see the module docstring); only when the partitions are
        settled and recovered."""
        if not self.ready():
            return
        sent = 0
        for index, stored in enumerate(list(self.facts_table.values())):
            if index % 1000 == 999:
                await asyncio.sleep(0)  # a large table is looked at without stalling the streams
            message = reconcile_messages(stored)
            if message is None:
                await self._route_again(stored)
                continue
            team_id = message["team_id"]
            await self.faust.send_raw(self.team_topic_name, team_id.encode(), orjson.dumps(message))
            sent += 1
        if sent:
            log.info("reconcile: open team tickets without an assignee re-sent", tickets=sent)

    async def _route_again(self, stored: Any) -> None:
        if stored is None or stored.get("team_id") is not None or stored.get("assignee_id"):
            return
        facts = TicketFacts.model_validate(stored)
        languages = self.directory.team_languages()
        command = route_command(facts, self.routing.state, _now(), languages)
        if command is not None:
            key = str(command.stream_id).encode()
            topic = self.faust.commands.get_topic_name()
            await self.faust.send_raw(topic, key, encode_envelope(command))

    async def _process_tickets(self, stream: Any) -> None:
        await self.routing.caught_up.wait()
        await run_in_batches(
            self.faust,
            stream,
            self.facts_stage.on_event,
            ticket_event_or_breach,
            stage="ticket-facts",
            crash=self._crash_at,
        )

    async def _process_directory(self, stream: Any) -> None:
        await run_in_batches(
            self.faust,
            stream,
            self.directory_stage.on_event,
            stage="directory",
            crash=self._crash_at,
        )

    async def _process_teams(self, stream: Any) -> None:
        await self.rules.caught_up.wait()
        await run_in_batches(
            self.faust,
            stream,
            self.team_stage.on_message,
            stage="team-state",
            crash=self._crash_at,
        )

    # --- HTTP -------------------------------------------------------------------------------

    def _add_pages(self) -> None:
        app = self.app
        add_health_pages(app, self.ready, openapi_document(OPERATIONS))

        self.rules_api.register(app)
        self.routing_api.register(app)
        self.unassignable_api.register(app)


def create_worker(settings: AssignmentSettings | None = None) -> AssignmentWorker:
    return AssignmentWorker(settings or AssignmentSettings())
