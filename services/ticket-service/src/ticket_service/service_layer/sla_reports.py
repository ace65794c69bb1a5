"""SLA reports for staff: compliance per team or assignee, and one ticket's SLA outcomes.

The figures come from the SLA read model (``adapters/sla_reports.py``, fed from
``helpdesk.sla.v1``); who may read them is the access policy's rule, checked here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol, cast

from ticket_service.adapters.sla_reports import (
    GROUP_COLUMNS,
    GroupBy,
    GroupFigures,
    MetricFigures,
)
from ticket_service.domain.custom_fields import InvalidCustomField
from ticket_service.service_layer import access
from ticket_service.service_layer.access import Action
from ticket_service.service_layer.custom_fields import field_named
from ticket_service.service_layer.directory import DirectoryApplication
from ticket_service.service_layer.tickets import TicketApplication

__all__ = ["GroupBy", "MetricFigures", "SlaReportReads"]


class SlaReportStore(Protocol):
    async def by_group(
        self,
        group_by: GroupBy,
        start: datetime,
        end: datetime,
        teams: frozenset[uuid.UUID] | None = None,
        *,
        custom_key: str | None = None,
    ) -> list[GroupFigures]: ...

    async def of_ticket(self, ticket_id: uuid.UUID) -> list[Any]: ...


class SlaReportReads:
    def __init__(
        self, store: SlaReportStore, tickets: TicketApplication, directory: DirectoryApplication
    ) -> None:
        self._store = store
        self._tickets = tickets
        self._directory = directory

    async def by_group(
        self, who: access.Principal, group_by: str, start: datetime, end: datetime
    ) -> list[GroupFigures]:
        """Managers read every team's figures, a team's lead their teams' (others: 403).
        ``group_by`` is ``team``, ``assignee`` or ``custom.<key>`` (a defined custom field)."""
        teams = access.report_scope(who, await self._directory.teams_led_by(who))
        if group_by.startswith("custom."):
            key = group_by.removeprefix("custom.")
            definitions, _ = await self._tickets.custom_fields.definitions()
            field_named(definitions, key, by_customer=False, use="report by")
            return await self._store.by_group("team", start, end, teams, custom_key=key)
        if group_by not in GROUP_COLUMNS:
            raise InvalidCustomField(
                f"cannot group by {group_by!r}; use team, assignee or custom.<key>"
            )
        return await self._store.by_group(cast(GroupBy, group_by), start, end, teams)

    async def of_ticket(self, who: access.Principal, ticket_id: uuid.UUID) -> list[Any]:
        """The ticket's SLA outcomes, if the caller may see the ticket (else not found)."""
        access.require(who, Action.READ_SLA_TIMES)
        await self._tickets.visible_ticket(who, ticket_id)
        return await self._store.of_ticket(ticket_id)
