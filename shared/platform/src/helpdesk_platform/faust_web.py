"""Faust's web server, serving the worker's own routes and nothing else.

Faust mounts views of its own beside the app's pages: ``/table/<name>/<key>/`` answers any
table's values (the SLA worker's ``sla-state`` holds tickets' subjects, tags and customer ids),
``/router/`` where each key lives, ``/`` and, in debug, ``/stats/`` and ``/graph/`` - all without
authentication (security issue #11). Two layers keep them off:

* :data:`WEB_SETTINGS` turns each built-in blueprint off (Faust's ``web_*_enabled`` settings);
* :func:`web_settings` adds an aiohttp middleware that answers 404 to any path outside the
  worker's own routes (its OpenAPI paths), so a view a later Faust adds is not served either.

The middleware also sets the ``Server`` header to a plain ``helpdesk``: aiohttp's default names
its version and Python's (``Python/3.11 aiohttp/3.x``), which tells a scanner what to try.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import orjson
from aiohttp import web

__all__ = ["SERVER_HEADER", "WEB_SETTINGS", "route_pattern", "web_settings"]

#: What the ``Server`` header says.
SERVER_HEADER = "helpdesk"

#: Faust's built-in views, all off.
WEB_SETTINGS: dict[str, Any] = {
    "web_router_enabled": False,
    "web_tables_enabled": False,
    "web_stats_enabled": False,
    "web_graph_enabled": False,
    "web_metrics_enabled": False,
}

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def route_pattern(paths: Iterable[str]) -> re.Pattern[str]:
    """One regular expression for OpenAPI path templates (``/rules/{rule_id}``): a ``{name}``
    is one path segment; a trailing slash is allowed."""
    alternatives = [
        re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path.rstrip("/"))) for path in paths
    ]
    return re.compile(rf"^(?:{'|'.join(alternatives)})/?$")


def _json(status: int, detail: str) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps({"detail": detail}),
        content_type="application/json",
    )


def _only(paths: Iterable[str]) -> Any:
    allowed = route_pattern(paths)

    @web.middleware
    async def only_own_routes(request: web.Request, handler: _Handler) -> web.StreamResponse:
        response: web.StreamResponse
        if not allowed.match(request.path):
            response = _json(404, "not found")
        else:
            try:
                response = await handler(request)
            except web.HTTPException as error:  # 404/405 from the router, as JSON
                response = _json(error.status, error.reason)
        response.headers["Server"] = SERVER_HEADER
        return response

    return only_own_routes


def web_settings(paths: Iterable[str]) -> dict[str, Any]:
    """The ``faust.App`` settings for a worker whose own routes are ``paths`` (OpenAPI path
    templates): Faust's views off, and every other path answered 404."""
    return {**WEB_SETTINGS, "web_application_options": {"middlewares": [_only(list(paths))]}}
