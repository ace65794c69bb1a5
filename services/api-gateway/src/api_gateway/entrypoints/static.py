"""The portals' built files (``web/dist/agent`` at ``/agent/``, ``web/dist/portal`` at
``/portal/``), with the caching a single-page app needs.

Vite names its assets by content hash: they never change, so browsers keep them a year
(``immutable``). ``index.html`` names the current assets: it is revalidated on every visit
(``no-cache``), so a release reaches everyone at once. A path that is no file (a client-side
route such as ``/portal/sign-in``) gets ``index.html``: the app's router takes over.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class PortalFiles(StaticFiles):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory, html=True)

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as missing:
            if missing.status_code != 404 or _looks_like_a_file(path):
                raise
            return await super().get_response("index.html", scope)

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        parts = Path(full_path).parts
        hashed = "assets" in parts and Path(full_path).name != "index.html"
        response.headers["Cache-Control"] = IMMUTABLE if hashed else REVALIDATE
        return response


def _looks_like_a_file(path: str) -> bool:
    # A missing /assets/x.js is a real 404 (an old page asking for a removed build), not a route.
    name = path.rsplit("/", 1)[-1]
    return "." in name or path.startswith("assets/")
