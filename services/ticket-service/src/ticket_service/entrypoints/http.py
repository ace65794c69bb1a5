"""HTTP API of the ticket service (FastAPI)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, Header, HTTPException, Request, Response, status
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field

from helpdesk_events import Actor, ActorKind
from helpdesk_platform.auth import AuthenticationError, Principal, Role, TokenVerifier
from helpdesk_platform.telemetry import current_traceparent, setup_telemetry
from ticket_service.adapters.event_store import PostgresEventStore, create_pool
from ticket_service.adapters.idempotency import (
    IdempotencyKeyReused,
    IdempotentAppender,
    request_fingerprint,
)
from ticket_service.domain.errors import InvalidTransition, TicketNotFound, VersionConflict
from ticket_service.domain.ticket import DEFAULT_PRIORITIES, Ticket
from ticket_service.service_layer.tickets import (
    CommandContext,
    CreateTicket,
    IdempotencyRequest,
    TicketApplication,
)
from ticket_service.settings import Settings

log = structlog.get_logger()

# --- request and response bodies -------------------------------------------------------------


class Requester(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    name: str | None = Field(default=None, max_length=200)


class CreateTicketBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": "Cannot log in to the portal",
                    "description": "Since this morning the login page says 'invalid token'.",
                    "requester": {"email": "budi@example.co.id", "name": "Budi"},
                    "channel": "portal",
                    "priority": "High",
                    "tags": ["login"],
                }
            ]
        },
    )
    subject: str = Field(min_length=1, max_length=500)
    description: str = Field(default="", max_length=200_000)
    requester: Requester | None = Field(
        default=None, description="the customer; defaults to the caller when a customer calls"
    )
    channel: str = Field(default="portal", min_length=1, max_length=50)
    priority: str = Field(default="Medium", description=f"one of {', '.join(DEFAULT_PRIORITIES)}")
    tags: list[str] = Field(default_factory=list, max_length=50)


class ChangeStatusBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str = Field(min_length=1, max_length=50)
    reason: str | None = Field(default=None, max_length=1000)
    expected_version: int | None = Field(
        default=None, ge=1, description="refuse with 409 unless the ticket is at this version"
    )


class TicketView(BaseModel):
    id: uuid.UUID
    version: int
    subject: str
    description: str
    requester_email: str | None
    requester_name: str | None
    channel: str
    status: str
    status_category: str
    priority: str
    tags: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, ticket: Ticket) -> TicketView:
        return cls(
            id=ticket.id,
            version=ticket.version,
            subject=ticket.subject,
            description=ticket.description,
            requester_email=ticket.requester_email,
            requester_name=ticket.requester_name,
            channel=ticket.channel,
            status=ticket.status,
            status_category=ticket.status_category.value,
            priority=ticket.priority,
            tags=list(ticket.tags),
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
        )


class Problem(BaseModel):
    detail: str


# --- dependencies ----------------------------------------------------------------------------


async def application(request: Request) -> TicketApplication:
    app: TicketApplication = request.app.state.tickets
    return app


async def principal(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    verifier: TokenVerifier = request.app.state.verifier
    try:
        return verifier.verify(authorization)
    except AuthenticationError as error:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, str(error), headers={"WWW-Authenticate": "Bearer"}
        ) from None


async def staff(caller: Annotated[Principal, Depends(principal)]) -> Principal:
    if not caller.is_staff:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only agents and managers may do this")
    return caller


def command_context(caller: Principal, correlation_header: str | None) -> CommandContext:
    try:
        correlation_id = uuid.UUID(correlation_header) if correlation_header else uuid.uuid4()
    except ValueError:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "X-Correlation-Id must be a UUID"
        ) from None
    kind = ActorKind.CUSTOMER if caller.role is Role.CUSTOMER else ActorKind.AGENT
    return CommandContext(
        actor=Actor(kind=kind, id=caller.subject, role=caller.role.value, display_name=caller.name),
        correlation_id=correlation_id,
        traceparent=current_traceparent(),
    )


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


def visible_to(caller: Principal, ticket: Ticket) -> bool:
    return caller.is_staff or (
        caller.email is not None and caller.email.lower() == (ticket.requester_email or "").lower()
    )


# --- the app ---------------------------------------------------------------------------------


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    setup_telemetry("ticket-service")
    AsyncPGInstrumentor().instrument()  # type: ignore[no-untyped-call]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(
            settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        )
        store = PostgresEventStore(pool)
        app.state.pool = pool
        app.state.tickets = TicketApplication(store, IdempotentAppender(pool, store))
        app.state.verifier = TokenVerifier.from_file(settings.jwt_public_key_file)
        log.info("ticket-service ready", port=settings.http_port)
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(
        title="Helpdesk ticket service",
        version="0.1.0",
        description="Tickets and their event log. Every change is an event on "
        "`helpdesk.tickets.v1`. Authenticate with `Authorization: Bearer <jwt>`.",
        lifespan=lifespan,
    )
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz")
    errors: dict[int | str, dict[str, Any]] = {
        401: {"model": Problem},
        403: {"model": Problem},
        404: {"model": Problem},
        409: {"model": Problem},
        422: {"model": Problem},
    }

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"model": Problem}})
    async def readyz(request: Request) -> dict[str, str]:
        try:
            await request.app.state.pool.fetchval("SELECT count(*) FROM outbox_checkpoints")
        except Exception as error:  # any failure means not ready; say which
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, f"database not ready: {error}"
            ) from None
        return {"status": "ready"}

    @app.post(
        "/tickets", status_code=status.HTTP_201_CREATED, response_model=TicketView, responses=errors
    )
    async def create_ticket(
        body: CreateTicketBody,
        caller: Annotated[Principal, Depends(principal)],
        tickets: Annotated[TicketApplication, Depends(application)],
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
        x_correlation_id: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Open a ticket. Send an `Idempotency-Key` so a retry never opens a second one."""
        requester = body.requester
        if caller.role is Role.CUSTOMER:
            if caller.email is None:
                raise HTTPException(422, "your token has no email; a customer needs one")
            requester = Requester(email=caller.email, name=caller.name)
        context = command_context(caller, x_correlation_id)
        idempotency = (
            IdempotencyRequest(
                scope=f"{caller.subject}:POST /tickets",
                key=idempotency_key,
                fingerprint=request_fingerprint(body.model_dump(mode="json")),
            )
            if idempotency_key
            else None
        )
        command = CreateTicket(
            subject=body.subject,
            description=body.description,
            channel=body.channel,
            priority=body.priority,
            requester_email=requester.email if requester else None,
            requester_name=requester.name if requester else None,
            tags=tuple(body.tags),
        )
        try:
            ticket, replayed = await tickets.create_ticket(command, context, idempotency)
        except IdempotencyKeyReused as error:
            raise HTTPException(422, str(error)) from None
        except InvalidTransition as error:
            raise HTTPException(422, str(error)) from None
        headers = {"Location": f"/tickets/{ticket.id}"}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return ticket_response(ticket, status.HTTP_201_CREATED, headers)

    @app.get("/tickets/{ticket_id}", response_model=TicketView, responses=errors)
    async def get_ticket(
        ticket_id: uuid.UUID,
        caller: Annotated[Principal, Depends(principal)],
        tickets: Annotated[TicketApplication, Depends(application)],
        as_of: AwareDatetime | None = None,
    ) -> Response:
        """A ticket now, or as it was at `as_of` (ISO 8601 with a time zone)."""
        try:
            ticket = await tickets.get_ticket(ticket_id, as_of=as_of)
        except TicketNotFound as error:
            raise HTTPException(404, str(error)) from None
        if not visible_to(caller, ticket):
            raise HTTPException(404, f"no ticket {ticket_id}")
        return ticket_response(ticket)

    @app.post("/tickets/{ticket_id}/status", response_model=TicketView, responses=errors)
    async def change_status(
        ticket_id: uuid.UUID,
        body: ChangeStatusBody,
        caller: Annotated[Principal, Depends(staff)],
        tickets: Annotated[TicketApplication, Depends(application)],
        if_match: Annotated[str | None, Header()] = None,
        x_correlation_id: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Move a ticket to another status. Pass the version you saw (`expected_version` or
        `If-Match`) and a concurrent change makes this a 409 instead of a silent overwrite."""
        expected = body.expected_version
        if if_match is not None:
            try:
                expected = int(if_match.strip().removeprefix("W/").strip('"'))
            except ValueError:
                raise HTTPException(400, 'If-Match must be the ticket\'s ETag, e.g. "3"') from None
        try:
            ticket = await tickets.change_status(
                ticket_id,
                body.status,
                command_context(caller, x_correlation_id),
                expected_version=expected,
                reason=body.reason,
            )
        except TicketNotFound as error:
            raise HTTPException(404, str(error)) from None
        except VersionConflict as error:
            raise HTTPException(409, str(error)) from None
        except InvalidTransition as error:
            raise HTTPException(422, str(error)) from None
        return ticket_response(ticket)

    return app
