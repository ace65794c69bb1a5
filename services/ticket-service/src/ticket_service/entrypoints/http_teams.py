"""Team routes: create, list, read, change, members and lead (managers edit; staff read)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from ticket_service.domain.directory import Agent, Region, Team
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
from ticket_service.service_layer.directory import NewTeam
from ticket_service.service_layer.directory_reads import DirectoryReads, PageRequest

READ_FROM = "GET /teams/{id}"
router = APIRouter(tags=["teams"])


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
    def of_row(cls, row: Mapping[str, Any]) -> TeamView:
        fields = {k: row[k] for k in cls.model_fields if k not in ("id", "members")}
        members = [TeamMemberView.model_validate(member) for member in row["members"]]
        return cls(id=row["team_id"], members=members, **fields)


TeamPage = ListPage[TeamView]


async def team_response(
    reads: DirectoryReads,
    team: Team,
    status_code: int = 200,
    location: str | None = None,
) -> Response:
    members = await reads.members(team)
    return resource(TeamView.of(team, members), team.version, status_code, location)


@router.post("/teams", status_code=201, response_model=TeamView, responses=RECORD_ERRORS)
async def create_team(
    body: CreateTeamBody,
    caller: Caller,
    directory: Directory,
    reads: Reads,
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
    return await team_response(reads, team, 201, f"/teams/{team.id}")


@router.get("/teams", response_model=TeamPage, responses=RECORD_ERRORS)
async def list_teams(
    caller: ReadsDirectory,
    reads: Reads,
    q: Annotated[str | None, Query(max_length=200, description="in the name")] = None,
    agent_id: Annotated[uuid.UUID | None, Query(description="teams this agent is in")] = None,
    page: Page = 1,
    page_size: PageSize = 25,
) -> TeamPage:
    """Teams with their members."""
    with refusals():
        rows, total = await reads.teams(
            caller, PageRequest(page, page_size), q=q, agent_id=agent_id
        )
    items = [TeamView.of_row(row) for row in rows]
    return TeamPage(items=items, page=page, page_size=page_size, total=total)


@router.get("/teams/{team_id}", response_model=TeamView, responses=RECORD_ERRORS)
async def get_team(team_id: uuid.UUID, caller: ReadsDirectory, reads: Reads) -> Response:
    with refusals():
        team = await reads.team(caller, team_id)
    return await team_response(reads, team)


@router.patch("/teams/{team_id}", response_model=TeamView, responses=RECORD_ERRORS)
async def change_team(
    team_id: uuid.UUID,
    body: ChangeTeamBody,
    caller: Caller,
    directory: Directory,
    reads: Reads,
    if_match: IfMatch = None,
    x_correlation_id: CorrelationId = None,
) -> Response:
    """Rename, describe, set the tier or the team tickets escalate to (managers)."""
    sent = body.model_fields_set
    if not sent:
        raise nothing_to_change(tuple(ChangeTeamBody.model_fields))
    with refusals():
        team = await directory.change_team(
            team_id,
            {
                name: tuple(body.languages or ()) if name == "languages" else getattr(body, name)
                for name in sent
            },
            command_context(caller, x_correlation_id),
            expected_version=expected_from(if_match, read_from=READ_FROM),
        )
    return await team_response(reads, team)


@router.put("/teams/{team_id}/members/{agent_id}", response_model=TeamView, responses=RECORD_ERRORS)
async def add_team_member(
    team_id: uuid.UUID,
    agent_id: uuid.UUID,
    caller: Caller,
    directory: Directory,
    reads: Reads,
    if_match: IfMatch = None,
    x_correlation_id: CorrelationId = None,
) -> Response:
    """Add an active agent to the team (managers); a member already is a 422."""
    with refusals():
        team = await directory.add_member(
            team_id,
            agent_id,
            command_context(caller, x_correlation_id),
            expected_version=expected_from(if_match, read_from=READ_FROM),
        )
    return await team_response(reads, team)


@router.delete(
    "/teams/{team_id}/members/{agent_id}", response_model=TeamView, responses=RECORD_ERRORS
)
async def remove_team_member(
    team_id: uuid.UUID,
    agent_id: uuid.UUID,
    caller: Caller,
    directory: Directory,
    reads: Reads,
    if_match: IfMatch = None,
    x_correlation_id: CorrelationId = None,
) -> Response:
    """Remove a member (managers); removing the lead also leaves the team without a lead."""
    with refusals():
        team = await directory.remove_member(
            team_id,
            agent_id,
            command_context(caller, x_correlation_id),
            expected_version=expected_from(if_match, read_from=READ_FROM),
        )
    return await team_response(reads, team)


@router.put("/teams/{team_id}/lead", response_model=TeamView, responses=RECORD_ERRORS)
async def set_team_lead(
    team_id: uuid.UUID,
    body: LeadBody,
    caller: Caller,
    directory: Directory,
    reads: Reads,
    if_match: IfMatch = None,
    x_correlation_id: CorrelationId = None,
) -> Response:
    """Make an active agent the lead (they join the team if needed), or clear it with null."""
    with refusals():
        team = await directory.set_lead(
            team_id,
            body.agent_id,
            command_context(caller, x_correlation_id),
            expected_version=expected_from(if_match, read_from=READ_FROM),
        )
    return await team_response(reads, team)
