"""Stage 1b: agents' availability, activity and teams, from ``helpdesk.directory.v1``.

One partition, so one order. The stage keeps each agent (availability, active, teams) and each
team's name and languages (routing ``by_language``) in the ``directory`` table, fans member
changes out to every team concerned and forwards team details (name, tier, escalation target: a
created team gets its default rule) to the team stage. The rules API asks it which teams and
agents exist (:class:`DirectoryView`). Faust-free: the table and the team topic are handed in.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from assignment_service.service_layer.batch import Batch
from assignment_service.service_layer.facts_stage import forward
from helpdesk_events import decode_envelope

__all__ = ["DirectoryStage", "DirectoryView", "member_message"]


def member_message(
    team_id: uuid.UUID, agent_id: uuid.UUID, agent: Mapping[str, Any], member: bool
) -> dict[str, Any]:
    return {
        "kind": "member",
        "team_id": str(team_id),
        "agent_id": str(agent_id),
        "member": member,
        "availability": agent["availability"],
        "active": agent["active"],
        "email": agent.get("email"),
    }


class DirectoryView:
    """What the directory table says, for the admin API (reads the table as it is)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def team_known(self, team_id: uuid.UUID) -> bool:
        """Whether the directory stage has seen the team created."""
        return self.table.get(f"team:{team_id}") is not None

    def team_names(self) -> dict[uuid.UUID, str]:
        """team id -> name, for GET /rules (the teams' implied default rules) and rule changes."""
        return {
            uuid.UUID(key.removeprefix("team:")): value["name"]
            for key, value in list(self.table.items())
            if key.startswith("team:") and value is not None
        }

    def team_languages(self) -> dict[uuid.UUID, tuple[str, ...]]:
        """team id -> the languages it answers in, for routing ``by_language``."""
        return {
            uuid.UUID(key.removeprefix("team:")): tuple(value.get("languages") or ())
            for key, value in list(self.table.items())
            if key.startswith("team:") and value is not None
        }

    def agent_known(self, agent_id: uuid.UUID) -> bool:
        """Whether the directory stage has seen the agent (invited, or added to a team)."""
        return self.table.get(f"agent:{agent_id}") is not None

    def agent_teams(self, agent_id: uuid.UUID) -> frozenset[uuid.UUID]:
        """The teams the agent is a member of."""
        agent = self.table.get(f"agent:{agent_id}") or {}
        return frozenset(uuid.UUID(team) for team in agent.get("teams", ()))


class DirectoryStage:
    """The ``directory`` stage over its table, forwarding to ``team_topic``."""

    def __init__(self, directory_table: Any, team_topic: Any) -> None:
        self.table = directory_table
        self.team_topic = team_topic

    def on_event(self, batch: Batch, topic: str, raw: bytes) -> None:
        envelope = decode_envelope(raw)
        data = envelope.data
        kind = envelope.event_type
        if kind in ("TeamCreated", "TeamDetailsChanged"):
            team_id = envelope.stream_id
            message: dict[str, Any] = {"kind": "team", "team_id": str(team_id)}
            for name in ("name", "tier", "escalates_to"):
                if kind == "TeamCreated" or data.get(name) is not None:
                    message[name] = data.get(name)
            forward(batch, self.team_topic, [message])
            if data.get("name"):
                # Kept in the table (not only in memory), so a restarted worker still knows the
                # teams created before its committed offset.
                stored = dict(batch.get(self.table, f"team:{team_id}") or {})
                stored["name"] = data["name"]
                if kind == "TeamCreated":
                    stored["languages"] = list(data.get("languages") or ())
                batch.put(self.table, f"team:{team_id}", stored)
            return
        if kind == "TeamRegionChanged":  # the languages routing by_language reads
            key = f"team:{envelope.stream_id}"
            stored = batch.get(self.table, key)
            if stored is not None:
                batch.put(
                    self.table, key, {**stored, "languages": list(data.get("languages") or ())}
                )
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
            forward(
                batch,
                self.team_topic,
                [member_message(envelope.stream_id, agent_id, agent, member)],
            )
            batch.put(self.table, f"agent:{agent_id}", {**agent, "teams": sorted(teams)})
            return
        changes: dict[str, Any] = {}
        if kind == "AgentAvailabilityChanged":
            changes["availability"] = data["to_availability"]
        elif kind == "AgentDeactivated":
            changes["active"] = False
        elif kind == "AgentReactivated":
            changes["active"] = True
        elif kind == "AgentInvited":
            changes["email"] = str(data.get("email") or "").strip().lower() or None
        else:
            return
        agent_id = envelope.stream_id
        agent = {**self._agent(batch, agent_id), **changes}
        forward(
            batch,
            self.team_topic,
            [member_message(uuid.UUID(team), agent_id, agent, True) for team in agent["teams"]],
        )
        batch.put(self.table, f"agent:{agent_id}", agent)

    def _agent(self, batch: Batch, agent_id: uuid.UUID) -> dict[str, Any]:
        stored = batch.get(self.table, f"agent:{agent_id}")
        if stored is None:
            return {"availability": "active", "active": True, "teams": []}
        return dict(stored)
