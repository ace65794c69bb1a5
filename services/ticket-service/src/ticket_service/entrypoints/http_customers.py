"""Contact routes: register, list and search, read (a customer: their own), edit."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field, IPvAnyAddress

from helpdesk_events.customers import CustomerField
from ticket_service.domain.customers import Customer
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
    Language,
    ListPage,
    Page,
    PageSize,
    expected_from,
    nothing_to_change,
    resource,
)
from ticket_service.service_layer.customers import CustomerEdit, NewCustomer
from ticket_service.service_layer.directory_reads import DirectoryReads, PageRequest

READ_FROM = "GET /customers/{id}"
router = APIRouter(tags=["customers"])


Tag = Annotated[str, Field(min_length=1, max_length=50)]
Short = Annotated[str, Field(max_length=50)]
Medium = Annotated[str, Field(max_length=200)]


class CreateCustomerBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Budi Santoso",
                    "email": "budi@example.co.id",
                    "phone": "+62 812 5550 1234",
                    "tags": ["vip"],
                    "channel": "whatsapp",
                    "job_title": "IT lead",
                }
            ]
        },
    )
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = Field(default=None, description="contacts are unique by email")
    phone: Short | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    gender: Short | None = None
    channel: Short | None = Field(default=None, description="where they came from")
    ip_address: IPvAnyAddress | None = None
    company_id: uuid.UUID | None = None
    job_title: Medium | None = None
    role: Medium | None = Field(default=None, description="their role at the company")
    country: Country | None = None
    language: Language | None = None


class ChangeCustomerBody(BaseModel):
    """Only the fields sent change; null (or "") empties a field; ``tags`` replaces the tags."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: Short | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    gender: Short | None = None
    channel: Short | None = None
    ip_address: IPvAnyAddress | None = None
    company_id: uuid.UUID | None = None
    job_title: Medium | None = None
    role: Medium | None = None
    country: Country | None = None
    language: Language | None = None


class CustomerView(BaseModel):
    id: uuid.UUID
    version: int
    name: str
    email: str | None
    phone: str | None
    tags: list[str]
    gender: str | None
    channel: str | None
    ip_address: str | None
    company_id: uuid.UUID | None
    company_name: str | None = None
    job_title: str | None
    role: str | None
    country: str | None = None
    language: str | None = None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, customer: Customer, company_name: str | None = None) -> CustomerView:
        view = cls.model_validate(customer, from_attributes=True)
        return view.model_copy(update={"company_name": company_name})

    @classmethod
    def of_row(cls, row: Mapping[str, Any]) -> CustomerView:
        return cls(id=row["customer_id"], **{k: row[k] for k in cls.model_fields if k != "id"})


CustomerPage = ListPage[CustomerView]


async def customer_response(
    reads: DirectoryReads,
    customer: Customer,
    status_code: int = 200,
    location: str | None = None,
) -> Response:
    view = CustomerView.of(customer, await reads.company_name(customer))
    return resource(view, customer.version, status_code, location)


@router.post("/customers", status_code=201, response_model=CustomerView, responses=RECORD_ERRORS)
async def create_customer(
    body: CreateCustomerBody,
    caller: Caller,
    customers: Customers,
    reads: Reads,
    x_correlation_id: CorrelationId = None,
) -> Response:
    """Register a contact. An email that a contact has already is a 409 naming that contact
    (its URL in `Location`)."""
    new = NewCustomer(
        name=body.name,
        email=body.email,
        phone=body.phone,
        tags=tuple(body.tags),
        gender=body.gender,
        channel=body.channel,
        ip_address=str(body.ip_address) if body.ip_address else None,
        company_id=body.company_id,
        job_title=body.job_title,
        role=body.role,
        country=body.country,
        language=body.language,
    )
    with refusals():
        customer = await customers.register_customer(new, command_context(caller, x_correlation_id))
    return await customer_response(reads, customer, 201, f"/customers/{customer.id}")


@router.get("/customers", response_model=CustomerPage, responses=RECORD_ERRORS)
async def list_customers(
    caller: ManagesContacts,
    reads: Reads,
    q: Annotated[str | None, Query(max_length=200, description="in name, email or phone")] = None,
    company_id: uuid.UUID | None = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    page: Page = 1,
    page_size: PageSize = 25,
) -> CustomerPage:
    """Contacts by name, searched in name, email and phone, filtered by company or tag."""
    with refusals():
        rows, total = await reads.customers(
            caller, PageRequest(page, page_size), q=q, company_id=company_id, tag=tag
        )
    items = [CustomerView.of_row(row) for row in rows]
    return CustomerPage(items=items, page=page, page_size=page_size, total=total)


@router.get("/customers/me", response_model=CustomerView, responses=RECORD_ERRORS)
async def my_customer_record(caller: Caller, reads: Reads) -> Response:
    """The caller's own contact record (by the token's subject, else by its email)."""
    with refusals():
        customer = await reads.own_contact(caller)
    return await customer_response(reads, customer)


@router.get("/customers/{customer_id}", response_model=CustomerView, responses=RECORD_ERRORS)
async def get_customer(
    customer_id: uuid.UUID, caller: Caller, customers: Customers, reads: Reads
) -> Response:
    """A contact (staff), or the caller's own record (customers: others' are a 404)."""
    with refusals():
        customer = await customers.read_customer(caller, customer_id)
    return await customer_response(reads, customer)


@router.patch("/customers/{customer_id}", response_model=CustomerView, responses=RECORD_ERRORS)
async def change_customer(
    customer_id: uuid.UUID,
    body: ChangeCustomerBody,
    caller: Caller,
    customers: Customers,
    reads: Reads,
    if_match: IfMatch = None,
    x_correlation_id: CorrelationId = None,
) -> Response:
    """Edit a contact's profile and/or replace its tags."""
    sent = body.model_fields_set
    if not sent:
        raise nothing_to_change(tuple(ChangeCustomerBody.model_fields))
    profile: dict[CustomerField, str | uuid.UUID | None] = {}
    for name in sent - {"tags"}:
        value = getattr(body, name)  # IP addresses and emails as text, company ids as UUIDs
        text_or_id = value if value is None or isinstance(value, uuid.UUID) else str(value)
        profile[cast(CustomerField, name)] = text_or_id
    edit = CustomerEdit(
        profile=profile,
        tags=tuple(body.tags or ()) if "tags" in sent else None,
    )
    with refusals():
        customer = await customers.change_customer(
            customer_id,
            edit,
            command_context(caller, x_correlation_id),
            expected_version=expected_from(if_match, read_from=READ_FROM),
        )
    return await customer_response(reads, customer)
