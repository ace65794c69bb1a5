"""FastAPI dependencies shared by the routers: who calls, with which rights, in which context."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status

from helpdesk_events import Actor, ActorKind
from helpdesk_platform.auth import AuthenticationError, Principal, Role, TokenVerifier
from helpdesk_platform.telemetry import current_traceparent
from ticket_service.service_layer.context import CommandContext
from ticket_service.service_layer.tickets import TicketApplication


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
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "only agents, technicians and managers may do this"
        )
    return caller


async def manager(caller: Annotated[Principal, Depends(principal)]) -> Principal:
    if caller.role is not Role.MANAGER:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only managers may do this")
    return caller


Caller = Annotated[Principal, Depends(principal)]
Staff = Annotated[Principal, Depends(staff)]
Manager = Annotated[Principal, Depends(manager)]
Tickets = Annotated[TicketApplication, Depends(application)]


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


def subject_id(caller: Principal) -> uuid.UUID | None:
    """The id of the caller's own record (contact or agent), when the token's ``sub`` is one."""
    try:
        return uuid.UUID(caller.subject)
    except ValueError:
        return None
