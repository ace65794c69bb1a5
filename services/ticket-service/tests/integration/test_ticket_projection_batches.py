"""The ticket read model from a batch is the read model from the same events one by one.

A batch writes each ticket's row once for all its column changes (``_PendingRows``): these
histories interleave two tickets, change a column twice, add messages, tags, custom fields,
solve and reopen, and reorder the priorities in the middle (the ranks must follow the rows'
priorities as they are at that point of the log)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from helpdesk_events import (
    Actor,
    ActorKind,
    DomainEvent,
    EventEnvelope,
    MessageAdded,
    PriorityChanged,
    StatusChanged,
    TagsChanged,
    TicketAssigned,
)
from helpdesk_events.tickets import (
    CustomFieldChange,
    CustomFieldsChanged,
    TicketCreated,
    Visibility,
)
from ticket_service.adapters.event_store import create_pool
from ticket_service.adapters.migrate import upgrade
from ticket_service.adapters.ticket_projection import TicketsProjection
from ticket_service.domain.options import CONFIG_STREAM_ID, DEFAULT_OPTIONS
from ticket_service.service_layer.event_store import LogPosition, RecordedEvent

pytestmark = pytest.mark.integration

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Log:
    """Events of several streams in log order, with stream versions counted per stream."""

    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []
        self._versions: dict[uuid.UUID, int] = {}

    def add(self, stream_id: uuid.UUID, stream_type: str, event: DomainEvent) -> None:
        version = self._versions[stream_id] = self._versions.get(stream_id, 0) + 1
        envelope = EventEnvelope(
            event_id=uuid.uuid4(),
            event_type=event.event_type,
            schema_version=event.schema_version,
            stream_id=stream_id,
            stream_type=stream_type,
            stream_version=version,
            occurred_at=START + timedelta(minutes=len(self.events)),
            actor=Actor(kind=ActorKind.AGENT, id="sari"),
            correlation_id=uuid.uuid4(),
            data=event.model_dump(mode="json"),
        )
        self.events.append(RecordedEvent(envelope, LogPosition(1, len(self.events)), None))


def message(text: str) -> MessageAdded:
    return MessageAdded(
        message_id=uuid.uuid4(), visibility=Visibility.PUBLIC, body_html=f"<p>{text}</p>",
        body_text=text, channel="email",
    )  # fmt: skip


def history() -> Log:
    log = Log()
    first, second = uuid.uuid4(), uuid.uuid4()
    for ticket in (first, second):
        log.add(ticket, "ticket", TicketCreated(
            subject="Printer jammed", channel="email", status="New", priority="Low",
        ))  # fmt: skip
    log.add(first, "ticket", message("It jams on every page."))
    log.add(second, "ticket", message("Mine too."))
    log.add(first, "ticket", PriorityChanged(from_priority="Low", to_priority="High"))
    log.add(first, "ticket", TagsChanged(added=("printer", "hardware")))
    log.add(second, "ticket", TicketAssigned(assignee_id=uuid.UUID(int=7)))
    reordered = DEFAULT_OPTIONS.to_event().model_copy(
        update={"priorities": tuple(reversed(DEFAULT_OPTIONS.priorities))}
    )
    log.add(CONFIG_STREAM_ID, "config", reordered)
    log.add(second, "ticket", PriorityChanged(from_priority="Low", to_priority="Urgent"))
    log.add(first, "ticket", message("Still jams."))
    log.add(first, "ticket", StatusChanged(from_status="New", to_status="Solved"))
    log.add(first, "ticket", StatusChanged(from_status="Solved", to_status="Open"))
    log.add(first, "ticket", TagsChanged(removed=("hardware",)))
    log.add(second, "ticket", CustomFieldsChanged(changes=(
        CustomFieldChange(key="printer_model", old=None, new="LX-300"),
    )))  # fmt: skip
    log.add(second, "ticket", StatusChanged(from_status="New", to_status="Solved"))
    return log


@pytest.fixture
async def two_databases(
    make_database: Callable[[str], str],
) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    """Databases of this test's own: the events are applied without being in their log."""
    pools = []
    for name in ("one_by_one", "as_a_batch"):
        url = make_database(f"projection_{name}")
        await asyncio.to_thread(upgrade, url)
        pools.append(await create_pool(url, min_size=1, max_size=2))
    yield pools[0], pools[1]
    for pool in pools:
        await pool.close()


async def rows(pool: asyncpg.Pool) -> dict[str, list[dict[str, Any]]]:
    views = await pool.fetch("SELECT * FROM ticket_views ORDER BY created_at")
    messages = await pool.fetch("SELECT * FROM ticket_messages ORDER BY created_at")
    return {
        "ticket_views": [dict(r) for r in views],
        "ticket_messages": [dict(r) for r in messages],
    }


async def test_a_batch_projects_what_its_events_project_one_by_one(
    two_databases: tuple[asyncpg.Pool, asyncpg.Pool],
) -> None:
    one_by_one, as_a_batch = two_databases
    log = history()
    projection = TicketsProjection()
    for recorded in log.events:
        async with one_by_one.acquire() as connection, connection.transaction():
            await projection.apply(connection, recorded)
    projection = TicketsProjection()
    async with as_a_batch.acquire() as connection, connection.transaction():
        await projection.apply_batch(connection, log.events)

    expected, batched = await rows(one_by_one), await rows(as_a_batch)
    assert batched == expected
    first, second = expected["ticket_views"]
    assert (first["priority"], first["priority_rank"]) == ("High", 1)  # ranked anew
    assert (second["priority"], second["priority_rank"]) == ("Urgent", 0)
    assert first["message_count"] == 2 and second["message_count"] == 1
    assert first["tags"] == ["printer"] and first["status"] == "Open"
    assert first["resolved_at"] is None and second["resolved_at"] is not None
    assert second["custom_fields"] == {"printer_model": "LX-300"}
    assert (first["version"], second["version"]) == (8, 6)
