"""Read models of customers, companies, agents and teams, projected from their events.

Each change after a stream's first event is applied only if it advances the row's ``version``
(``WHERE version < stream_version``): replaying an event, or two projectors working through the
same log, leaves the rows as one pass in order would. Team membership rows change only when the
team row's version advanced, for the same reason. The first event inserts with
``ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg

from helpdesk_events.customers import (
    COMPANY,
    CUSTOMER,
    CompanyProfileChanged,
    CompanyRegistered,
    CompanyTagsChanged,
    CustomerProfileChanged,
    CustomerRegistered,
    CustomerTagsChanged,
)
from helpdesk_events.directory import (
    AGENT,
    TEAM,
    AgentAvailabilityChanged,
    AgentDeactivated,
    AgentInvited,
    AgentReactivated,
    AgentRoleChanged,
    Availability,
    TeamCreated,
    TeamDetailsChanged,
    TeamLeadChanged,
    TeamMemberAdded,
    TeamMemberRemoved,
    TeamRegionChanged,
)
from ticket_service.adapters.event_store import RecordedEvent
from ticket_service.adapters.projections import Projection
from ticket_service.domain.customers import normalise_email


def _assignments(changes: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """``column = $n`` for each change, numbered after _advance's own three parameters."""
    sql = ", ".join(f"{column} = ${n}" for n, column in enumerate(changes, start=4))
    return sql, tuple(changes.values())


async def _advance(
    connection: asyncpg.Connection,
    table: str,
    key_column: str,
    recorded: RecordedEvent,
    set_sql: str = "",
    args: tuple[Any, ...] = (),
) -> bool:
    """Apply ``set_sql`` (parameters from $4) to the row if this event is newer than it.

    Returns whether it was applied. Table and column names are this module's constants and the
    events' own field names, never input.
    """
    envelope = recorded.envelope
    assignments = ", ".join(filter(None, ["version = $2", "updated_at = $3", set_sql]))
    applied = await connection.fetchval(
        f"UPDATE {table} SET {assignments}"  # noqa: S608 - constant names (see docstring)
        f" WHERE {key_column} = $1 AND version < $2 RETURNING true",
        envelope.stream_id,
        envelope.stream_version,
        envelope.occurred_at,
        *args,
    )
    return bool(applied)


#: The kept tags in their order, then the added ones (as the aggregates fold them); $4 removed,
#: $5 added.
TAGS_CHANGED_SQL = (
    "tags = array(SELECT t FROM unnest(tags) WITH ORDINALITY AS k(t, n)"
    "             WHERE t <> ALL($4::text[]) ORDER BY n)"
    "    || array(SELECT t FROM unnest($5::text[]) WITH ORDINALITY AS a(t, n)"
    "             WHERE t <> ALL(tags) ORDER BY n)"
)


async def _count_version(connection: asyncpg.Connection, recorded: RecordedEvent) -> None:
    """An event type this version does not show still moves the row's version on."""
    stream_type = recorded.envelope.stream_type
    await _advance(connection, _VIEW_OF[stream_type], _KEY_OF[stream_type], recorded)


class CustomersProjection:
    """``customer_views`` and ``company_views``, for listing and searching."""

    name: str = "customers"
    tables: tuple[str, ...] = ("customer_views", "company_views")

    async def apply(self, connection: asyncpg.Connection, recorded: RecordedEvent) -> None:
        envelope = recorded.envelope
        if envelope.stream_type not in (CUSTOMER, COMPANY):
            return  # decided before parsing: most of the log is tickets
        event = envelope.payload()
        if isinstance(event, CustomerRegistered):
            await connection.execute(
                "INSERT INTO customer_views (customer_id, version, name, email, phone, tags,"
                " gender, channel, ip_address, company_id, job_title, role, created_at,"
                " updated_at, country, language) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
                " $11, $12, $13, $13, $14, $15) ON CONFLICT (customer_id) DO NOTHING",
                envelope.stream_id,
                envelope.stream_version,
                event.name,
                normalise_email(event.email),
                event.phone,
                list(event.tags),
                event.gender,
                event.channel,
                event.ip_address,
                event.company_id,
                event.job_title,
                event.role,
                envelope.occurred_at,
                event.country,
                event.language,
            )
        elif isinstance(event, CustomerProfileChanged):
            changes: dict[str, Any] = {}
            for change in event.changes:
                if change.field == "company_id":
                    changes["company_id"] = uuid.UUID(change.new) if change.new else None
                elif change.field != "name" or change.new:  # a contact always keeps a name
                    changes[change.field] = change.new
            await _advance(
                connection, "customer_views", "customer_id", recorded, *_assignments(changes)
            )
        elif isinstance(event, CustomerTagsChanged):
            await _advance(
                connection,
                "customer_views",
                "customer_id",
                recorded,
                TAGS_CHANGED_SQL,
                (list(event.removed), list(event.added)),
            )
        elif isinstance(event, CompanyRegistered):
            await connection.execute(
                "INSERT INTO company_views (company_id, version, name, website, city, phone,"
                " created_at, updated_at, country, tier, tags)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10)"
                " ON CONFLICT (company_id) DO NOTHING",
                envelope.stream_id,
                envelope.stream_version,
                event.name,
                event.website,
                event.city,
                event.phone,
                envelope.occurred_at,
                event.country,
                event.tier,
                list(event.tags),
            )
        elif isinstance(event, CompanyTagsChanged):
            await _advance(
                connection,
                "company_views",
                "company_id",
                recorded,
                TAGS_CHANGED_SQL,
                (list(event.removed), list(event.added)),
            )
        elif isinstance(event, CompanyProfileChanged):
            company_changes: dict[str, Any] = {
                change.field: change.new
                for change in event.changes
                if change.field != "name" or change.new
            }
            await _advance(
                connection, "company_views", "company_id", recorded, *_assignments(company_changes)
            )
        else:
            await _count_version(connection, recorded)


