"""The directory's agents in the gateway's store, on a real PostgreSQL: folded in version order,
a replay changes nothing, a deactivated agent is no agent, authors are found by id."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from helpdesk_events import Actor, ActorKind, EventEnvelope
from mail_gateway.adapters.directory import AgentDirectory
from mail_gateway.adapters.store import create_pool

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool(make_database: Callable[[str], str]) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(make_database("mailagents"), max_size=2)
    yield pool
    await pool.close()


def event(
    agent_id: uuid.UUID, event_type: str, version: int, stream_type: str = "agent", **data: Any
) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event_type,
        schema_version=1,
        stream_id=agent_id,
        stream_type=stream_type,
        stream_version=version,
        occurred_at=datetime.now(UTC),
        actor=Actor(kind=ActorKind.AGENT, id="manager-1", role="manager"),
        correlation_id=uuid.uuid4(),
        data=data,
    )


async def test_agents_are_folded_in_order_and_a_replay_changes_nothing(
    pool: asyncpg.Pool,
) -> None:
    directory = AgentDirectory(pool)
    sari = uuid.uuid4()
    invited = event(sari, "AgentInvited", 1, email="Sari@Helpdesk.Example", name="Sari",
                    role="agent")  # fmt: skip
    await directory.on_event(invited)
    found = await directory.active_agent("sari@helpdesk.example")
    assert found is not None and (found.agent_id, found.role) == (sari, "agent")

    await directory.on_event(event(sari, "AgentRoleChanged", 2, from_role="agent",
                                   to_role="manager"))  # fmt: skip
    deactivated = event(sari, "AgentDeactivated", 3)
    await directory.on_event(deactivated)
    assert await directory.active_agent("SARI@helpdesk.example") is None  # no agent any more
    # The topic read again from the start (a new consumer group, a rebalance): still inactive.
    await directory.on_event(invited)
    await directory.on_event(deactivated)
    stored = await directory.agent(sari)
    assert stored is not None and not stored.active and stored.role == "manager"
    assert stored.version == 3

    await directory.on_event(event(sari, "AgentReactivated", 4))
    again = await directory.active_agent("sari@helpdesk.example")
    assert again is not None and again.role == "manager"


async def test_teams_and_unknown_agents_leave_nothing_and_authors_are_found_by_id(
    pool: asyncpg.Pool,
) -> None:
    directory = AgentDirectory(pool)
    team, stranger, dewi = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await directory.on_event(event(team, "TeamCreated", 1, stream_type="team", name="L1"))
    await directory.on_event(event(stranger, "AgentDeactivated", 2))
    assert await directory.agent(team) is None and await directory.agent(stranger) is None
    await directory.on_event(
        event(dewi, "AgentInvited", 1, email="dewi@helpdesk.example", name="Dewi", role="agent")
    )
    assert await directory.emails([str(dewi), "mail-gateway", str(stranger)]) == {
        str(dewi): "dewi@helpdesk.example"
    }


async def test_a_malformed_directory_event_is_skipped(pool: asyncpg.Pool) -> None:
    directory = AgentDirectory(pool)
    broken = uuid.uuid4()
    await directory.on_event(event(broken, "AgentInvited", 1, name="No address", role="agent"))
    assert await directory.agent(broken) is None
