"""The gateway's one error answer: ``{"detail", "request_id"}`` with the request id echoed in
``X-Request-ID``, whoever refuses (the edge, the proxy route, the proxy when a service fails).
In a module of its own so that routes and the proxy adapter share it without importing each
other."""

from __future__ import annotations

from starlette.responses import JSONResponse


def error(status: int, detail: str, request_id: str, **extra: str) -> JSONResponse:
    return JSONResponse(
        {"detail": detail, "request_id": request_id, **extra},
        status_code=status,
        headers={"X-Request-ID": request_id},
    )
