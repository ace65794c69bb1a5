"""Company routes: register, list and search, read, edit (staff)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from helpdesk_events.customers import CompanyField
from ticket_service.domain.customers import Company
from ticket_service.entrypoints.dependencies import (
    Caller,
    Customers,
    ManagesContacts,
    Reads,
    command_context,
)
from ticket_service.entrypoints.errors import refusals
from ticket_service.entrypoints.http_common import (
    RECORD_ERRORS,
    CorrelationId,
    Country,
    IfMatch,
    ListPage,
    Page,
    PageSize,
    expected_from,
    nothing_to_change,
    resource,
)
from ticket_service.service_layer.customers import NewCompany
from ticket_service.service_layer.directory_reads import PageRequest

READ_FROM = "GET /companies/{id}"
router = APIRouter(tags=["customers"])

Short = Annotated[str, Field(max_length=50)]
Medium = Annotated[str, Field(max_length=200)]
Tag = Annotated[str, Field(min_length=1, max_length=50)]


class CreateCompanyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    website: str | None = Field(
        default=None, max_length=500, description="an http(s) URL (https:// is assumed)"
    )
    city: Medium | None = None
    phone: Short | None = None
    country: Country | None = None
    tier: Medium | None = Field(default=None, description='a service tier, e.g. "Enterprise"')
    tags: list[Tag] = Field(default_factory=list, max_length=50)


class ChangeCompanyBody(BaseModel):
    """Only the fields sent change; null (or "") empties a field (a company keeps its name)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    website: str | None = Field(default=None, max_length=500)
    city: Medium | None = None
    phone: Short | None = None
    country: Country | None = None
    tier: Medium | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50, description="replaces the tags")


class CompanyView(BaseModel):
    id: uuid.UUID
    version: int
    name: str
    website: str | None
    city: str | None
    phone: str | None
    country: str | None = None
    tier: str | None = None
    tags: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, company: Company) -> CompanyView:
        return cls.model_validate(company, from_attributes=True)

    @classmethod
    def of_row(cls, row: Mapping[str, Any]) -> CompanyView:
        return cls(id=row["company_id"], **{k: row[k] for k in cls.model_fields if k != "id"})


CompanyPage = ListPage[CompanyView]


@router.post("/companies", status_code=201, response_model=CompanyView, responses=RECORD_ERRORS)
async def create_company(
    body: CreateCompanyBody,
    caller: Caller,
    customers: Customers,
    x_correlation_id: CorrelationId = None,
) -> Response:
    new = NewCompany(
        name=body.name,
        website=body.website,
        city=body.city,
        phone=body.phone,
        country=body.country,
        tier=body.tier,
        tags=tuple(body.tags),
    )
    with refusals():
        company = await customers.register_company(new, command_context(caller, x_correlation_id))
    return resource(CompanyView.of(company), company.version, 201, f"/companies/{company.id}")


@router.get("/companies", response_model=CompanyPage, responses=RECORD_ERRORS)
async def list_companies(
    caller: ManagesContacts,
    reads: Reads,
    q: Annotated[
        str | None, Query(max_length=200, description="in name, website, city, phone")
    ] = None,
    page: Page = 1,
    page_size: PageSize = 25,
) -> CompanyPage:
    with refusals():
        rows, total = await reads.companies(caller, PageRequest(page, page_size), q=q)
    items = [CompanyView.of_row(row) for row in rows]
    return CompanyPage(items=items, page=page, page_size=page_size, total=total)


@router.get("/companies/{company_id}", response_model=CompanyView, responses=RECORD_ERRORS)
async def get_company(company_id: uuid.UUID, caller: ManagesContacts, reads: Reads) -> Response:
    with refusals():
        company = await reads.company(caller, company_id)
    return resource(CompanyView.of(company), company.version)


@router.patch("/companies/{company_id}", response_model=CompanyView, responses=RECORD_ERRORS)
async def change_company(
    company_id: uuid.UUID,
    body: ChangeCompanyBody,
    caller: Caller,
    customers: Customers,
    if_match: IfMatch = None,
    x_correlation_id: CorrelationId = None,
) -> Response:
    sent = body.model_fields_set
    if not sent:
        raise nothing_to_change(tuple(ChangeCompanyBody.model_fields))
    changes = {cast(CompanyField, name): getattr(body, name) for name in sent - {"tags"}}
    with refusals():
        company = await customers.change_company(
            company_id,
            changes,
            command_context(caller, x_correlation_id),
            expected_version=expected_from(if_match, read_from=READ_FROM),
            tags=tuple(body.tags or ()) if "tags" in sent else None,
        )
    return resource(CompanyView.of(company), company.version)
