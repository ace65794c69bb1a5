"""The routing table: public path prefixes mapped to services (pure: parsing and matching).

The table is data (``routes.toml``), not code, so that operators change routes without a
release and so that each rule maps onto a Gateway API ``HTTPRoute`` rule (PathPrefix match,
ReplacePrefixMatch rewrite). Matching is by whole path segments, longest prefix first:
``/api/tickets`` matches ``/api/tickets`` and ``/api/tickets/1`` but not ``/api/ticketsx``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_MAX_BODY = 1024 * 1024


class RoutingTableError(ValueError):
    """The routing table cannot be used; the message names the entry and what to fix."""


class ServiceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str = Field(pattern=r"^https?://[^/]+$", description="scheme://host:port, no path")
    openapi: str | None = Field(default="/openapi.json", pattern=r"^/")


class RouteEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    prefix: str = Field(pattern=r"^/[A-Za-z0-9._~/-]*[^/]$")
    service: str
    rewrite: str | None = Field(default=None, pattern=r"^(/[A-Za-z0-9._~/-]*)?$")
    max_body: int = Field(default=DEFAULT_MAX_BODY, ge=0)
    timeout: float | None = Field(default=None, gt=0)
    stream: bool = False

    @field_validator("prefix")
    @classmethod
    def _no_empty_segments(cls, value: str) -> str:
        if "//" in value:
            raise ValueError("a prefix has no empty segments (//)")
        return value


class TableFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    services: dict[str, ServiceEntry]
    routes: list[RouteEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> TableFile:
        seen: set[str] = set()
        for route in self.routes:
            if route.service not in self.services:
                raise ValueError(f"route {route.prefix} names unknown service {route.service!r}")
            if route.prefix in seen:
                raise ValueError(f"prefix {route.prefix} appears twice")
            seen.add(route.prefix)
        return self


@dataclass(frozen=True)
class Route:
    prefix: str
    service: str
    upstream: str
    rewrite: str
    max_body: int
    timeout: float | None
    stream: bool

    def upstream_path(self, path: str) -> str:
        """The path the service sees: the prefix replaced by ``rewrite``."""
        rest = path[len(self.prefix) :]
        return (self.rewrite + rest) or "/"


@dataclass(frozen=True)
class Target:
    route: Route
    path: str  # path on the service (query string kept apart)


class RoutingTable:
    def __init__(self, routes: list[Route], services: Mapping[str, ServiceEntry]) -> None:
        # Longest prefix first, so that /api/tickets-x could be routed apart from /api/tickets.
        self.routes = sorted(routes, key=lambda route: len(route.prefix), reverse=True)
        self.services = dict(services)

    @classmethod
    def parse(
        cls, raw: Mapping[str, Any], upstreams: Mapping[str, str] | None = None
    ) -> RoutingTable:
        try:
            table = TableFile.model_validate(raw)
        except ValidationError as error:
            raise RoutingTableError(f"routing table: {error}") from None
        overrides = dict(upstreams or {})
        unknown = set(overrides) - set(table.services)
        if unknown:
            raise RoutingTableError(
                f"upstream overrides name unknown services: {', '.join(sorted(unknown))}"
            )
        services = {
            name: entry.model_copy(update={"url": overrides.get(name, entry.url).rstrip("/")})
            for name, entry in table.services.items()
        }
        routes = [
            Route(
                prefix=entry.prefix,
                service=entry.service,
                upstream=services[entry.service].url,
                rewrite=entry.rewrite
                if entry.rewrite is not None
                else entry.prefix.removeprefix("/api"),
                max_body=entry.max_body,
                timeout=entry.timeout,
                stream=entry.stream,
            )
            for entry in table.routes
        ]
        return cls(routes, services)

    @classmethod
    def load(cls, path: Path, upstreams: Mapping[str, str] | None = None) -> RoutingTable:
        try:
            raw = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise RoutingTableError(f"routing table {path} not found") from None
        except tomllib.TOMLDecodeError as error:
            raise RoutingTableError(f"routing table {path}: {error}") from None
        return cls.parse(raw, upstreams)

    def match(self, path: str) -> Target | None:
        for route in self.routes:
            if path == route.prefix or path.startswith(route.prefix + "/"):
                return Target(route, route.upstream_path(path))
        return None

    def public_path(self, service: str, service_path: str) -> str | None:
        """The public path under which a service's own path is reachable, if any route has it."""
        for route in self.routes:
            if route.service != service:
                continue
            if route.rewrite and not (
                service_path == route.rewrite or service_path.startswith(route.rewrite + "/")
            ):
                continue
            candidate = route.prefix + service_path[len(route.rewrite) :]
            found = self.match(candidate)
            if found is not None and found.route is route:
                return candidate
        return None
