"""The docs page loads Swagger UI from the service itself: no third-party script or style."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from helpdesk_platform.http_docs import serve_docs


def app_with_docs() -> FastAPI:
    app = FastAPI(title="Demo", docs_url=None, redoc_url=None)

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    serve_docs(app)
    return app


async def test_docs_page_references_only_its_own_origin() -> None:
    transport = httpx.ASGITransport(app=app_with_docs())
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        await _check_docs(client)


async def _check_docs(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: *['"]([^'"]+)['"]""", page.text)
    referenced = [a or b for a, b in urls]
    assert referenced, "the page names no files at all"
    assert all(url.startswith("/") for url in referenced), referenced
    assert "cdn" not in page.text.lower()
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for url in referenced:
        if url.startswith("/docs-static/"):
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 1000, url
    assert (await client.get("/openapi.json")).status_code == 200
    assert (await client.get("/redoc")).status_code == 404


def test_an_app_that_still_serves_cdn_docs_is_refused() -> None:
    with pytest.raises(ValueError, match="docs_url=None"):
        serve_docs(FastAPI())
