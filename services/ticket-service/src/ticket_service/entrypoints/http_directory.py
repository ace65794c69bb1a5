"""Customer, company, agent and team routes.

Who may do what:
- customers read only their own contact record (``GET /customers/me`` or by its id);
- agents, technicians and managers register and edit contacts and companies, and read the
  directory (agents and teams);
- managers invite agents, change roles, (de)activate agents, create and edit teams and manage
  their members and lead;
- an agent changes their own availability (a manager may change anyone's).

Single records are read from their event streams (always current) and carry their stream version
as ``ETag``; edits take ``If-Match`` and answer 409 when the record moved on. Lists and searches
read the read models, which follow the log a moment behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar, cast

import asyncpg
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, IPvAnyAddress

from helpdesk_events.customers import CompanyField, CustomerField
from helpdesk_events.directory import AgentRole, Availability
from ticket_service.adapters.directory_queries import DirectoryQueries, PageRequest
from ticket_service.adapters.event_store import PostgresEventStore
from ticket_service.domain.customers import (
    Company,
    CompanyNotFound,
    Customer,
)
from ticket_service.domain.directory import (
    Agent,
    Region,
    Team,
)
from ticket_service.entrypoints.dependencies import (
    Caller,
    ManagesContacts,
    ReadsDirectory,
    command_context,
)
from ticket_service.entrypoints.errors import refusals
from ticket_service.entrypoints.http_tickets import Problem
from ticket_service.service_layer.customers import (
    CustomerApplication,
    CustomerEdit,
    NewCompany,
    NewCustomer,
)
from ticket_service.service_layer.directory import (
    AgentEdit,
    DirectoryApplication,
    NewAgent,
    NewTeam,
)

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (400, 401, 403, 404, 409, 422)
}

customers_router = APIRouter(tags=["customers"])
agents_router = APIRouter(tags=["agents"])
teams_router = APIRouter(tags=["teams"])

# --- wiring ------------------------------------------------------------------------------------

S = TypeVar("S")


def _service(request: Request, name: str, build: Callable[[asyncpg.Pool], S]) -> S:
    """``app.state.<name>``, built from the app's pool on first use unless the lifespan set it."""
    state = request.app.state
    service: S | None = getattr(state, name, None)
    if service is None:
        service = build(state.pool)
        setattr(state, name, service)
    return service


def _customers(pool: asyncpg.Pool) -> CustomerApplication:
    return CustomerApplication(pool, PostgresEventStore(pool))


def _directory(pool: asyncpg.Pool) -> DirectoryApplication:
    return DirectoryApplication(pool, PostgresEventStore(pool))


async def customer_application(request: Request) -> CustomerApplication:
    return _service(request, "customer_application", _customers)


async def directory_application(request: Request) -> DirectoryApplication:
    return _service(request, "directory_application", _directory)


async def directory_queries(request: Request) -> DirectoryQueries:
    return _service(request, "directory_queries", DirectoryQueries)


Customers = Annotated[CustomerApplication, Depends(customer_application)]
Directory = Annotated[DirectoryApplication, Depends(directory_application)]
Queries = Annotated[DirectoryQueries, Depends(directory_queries)]
IfMatch = Annotated[
    str | None, Header(description='the ETag you read, e.g. "3": refuse with 409 if it moved on')
]
CorrelationId = Annotated[str | None, Header()]
Page = Annotated[int, Query(ge=1, le=10_000)]
PageSize = Annotated[int, Query(ge=1, le=200)]
SearchText = Annotated[str | None, Query(max_length=200)]


