"""Stage 1: each ticket's facts, folded from the ticket and SLA topics, forwarded to its team;
team routing for the tickets without one.

Events arrive keyed by ticket id. The stage folds them
(:func:`~assignment_service.domain.ticket_facts.fold_ticket`) into the ``ticket-facts`` table and
forwards the facts to the ticket's team (old and new team on a team change) - and an
``SlaBreached`` - as messages keyed by team id: the repartition by team that the team stage
(:mod:`~assignment_service.service_layer.team_stage`) reads. Faust-free: the tables and the team
topic are handed in, and effects go through a :class:`Batch`.

Routing (issue #20 item 1): when a ticket without a team (and without an assignee) is created or
changes, the routing rules choose a team (:func:`~assignment_service.domain.routing.choose_team`)
and the stage sends ``RouteTicket`` to the ticket service, which sets the team; the
``TeamChanged`` that comes back brings the ticket to that team's stage like any other. The
command's id is derived from the ticket's last event, so the periodic reconciliation
(:func:`route_command`) re-sends the same id for a ticket still without a team - which also
routes the waiting tickets after the routing rules changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import orjson

from assignment_service.domain.routing import RoutingConfig, TeamLanguages, choose_team
from assignment_service.domain.ticket_facts import TicketFacts, fold_ticket, stored_needs_agent
from assignment_service.service_layer.batch import Batch
from assignment_service.service_layer.team_stage import command_envelope
from helpdesk_events import EventEnvelope, decode_envelope
from helpdesk_events.commands import RouteTicket
from helpdesk_events.topics import SLA

__all__ = ["FactsStage", "forward", "reconcile_messages", "route_command"]


def forward(batch: Batch, team_topic: Any, messages: list[dict[str, Any]]) -> None:
    """Send messages to the team stage, each keyed by its team id."""
    for message in messages:
        batch.send(team_topic, message["team_id"].encode(), orjson.dumps(message), None)


def _matters(before: TicketFacts, after: TicketFacts) -> bool:
    """Whether the team stage must hear of the change (more than a new version)."""
    same_version = before.model_copy(
        update={"version": after.version, "last_event_id": after.last_event_id}
    )
    return same_version != after


def reconcile_messages(stored_facts: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``reconcile`` message for one stored ticket, when it is an open team ticket without
    an assignee (see :mod:`~assignment_service.service_layer.team_stage`)."""
    if stored_facts is None or not stored_needs_agent(stored_facts):
        return None
    return {"kind": "reconcile", "team_id": str(stored_facts["team_id"]), "facts": stored_facts}


def route_command(
    facts: TicketFacts,
    routing: RoutingConfig,
    now: datetime,
    languages: TeamLanguages | None = None,
) -> EventEnvelope | None:
    """``RouteTicket`` for a ticket that needs a team and that routing gives one (``languages``:
    the teams' languages, for ``by_language`` rules); else None."""
    if not facts.needs_team or facts.last_event_id is None:
        return None
    choice = choose_team(routing, facts.condition_fields(), languages)
    if choice is None:
        return None
    command = RouteTicket(
        ticket_id=facts.ticket_id,
        team_id=choice.team_id,
        expected_version=max(1, facts.version),
        rule_id=choice.rule_id,
    )
    return command_envelope(command, facts, facts.last_event_id, now)


class FactsStage:
    """The ``ticket-facts`` stage over its table, forwarding to ``team_topic`` and sending
    ``RouteTicket`` on ``commands_topic``."""

    def __init__(
        self,
        facts_table: Any,
        team_topic: Any,
        commands_topic: Any,
        routing: Callable[[], RoutingConfig],
        clock: Callable[[], datetime],
        languages: Callable[[], TeamLanguages] = dict,
    ) -> None:
        self.facts_table = facts_table
        self.team_topic = team_topic
        self.commands_topic = commands_topic
        self.routing = routing
        self.clock = clock
        self.languages = languages

    def on_event(self, batch: Batch, topic: str, raw: bytes) -> None:
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
                forward(batch, self.team_topic, [breach])
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
            self._route(batch, after)
            teams = {team for team in (before.team_id if before else None, after.team_id) if team}
            forward(
                batch,
                self.team_topic,
                [{"kind": "ticket", "team_id": str(team), "facts": facts} for team in teams],
            )
        batch.put(self.facts_table, key, facts)

    def _route(self, batch: Batch, facts: TicketFacts) -> None:
        command = route_command(facts, self.routing(), self.clock(), self.languages())
        if command is None:
            return
        batch.send_envelope(
            self.commands_topic,
            command,
            team_id=command.data["team_id"],
            rule_id=command.data["rule_id"],
        )