class DirectoryProjection:
    """``agent_views``, ``team_views`` and ``team_members``."""

    name: str = "directory"
    tables: tuple[str, ...] = ("team_members", "team_views", "agent_views")

    async def apply(self, connection: asyncpg.Connection, recorded: RecordedEvent) -> None:
        envelope = recorded.envelope
        if envelope.stream_type not in (AGENT, TEAM):
            return
        event = envelope.payload()
        stream_id, at = envelope.stream_id, envelope.occurred_at
        if isinstance(event, AgentInvited):
            await connection.execute(
                "INSERT INTO agent_views (agent_id, version, email, name, role, active,"
                " availability, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, true, $6,"
                " $7, $7) ON CONFLICT (agent_id) DO NOTHING",
                envelope.stream_id,
                envelope.stream_version,
                normalise_email(event.email),
                event.name,
                event.role.value,
                Availability.ACTIVE.value,
                at,
            )
        elif isinstance(event, AgentRoleChanged):
            await self._agent(connection, recorded, {"role": event.to_role.value})
        elif isinstance(event, AgentDeactivated):
            await self._agent(connection, recorded, {"active": False})
        elif isinstance(event, AgentReactivated):
            await self._agent(connection, recorded, {"active": True})
        elif isinstance(event, AgentAvailabilityChanged):
            await self._agent(connection, recorded, {"availability": event.to_availability.value})
        elif isinstance(event, TeamCreated):
            inserted = await connection.fetchval(
                "INSERT INTO team_views (team_id, version, name, description, lead_id, tier,"
                " escalates_to, created_at, updated_at, time_zone, languages,"
                " business_calendar_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11)"
                " ON CONFLICT (team_id) DO NOTHING RETURNING true",
                stream_id,
                envelope.stream_version,
                event.name,
                event.description or None,
                event.lead_id,
                event.tier,
                event.escalates_to,
                at,
                event.time_zone,
                list(event.languages),
                event.business_calendar_id,
            )
            if inserted and event.lead_id is not None:  # a lead is always a member
                await self._add_member(connection, stream_id, event.lead_id, recorded)
        elif isinstance(event, TeamDetailsChanged):
            changes: dict[str, Any] = {
                key: value
                for key, value in (
                    ("name", event.name),
                    ("description", event.description),
                    ("tier", event.tier),
                    ("escalates_to", event.escalates_to),
                )
                if value is not None  # None means unchanged in this event
            }
            if "description" in changes:
                changes["description"] = changes["description"] or None  # "" cleared it
            await _advance(connection, "team_views", "team_id", recorded, *_assignments(changes))
        elif isinstance(event, TeamMemberAdded):
            if await _advance(connection, "team_views", "team_id", recorded):
                await self._add_member(connection, stream_id, event.agent_id, recorded)
        elif isinstance(event, TeamMemberRemoved):
            if await _advance(
                connection,
                "team_views",
                "team_id",
                recorded,
                "lead_id = nullif(lead_id, $4)",
                (event.agent_id,),
            ):
                await connection.execute(
                    "DELETE FROM team_members WHERE team_id = $1 AND agent_id = $2",
                    stream_id,
                    event.agent_id,
                )
        elif isinstance(event, TeamRegionChanged):
            await _advance(
                connection,
                "team_views",
                "team_id",
                recorded,
                *_assignments(
                    {
                        "time_zone": event.time_zone,
                        "languages": list(event.languages),
                        "business_calendar_id": event.business_calendar_id,
                    }
                ),
            )
        elif isinstance(event, TeamLeadChanged):
            if (
                await _advance(
                    connection, "team_views", "team_id", recorded, "lead_id = $4", (event.lead_id,)
                )
                and event.lead_id is not None
            ):
                await self._add_member(connection, stream_id, event.lead_id, recorded)
        else:
            await _count_version(connection, recorded)

    @staticmethod
    async def _agent(
        connection: asyncpg.Connection, recorded: RecordedEvent, changes: dict[str, Any]
    ) -> None:
        await _advance(connection, "agent_views", "agent_id", recorded, *_assignments(changes))

    @staticmethod
    async def _add_member(
        connection: asyncpg.Connection,
        team_id: uuid.UUID,
        agent_id: uuid.UUID,
        recorded: RecordedEvent,
    ) -> None:
        await connection.execute(
            "INSERT INTO team_members (team_id, agent_id, added_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (team_id, agent_id) DO NOTHING",
            team_id,
            agent_id,
            recorded.envelope.occurred_at,
        )


_VIEW_OF = {
    CUSTOMER: "customer_views",
    COMPANY: "company_views",
    AGENT: "agent_views",
    TEAM: "team_views",
}
_KEY_OF = {
    CUSTOMER: "customer_id",
    COMPANY: "company_id",
    AGENT: "agent_id",
    TEAM: "team_id",
}

DIRECTORY_PROJECTIONS: tuple[Projection, ...] = (CustomersProjection(), DirectoryProjection())