def if_match_version(if_match: str | None) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    try:
        return int(if_match.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise HTTPException(400, 'If-Match must be the ETag you read, e.g. "3"') from None


def resource(
    view: BaseModel, version: int, status_code: int = 200, location: str | None = None
) -> Response:
    """The record as JSON with its ETag (already validated: FastAPI need not validate again)."""
    headers = {"ETag": f'"{version}"'}
    if location:
        headers["Location"] = location
    return Response(
        view.model_dump_json(), status_code, headers=headers, media_type="application/json"
    )


def _nothing_to_change(fields: tuple[str, ...]) -> HTTPException:
    return HTTPException(422, f"nothing to change: give at least one of {', '.join(fields)}")


def _lowercase(value: Any) -> Any:
    """Accept "Away" as well as "away" for enum values."""
    return value.strip().lower() if isinstance(value, str) else value


RoleValue = Annotated[AgentRole, BeforeValidator(_lowercase)]
AvailabilityValue = Annotated[Availability, BeforeValidator(_lowercase)]


# --- customers and companies: bodies and views ------------------------------------------------

Tag = Annotated[str, Field(min_length=1, max_length=50)]
Short = Annotated[str, Field(max_length=50)]
Medium = Annotated[str, Field(max_length=200)]
Country = Annotated[
    str, Field(max_length=2, description="ISO 3166-1 alpha-2, e.g. ID, IN, SG (422 otherwise)")
]


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


ItemT = TypeVar("ItemT", bound=BaseModel)


class ListPage(BaseModel, Generic[ItemT]):
    """One page of a list, and how many items there are in all."""

    items: list[ItemT]
    page: int
    page_size: int
    total: int


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
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, customer: Customer, company_name: str | None = None) -> CustomerView:
        view = cls.model_validate(customer, from_attributes=True)
        return view.model_copy(update={"company_name": company_name})

    @classmethod
    def of_row(cls, row: asyncpg.Record) -> CustomerView:
        return cls(id=row["customer_id"], **{k: row[k] for k in cls.model_fields if k != "id"})


CustomerPage = ListPage[CustomerView]


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
    def of_row(cls, row: asyncpg.Record) -> CompanyView:
        return cls(id=row["company_id"], **{k: row[k] for k in cls.model_fields if k != "id"})


CompanyPage = ListPage[CompanyView]


async def customer_response(
    customers: CustomerApplication,
    customer: Customer,
    status_code: int = 200,
    location: str | None = None,
) -> Response:
    company_name = None
    if customer.company_id is not None:
        with suppress(CompanyNotFound):  # a company id always names a company; be lenient
            company_name = (await customers.get_company(customer.company_id)).name
    return resource(
        CustomerView.of(customer, company_name), customer.version, status_code, location
    )


# --- customers and companies: routes ----------------------------------------------------------


@customers_router.post("/customers", status_code=201, response_model=CustomerView, responses=ERRORS)
async def create_customer(
    body: CreateCustomerBody,
    caller: Caller,
    customers: Customers,
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
    )
    with refusals():
        customer = await customers.register_customer(new, command_context(caller, x_correlation_id))
    return await customer_response(customers, customer, 201, f"/customers/{customer.id}")


@customers_router.get("/customers", response_model=CustomerPage, responses=ERRORS)
async def list_customers(
    caller: ManagesContacts,
    queries: Queries,
    q: Annotated[str | None, Query(max_length=200, description="in name, email or phone")] = None,
    company_id: uuid.UUID | None = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    page: Page = 1,
    page_size: PageSize = 25,
) -> CustomerPage:
    """Contacts by name, searched in name, email and phone, filtered by company or tag."""
    rows, total = await queries.customers(
        PageRequest(page, page_size), q=q, company_id=company_id, tag=tag
    )
    items = [CustomerView.of_row(row) for row in rows]
    return CustomerPage(items=items, page=page, page_size=page_size, total=total)


@customers_router.get("/customers/me", response_model=CustomerView, responses=ERRORS)
async def my_customer_record(caller: Caller, customers: Customers) -> Response:
    """The caller's own contact record (by the token's subject, else by its email)."""
    customer = await customers.own_record(caller)
    if customer is None:
        raise HTTPException(
            404, "no contact record for you yet; one is made with your first ticket"
        )
    return await customer_response(customers, customer)


