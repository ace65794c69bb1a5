"""Fetches each service's OpenAPI document for the merged ``/api/openapi.json``; keeps the
merge for a minute so a portal's code generator or a docs page does not fan out every time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from api_gateway.domain.openapi import merge
from api_gateway.domain.routes import RoutingTable


class OpenApiMerger:
    def __init__(
        self,
        client: httpx.AsyncClient,
        table: RoutingTable,
        base: Callable[[], dict[str, Any]],
        ttl: float = 60.0,
    ) -> None:
        self._client = client
        self._table = table
        self._base = base
        self._ttl = ttl
        self._cached: tuple[float, dict[str, Any]] | None = None
        self._lock = asyncio.Lock()

    async def document(self) -> dict[str, Any]:
        async with self._lock:
            if self._cached and self._cached[0] > time.monotonic():
                return self._cached[1]
            used = {route.service for route in self._table.routes}
            names = [name for name in self._table.services if name in used]
            answers = await asyncio.gather(*(self._fetch(name) for name in names))
            documents = {name: doc for name, doc in zip(names, answers, strict=True) if doc}
            unavailable = [name for name in names if name not in documents]
            merged = merge(self._base(), documents, self._table, unavailable)
            # A partial document is kept only briefly: the missing service may be starting.
            ttl = self._ttl if not unavailable else min(self._ttl, 5.0)
            self._cached = (time.monotonic() + ttl, merged)
            return merged

    async def _fetch(self, service: str) -> dict[str, Any] | None:
        entry = self._table.services[service]
        if entry.openapi is None:
            return None
        try:
            answer = await self._client.get(entry.url + entry.openapi, timeout=5.0)
            answer.raise_for_status()
            document = answer.json()
        except (httpx.HTTPError, ValueError):
            return None
        return document if isinstance(document, dict) else None
