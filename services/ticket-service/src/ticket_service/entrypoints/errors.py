"""The one mapping from the service layer's refusals (and the shared HTTP rules' refusals,
:class:`~helpdesk_platform.config_http.HttpRefusal`) to HTTP answers.

Routes do not decide who may do what or translate errors one by one: the use cases raise
(:class:`~ticket_service.service_layer.access.Forbidden` for a role that may not, a not-found
error for what the caller may not see, the domain's own refusals), and :func:`install` makes
the app answer each the same way everywhere, with a message that says what to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from helpdesk_platform.config_http import HttpRefusal
from ticket_service.adapters.idempotency import IdempotencyKeyReused
from ticket_service.domain.custom_fields import CustomerMayNotSet
from ticket_service.domain.customers import CompanyNotFound, ContactExists, CustomerNotFound
from ticket_service.domain.directory import AgentExists, AgentNotFound, TeamNameTaken, TeamNotFound
from ticket_service.domain.errors import (
    DomainError,
    PreconditionRequired,
    TicketNotFound,
    VersionConflict,
)
from ticket_service.domain.satisfaction import AlreadyRated
from ticket_service.domain.ticket_commands import CommandRefused
from ticket_service.service_layer.access import Forbidden
from ticket_service.service_layer.attachments import AttachmentNotFound, AttachmentTooLarge

NOT_FOUND = (
    TicketNotFound,
    CustomerNotFound,
    CompanyNotFound,
    AgentNotFound,
    TeamNotFound,
    AttachmentNotFound,
)


def http_error(error: DomainError | IdempotencyKeyReused) -> HTTPException:
    """The HTTP answer to a refusal: its status, its message, and where the existing record is
    when the refusal is a duplicate."""
    if isinstance(error, Forbidden | CustomerMayNotSet):
        return HTTPException(403, str(error))
    if isinstance(error, NOT_FOUND):
        return HTTPException(404, str(error))
    if isinstance(error, ContactExists | AgentExists | TeamNameTaken):
        kind = {ContactExists: "customers", AgentExists: "agents", TeamNameTaken: "teams"}
        location = f"/{kind[type(error)]}/{error.existing_id}"
        return HTTPException(409, str(error), headers={"Location": location})
    if isinstance(error, VersionConflict | AlreadyRated):
        return HTTPException(409, str(error))
    if isinstance(error, PreconditionRequired):
        return HTTPException(428, str(error))
    if isinstance(error, CommandRefused):
        return HTTPException(409, f"cannot escalate: {error}")
    if isinstance(error, AttachmentTooLarge):
        return HTTPException(413, str(error))
    return HTTPException(422, str(error))


@contextmanager
def refusals() -> Iterator[None]:
    """Turn a refusal raised inside the block into its HTTP answer (see :func:`http_error`)."""
    try:
        yield
    except (DomainError, IdempotencyKeyReused) as error:
        raise http_error(error) from None


def install(app: FastAPI) -> None:
    """Answer every refusal that leaves a route through :func:`http_error`."""

    async def refused(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DomainError | IdempotencyKeyReused)
        answer = http_error(error)
        return JSONResponse(
            {"detail": answer.detail}, status_code=answer.status_code, headers=answer.headers
        )

    async def refused_request(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HttpRefusal)  # a malformed If-Match, for one
        return JSONResponse({"detail": error.detail}, status_code=error.status)

    app.add_exception_handler(DomainError, refused)
    app.add_exception_handler(IdempotencyKeyReused, refused)
    app.add_exception_handler(HttpRefusal, refused_request)