@customers_router.get("/customers/{customer_id}", response_model=CustomerView, responses=ERRORS)
async def get_customer(customer_id: uuid.UUID, caller: Caller, customers: Customers) -> Response:
    """A contact (staff), or the caller's own record (customers: others' are a 404)."""
    with refusals():
        customer = await customers.read_customer(caller, customer_id)
    return await customer_response(customers, customer)


@customers_router.patch("/customers/{customer_id}", response_model=CustomerView, responses=ERRORS)
async def change_customer(
    customer_id: uuid.UUID,
    body: ChangeCustomerBody,
    caller: Caller,
    customers: Customers,
    if_match: IfMatch = None,
    x_correlation_id: CorrelationId = None,
) -> Response:
    """Edit a contact's profile and/or replace its tags."""
    sent = body.model_fields_set
    if not sent:
        raise _nothing_to_change(tuple(ChangeCustomerBody.model_fields))
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
            expected_version=if_match_version(if_match),
        )
    return await customer_response(customers, customer)


@customers_router.post("/companies", status_code=201, response_model=CompanyView, responses=ERRORS)
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


@customers_router.get("/companies", response_model=CompanyPage, responses=ERRORS)
async def list_companies(
    caller: ManagesContacts,
    queries: Queries,
    q: Annotated[
        str | None, Query(max_length=200, description="in name, website, city, phone")
    ] = None,
    page: Page = 1,
    page_size: PageSize = 25,
) -> CompanyPage:
    rows, total = await queries.companies(PageRequest(page, page_size), q=q)
    items = [CompanyView.of_row(row) for row in rows]
    return CompanyPage(items=items, page=page, page_size=page_size, total=total)


@customers_router.get("/companies/{company_id}", response_model=CompanyView, responses=ERRORS)
async def get_company(
    company_id: uuid.UUID, caller: ManagesContacts, customers: Customers
) -> Response:
    with refusals():
        company = await customers.get_company(company_id)
    return resource(CompanyView.of(company), company.version)


@customers_router.patch("/companies/{company_id}", response_model=CompanyView, responses=ERRORS)
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
        raise _nothing_to_change(tuple(ChangeCompanyBody.model_fields))
    changes = {cast(CompanyField, name): getattr(body, name) for name in sent - {"tags"}}
    with refusals():
        company = await customers.change_company(
            company_id,
            changes,
            command_context(caller, x_correlation_id),
            expected_version=if_match_version(if_match),
            tags=tuple(body.tags or ()) if "tags" in sent else None,
        )
    return resource(CompanyView.of(company), company.version)


# --- agents ------------------------------------------------------------------------------------


class InviteAgentBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "rina@helpdesk.example", "name": "Rina", "role": "agent"}]
        },
    )
    email: EmailStr = Field(description="agents are unique by email")
    name: str = Field(min_length=1, max_length=200)
    role: RoleValue = AgentRole.AGENT


class ChangeAgentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: RoleValue | None = None
    active: bool | None = Field(default=None, description="false deactivates, true reactivates")


class AvailabilityBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    availability: AvailabilityValue


class AgentView(BaseModel):
    id: uuid.UUID
    version: int
    email: str
    name: str
    role: AgentRole
    active: bool
    availability: Availability
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, agent: Agent) -> AgentView:
        return cls.model_validate(agent, from_attributes=True)

    @classmethod
    def of_row(cls, row: asyncpg.Record) -> AgentView:
        return cls(id=row["agent_id"], **{k: row[k] for k in cls.model_fields if k != "id"})


AgentPage = ListPage[AgentView]


def agent_response(agent: Agent, status_code: int = 200, location: str | None = None) -> Response:
    return resource(AgentView.of(agent), agent.version, status_code, location)


