"""The directory's agents in the gateway's store (``mail_agents``), folded from the agent events
of ``helpdesk.directory.v1`` by :func:`mail_gateway.domain.agents.fold`.

Kept in PostgreSQL, not in memory rebuilt from the topic on start: the gateway's consumer group
commits its offsets (a restart does not read the directory again), and gateways that share the
group split its partitions - the directory has one, so only one of them reads it, while every
gateway reads the mail. The store is what they all see, as with the tickets' projection.

A write names the version it was folded from and loses to a newer one already stored, so a
replayed event, or two readers of the topic during a rebalance, never move an agent backwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import asyncpg
import structlog

from helpdesk_events import EventEnvelope
from mail_gateway.domain.agents import AGENT_EVENTS, Agent, fold

log = structlog.get_logger("mail_gateway.directory")


def _agent(row: asyncpg.Record) -> Agent:
    return Agent(**dict(row))  # the table's columns are the record's fields


class AgentDirectory:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def on_event(self, envelope: EventEnvelope) -> None:
        """Fold one directory event into its agent (other events are not the gateway's)."""
        if envelope.stream_type != "agent" or envelope.event_type not in AGENT_EVENTS:
            return
        try:
            envelope.payload()  # the contract's own check: a malformed event is skipped
        except Exception:
            log.warning("unreadable directory event skipped", event_id=str(envelope.event_id))
            return
        agent_id = envelope.stream_id
        current = await self.agent(agent_id)
        folded = fold(
            current, agent_id, envelope.event_type, envelope.data, envelope.stream_version
        )
        if folded is None or folded == current:
            return
        await self._pool.execute(
            "INSERT INTO mail_agents AS a (agent_id, email, name, role, active, version)"
            " VALUES ($1, $2, $3, $4, $5, $6)"
            " ON CONFLICT (agent_id) DO UPDATE SET email = EXCLUDED.email,"
            " name = EXCLUDED.name, role = EXCLUDED.role, active = EXCLUDED.active,"
            " version = EXCLUDED.version WHERE a.version < EXCLUDED.version",
            folded.agent_id, folded.email, folded.name, folded.role, folded.active,
            folded.version,
        )  # fmt: skip

    async def agent(self, agent_id: uuid.UUID) -> Agent | None:
        row = await self._pool.fetchrow("SELECT * FROM mail_agents WHERE agent_id = $1", agent_id)
        return _agent(row) if row else None

    async def active_agent(self, email: str) -> Agent | None:
        """The active agent with this address, if any (a deactivated one is no agent)."""
        row = await self._pool.fetchrow(
            "SELECT * FROM mail_agents WHERE email = $1 AND active ORDER BY version DESC LIMIT 1",
            email.lower(),
        )
        return _agent(row) if row else None

    async def active_addresses(self, emails: Iterable[str]) -> set[str]:
        """Which of these addresses are an active agent's (lower case), in one statement: the
        batch's question of :meth:`active_agent`."""
        wanted = list({e.lower() for e in emails})
        if not wanted:
            return set()
        rows = await self._pool.fetch(
            "SELECT DISTINCT email FROM mail_agents WHERE email = ANY($1::text[]) AND active",
            wanted,
        )
        return {row["email"] for row in rows}

    async def emails(self, agent_ids: Iterable[str]) -> dict[str, str]:
        """The addresses of these agents (ids as the events' actors carry them), active or
        not: an author is left out of their own reply's recipients either way."""
        ids = []
        for value in agent_ids:
            try:
                ids.append(uuid.UUID(value))
            except ValueError:
                continue
        if not ids:
            return {}
        rows = await self._pool.fetch(
            "SELECT agent_id, email FROM mail_agents WHERE agent_id = ANY($1::uuid[])", ids
        )
        return {str(row["agent_id"]): row["email"] for row in rows}
