"""HTTP API of the notification service (FastAPI): the app, its lifespan, health, routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import structlog
from fastapi import FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse

from helpdesk_platform.telemetry import setup_telemetry
from notification_service import bootstrap
from notification_service.entrypoints import http_notifications, http_presence, http_webhooks
from notification_service.settings import Settings

log = structlog.get_logger("notification_service")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    setup_telemetry("notification-service")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running = await bootstrap.start(settings)
        app.state.running = running
        app.state.settings = settings
        app.state.pool = running.pool
        app.state.verifier = running.verifier
        app.state.inbox = running.inbox
        app.state.webhooks = running.webhooks
        app.state.broadcaster = running.broadcaster
        app.state.presences = running.presences
        log.info("notification-service ready", port=settings.http_port)
        try:
            yield
        finally:
            await running.close()

    app = FastAPI(
        title="Helpdesk notification service",
        version="0.1.0",
        description="Notifications from the helpdesk's events: in the app (list, read, a live "
        "Server-Sent Events stream), by email, and signed webhooks (Standard Webhooks) for "
        "other systems. Authenticate with `Authorization: Bearer <jwt>`.",
        lifespan=lifespan,
    )

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request) -> dict[str, str]:
        try:
            await request.app.state.pool.fetchval("SELECT count(*) FROM consumer_positions")
        except Exception as error:  # any failure means not ready; say which
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, f"database not ready: {error}"
            ) from None
        return {"status": "ready"}

    @app.exception_handler(asyncpg.DataError)
    async def unstorable(request: Request, error: asyncpg.DataError) -> JSONResponse:
        return JSONResponse(
            status_code=422,
            content={"detail": f"the request holds a value that cannot be stored: {error}"},
        )

    app.include_router(http_notifications.router)
    app.include_router(http_webhooks.router)
    app.include_router(http_presence.router)
    return app
