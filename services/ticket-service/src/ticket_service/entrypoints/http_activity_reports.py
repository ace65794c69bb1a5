"""Activity report routes: tickets created and solved per day, and the workload per team and
agent. Managers, and team leads for their own teams; the figures come from the read models."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from ticket_service.entrypoints.dependencies import ActivityReports as Reports
from ticket_service.entrypoints.dependencies import Caller
from ticket_service.entrypoints.errors import refusals
from ticket_service.entrypoints.http_common import ERRORS
from ticket_service.entrypoints.http_reports import parse_period
from ticket_service.service_layer.sla_reports import GroupBy

router = APIRouter(tags=["reports"])


class VolumeDay(BaseModel):
    day: date = Field(description="the local day (in the report's time zone)")
    group_id: uuid.UUID | None = Field(
        description="the ticket's current team or assignee; null for tickets without one"
    )
    created: int = Field(description="tickets created that day")
    solved: int = Field(
        description="tickets solved (or closed) that day and not reopened since, with or"
        " without an SLA policy"
    )


class VolumeReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    period_from: str = Field(alias="from")
    period_to: str = Field(alias="to")
    time_zone: str
    group_by: GroupBy
    days: list[VolumeDay]


class WorkloadRow(BaseModel):
    team_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    open: int = Field(description="open tickets: not resolved, closed or merged")
    breached: int = Field(description="of them, tickets with a breached SLA")


class WorkloadReport(BaseModel):
    rows: list[WorkloadRow]


def parse_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HTTPException(
            422, f"time_zone must be an IANA time zone such as Asia/Jakarta; got {name!r}"
        ) from None
    return name


@router.get("/reports/volume", response_model=VolumeReport, responses=ERRORS)
async def volume_report(
    caller: Caller,
    reports: Reports,
    period_from: Annotated[str, Query(alias="from", description="ISO date or datetime; included")],
    period_to: Annotated[
        str, Query(alias="to", description="ISO date (that whole day included) or datetime")
    ],
    group_by: GroupBy = "team",
    time_zone: Annotated[str, Query(description="IANA zone the days are counted in")] = "UTC",
) -> VolumeReport:
    """Tickets created and solved per local day and team (or assignee) over the period (at most
    366 days). Solved counts a ticket's last resolution once, on the day it was met."""
    start, end = parse_period(period_from, period_to)
    zone = parse_time_zone(time_zone)
    with refusals():
        days = await reports.per_day(caller, group_by, start, end, zone)
    return VolumeReport(
        period_from=start.isoformat(),
        period_to=end.isoformat(),
        time_zone=zone,
        group_by=group_by,
        days=[
            VolumeDay(day=d.day, group_id=d.group_id, created=d.created, solved=d.solved)
            for d in days
        ],
    )


@router.get("/reports/workload", response_model=WorkloadReport, responses=ERRORS)
async def workload_report(caller: Caller, reports: Reports) -> WorkloadReport:
    """Open tickets now per team and assignee (null: none), with how many breached an SLA."""
    with refusals():
        rows = await reports.workload(caller)
    return WorkloadReport(
        rows=[
            WorkloadRow(
                team_id=r.team_id, assignee_id=r.assignee_id, open=r.open, breached=r.breached
            )
            for r in rows
        ]
    )
