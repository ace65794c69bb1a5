"""Read models for the customer portal's features: ratings (CSAT) and company visibility.

Fed by the service's :class:`~ticket_service.adapters.projections.Projector` like the other
read models, so a rebuild replays them from the log.
"""

from __future__ import annotations

import asyncpg

from helpdesk_events.customers import CompanyPortalVisibilityChanged
from helpdesk_events.tickets import SatisfactionRated
from ticket_service.adapters.event_store import RecordedEvent


class PortalProjection:
    name: str = "portal"
    tables: tuple[str, ...] = ("ticket_ratings", "company_portal_settings")

    async def apply(self, connection: asyncpg.Connection, recorded: RecordedEvent) -> None:
        envelope = recorded.envelope
        if envelope.event_type == "SatisfactionRated":
            event = envelope.payload()
            assert isinstance(event, SatisfactionRated)
            await connection.execute(
                "INSERT INTO ticket_ratings (ticket_id, resolution, scale, score, satisfied,"
                " comment, team_id, assignee_id, rated_by, rated_at, event_id)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                " ON CONFLICT DO NOTHING",
                envelope.stream_id,
                event.resolution,
                event.scale.value,
                event.score,
                event.satisfied,
                event.comment,
                event.team_id,
                event.assignee_id,
                envelope.actor.model_dump(mode="json"),
                envelope.occurred_at,
                envelope.event_id,
            )
        elif envelope.event_type == "CompanyPortalVisibilityChanged":
            changed = envelope.payload()
            assert isinstance(changed, CompanyPortalVisibilityChanged)
            await connection.execute(
                "INSERT INTO company_portal_settings (company_id,"
                " customers_see_company_tickets, version) VALUES ($1, $2, $3)"
                " ON CONFLICT (company_id) DO UPDATE SET customers_see_company_tickets ="
                " excluded.customers_see_company_tickets, version = excluded.version"
                " WHERE company_portal_settings.version < excluded.version",
                envelope.stream_id,
                changed.customers_see_company_tickets,
                envelope.stream_version,
            )
