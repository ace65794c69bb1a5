"""The admin-configurable ticket options: priorities, statuses, types, categories, business
units and brands."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from helpdesk_events import StatusCategory
from helpdesk_platform.config_http import etag
from ticket_service.domain.options import TicketOptions
from ticket_service.entrypoints.dependencies import Caller, Tickets, command_context
from ticket_service.entrypoints.errors import refusals
from ticket_service.entrypoints.http_common import ERRORS, Text, expected_from

router = APIRouter(tags=["tickets"])


class StatusOptionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=50)
    category: StatusCategory


class BusinessUnitBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    brands: list[Text] = Field(default_factory=list)


class TicketOptionsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    priorities: list[Text] = Field(min_length=1, description="ordered, lowest first")
    statuses: list[StatusOptionBody] = Field(min_length=1)
    types: list[Text] = Field(default_factory=list)
    categories: list[Text] = Field(default_factory=list)
    business_units: list[BusinessUnitBody] = Field(default_factory=list)

    @classmethod
    def of(cls, options: TicketOptions) -> TicketOptionsBody:
        return cls(
            priorities=list(options.priorities),
            statuses=[StatusOptionBody(name=n, category=c) for n, c in options.statuses.items()],
            types=list(options.types),
            categories=list(options.categories),
            business_units=[
                BusinessUnitBody(name=n, brands=list(b)) for n, b in options.business_units.items()
            ],
        )


@router.get("/ticket-options", response_model=TicketOptionsBody, tags=["configuration"])
async def get_options(caller: Caller, tickets: Tickets, response: Response) -> TicketOptionsBody:
    """Priorities (lowest first), statuses with their categories, types, categories, and
    business units with their brands."""
    options, version = await tickets.options()
    response.headers["ETag"] = etag(version)
    return TicketOptionsBody.of(options)


@router.put(
    "/ticket-options",
    response_model=TicketOptionsBody,
    tags=["configuration"],
    responses=ERRORS,
)
async def put_options(
    body: TicketOptionsBody,
    caller: Caller,
    tickets: Tickets,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> TicketOptionsBody:
    """Replace the ticket options (managers). The statuses New, Open, Waiting on Customer and
    Closed must stay: the lifecycle rules use them."""
    options = TicketOptions(
        priorities=tuple(body.priorities),
        statuses={s.name: s.category for s in body.statuses},
        types=tuple(body.types),
        categories=tuple(body.categories),
        business_units={u.name: tuple(u.brands) for u in body.business_units},
    )
    with refusals():
        saved, version = await tickets.configure_options(
            options,
            command_context(caller, x_correlation_id),
            expected_from(if_match, read_from="GET /ticket-options"),
        )
    response.headers["ETag"] = etag(version)
    return TicketOptionsBody.of(saved)