@agents_router.post("/agents", status_code=201, response_model=AgentView, responses=ERRORS)
async def invite_agent(
    body: InviteAgentBody,
    caller: Caller,
    directory: Directory,
    x_correlation_id: CorrelationId = None,
) -> Response:
    """Invite an agent (managers). An email that an agent has already is a 409 naming them."""
    with refusals():
        agent = await directory.invite_agent(
            NewAgent(email=body.email, name=body.name, role=body.role),
            command_context(caller, x_correlation_id),
        )
    return agent_response(agent, 201, f"/agents/{agent.id}")


@agents_router.get("/agents", response_model=AgentPage, responses=ERRORS)
async def list_agents(
    caller: ReadsDirectory,
    queries: Queries,
    q: Annotated[str | None, Query(max_length=200, description="in name or email")] = None,
    role: AgentRole | None = None,
    active: bool | None = None,
    availability: Availability | None = None,
    team_id: uuid.UUID | None = None,
    page: Page = 1,
    page_size: PageSize = 25,
) -> AgentPage:
    rows, total = await queries.agents(
        PageRequest(page, page_size),
        q=q,
        role=role.value if role else None,
        active=active,
        availability=availability.value if availability else None,
        team_id=team_id,
    )
    items = [AgentView.of_row(row) for row in rows]
    return AgentPage(items=items, page=page, page_size=page_size, total=total)


@agents_router.get("/agents/me", response_model=AgentView, responses=ERRORS)
async def my_agent_record(caller: ReadsDirectory, directory: Directory) -> Response:
    """The caller's own agent record (token subject = agent id, or the same email)."""
    agent = await directory.find_agent(subject=caller.subject, email=caller.email)
    if agent is None:
        raise HTTPException(
            404, "no agent record for you (by token subject or email); ask a manager to invite you"
        )
    return agent_response(agent)


@agents_router.get("/agents/{agent_id}", response_model=AgentView, responses=ERRORS)
async def get_agent(agent_id: uuid.UUID, caller: ReadsDirectory, directory: Directory) -> Response:
    with refusals():
        agent = await directory.get_agent(agent_id)
    return agent_response(agent)


@agents_router.patch("/agents/{agent_id}", response_model=AgentView, responses=ERRORS)
async def change_agent(
    agent_id: uuid.UUID,
    body: ChangeAgentBody,
    caller: Caller,
    directory: Directory,
    if_match: IfMatch = None,
    x_correlation_id: CorrelationId = None,
) -> Response:
    """Change an agent's role, or deactivate (`active: false`) / reactivate them (managers)."""
    if body.role is None and body.active is None:
        raise _nothing_to_change(("role", "active"))
    with refusals():
        agent = await directory.change_agent(
            agent_id,
            AgentEdit(role=body.role, active=body.active),
            command_context(caller, x_correlation_id),
            expected_version=if_match_version(if_match),
        )
    return agent_response(agent)


@agents_router.put("/agents/{agent_id}/availability", response_model=AgentView, responses=ERRORS)
async def change_availability(
    agent_id: uuid.UUID,
    body: AvailabilityBody,
    caller: Caller,
    directory: Directory,
    if_match: IfMatch = None,
    x_correlation_id: CorrelationId = None,
) -> Response:
    """Set an agent's availability: `active`, `away` or `unavailable` (for new tickets).
    Agents set their own; managers anyone's."""
    with refusals():
        agent = await directory.change_availability(
            agent_id,
            body.availability,
            command_context(caller, x_correlation_id),
            expected_version=if_match_version(if_match),
        )
    return agent_response(agent)


# --- teams -------------------------------------------------------------------------------------


TimeZone = Annotated[str, Field(max_length=100, description="IANA, e.g. Asia/Jakarta")]
Languages = Annotated[
    list[Annotated[str, Field(max_length=10)]],
    Field(max_length=50, description="ISO 639-1 codes the team answers in, e.g. id, en"),
]
CalendarId = Annotated[
    str, Field(max_length=100, description="the SLA service's business calendar id")
]


class CreateTeamBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "L1 Support", "tier": 1, "member_ids": [], "lead_id": None}]
        },
    )
    name: str = Field(min_length=1, max_length=200, description="unique, ignoring case")
    description: str | None = Field(default=None, max_length=2000, description="plain text")
    tier: int | None = Field(default=None, ge=1, le=9, description="1 = first line")
    escalates_to: uuid.UUID | None = Field(default=None, description="the next tier's team")
    member_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500)
    lead_id: uuid.UUID | None = Field(
        default=None, description="becomes a member too if not listed in member_ids"
    )
    time_zone: TimeZone | None = None
    languages: Languages = Field(default_factory=list)
    business_calendar_id: CalendarId | None = None


class ChangeTeamBody(BaseModel):
    """Only the fields sent change; an empty description clears it."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    tier: int | None = Field(default=None, ge=1, le=9)
    escalates_to: uuid.UUID | None = None
    time_zone: TimeZone | None = Field(default=None, description="null clears it")
    languages: Languages | None = None
    business_calendar_id: CalendarId | None = Field(default=None, description="null clears it")


class LeadBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent_id: uuid.UUID | None = Field(
        description="the new lead (joins the team if not a member), or null to clear the lead"
    )


class TeamMemberView(BaseModel):
    id: uuid.UUID
    name: str | None
    email: str | None
    role: str | None
    active: bool | None
    availability: str | None


class TeamView(BaseModel):
    id: uuid.UUID
    version: int
    name: str
    description: str | None
    lead_id: uuid.UUID | None
    tier: int | None
    escalates_to: uuid.UUID | None
    members: list[TeamMemberView]
    created_at: datetime
    updated_at: datetime
    time_zone: str | None = None
    languages: list[str] = Field(default_factory=list)
    business_calendar_id: str | None = None

    @classmethod
    def of(cls, team: Team, members: list[Agent]) -> TeamView:
        return cls(
            time_zone=team.time_zone,
            languages=list(team.languages),
            business_calendar_id=team.business_calendar_id,
            id=team.id,
            version=team.version,
            name=team.name,
            description=team.description,
            lead_id=team.lead_id,
            tier=team.tier,
            escalates_to=team.escalates_to,
            members=[
                TeamMemberView(
                    id=agent.id,
                    name=agent.name,
                    email=agent.email,
                    role=agent.role.value,
                    active=agent.active,
                    availability=agent.availability.value,
                )
                for agent in members
            ],
            created_at=team.created_at,
            updated_at=team.updated_at,
        )

    @classmethod
    def of_row(cls, row: asyncpg.Record) -> TeamView:
        fields = {k: row[k] for k in cls.model_fields if k not in ("id", "members")}
        members = [TeamMemberView.model_validate(member) for member in row["members"]]
        return cls(id=row["team_id"], members=members, **fields)


TeamPage = ListPage[TeamView]


async def team_response(
    directory: DirectoryApplication,
    team: Team,
    status_code: int = 200,
    location: str | None = None,
) -> Response:
    members = await directory.member_agents(team)
    return resource(TeamView.of(team, members), team.version, status_code, location)


@teams_router.post("/teams", status_code=201, response_model=TeamView, responses=ERRORS)
async def create_team(
    body: CreateTeamBody,
    caller: Caller,
    directory: Directory,
    x_correlation_id: CorrelationId = None,
) -> Response:
    """Create a team, with members and a lead if given (managers). A taken name is a 409."""
    new = NewTeam(
        name=body.name,
        description=body.description,
        tier=body.tier,
        escalates_to=body.escalates_to,
        member_ids=tuple(body.member_ids),
        lead_id=body.lead_id,
        region=Region(body.time_zone, tuple(body.languages), body.business_calendar_id),
    )
    with refusals():
        team = await directory.create_team(new, command_context(caller, x_correlation_id))
    return await team_response(directory, team, 201, f"/teams/{team.id}")


@teams_router.get("/teams", response_model=TeamPage, responses=ERRORS)
async def list_teams(
    caller: ReadsDirectory,
    queries: Queries,
    q: Annotated[str | None, Query(max_length=200, description="in the name")] = None,
    agent_id: Annotated[uuid.UUID | None, Query(description="teams this agent is in")] = None,
    page: Page = 1,
    page_size: PageSize = 25,
) -> TeamPage:
    """Teams with their members."""
    rows, total = await queries.teams(PageRequest(page, page_size), q=q, agent_id=agent_id)
    items = [TeamView.of_row(row) for row in rows]
    return TeamPage(items=items, page=page, page_size=page_size, total=total)


@teams_router.get("/teams/{team_id}", response_model=TeamView, responses=ERRORS)
async def get_team(team_id: uuid.UUID, caller: ReadsDirectory, directory: Directory) -> Response:
    with refusals():
        team = await directory.get_team(team_id)
    return await team_response(directory, team)


@teams_router.patch("/teams/{team_id}", response_model=TeamView, responses=ERRORS)
async def change_team(
    team_id: uuid.UUID,
    body: ChangeTeamBody,
    caller: Caller,
    directory: Directory,
    if_match: IfMatch = None,
    x_correlation_id: CorrelationId = None,
) -> Response:
    """Rename, describe, set the tier or the team tickets escalate to (managers)."""
    sent = body.model_fields_set
    if not sent:
        raise _nothing_to_change(tuple(ChangeTeamBody.model_fields))
    with refusals():
        team = await directory.change_team(
            team_id,
            {
                name: tuple(body.languages or ()) if name == "languages" else getattr(body, name)
                for name in sent
            },
            command_context(caller, x_correlation_id),
            expected_version=if_match_version(if_match),
        )
    return await team_response(directory, team)


@teams_router.put("/teams/{team_id}/members/{agent_id}", response_model=TeamView, responses=ERRORS)
async def add_team_member(
    team_id: uuid.UUID,
    agent_id: uuid.UUID,
    caller: Caller,
    directory: Directory,
    if_match: IfMatch = None,
    x_correlation_id: CorrelationId = None,
) -> Response:
    """Add an active agent to the team (managers); a member already is a 422."""
    with refusals():
        team = await directory.add_member(
            team_id,
            agent_id,
            command_context(caller, x_correlation_id),
            expected_version=if_match_version(if_match),
        )
    return await team_response(directory, team)


@teams_router.delete(
    "/teams/{team_id}/members/{agent_id}", response_model=TeamView, responses=ERRORS
)
async def remove_team_member(
    team_id: uuid.UUID,
    agent_id: uuid.UUID,
    caller: Caller,
    directory: Directory,
    if_match: IfMatch = None,
    x_correlation_id: CorrelationId = None,
) -> Response:
    """Remove a member (managers); removing the lead also leaves the team without a lead."""
    with refusals():
        team = await directory.remove_member(
            team_id,
            agent_id,
            command_context(caller, x_correlation_id),
            expected_version=if_match_version(if_match),
        )
    return await team_response(directory, team)


@teams_router.put("/teams/{team_id}/lead", response_model=TeamView, responses=ERRORS)
async def set_team_lead(
    team_id: uuid.UUID,
    body: LeadBody,
    caller: Caller,
    directory: Directory,
    if_match: IfMatch = None,
    x_correlation_id: CorrelationId = None,
) -> Response:
    """Make an active agent the lead (they join the team if needed), or clear it with null."""
    with refusals():
        team = await directory.set_lead(
            team_id,
            body.agent_id,
            command_context(caller, x_correlation_id),
            expected_version=if_match_version(if_match),
        )
    return await team_response(directory, team)


#: Everything above, for ``app.include_router(directory_router)``.
directory_router = APIRouter()
directory_router.include_router(customers_router)
directory_router.include_router(agents_router)
directory_router.include_router(teams_router)
