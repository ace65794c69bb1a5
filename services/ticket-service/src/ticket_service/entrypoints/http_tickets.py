"""Ticket routes: open, views and search, read (also as of a time), edit, status, escalate."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import AwareDatetime

from ticket_service.domain.ticket import NewTicket
from ticket_service.entrypoints.dependencies import (
    Caller,
    TicketRequestsDep,
    Tickets,
    command_context,
)
from ticket_service.entrypoints.errors import refusals
from ticket_service.entrypoints.http_common import ERRORS, expected_from
from ticket_service.entrypoints.ticket_schemas import (
    ChangeStatusBody,
    CreateTicketBody,
    EscalateBody,
    TicketPage,
    TicketSummary,
    TicketView,
    UpdateTicketBody,
    ticket_response,
)
from ticket_service.service_layer.idempotency import IdempotencyRequest
from ticket_service.service_layer.ticket_requests import TicketSearch, View
from ticket_service.service_layer.tickets import TicketChanges

READ_FROM = "GET /tickets/{id}"
router = APIRouter(tags=["tickets"])


# --- routes ------------------------------------------------------------------------------------


@router.post("/tickets", status_code=201, response_model=TicketView, responses=ERRORS)
async def create_ticket(
    body: CreateTicketBody,
    caller: Caller,
    requests: TicketRequestsDep,
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
        custom_fields=body.custom_fields,
    )
    idempotency = (
        IdempotencyRequest.of(
            f"{caller.subject}:POST /tickets", idempotency_key, body.model_dump(mode="json")
        )
        if idempotency_key
        else None
    )
    with refusals():
        ticket, replayed = await requests.open_ticket(
            caller,
            new,
            body.attachment_ids,
            command_context(caller, x_correlation_id),
            idempotency,
        )
    headers = {"Location": f"/tickets/{ticket.id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return ticket_response(ticket, status.HTTP_201_CREATED, headers)


@router.get("/tickets", response_model=TicketPage, responses=ERRORS)
async def list_tickets(
    request: Request,
    caller: Caller,
    requests: TicketRequestsDep,
    view: Annotated[
        View | None,
        Query(description="default: `unsolved`, or every status when `status` is given"),
    ] = None,
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
    sort: Annotated[
        str,
        Query(
            pattern=r"^-?(?:[a-z_]+|custom\.[a-z][a-z0-9_]{0,62})$",
            description="a key, `-` first for descending; `custom.<key>` sorts by a custom field",
        ),
    ] = "-created_at",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 25,
    scope: Annotated[
        Literal["mine", "company"],
        Query(description="customers: `company` lists their company's tickets, if it shares them"),
    ] = "mine",
) -> TicketPage:
    """Ticket views: `unsolved` (the ticket list: not solved or closed), `new` (status New),
    `newest` (the newest across every status), `solved`, `closed`, `all`; `status=` alone lists
    that status whatever its category; filtered, searched and sorted (`-created_at`,
    `priority`, `resolution_due`, `custom.<key>`, …); `custom.<key>=value` filters by a custom
    field; each row carries the ticket's custom fields (a customer's: the portal form's).
    Customers only ever see their own tickets."""
    search = TicketSearch(
        view=view or ("all" if ticket_status else "unsolved"),  # by status: no view=all needed
        q=q,
        status=ticket_status,
        team_id=team_id,
        assignee=assignee,
        customer_id=customer_id,
        requester_email=requester_email,
        tag=tag,
        priority=priority,
        breached=breached,
        include_merged=include_merged,
        sort=sort,
        page=page,
        page_size=page_size,
        custom_wanted=custom_filters(request),
        company=scope == "company",
    )
    with refusals():
        rows, total = await requests.find_tickets(caller, search)
    items = [
        TicketSummary(id=row["ticket_id"], **_summary_fields(row, staff=caller.is_staff))
        for row in rows
    ]
    return TicketPage(items=items, page=page, page_size=page_size, total=total)


def custom_filters(request: Request) -> dict[str, str]:
    """``custom.<key>=value`` query parameters (custom fields are a manager's, so not named in
    the route's signature)."""
    return {
        name.removeprefix("custom."): value
        for name, value in request.query_params.items()
        if name.startswith("custom.")
    }


def _summary_fields(row: Any, *, staff: bool) -> dict[str, Any]:
    """The row's summary; its version only for staff (a customer's counts public events)."""
    fields = {
        name: row[name] for name in TicketSummary.model_fields if name not in ("id", "version")
    }
    if staff:
        fields["version"] = row["version"]
    return fields


@router.get("/tickets/{ticket_id}", response_model=TicketView, responses=ERRORS)
async def get_ticket(
    ticket_id: uuid.UUID,
    caller: Caller,
    tickets: Tickets,
    as_of: AwareDatetime | None = None,
) -> Response:
    """A ticket now, or as it was at `as_of` (ISO 8601 with a time zone), with the attachments
    given at creation and (staff, now) its SLA due times. A customer's view counts its
    `version` in their public history (see the timeline)."""
    with refusals():
        ticket, sla_due = await tickets.read_detail(caller, ticket_id, as_of=as_of)
    return ticket_response(ticket, sla_due=sla_due)


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
        custom_fields=body.custom_fields,
    )
    with refusals():
        ticket = await tickets.update_ticket(
            ticket_id,
            changes,
            command_context(caller, x_correlation_id),
            expected_version=expected_from(if_match, body.expected_version, read_from=READ_FROM),
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
            expected_version=expected_from(if_match, body.expected_version, read_from=READ_FROM),
            reason=body.reason,
        )
    return ticket_response(ticket)


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
            expected_version=expected_from(if_match, body.expected_version, read_from=READ_FROM),
            reason=body.reason,
        )
    return ticket_response(ticket)
