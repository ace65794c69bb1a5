"""Report routes: SLA compliance and business times per team or assignee over a period, and a
ticket's SLA times. Staff only; the figures come from ``sla_outcomes`` (the sla-projector)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from helpdesk_events.sla import SlaMetricName
from helpdesk_events.tickets import CustomFieldValue
from ticket_service.entrypoints.dependencies import Caller, SlaReports
from ticket_service.entrypoints.errors import refusals
from ticket_service.entrypoints.http_common import ERRORS
from ticket_service.service_layer.sla_reports import MetricFigures

router = APIRouter(tags=["reports"])

#: The longest period a report covers.
MAX_PERIOD = timedelta(days=366)


class SlaMetricReport(BaseModel):
    met_within: int = Field(description="met within the target")
    met_late: int = Field(description="met after the target (breached, then met)")
    breached_open: int = Field(description="breached and not met yet")
    compliance: float | None = Field(
        description="met within / all counted, in percent; null when nothing was counted"
    )
    average_business_seconds: float | None = Field(
        description="mean business time of the metrics met (in time or late); null if none"
    )
    median_business_seconds: float | None = Field(
        default=None, description="median business time of the metrics met; null if none"
    )
    p90_business_seconds: float | None = Field(
        default=None, description="90th percentile business time of the metrics met; null if none"
    )

    @classmethod
    def of(cls, figures: MetricFigures) -> SlaMetricReport:
        return cls(
            met_within=figures.met_within,
            met_late=figures.met_late,
            breached_open=figures.breached_open,
            compliance=figures.compliance,
            average_business_seconds=figures.average_business_seconds,
            median_business_seconds=figures.median_business_seconds,
            p90_business_seconds=figures.p90_business_seconds,
        )


class SlaGroupReport(BaseModel):
    group_id: uuid.UUID | None = Field(
        description="the team or assignee id (the ticket's current one); null for tickets "
        "without one, and when grouped by a custom field"
    )
    value: CustomFieldValue | None = Field(
        default=None,
        description="grouped by `custom.<key>`: the field's value (a multi-select ticket "
        "counts under each choice); null for tickets without one",
    )
    first_response: SlaMetricReport
    next_response: SlaMetricReport
    resolution: SlaMetricReport


class SlaReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    period_from: datetime = Field(alias="from", description="start of the period (included)")
    period_to: datetime = Field(alias="to", description="end of the period (excluded)")
    group_by: str = Field(description="team, assignee or custom.<key>")
    groups: list[SlaGroupReport]


class SlaOutcomeView(BaseModel):
    metric: SlaMetricName
    exchange: int = Field(description="1, 2, ... for next response; 1 otherwise")
    met: bool
    within_target: bool
    at: datetime = Field(description="when it was met, or (breached, not met) when it broke")
    business_seconds: float | None = Field(description="business time used, when met")
    met_at: datetime | None
    due_at: datetime | None = Field(description="the due instant it broke at, when breached")
    breached_at: datetime | None


class TicketSlaTimes(BaseModel):
    ticket_id: uuid.UUID
    first_response_business_seconds: float | None = Field(
        description="business time to the first response, once met"
    )
    resolution_business_seconds: float | None = Field(
        description="business time to resolution, once met (the last resolution if reopened)"
    )
    outcomes: list[SlaOutcomeView]


def parse_instant(value: str, name: str, *, end: bool) -> datetime:
    """An ISO date (a whole day: ``to`` includes it) or datetime (UTC when without a zone)."""
    text = value.strip()
    try:
        day = _date(text)
        if day is not None:
            return datetime.combine(day + timedelta(days=1 if end else 0), time(), UTC)
        instant = datetime.fromisoformat(text)
        return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)
    except (ValueError, OverflowError):
        raise HTTPException(
            422,
            f"{name} must be an ISO 8601 date (2026-01-31) or datetime "
            f"(2026-01-31T17:00:00+07:00); got {value!r}",
        ) from None


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_period(start_text: str, end_text: str) -> tuple[datetime, datetime]:
    start = parse_instant(start_text, "from", end=False)
    end = parse_instant(end_text, "to", end=True)
    if end <= start:
        raise HTTPException(422, f"the period is empty: to ({end}) must be after from ({start})")
    if end - start > MAX_PERIOD:
        raise HTTPException(
            422, f"the period is {end - start}; at most {MAX_PERIOD.days} days per report"
        )
    return start, end


@router.get("/reports/sla", response_model=SlaReport, responses=ERRORS)
async def sla_report(
    caller: Caller,
    reports: SlaReports,
    period_from: Annotated[str, Query(alias="from", description="ISO date or datetime; included")],
    period_to: Annotated[
        str,
        Query(
            alias="to",
            description="ISO date (that whole day included) or datetime (excluded)",
        ),
    ],
    group_by: Annotated[
        str,
        Query(
            pattern=r"^(?:team|assignee|custom\.[a-z][a-z0-9_]{0,62})$",
            description="`team`, `assignee`, or `custom.<key>`: by a custom field's value",
        ),
    ] = "team",
) -> SlaReport:
    """SLA compliance and average business times per team or assignee, per metric, of the
    metrics met or breached in the period (at most 366 days; datetimes without a zone are UTC).

    A metric counts when it was met (`met_within` or `met_late`) or, while breached and not met,
    when it broke (`breached_open`); a breach met later counts once, as met late, in the period
    it was met. Tickets are grouped by their current team, assignee or custom field value."""
    start, end = parse_period(period_from, period_to)
    with refusals():
        groups = await reports.by_group(caller, group_by, start, end)
    return SlaReport(
        period_from=start,
        period_to=end,
        group_by=group_by,
        groups=[
            SlaGroupReport(
                group_id=group.group_id,
                value=group.value,
                first_response=SlaMetricReport.of(group.metrics["first_response"]),
                next_response=SlaMetricReport.of(group.metrics["next_response"]),
                resolution=SlaMetricReport.of(group.metrics["resolution"]),
            )
            for group in groups
        ],
    )


@router.get("/tickets/{ticket_id}/sla-times", response_model=TicketSlaTimes, responses=ERRORS)
async def ticket_sla_times(
    ticket_id: uuid.UUID, caller: Caller, reports: SlaReports
) -> TicketSlaTimes:
    """A ticket's SLA outcomes so far (from `helpdesk.sla.v1`): first response and resolution
    business time once met, and each metric (each next-response exchange) met or breached."""
    with refusals():
        rows = await reports.of_ticket(caller, ticket_id)
    outcomes = [
        SlaOutcomeView(
            metric=row["metric"],
            exchange=row["exchange"],
            met=row["met"],
            within_target=row["within_target"],
            at=row["at"],
            business_seconds=row["elapsed_seconds"],
            met_at=row["met_at"],
            due_at=row["due_at"],
            breached_at=row["breached_at"],
        )
        for row in rows
    ]
    met = {o.metric: o.business_seconds for o in outcomes if o.met}
    return TicketSlaTimes(
        ticket_id=ticket_id,
        first_response_business_seconds=met.get(SlaMetricName.FIRST_RESPONSE),
        resolution_business_seconds=met.get(SlaMetricName.RESOLUTION),
        outcomes=outcomes,
    )
