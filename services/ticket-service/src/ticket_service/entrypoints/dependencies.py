"""FastAPI dependencies shared by the routers: who calls, with which rights, in which context."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Header, HTTPException, Request, status

from helpdesk_events import Actor, ActorKind
from helpdesk_platform.auth import AuthenticationError, Principal, Role, TokenVerifier
from helpdesk_platform.telemetry import current_traceparent
from ticket_service.service_layer import access
from ticket_service.service_layer.activity_reports import ActivityReportReads
from ticket_service.service_layer.attachments import AttachmentFiles
from ticket_service.service_layer.context import CommandContext
from ticket_service.service_layer.customers import CustomerApplication
from ticket_service.service_layer.directory import DirectoryApplication
from ticket_service.service_layer.directory_reads import DirectoryReads
from ticket_service.service_layer.mail_requests import MailRequests
from ticket_service.service_layer.sla_reports import SlaReportReads
from ticket_service.service_layer.ticket_requests import TicketRequests
from ticket_service.service_layer.tickets import TicketApplication

T = TypeVar("T")


def _state(kind: type[T], name: str) -> Callable[[Request], Awaitable[T]]:
    """A dependency giving ``app.state.<name>``, which the app's lifespan set (``bootstrap``)."""

    async def provide(request: Request) -> T:
        value: T = getattr(request.app.state, name)
        return value

    return provide


application = _state(TicketApplication, "tickets")


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


def allowed_to(action: access.Action) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency for reads of the read models (lists, searches), which have no use case of
    their own: the caller, if the access policy lets their role do ``action`` (else 403)."""

    async def check(caller: Annotated[Principal, Depends(principal)]) -> Principal:
        try:
            access.require(caller, action)
        except access.Forbidden as refused:
            raise HTTPException(status.HTTP_403_FORBIDDEN, str(refused)) from None
        return caller

    return check


Caller = Annotated[Principal, Depends(principal)]
ManagesContacts = Annotated[Principal, Depends(allowed_to(access.Action.MANAGE_CONTACTS))]
ReadsDirectory = Annotated[Principal, Depends(allowed_to(access.Action.READ_DIRECTORY))]
ReadsSlaTimes = Annotated[Principal, Depends(allowed_to(access.Action.READ_SLA_TIMES))]
Tickets = Annotated[TicketApplication, Depends(application)]
TicketRequestsDep = Annotated[TicketRequests, Depends(_state(TicketRequests, "ticket_requests"))]
Files = Annotated[AttachmentFiles, Depends(_state(AttachmentFiles, "attachment_files"))]
Customers = Annotated[
    CustomerApplication, Depends(_state(CustomerApplication, "customer_application"))
]
Directory = Annotated[
    DirectoryApplication, Depends(_state(DirectoryApplication, "directory_application"))
]
Reads = Annotated[DirectoryReads, Depends(_state(DirectoryReads, "directory_reads"))]
Mail = Annotated[MailRequests, Depends(_state(MailRequests, "mail_requests"))]
SlaReports = Annotated[SlaReportReads, Depends(_state(SlaReportReads, "sla_reports"))]
ActivityReports = Annotated[
    ActivityReportReads, Depends(_state(ActivityReportReads, "activity_reports"))
]


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
        caller=caller,
    )


def subject_id(caller: Principal) -> uuid.UUID | None:
    """The id of the caller's own record (contact or agent), when the token's ``sub`` is one."""
    try:
        return uuid.UUID(caller.subject)
    except ValueError:
        return None
