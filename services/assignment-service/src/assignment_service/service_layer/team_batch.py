"""Stage 2 in a batch: one team message through :func:`team_stage.handle`, its commands sent on
the ticket-command topic, its ``AssignmentBlocked`` events on the assignment topic and its writes
staged (Faust-free: the table and topics are handed in)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from assignment_service.domain.rule_set import RuleSet
from assignment_service.service_layer import team_stage
from assignment_service.service_layer.batch import Batch

__all__ = ["TeamStage"]


class TeamStage:
    """The ``team-state`` stage over its table, sending commands to ``commands_topic``."""

    def __init__(
        self,
        team_table: Any,
        commands_topic: Any,
        events_topic: Any,
        rules: Callable[[], RuleSet],
        clock: Callable[[], datetime],
    ) -> None:
        self.table = team_table
        self.commands_topic = commands_topic
        self.events_topic = events_topic
        self.rules = rules
        self.clock = clock

    def on_message(self, batch: Batch, topic: str, raw: bytes) -> None:
        message = orjson.loads(raw)
        table = self.table
        outcome = team_stage.handle(
            message,
            lambda key: batch.get(table, key),
            self.rules(),
            self.clock(),
            lambda prefix: batch.scan(table, prefix),
        )
        for command in outcome.commands:
            batch.send_envelope(
                self.commands_topic,
                command,
                agent_id=command.data.get("agent_id"),
                rule_id=command.data.get("rule_id"),
                event_id=str(command.event_id),
            )
        for event in outcome.events:
            batch.send_envelope(
                self.events_topic,
                event,
                reason=event.data.get("reason"),
                rule_id=event.data.get("rule_id"),
            )
        for key, value in outcome.ordered_writes():
            batch.put(table, key, value)
