"""Who the helpdesk's agents are, as the gateway needs to know them: an agent who answers a
ticket's mail from their own mailbox writes an agent's public reply, not a customer's message.

The ticket service is the one writer of the directory (``helpdesk.directory.v1``); the gateway
folds the agent events into one record per agent, in the stream's version order. A record
changes only with a newer version, so a replayed or repeated event changes nothing. A
deactivated agent is no agent any more: their mail is anyone's mail again.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

#: The directory events that change what the gateway keeps of an agent.
AGENT_EVENTS = frozenset(
    {"AgentInvited", "AgentRoleChanged", "AgentDeactivated", "AgentReactivated"}
)


@dataclass(frozen=True)
class Agent:
    agent_id: uuid.UUID
    email: str
    name: str
    role: str  # agent | technician | manager (the token's role)
    active: bool
    version: int


def fold(
    current: Agent | None,
    agent_id: uuid.UUID,
    event_type: str,
    data: Mapping[str, Any],
    version: int,
) -> Agent | None:
    """The agent after one directory event of their stream (``version`` its stream version);
    ``current`` unchanged for an older or repeated event, an event of another kind, or a change
    to an agent whose invitation the gateway never saw (nothing to attach it to)."""
    if event_type not in AGENT_EVENTS or (current is not None and version <= current.version):
        return current
    if event_type == "AgentInvited":
        return Agent(
            agent_id=agent_id,
            email=str(data["email"]).strip().lower(),
            name=str(data.get("name") or data["email"]),
            role=str(data["role"]),
            active=True,
            version=version,
        )
    if current is None:
        return None
    if event_type == "AgentRoleChanged":
        return replace(current, role=str(data["to_role"]), version=version)
    return replace(current, active=event_type == "AgentReactivated", version=version)
