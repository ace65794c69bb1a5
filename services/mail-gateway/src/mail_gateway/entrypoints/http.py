"""HTTP API of the mail gateway: the app, its lifespan and health (each account's connection
state). The lifespan runs the IMAP watchers, the ticket topic consumer and the send queue. The
resources have modules of their own: email accounts (:mod:`~mail_gateway.entrypoints.http_accounts`)
and the quarantine (:mod:`~mail_gateway.entrypoints.http_quarantine`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from helpdesk_platform.auth import TokenVerifier
from helpdesk_platform.config_http import HttpRefusal
from mail_gateway.bootstrap import build
from mail_gateway.entrypoints import http_accounts, http_quarantine
from mail_gateway.entrypoints.http_common import Problem, gateway_of
from mail_gateway.settings import Settings

log = structlog.get_logger("mail_gateway")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.verifier = TokenVerifier.from_file(settings.jwt_public_key_file)
        gateway = await build(settings)
        app.state.gateway = gateway
        stop = asyncio.Event()
        app.state.stop = stop
        await gateway.sync_watchers()
        gateway.tasks = [
            asyncio.create_task(gateway.consume(stop), name="tickets-consumer"),
            asyncio.create_task(gateway.send_loop(stop), name="send-queue"),
            asyncio.create_task(gateway.resync_loop(stop), name="accounts-resync"),
            asyncio.create_task(gateway.publish_account_events(stop), name="account-events"),
        ]
        log.info("mail-gateway ready", port=settings.http_port)
        try:
            yield
        finally:
            stop.set()
            await gateway.stop_all()
            for task in gateway.tasks:
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(task, 10)
            await gateway.api.close()
            await gateway.pool.close()

    app = FastAPI(
        title="Helpdesk mail gateway",
        version="0.1.0",
        description="Support inboxes become tickets; agents' replies go out as threaded email. "
        "Managers configure email accounts and handle quarantined mail here.",
        lifespan=lifespan,
    )

    @app.exception_handler(HttpRefusal)
    async def refused(request: Request, error: HttpRefusal) -> JSONResponse:
        return JSONResponse({"detail": error.detail}, status_code=error.status)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"model": Problem}})
    async def readyz(request: Request) -> JSONResponse:
        """Ready when the database answers and the ticket and directory topics are followed;
        lists each account's IMAP connection state."""
        gateway = gateway_of(request)
        problems: list[str] = []
        try:
            await gateway.pool.fetchval("SELECT 1")
        except Exception as error:
            problems.append(f"database: {error}")
        if not gateway.consumer_ready:
            problems.append("not yet following helpdesk.tickets.v1 and helpdesk.directory.v1")
        accounts = {
            watcher.account.address: watcher.status.state
            for watcher, _, _ in gateway.watchers.values()
        }
        body = {"status": "ready" if not problems else "not ready", "accounts": accounts}
        if problems:
            body["detail"] = "; ".join(problems)
        return JSONResponse(body, status_code=503 if problems else 200)

    app.include_router(http_accounts.router)
    app.include_router(http_quarantine.router)
    return app
