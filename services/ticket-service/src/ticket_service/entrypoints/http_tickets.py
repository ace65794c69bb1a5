"""Ticket routes: create, views and search, read (also as of a time), edit, status, escalate,
timeline, conversation, merge and unmerge, and the admin-configurable ticket options."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field

from helpdesk_events import StatusCategory, Visibility
from helpdesk_events.tickets import AttachmentRef
from helpdesk_platform.auth import Principal, Role
from ticket_service.adapters.attachments import Attachments, UnknownAttachment
from ticket_service.adapters.idempotency import request_fingerprint
from ticket_service.adapters.ticket_queries import SortKey, TicketFilter, View
from ticket_service.domain.options import TicketOptions
from ticket_service.domain.ticket import NewMessage, NewTicket, Ticket
from ticket_service.entrypoints.dependencies import Caller, Tickets, command_context
from ticket_service.entrypoints.errors import refusals
from ticket_service.service_layer.directory import DirectoryApplication
from ticket_service.service_layer.tickets import IdempotencyRequest, TicketChanges

router = APIRouter(tags=["tickets"])


class Problem(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (400, 401, 403, 404, 409, 412, 422)
}

PLAIN_TEXT = "plain text: stored and returned as sent, never HTML; clients must escape it"
HTML = "HTML or plain text; stored sanitised (no scripts, event handlers or styles)"


# --- bodies ------------------------------------------------------------------------------------


class Requester(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    name: str | None = Field(default=None, max_length=200, description=PLAIN_TEXT)


Text = Annotated[str, Field(max_length=100)]


class CreateTicketBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": "Cannot log in to the portal",
                    "description": "Since this morning the login page says 'invalid token'.",
                    "requester": {"email": "budi@example.co.id", "name": "Budi"},
                    "channel": "email",
                    "priority": "High",
                    "category": "Problem",
                    "tags": ["login"],
                }
            ]
        },
    )
    subject: str = Field(min_length=1, max_length=500, description=PLAIN_TEXT)
    description: str = Field(default="", max_length=200_000, description=HTML)
    requester: Requester | None = Field(
        default=None, description="the customer; always the caller when a customer calls"
    )
    customer_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    channel: str = Field(default="portal", min_length=1, max_length=50)
    priority: str | None = Field(default=None, max_length=50, description="default: Medium")
    status: str | None = Field(default=None, max_length=50, description="default: New")
    type: Text | None = None
    category: Text | None = None
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    business_unit: Text | None = None
    brand: Text | None = None
    tags: list[Annotated[str, Field(max_length=50)]] = Field(default_factory=list, max_length=50)
    attachment_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=20, description="ids from POST /attachments"
    )


class UpdateTicketBody(BaseModel):
    """Only the fields present change; `team_id` / `assignee_id` set to null clear them."""

    model_config = ConfigDict(extra="forbid")
    subject: str | None = Field(default=None, min_length=1, max_length=500, description=PLAIN_TEXT)
    description: str | None = Field(default=None, max_length=200_000, description=HTML)
    type: Text | None = None
    category: Text | None = None
    business_unit: Text | None = None
    brand: Text | None = None
    channel: str | None = Field(default=None, min_length=1, max_length=50)
    priority: str | None = Field(default=None, max_length=50)
    status: str | None = Field(default=None, max_length=50)
    status_reason: str | None = Field(
        default=None, max_length=1000, description=f"staff-only; {PLAIN_TEXT}"
    )
    add_tags: list[Annotated[str, Field(max_length=50)]] = Field(default_factory=list)
    remove_tags: list[Annotated[str, Field(max_length=50)]] = Field(default_factory=list)
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    expected_version: int | None = Field(default=None, ge=1)


class ChangeStatusBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str = Field(min_length=1, max_length=50)
    reason: str | None = Field(
        default=None, max_length=1000, description=f"staff-only; {PLAIN_TEXT}"
    )
    expected_version: int | None = Field(
        default=None, ge=1, description="refuse with 409 unless the ticket is at this version"
    )


class MessageBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(default="", max_length=1_000_000, description=HTML)
    visibility: Visibility = Visibility.PUBLIC
    set_status: str | None = Field(
        default=None, max_length=50, description='e.g. "Waiting on Customer": reply and set'
    )
    attachment_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=20, description="ids from POST /attachments"
    )


class MergeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    children: list[uuid.UUID] = Field(min_length=1, max_length=50)


class UnmergeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    child_id: uuid.UUID


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


class TicketView(BaseModel):
    id: uuid.UUID
    number: int | None
    version: int
    subject: str
    description: str
    requester_email: str | None
    requester_name: str | None
    customer_id: uuid.UUID | None
    company_id: uuid.UUID | None
    channel: str
    status: str
    status_category: str
    priority: str
    type: str | None
    category: str | None
    team_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    tags: list[str]
    business_unit: str | None
    brand: str | None
    follow_up_of: uuid.UUID | None
    merged_into: uuid.UUID | None
    merged_children: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, ticket: Ticket) -> TicketView:
        return cls(
            id=ticket.id,
            number=ticket.number,
            version=ticket.version,
            subject=ticket.subject,
            description=ticket.description,
            requester_email=ticket.requester_email,
            requester_name=ticket.requester_name,
            customer_id=ticket.customer_id,
            company_id=ticket.company_id,
            channel=ticket.channel,
            status=ticket.status,
            status_category=ticket.status_category.value,
            priority=ticket.priority,
            type=ticket.type,
            category=ticket.category,
            team_id=ticket.team_id,
            assignee_id=ticket.assignee_id,
            tags=list(ticket.tags),
            business_unit=ticket.business_unit,
            brand=ticket.brand,
            follow_up_of=ticket.follow_up_of,
            merged_into=ticket.merged_into,
            merged_children=list(ticket.merged_children),
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
        )


class TicketSummary(BaseModel):
    id: uuid.UUID
    number: int | None
    subject: str
    status: str
    status_category: str
    priority: str
    type: str | None
    category: str | None
    channel: str
    team_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    requester_email: str | None
    tags: list[str]
    message_count: int
    first_response_due: datetime | None
    resolution_due: datetime | None
    sla_breached: bool
    created_at: datetime
    updated_at: datetime


class TicketPage(BaseModel):
    items: list[TicketSummary]
    page: int
    page_size: int
    total: int


class MessageView(BaseModel):
    id: uuid.UUID
    ticket_id: uuid.UUID
    ticket_number: int | None
    visibility: Visibility
    author: dict[str, Any]
    body_html: str
    body_text: str
    attachments: list[AttachmentRef]
    automated: bool
    created_at: datetime


class MessageAddedView(BaseModel):
    message_id: uuid.UUID | None
    ticket: TicketView
    follow_up: TicketView | None = Field(
        default=None, description="opened instead when a customer writes to a Closed ticket"
    )


class TimelineEntry(BaseModel):
    version: int
    event_type: str
    occurred_at: datetime
    actor: dict[str, Any]
    data: dict[str, Any]


# --- helpers -----------------------------------------------------------------------------------


def ticket_response(
    ticket: Ticket, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """The ticket as JSON with its ETag. Built from a validated TicketView, so FastAPI's second
    validation of the response model (measurable at hundreds of requests/s) is skipped."""
    return Response(
        content=TicketView.of(ticket).model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers={"ETag": f'"{ticket.version}"', **(headers or {})},
    )


def expected_from(if_match: str | None, body_version: int | None) -> int | None:
    if if_match is None:
        return body_version
    try:
        return int(if_match.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise HTTPException(400, 'If-Match must be the ticket\'s ETag, e.g. "3"') from None


async def attachment_refs(
    request: Request, caller: Principal, ids: list[uuid.UUID]
) -> tuple[AttachmentRef, ...]:
    attachments: Attachments = request.app.state.attachments
    try:
        return await attachments.refs(
            ids, uploaded_by=None if caller.role is not Role.CUSTOMER else caller.subject
        )
    except UnknownAttachment as error:
        raise HTTPException(422, str(error)) from None


# --- routes ------------------------------------------------------------------------------------


@router.post("/tickets", status_code=201, response_model=TicketView, responses=ERRORS)
async def create_ticket(
    request: Request,
    body: CreateTicketBody,
    caller: Caller,
    tickets: Tickets,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Open a ticket. Send an `Idempotency-Key` so a retry never opens a second one.

    Customers open tickets for themselves (the contact of their token), in their own company,
    with a subject, description, attachments, type, category and a priority below the highest;
    never tags, channel, team, assignee, status, business unit or brand (403). Technicians may
    not set team or assignee (403)."""
    requester = body.requester
    new = NewTicket(
        subject=body.subject,
        description=body.description,
        channel=body.channel,
        priority=body.priority,
        status=body.status,
        requester_email=requester.email if requester else None,
        requester_name=requester.name if requester else None,
        customer_id=body.customer_id,
        company_id=body.company_id,
        type=body.type,
        category=body.category,
        team_id=body.team_id,
        assignee_id=body.assignee_id,
        tags=body.tags,
        business_unit=body.business_unit,
        brand=body.brand,
        attachments=await attachment_refs(request, caller, body.attachment_ids),
    )
    idempotency = (
        IdempotencyRequest(
            scope=f"{caller.subject}:POST /tickets",
            key=idempotency_key,
            fingerprint=request_fingerprint(body.model_dump(mode="json")),
        )
        if idempotency_key
        else None
    )
    with refusals():
        ticket, replayed = await tickets.create_ticket(
            new, command_context(caller, x_correlation_id), idempotency
        )
    headers = {"Location": f"/tickets/{ticket.id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return ticket_response(ticket, status.HTTP_201_CREATED, headers)


@router.get("/tickets", response_model=TicketPage, responses=ERRORS)
async def list_tickets(
    request: Request,
    caller: Caller,
    tickets: Tickets,
    view: View = "unsolved",
    q: Annotated[str | None, Query(max_length=200, description="words, #number or email")] = None,
    ticket_status: Annotated[str | None, Query(alias="status", max_length=50)] = None,
    team_id: uuid.UUID | None = None,
    assignee: Annotated[
        str | None, Query(description="an agent id, `me`, or `none` for unassigned")
    ] = None,
    customer_id: uuid.UUID | None = None,
    requester_email: Annotated[str | None, Query(max_length=320)] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    priority: Annotated[str | None, Query(max_length=50)] = None,
    breached: Annotated[
        bool | None, Query(description="only tickets whose SLA was (not) breached")
    ] = None,
    include_merged: bool = False,
    sort: Annotated[str, Query(pattern=r"^-?[a-z_]+$")] = "-created_at",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 25,
    scope: Annotated[
        Literal["mine", "company"],
        Query(description="customers: `company` lists their company's tickets, if it shares them"),
    ] = "mine",
) -> TicketPage:
    """Ticket views: `unsolved` (the ticket list: not solved or closed), `new`, `solved`,
    `closed`, `all`; filtered, searched and sorted (`-created_at`, `priority`, `resolution_due`,
    …). Customers only ever see their own tickets."""
    sort_key = sort.removeprefix("-")
    if sort_key not in SortKey.__args__:  # type: ignore[attr-defined]
        raise HTTPException(422, f"cannot sort by {sort_key!r}; use one of {SortKey.__args__}")  # type: ignore[attr-defined]
    assignee_id, unassigned = None, False
    if assignee == "me":
        directory: DirectoryApplication = request.app.state.directory_application
        me = await directory.find_agent(subject=caller.subject, email=caller.email)
        if me is None:
            raise HTTPException(
                422, "`assignee=me` needs a token of an agent in the directory (by id or email)"
            )
        assignee_id = me.id
    elif assignee == "none":
        unassigned = True
    elif assignee is not None:
        try:
            assignee_id = uuid.UUID(assignee)
        except ValueError:
            raise HTTPException(422, "assignee must be an agent id, `me` or `none`") from None
    where = TicketFilter(
        view=view,
        status=ticket_status,
        team_id=team_id,
        assignee_id=assignee_id,
        unassigned=unassigned,
        customer_id=customer_id,
        requester_email=requester_email,
        tag=tag,
        priority=priority,
        text=q,
        breached=breached,
        include_merged=include_merged,
        sort=sort_key,  # type: ignore[arg-type]
        descending=sort.startswith("-"),
        page=page,
        page_size=page_size,
    )
    with refusals():
        rows, total = await tickets.search(caller, where, company=scope == "company")
    items = [TicketSummary(id=row["ticket_id"], **_summary_fields(row)) for row in rows]
    return TicketPage(items=items, page=page, page_size=page_size, total=total)


def _summary_fields(row: Any) -> dict[str, Any]:
    return {name: row[name] for name in TicketSummary.model_fields if name != "id"}


@router.get("/tickets/{ticket_id}", response_model=TicketView, responses=ERRORS)
async def get_ticket(
    ticket_id: uuid.UUID,
    caller: Caller,
    tickets: Tickets,
    as_of: AwareDatetime | None = None,
) -> Response:
    """A ticket now, or as it was at `as_of` (ISO 8601 with a time zone). A customer's view
    counts its `version` in their public history (see the timeline)."""
    with refusals():
        return ticket_response(await tickets.read_ticket(caller, ticket_id, as_of=as_of))


@router.patch("/tickets/{ticket_id}", response_model=TicketView, responses=ERRORS)
async def update_ticket(
    ticket_id: uuid.UUID,
    body: UpdateTicketBody,
    caller: Caller,
    tickets: Tickets,
    if_match: Annotated[str | None, Header()] = None,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Edit a ticket (staff): fields, priority, status, tags, team, assignee — one change in the
    log per field that actually changes. A stale `If-Match` / `expected_version` is a 409;
    without one the edit applies to the ticket as it is. `description` is HTML and stored
    sanitised; the other text fields are plain text."""
    given = body.model_fields_set
    plain: tuple[Literal["subject", "description", "type", "category", "business_unit",
                         "brand", "channel"], ...] = (
        "subject", "description", "type", "category", "business_unit", "brand", "channel",
    )  # fmt: skip
    changes = TicketChanges(
        fields={name: getattr(body, name) for name in plain if name in given},
        priority=body.priority,
        status=body.status,
        status_reason=body.status_reason,
        add_tags=tuple(body.add_tags),
        remove_tags=tuple(body.remove_tags),
        team_id=body.team_id,
        clear_team="team_id" in given and body.team_id is None,
        assignee_id=body.assignee_id,
        clear_assignee="assignee_id" in given and body.assignee_id is None,
    )
    with refusals():
        ticket = await tickets.update_ticket(
            ticket_id,
            changes,
            command_context(caller, x_correlation_id),
            expected_version=expected_from(if_match, body.expected_version),
        )
    return ticket_response(ticket)


@router.post("/tickets/{ticket_id}/status", response_model=TicketView, responses=ERRORS)
async def change_status(
    ticket_id: uuid.UUID,
    body: ChangeStatusBody,
    caller: Caller,
    tickets: Tickets,
    if_match: Annotated[str | None, Header()] = None,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Move a ticket to another status (staff). Pass the version you saw (`expected_version`
    or `If-Match`) and a concurrent change makes this a 409 instead of a silent overwrite."""
    with refusals():
        ticket = await tickets.change_status(
            ticket_id,
            body.status,
            command_context(caller, x_correlation_id),
            expected_version=expected_from(if_match, body.expected_version),
            reason=body.reason,
        )
    return ticket_response(ticket)


class EscalateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(
        default=None,
        max_length=1000,
        description="why; kept as an internal note on the ticket",
        examples=["needs a database specialist"],
    )
    expected_version: int | None = Field(
        default=None, ge=1, description="refuse with 409 unless the ticket is at this version"
    )


@router.post("/tickets/{ticket_id}/escalate", response_model=TicketView, responses=ERRORS)
async def escalate_ticket(
    ticket_id: uuid.UUID,
    caller: Caller,
    tickets: Tickets,
    body: EscalateBody | None = None,
    if_match: Annotated[str | None, Header()] = None,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Escalate a ticket to the next tier (agents, managers): it moves to the team its team
    escalates to (e.g. L1 → L2); an assignee who is not a member of that team is cleared, and
    assignment runs again. A 409 says why when the ticket has no team, its team has no next
    tier, or it is resolved, closed or merged."""
    body = body or EscalateBody()
    with refusals():
        ticket = await tickets.escalate(
            ticket_id,
            command_context(caller, x_correlation_id),
            expected_version=expected_from(if_match, body.expected_version),
            reason=body.reason,
        )
    return ticket_response(ticket)


@router.get("/tickets/{ticket_id}/timeline", response_model=list[TimelineEntry], responses=ERRORS)
async def timeline(ticket_id: uuid.UUID, caller: Caller, tickets: Tickets) -> list[TimelineEntry]:
    """Every change to the ticket, oldest first, with who made it and when.

    A customer sees their public history only: the ticket as created, changes of its subject,
    description, type and category, priority and status changes (without the free-text
    reason), public messages, and merges with their own tickets; numbered 1, 2, … in that
    history (`version`), so it does not show how much else happened."""
    with refusals():
        entries = await tickets.read_timeline(caller, ticket_id)
    return [
        TimelineEntry(
            version=entry.version,
            event_type=entry.event_type,
            occurred_at=entry.occurred_at,
            actor=entry.actor,
            data=entry.data,
        )
        for entry in entries
    ]


@router.post(
    "/tickets/{ticket_id}/messages",
    status_code=201,
    response_model=MessageAddedView,
    responses=ERRORS,
)
async def add_message(
    request: Request,
    ticket_id: uuid.UUID,
    body: MessageBody,
    caller: Caller,
    tickets: Tickets,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> MessageAddedView:
    """A public reply or an internal note (staff). `set_status` replies and sets a status in
    one command ("send and set Waiting on Customer"). A customer's reply reopens a Solved or
    Waiting-on-Customer ticket; to a Closed ticket it opens a linked follow-up ticket.
    Messages name no version: a concurrent change to the ticket never makes this a 409."""
    by_customer = caller.role is Role.CUSTOMER
    message = NewMessage(
        body_html=body.body,
        visibility=body.visibility,
        by_customer=by_customer,
        set_status=body.set_status,
        channel="portal" if by_customer else "agent",
        attachments=await attachment_refs(request, caller, body.attachment_ids),
    )
    with refusals():
        ticket, message_id, follow_up = await tickets.add_message(
            ticket_id, message, command_context(caller, x_correlation_id)
        )
        if by_customer:  # answered with the tickets as the customer sees them
            ticket = await tickets.read_ticket(caller, ticket.id)
            if follow_up is not None:
                follow_up = await tickets.read_ticket(caller, follow_up.id)
    return MessageAddedView(
        message_id=None if follow_up else message_id,
        ticket=TicketView.of(ticket),
        follow_up=TicketView.of(follow_up) if follow_up else None,
    )


@router.get("/tickets/{ticket_id}/messages", response_model=list[MessageView], responses=ERRORS)
async def conversation(ticket_id: uuid.UUID, caller: Caller, tickets: Tickets) -> list[MessageView]:
    """The conversation, including the messages of tickets merged into this one. Internal
    notes are for staff only; a customer sees the messages of their own tickets only."""
    with refusals():
        rows = await tickets.read_conversation(caller, ticket_id)
    return [
        MessageView(
            id=row["message_id"],
            ticket_id=row["ticket_id"],
            ticket_number=row["ticket_number"],
            visibility=row["visibility"],
            author=row["author"],
            body_html=row["body_html"],
            body_text=row["body_text"],
            attachments=row["attachments"],
            automated=row["automated"],
            created_at=row["created_at"],
        )
        for row in rows
    ]


@router.post("/tickets/{ticket_id}/merge", response_model=TicketView, responses=ERRORS)
async def merge(
    ticket_id: uuid.UUID,
    body: MergeBody,
    caller: Caller,
    tickets: Tickets,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Merge `children` into this ticket (agents, managers): they close with a private note
    naming the parent, and their messages show in this ticket's conversation to staff. The
    parent's customer sees only the messages of tickets they own, so merging another
    customer's ticket never shows them that conversation. Find candidates with
    `GET /tickets?q=` (subject words, #number, or the contact's email)."""
    with refusals():
        parent = await tickets.merge(
            ticket_id, body.children, command_context(caller, x_correlation_id)
        )
    return ticket_response(parent)


@router.post("/tickets/{ticket_id}/unmerge", response_model=TicketView, responses=ERRORS)
async def unmerge(
    ticket_id: uuid.UUID,
    body: UnmergeBody,
    caller: Caller,
    tickets: Tickets,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Undo a merge (agents, managers): the child ticket comes back with the status it had."""
    with refusals():
        child = await tickets.unmerge(
            ticket_id, body.child_id, command_context(caller, x_correlation_id)
        )
    return ticket_response(child)


@router.get("/ticket-options", response_model=TicketOptionsBody, tags=["configuration"])
async def get_options(caller: Caller, tickets: Tickets, response: Response) -> TicketOptionsBody:
    """Priorities (lowest first), statuses with their categories, types, categories, and
    business units with their brands."""
    options, version = await tickets.options()
    response.headers["ETag"] = f'"{version}"'
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
            options, command_context(caller, x_correlation_id), expected_from(if_match, None)
        )
    response.headers["ETag"] = f'"{version}"'
    return TicketOptionsBody.of(saved)
