"""HTTP API of the ticket service (FastAPI): the app, its lifespan, health and routers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import structlog
from fastapi import FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from helpdesk_platform.http_docs import serve_docs
from helpdesk_platform.telemetry import setup_telemetry, spans_recorded
from ticket_service import bootstrap
from ticket_service.entrypoints import (
    errors,
    http_activity_reports,
    http_agents,
    http_attachments,
    http_branding,
    http_companies,
    http_custom_fields,
    http_customers,
    http_mail,
    http_mail_deliveries,
    http_merges,
    http_messages,
    http_options,
    http_portal,
    http_reports,
    http_teams,
    http_tickets,
    http_timeline,
)
from ticket_service.entrypoints.dependencies import principal
from ticket_service.entrypoints.http_common import Problem
from ticket_service.settings import Settings

__all__ = ["create_app", "principal"]

log = structlog.get_logger()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    setup_telemetry("ticket-service")
    if spans_recorded():
        # A span per query costs ~8 % of a create even unrecorded: only when spans are kept.
        AsyncPGInstrumentor().instrument()  # type: ignore[no-untyped-call]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with bootstrap.started(
            settings, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        ) as service:
            # The routes' dependencies read what they need from app.state.
            for name, value in vars(service).items():
                setattr(app.state, name, value)
            app.state.verifier = bootstrap.token_verifier(settings)
            # Keeps the read models current while the API runs.
            stop = asyncio.Event()
            projecting = asyncio.create_task(service.projector.run(stop))
            log.info("ticket-service ready", port=settings.http_port)
            try:
                yield
            finally:
                stop.set()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(projecting, 10)

    app = FastAPI(
        title="Helpdesk ticket service",
        version="0.2.0",
        description="Tickets, their conversation and their event log. Every change is an event "
        "on `helpdesk.tickets.v1`. Authenticate with `Authorization: Bearer <jwt>` (at most "
        "24 h valid).\n\nText: a ticket's `description` and message `body` are HTML, stored "
        "sanitised. Every other text field (subjects, names, tags, team descriptions, status "
        "reasons, …) is plain text, stored and returned as sent: escape it when you render it. "
        "URL fields (a company's `website`) are http(s) only.",
        lifespan=lifespan,
        docs_url=None,  # served by serve_docs from our own origin, not from a CDN
        redoc_url=None,
    )
    serve_docs(app)
    errors.install(app)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz")

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

    @app.exception_handler(asyncpg.DataError)
    async def unstorable_text(request: Request, error: asyncpg.DataError) -> JSONResponse:
        # SQLSTATE class 22: the request carried a value PostgreSQL cannot store or compare,
        # most often a NUL character in a string. That is bad input, not a server fault. The
        # database's own text stays in the log: it names internals the caller need not see.
        log.warning("request refused by the database", sqlstate=error.sqlstate, error=str(error))
        return JSONResponse(
            status_code=422,
            content={
                "detail": "the request contains a value that cannot be stored or searched, "
                "such as a NUL character (\\u0000); remove control characters and send it again"
            },
        )

    for module in (
        http_tickets,
        http_timeline,
        http_messages,
        http_merges,
        http_options,
        http_attachments,
        http_customers,
        http_companies,
        http_agents,
        http_teams,
    ):
        app.include_router(module.router)
    app.include_router(http_reports.router)
    app.include_router(http_activity_reports.router)
    app.include_router(http_mail.router)
    app.include_router(http_mail_deliveries.router)
    app.include_router(http_custom_fields.router)
    app.include_router(http_portal.router)
    app.include_router(http_branding.router)
    return app
