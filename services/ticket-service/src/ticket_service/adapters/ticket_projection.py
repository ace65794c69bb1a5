"""Ticket read models: ``ticket_views`` (one row a ticket, for lists and search) and
``ticket_messages`` (the conversation), projected from ticket events.

A batch of events (the projector's, one transaction) writes each ticket's row once for the
column changes of all its events (``_RowChanges``): a mail's ticket is three events in one
append and a fourth when its acknowledgement is recorded, and was four updates of the row.

``resolved_at`` is when the ticket's current resolution began: set when it moves into a solved
or closed status from an open one, kept while it stays solved or closed (Solved → Closed keeps
the time it was solved), cleared when it is reopened. The reports count solved tickets per day
from it, whether or not an SLA policy measured them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from helpdesk_events import (
    MessageAdded,
    PriorityChanged,
    StatusChanged,
    TagsChanged,
    TeamChanged,
    TicketAssigned,
    TicketCreated,
    TicketFieldsChanged,
    TicketMerged,
    TicketUnassigned,
    TicketUnmerged,
)
from helpdesk_events.directory import TicketOptionsConfigured
from helpdesk_events.tickets import (
    CustomFieldsChanged,
    StatusCategory,
    TicketCustomerContextChanged,
)
from ticket_service.adapters.event_store import RecordedEvent
from ticket_service.domain.options import CONFIG_STREAM_ID, DEFAULT_OPTIONS, TicketOptions

TICKET_COLUMNS = (
    "ticket_id, number, version, subject, description, status, status_category, priority,"
    " priority_rank, type, category, channel, team_id, assignee_id, customer_id, company_id,"
    " requester_email, requester_name, tags, business_unit, brand, follow_up_of, merged_into,"
    " message_count, last_message_at, created_at, updated_at, custom_fields"
)

#: The categories of a solved ticket (its resolution counts as done).
SOLVED_CATEGORIES = frozenset({StatusCategory.RESOLVED, StatusCategory.CLOSED})


async def _track_resolution(
    connection: asyncpg.Connection, ticket_id: uuid.UUID, category: StatusCategory, at: datetime
) -> None:
    """Solved or closed: keep the time the resolution began (or start it now); open: clear it."""
    await connection.execute(
        "UPDATE ticket_views SET resolved_at = CASE WHEN $2 THEN coalesce(resolved_at, $3)"
        " END WHERE ticket_id = $1",
        ticket_id,
        category in SOLVED_CATEGORIES,
        at,
    )


@dataclass
class _RowChanges:
    """What a batch's events change in one ticket's row: columns set (the last event's value
    wins, as applied in order) and messages added."""

    columns: dict[str, Any] = field(default_factory=dict)
    messages: int = 0


class _PendingRows(dict[uuid.UUID, _RowChanges]):
    """The rows a batch changed, written at its end (or before a statement that reads them)."""

    def change(self, ticket_id: uuid.UUID, columns: dict[str, Any], messages: int = 0) -> None:
        row = self.setdefault(ticket_id, _RowChanges())
        row.columns |= columns
        row.messages += messages

    async def write(self, connection: asyncpg.Connection) -> None:
        for ticket_id, row in self.items():
            columns = list(row.columns)
            assignments = [f"{column} = ${i}" for i, column in enumerate(columns, start=3)]
            await connection.execute(
                f"UPDATE ticket_views SET message_count = message_count + $2,"  # noqa: S608 - our column names
                f" {', '.join(assignments)} WHERE ticket_id = $1",
                ticket_id,
                row.messages,
                *row.columns.values(),
            )
        self.clear()


class TicketsProjection:
    name: str = "tickets"
    tables: tuple[str, ...] = ("ticket_messages", "ticket_views")

    def __init__(self) -> None:
        # Priority order for sorting: the configured options, loaded on first use and then
        # following TicketOptionsConfigured events in the log.
        self._options: TicketOptions | None = None

    async def _load_options(self, connection: asyncpg.Connection) -> TicketOptions:
        data = await connection.fetchval(
            "SELECT data FROM events WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1",
            CONFIG_STREAM_ID,
        )
        if data is None:
            return DEFAULT_OPTIONS
        return TicketOptions.from_event(TicketOptionsConfigured.model_validate(data))

    async def apply(self, connection: asyncpg.Connection, recorded: RecordedEvent) -> None:
        await self.apply_batch(connection, [recorded])

    async def apply_batch(
        self, connection: asyncpg.Connection, events: Sequence[RecordedEvent]
    ) -> None:
        pending = _PendingRows()
        for recorded in events:
            if self._options is None:
                self._options = await self._load_options(connection)
            await self._apply(connection, recorded, self._options, pending)
        await pending.write(connection)

    async def _apply(
        self,
        connection: asyncpg.Connection,
        recorded: RecordedEvent,
        options: TicketOptions,
        pending: _PendingRows,
    ) -> None:
        envelope = recorded.envelope
        if envelope.stream_type == "config":
            event = envelope.payload()
            if isinstance(event, TicketOptionsConfigured):
                self._options = TicketOptions.from_event(event)
                await pending.write(connection)  # the ranks below follow the rows' priorities
                await connection.execute(
                    "UPDATE ticket_views SET priority_rank ="
                    " coalesce(array_position($1::text[], priority) - 1, -1)",
                    list(event.priorities),
                )
            return
        if envelope.stream_type != "ticket":
            return
        event = envelope.payload()
        ticket_id, at = envelope.stream_id, envelope.occurred_at
        if isinstance(event, TicketCreated):
            await self._created(connection, recorded, event, options)
            return
        changes: dict[str, Any] = {}
        if isinstance(event, StatusChanged):
            category = event.to_category or options.category_or_guess(event.to_status)
            changes = {"status": event.to_status, "status_category": category.value}
            await _track_resolution(connection, ticket_id, category, at)
        elif isinstance(event, PriorityChanged):
            changes = {
                "priority": event.to_priority,
                "priority_rank": options.priority_rank(event.to_priority),
            }
        elif isinstance(event, TicketFieldsChanged):
            changes = {change.field: change.new or "" if change.field in ("subject", "description")
                       else change.new for change in event.changes}  # fmt: skip
        elif isinstance(event, TagsChanged):
            await connection.execute(
                "UPDATE ticket_views SET tags = ARRAY(SELECT DISTINCT t FROM unnest("
                " array_cat(array(SELECT unnest(tags) EXCEPT SELECT unnest($2::text[])),"
                " $3::text[])) AS t ORDER BY t) WHERE ticket_id = $1",
                ticket_id,
                list(event.removed),
                list(event.added),
            )
        elif isinstance(event, TeamChanged):
            changes = {"team_id": event.to_team_id}
        elif isinstance(event, TicketCustomerContextChanged):
            changes = {"company_id": event.company_id}
            if event.requester_email:
                changes["requester_email"] = event.requester_email
        elif isinstance(event, CustomFieldsChanged):
            # $2: keys cleared, $3: keys set with their values (applied in stream order).
            await connection.execute(
                "UPDATE ticket_views SET custom_fields = (custom_fields - $2::text[]) || $3::jsonb"
                " WHERE ticket_id = $1",
                ticket_id,
                [c.key for c in event.changes if c.new is None],
                {c.key: c.new for c in event.changes if c.new is not None},
            )
        elif isinstance(event, TicketAssigned):
            changes = {"assignee_id": event.assignee_id}
        elif isinstance(event, TicketUnassigned):
            changes = {"assignee_id": None}
        elif isinstance(event, TicketMerged):
            changes = {"merged_into": event.parent_id}
        elif isinstance(event, TicketUnmerged):
            category = options.category_or_guess(event.restored_status)
            changes = {
                "merged_into": None,
                "status": event.restored_status,
                "status_category": category.value,
            }
            await _track_resolution(connection, ticket_id, category, at)
        elif isinstance(event, MessageAdded):
            await connection.execute(
                "INSERT INTO ticket_messages (message_id, ticket_id, visibility, author,"
                " body_html, body_text, attachments, channel, automated, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                " ON CONFLICT (message_id) DO NOTHING",
                event.message_id,
                ticket_id,
                event.visibility.value,
                envelope.actor.model_dump(mode="json"),
                event.body_html,
                event.body_text,
                [a.model_dump(mode="json") for a in event.attachments],
                event.channel,
                event.automated,
                at,
            )
            pending.change(ticket_id, {"last_message_at": at}, messages=1)
        pending.change(ticket_id, changes | {"version": envelope.stream_version, "updated_at": at})

    async def _created(
        self,
        connection: asyncpg.Connection,
        recorded: RecordedEvent,
        event: TicketCreated,
        options: TicketOptions,
    ) -> None:
        envelope = recorded.envelope
        category = event.status_category or options.category_or_guess(event.status)
        values = (
            envelope.stream_id, event.number, envelope.stream_version, event.subject,
            event.description, event.status, category.value, event.priority,
            options.priority_rank(event.priority), event.type, event.category,
            event.channel, event.team_id, event.assignee_id, event.customer_id, event.company_id,
            event.requester_email, event.requester_name, list(event.tags), event.business_unit,
            event.brand, event.follow_up_of, None, 0, None,
            envelope.occurred_at, envelope.occurred_at, dict(event.custom_fields),
            envelope.occurred_at if category in SOLVED_CATEGORIES else None,
        )  # fmt: skip
        placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
        await connection.execute(
            f"INSERT INTO ticket_views ({TICKET_COLUMNS}, resolved_at) VALUES ({placeholders})"  # noqa: S608
            " ON CONFLICT (ticket_id) DO NOTHING",
            *values,
        )
