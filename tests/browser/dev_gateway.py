"""A stand-in for the API gateway in browser tests, until the real one is on this branch.

It does the two things of the gateway the portals rely on: it serves the built apps
(``web/dist/agent`` at ``/agent/``, ``web/dist/portal`` at ``/portal/``, falling back to each
app's ``index.html`` for client-side routes) and forwards ``/api/<prefix>...`` to the ticket
service without the ``/api`` part, as the gateway's routing table says. It has no auth API:
``/api/auth/*`` answers 404 here, and the tests answer those calls in the browser
(``page.route``), so the app's real refresh path runs and the bundle holds no dev back door.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

# Path prefixes (after /api) the gateway sends to the ticket service.
TICKET_SERVICE_PREFIXES = (
    "tickets",
    "attachments",
    "customers",
    "companies",
    "agents",
    "teams",
    "ticket-options",
    "reports",
)
# Hop-by-hop headers (RFC 9110 §7.6.1) and ones httpx recomputes: never forwarded.
_HOP_HEADERS = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "content-encoding",
}


def _forwardable(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _HOP_HEADERS}


def create_app(dist: Path, upstreams: Mapping[str, str]) -> Starlette:
    """``upstreams`` maps a first path segment after /api (``tickets``) to a base URL."""
    client = httpx.AsyncClient(timeout=30.0)
    roots = {app: (dist / app).resolve() for app in ("agent", "portal")}

    async def static(request: Request) -> Response:
        root = roots.get(request.path_params["app"])
        if root is None:
            return Response(status_code=404)
        wanted = (root / request.path_params.get("path", "")).resolve()
        if wanted.is_relative_to(root) and wanted.is_file():
            return FileResponse(wanted)
        if request.path_params.get("path", "").startswith("assets/"):
            return Response(status_code=404)
        return FileResponse(root / "index.html", headers={"Cache-Control": "no-store"})

    async def proxy(request: Request) -> Response:
        path = request.path_params["path"]
        upstream = upstreams.get(path.split("/", 1)[0])
        if upstream is None:
            return JSONResponse({"detail": f"no route for /api/{path}"}, status_code=404)
        answer = await client.request(
            request.method,
            f"{upstream}/{path}",
            params=request.query_params.multi_items(),
            headers=_forwardable(request.headers),
            content=await request.body(),
        )
        return Response(answer.content, answer.status_code, _forwardable(answer.headers))

    async def to_agent(request: Request) -> Response:
        return Response(status_code=307, headers={"Location": "/agent/"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(
        routes=[
            Route("/", to_agent),
            Route("/api/{path:path}", proxy, methods=methods),
            Route("/{app:str}/", static),
            Route("/{app:str}/{path:path}", static),
        ],
        lifespan=lifespan,
    )


def ticket_service_routes(ticket_service_url: str) -> dict[str, str]:
    return dict.fromkeys(TICKET_SERVICE_PREFIXES, ticket_service_url.rstrip("/"))


class DevGateway:
    """The app above under uvicorn in a background thread of the test process."""

    def __init__(self, dist: Path, upstreams: Mapping[str, str], port: int) -> None:
        config = uvicorn.Config(
            create_app(dist, upstreams),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(target=self.server.run, name="dev-gateway", daemon=True)

    def start(self, timeout: float = 15.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the dev gateway did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(10)
