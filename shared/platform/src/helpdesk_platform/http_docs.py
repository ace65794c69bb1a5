"""Swagger UI served by the service itself, never from a CDN.

FastAPI's default ``/docs`` page loads Swagger UI's JavaScript and CSS from a public CDN without
integrity hashes: whoever controls that CDN (or the path to it) runs script in the browser of
every agent who opens the docs, with the token they paste in. The files come from a pinned PyPI
package instead (``fastapi-offline``, Swagger UI 5), are served from the service's own origin,
and the page carries a Content-Security-Policy that allows scripts and styles from that origin
only.

Use: create the app with ``docs_url=None, redoc_url=None`` and call :func:`serve_docs` on it.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

__all__ = ["DOCS_CSP", "STATIC_DIR", "serve_docs"]

#: Swagger UI's files as shipped in the fastapi-offline wheel.
STATIC_DIR = Path(fastapi_offline.__file__).parent / "static"

#: Scripts, styles and fetches from this origin only; Swagger UI's page needs its inline
#: bootstrap script and inline styles, and shows data: images.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)


def serve_docs(app: FastAPI, *, docs_url: str = "/docs", static_url: str = "/docs-static") -> None:
    """Serve Swagger UI at ``docs_url`` from the app's own origin (files under ``static_url``).

    The app must have been created with ``docs_url=None`` (and ``redoc_url=None``), so that
    FastAPI's CDN page is not served as well.
    """
    if app.docs_url is not None or app.redoc_url is not None:
        raise ValueError(
            "create the app with docs_url=None and redoc_url=None: serve_docs replaces the "
            "CDN-loaded pages"
        )
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = app.swagger_ui_oauth2_redirect_url or f"{docs_url}/oauth2-redirect"
    app.mount(static_url, StaticFiles(directory=STATIC_DIR), name="docs-static")

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{redirect_url}",
            swagger_js_url=f"{root}{static_url}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{static_url}/swagger-ui.css",
            swagger_favicon_url=f"{root}{static_url}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
