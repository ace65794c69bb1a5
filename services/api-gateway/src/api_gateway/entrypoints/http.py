"""HTTP app of the API gateway: sign-in routes, the JWKS, the merged OpenAPI document, the
portals' files, and every other ``/api/…`` path proxied by the routing table.

Middleware, outermost first: CORS (configured origins only), then the edge (request id,
security headers, per-IP limit). The proxy route itself checks a bearer token when one is sent
(a forged or expired token stops here, and the per-person limit needs its subject); the
services still verify every token themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api_gateway.bootstrap import Gateway, build, load_table, rate_limits
from api_gateway.entrypoints.edge import Edge
from api_gateway.entrypoints.http_auth import router as auth_router
from api_gateway.entrypoints.static import PortalFiles
from api_gateway.problem import error
from api_gateway.settings import Settings
from helpdesk_platform.auth import AuthenticationError
from helpdesk_platform.telemetry import setup_telemetry, traces_exported

log = structlog.get_logger()

PROXIED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    setup_telemetry("api-gateway")
    load_table(settings)  # a broken routing table stops the start, with its reason
    exporting = traces_exported()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway = await build(settings)
        app.state.gateway = gateway
        app.state.openapi = gateway.openapi(app.openapi)
        stop = asyncio.Event()
        following = gateway.follow_directory(stop)
        log.info("api-gateway ready", port=settings.http_port)
        try:
            yield
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(following, 10)
            await gateway.close()

    app = FastAPI(
        title="Helpdesk API",
        version="0.1.0",
        description="The helpdesk's public API, through its gateway: sign-in under "
        "`/api/auth`, every service under `/api/…`. Authenticate with "
        "`Authorization: Bearer <access token>` from `/api/auth/sign-in` (staff) or "
        "`/api/auth/customer/redeem` (customers); refresh it with `/api/auth/refresh`.",
        lifespan=lifespan,
        # FastAPI's own request spans, metrics and logs cost a fifth of a proxied request's
        # time: only when traces leave the process (OTEL_EXPORTER_OTLP_ENDPOINT).
        telemetry={"tracing": exporting, "metrics": False, "logs": exporting},
        openapi_url="/api/gateway-openapi.json",
        docs_url=None,  # Swagger UI would load from a CDN; portals use /api/openapi.json
        redoc_url=None,
    )

    @app.get("/healthz", tags=["health"], include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        gateway: Gateway = request.app.state.gateway
        try:
            await gateway.accounts.pool.fetchval("SELECT 1 FROM api_gateway.staff_accounts LIMIT 1")
        except Exception as failure:  # not ready, whatever the reason; say which
            return JSONResponse({"detail": f"database not ready: {failure}"}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/.well-known/jwks.json", tags=["auth"])
    async def jwks(request: Request) -> JSONResponse:
        """The public keys that verify the gateway's access tokens (RFC 7517)."""
        gateway: Gateway = request.app.state.gateway
        return JSONResponse(gateway.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})

    @app.get("/api/openapi.json", tags=["docs"], include_in_schema=False)
    async def openapi(request: Request) -> JSONResponse:
        document: dict[str, Any] = await request.app.state.openapi.document()
        return JSONResponse(document)

    app.include_router(auth_router)
    for name in ("agent", "portal"):
        directory = settings.gateway_web_dir / name
        if directory.is_dir():
            app.mount(f"/{name}", PortalFiles(directory), name=name)

    app.add_middleware(ProxyFirst)
    app.add_middleware(
        Edge,
        limits=rate_limits(settings),
        trusted_proxies=settings.gateway_trusted_proxies,
        hsts=settings.gateway_behind_tls,
    )
    if settings.gateway_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.gateway_cors_origins,
            allow_credentials=True,
            allow_methods=PROXIED_METHODS,
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "Idempotency-Key",
                "X-Request-ID",
                "X-Correlation-Id",
                "Last-Event-ID",
                "traceparent",
            ],
            expose_headers=["ETag", "Location", "X-Request-ID", "Retry-After"],
            max_age=600,
        )
    return app


# The gateway's own paths under /api; every other /api/... path is proxied.
OWN_API_PATHS = ("/api/auth/", "/api/openapi.json", "/api/gateway-openapi.json")


class ProxyFirst:
    """Proxied requests go straight to the proxy as plain ASGI, before FastAPI's router and
    dependency machinery and without Request or Response objects (together more than a third
    of the gateway's time per request); the gateway's own routes after."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] == "http"
            and path.startswith("/api/")
            and not path.startswith(OWN_API_PATHS)
        ):
            await proxy_endpoint(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def proxy_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    gateway: Gateway = scope["app"].state.gateway
    state = scope["state"]
    request_id: str = state["request_id"]
    raw_path = scope.get("raw_path") or scope["path"].encode()
    path = raw_path.decode("latin-1").split("?", 1)[0]
    segments = path.split("/")
    refusal: Response | None = None
    target = gateway.table.match(path)
    if "." in segments or ".." in segments:
        refusal = error(400, "a path may not contain . or .. segments", request_id)
    elif target is None:
        refusal = error(404, f"no API at {scope['path']}", request_id)
    else:
        authorization = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None
        )
        if authorization:
            try:
                principal = gateway.keys.verify(authorization)
            except AuthenticationError as failure:
                refusal = error(401, str(failure), request_id)
                refusal.headers["WWW-Authenticate"] = "Bearer"
            else:
                verdict = await gateway.limits.hit("subject", principal.subject)
                if not verdict.allowed:
                    refusal = error(429, "too many requests; slow down", request_id)
                    refusal.headers["Retry-After"] = str(verdict.retry_after)
    if refusal is not None:
        await refusal(scope, receive, send)
        return
    assert target is not None  # without a target there is a refusal
    await gateway.proxy.forward(
        scope, receive, send, target, request_id=request_id, client_ip=state["client_ip"]
    )
