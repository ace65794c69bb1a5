"""Agent routes: invite, list and search, read (also one's own record), change role or
active state (managers), set availability (one's own; managers anyone's)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field

from helpdesk_events.directory import AgentRole, Availability
from ticket_service.domain.directory import Agent
from ticket_service.entrypoints.dependencies import (
    Caller,
    Directory,
    Reads,
    ReadsDirectory,
    command_context,
)
from ticket_service.entrypoints.errors import refusals
from ticket_service.entrypoints.http_common import (
    RECORD_ERRORS,
    CorrelationId,
    IfMatch,
    ListPage,
    Page,
    PageSize,
    expected_from,
    nothing_to_change,
    resource,
)
from ticket_service.service_layer.directory import AgentEdit, NewAgent
from ticket_service.service_layer.directory_reads import PageRequest

READ_FROM = "GET /agents/{id}"
router = APIRouter(tags=["agents"])


def _lowercase(value: Any) -> Any:
    """Accept "Away" as well as "away" for enum values."""
    return value.strip().lower() if isinstance(value, str) else value


RoleValue = Annotated[AgentRole, BeforeValidator(_lowercase)]
AvailabilityValue = Annotated[Availability, BeforeValidator(_lowercase)]


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
    def of_row(cls, row: Mapping[str, Any]) -> AgentView:
        return cls(id=row["agent_id"], **{k: row[k] for k in cls.model_fields if k != "id"})


AgentPage = ListPage[AgentView]


def agent_response(agent: Agent, status_code: int = 200, location: str | None = None) -> Response:
    return resource(AgentView.of(agent), agent.version, status_code, location)


@router.post("/agents", status_code=201, response_model=AgentView, responses=RECORD_ERRORS)
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


@router.get("/agents", response_model=AgentPage, responses=RECORD_ERRORS)
async def list_agents(
    caller: ReadsDirectory,
    reads: Reads,
    q: Annotated[str | None, Query(max_length=200, description="in name or email")] = None,
    role: AgentRole | None = None,
    active: bool | None = None,
    availability: Availability | None = None,
    team_id: uuid.UUID | None = None,
    page: Page = 1,
    page_size: PageSize = 25,
) -> AgentPage:
    with refusals():
        rows, total = await reads.agents(
            caller,
            PageRequest(page, page_size),
            q=q,
            role=role.value if role else None,
            active=active,
            availability=availability.value if availability else None,
            team_id=team_id,
        )
    items = [AgentView.of_row(row) for row in rows]
    return AgentPage(items=items, page=page, page_size=page_size, total=total)


@router.get("/agents/me", response_model=AgentView, responses=RECORD_ERRORS)
async def my_agent_record(caller: ReadsDirectory, reads: Reads) -> Response:
    """The caller's own agent record (token subject = agent id, or the same email)."""
    with refusals():
        agent = await reads.own_agent(caller)
    return agent_response(agent)


@router.get("/agents/{agent_id}", response_model=AgentView, responses=RECORD_ERRORS)
async def get_agent(agent_id: uuid.UUID, caller: ReadsDirectory, reads: Reads) -> Response:
    with refusals():
        agent = await reads.agent(caller, agent_id)
    return agent_response(agent)


@router.patch("/agents/{agent_id}", response_model=AgentView, responses=RECORD_ERRORS)
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
        raise nothing_to_change(("role", "active"))
    with refusals():
        agent = await directory.change_agent(
            agent_id,
            AgentEdit(role=body.role, active=body.active),
            command_context(caller, x_correlation_id),
            expected_version=expected_from(if_match, read_from=READ_FROM),
        )
    return agent_response(agent)


@router.put("/agents/{agent_id}/availability", response_model=AgentView, responses=RECORD_ERRORS)
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
            expected_version=expected_from(if_match, read_from=READ_FROM),
        )
    return agent_response(agent)
