"""Routes of the customer portal's features (issue #18): rate a solved ticket, "my issue is
resolved", a ticket's ratings, the CSAT report, and a company sharing its tickets with its
customers. Thin: parse, call :class:`~ticket_service.service_layer.portal.PortalApplication`,
map refusals."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from helpdesk_events.tickets import RatingScale
from ticket_service.domain.satisfaction import CsatGroupBy
from ticket_service.entrypoints.dependencies import Caller, command_context
from ticket_service.entrypoints.errors import refusals
from ticket_service.entrypoints.http_common import ERRORS
from ticket_service.entrypoints.http_reports import parse_period
from ticket_service.entrypoints.ticket_schemas import ticket_response
from ticket_service.service_layer.portal import PortalApplication

router = APIRouter(tags=["satisfaction"])
CorrelationId = Annotated[str | None, Header()]


def portal(request: Request) -> PortalApplication:
    application: PortalApplication = request.app.state.portal
    return application


class RatingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scale: RatingScale = Field(description="`good_bad` (score 0 = bad, 1 = good) or `one_to_five`")
    score: int = Field(ge=0, le=5)
    comment: str | None = Field(default=None, max_length=2000, description="plain text")


class RatingView(BaseModel):
    ticket_id: uuid.UUID
    resolution: int = Field(description="which time the ticket was solved (1: the first)")
    scale: RatingScale
    score: int
    satisfied: bool = Field(description="good, or 4-5 stars")
    comment: str | None
    team_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    rated_at: datetime


class CsatGroup(BaseModel):
    group_id: uuid.UUID | None = Field(description="team or agent who had the ticket when rated")
    ratings: int
    satisfied: int
    csat: float = Field(description="satisfied / ratings, in percent")
    average_stars: float | None = Field(description="mean of the 1-5 ratings; null if none")


class CsatReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    period_from: datetime = Field(alias="from")
    period_to: datetime = Field(alias="to")
    group_by: CsatGroupBy
    groups: list[CsatGroup]


class CompanySharing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customers_see_company_tickets: bool


@router.post(
    "/tickets/{ticket_id}/satisfaction",
    status_code=201,
    response_model=RatingView,
    responses=ERRORS,
)
async def rate_ticket(
    request: Request,
    ticket_id: uuid.UUID,
    body: RatingBody,
    caller: Caller,
    x_correlation_id: CorrelationId = None,
) -> RatingView:
    """The ticket's customer rates a solved ticket: good / bad or 1-5 stars, with a comment;
    once per resolution (a second rating is a 409; a reopened ticket solved again may be
    rated again)."""
    with refusals():
        rated, at = await portal(request).rate(
            ticket_id,
            scale=body.scale,
            score=body.score,
            comment=body.comment,
            context=command_context(caller, x_correlation_id),
        )
    return RatingView(ticket_id=ticket_id, rated_at=at, **rated.model_dump())


@router.get("/tickets/{ticket_id}/satisfaction", response_model=list[RatingView], responses=ERRORS)
async def ticket_ratings(request: Request, ticket_id: uuid.UUID, caller: Caller) -> list[Any]:
    """The ticket's ratings, one per rated resolution (agents see them on the ticket)."""
    with refusals():
        rows = await portal(request).ratings(caller, ticket_id)
    return [
        RatingView(**{k: v for k, v in row.items() if k in RatingView.model_fields}) for row in rows
    ]


@router.post("/tickets/{ticket_id}/resolve", responses=ERRORS)
async def resolve_ticket(
    request: Request, ticket_id: uuid.UUID, caller: Caller, x_correlation_id: CorrelationId = None
) -> Response:
    """The ticket's customer confirms the issue is resolved ("my issue is resolved"): it
    becomes Solved. A later reply reopens it."""
    with refusals():
        ticket = await portal(request).resolve(ticket_id, command_context(caller, x_correlation_id))
    return ticket_response(ticket)


@router.get("/reports/csat", response_model=CsatReport, responses=ERRORS, tags=["reports"])
async def csat_report(
    request: Request,
    caller: Caller,
    period_from: Annotated[str, Query(alias="from", description="ISO date or datetime")],
    period_to: Annotated[str, Query(alias="to", description="ISO date (included) or datetime")],
    group_by: CsatGroupBy = "team",
) -> CsatReport:
    """Customer satisfaction per team or agent (who had the ticket when it was rated) of the
    ratings given in the period (at most 366 days): how many, how many satisfied, CSAT %."""
    start, end = parse_period(period_from, period_to)
    with refusals():
        figures = await portal(request).csat(caller, group_by, start, end)
    return CsatReport(
        period_from=start,
        period_to=end,
        group_by=group_by,
        groups=[CsatGroup(**vars(figure)) for figure in figures],
    )


@router.get(
    "/companies/{company_id}/portal-sharing",
    response_model=CompanySharing,
    responses=ERRORS,
    tags=["customers"],
)
async def company_sharing(
    request: Request, company_id: uuid.UUID, caller: Caller
) -> CompanySharing:
    """Whether the company's customers see all its tickets in the portal."""
    with refusals():
        shared = await portal(request).company_shares_tickets(caller, company_id)
    return CompanySharing(customers_see_company_tickets=shared)


@router.put(
    "/companies/{company_id}/portal-sharing",
    response_model=CompanySharing,
    responses=ERRORS,
    tags=["customers"],
)
async def share_company_tickets(
    request: Request,
    company_id: uuid.UUID,
    body: CompanySharing,
    caller: Caller,
    x_correlation_id: CorrelationId = None,
) -> CompanySharing:
    """Managers: let the company's customers see every ticket of the company in the portal
    (their list's `scope=company`, and the tickets' pages), or take it back."""
    with refusals():
        shared = await portal(request).share_company_tickets(
            company_id,
            body.customers_see_company_tickets,
            command_context(caller, x_correlation_id),
        )
    return CompanySharing(customers_see_company_tickets=shared)
