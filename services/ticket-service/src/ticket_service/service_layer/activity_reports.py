"""Activity reports for managers and team leads: tickets created and solved per day, and the
workload per team and agent (seed 001's "workload distribution").

The figures come from the read models (``adapters/activity_reports.py``); who may read them is
the access policy's report rule, the same as for the SLA report.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from ticket_service.adapters.activity_reports import DayFigures, WorkloadFigures
from ticket_service.adapters.sla_reports import GroupBy
from ticket_service.service_layer import access
from ticket_service.service_layer.directory import DirectoryApplication

__all__ = ["ActivityReportReads", "DayFigures", "WorkloadFigures"]


class ActivityReportStore(Protocol):
    async def per_day(
        self,
        group_by: GroupBy,
        start: datetime,
        end: datetime,
        time_zone: str,
        teams: frozenset[uuid.UUID] | None = None,
    ) -> list[DayFigures]: ...

    async def workload(
        self, teams: frozenset[uuid.UUID] | None = None
    ) -> list[WorkloadFigures]: ...


class ActivityReportReads:
    def __init__(self, store: ActivityReportStore, directory: DirectoryApplication) -> None:
        self._store = store
        self._directory = directory

    async def _scope(self, who: access.Principal) -> frozenset[uuid.UUID] | None:
        return access.report_scope(who, await self._directory.teams_led_by(who))

    async def per_day(
        self,
        who: access.Principal,
        group_by: GroupBy,
        start: datetime,
        end: datetime,
        time_zone: str,
    ) -> list[DayFigures]:
        """Managers read every team's days, a team's lead their teams' (others: 403)."""
        return await self._store.per_day(group_by, start, end, time_zone, await self._scope(who))

    async def workload(self, who: access.Principal) -> list[WorkloadFigures]:
        return await self._store.workload(await self._scope(who))
