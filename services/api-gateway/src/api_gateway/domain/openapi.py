"""One OpenAPI document for the whole public API, merged from each service's own (pure).

Each service's paths appear under their public path (``/tickets/{id}`` → ``/api/tickets/{id}``)
when a route reaches them, and only then; a schema name two services both use with different
content is prefixed with the service's name (the service named first in the routing table keeps
it), and its references are rewritten to match.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from api_gateway.domain.routes import RoutingTable

REF_PREFIX = "#/components/schemas/"


def _pascal(service: str) -> str:
    return "".join(part.capitalize() for part in service.replace("_", "-").split("-"))


def _rename_refs(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
                name = value[len(REF_PREFIX) :]
                out[key] = REF_PREFIX + renames.get(name, name)
            else:
                out[key] = _rename_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rename_refs(item, renames) for item in node]
    return node


def merge(
    base: dict[str, Any],
    services: Mapping[str, dict[str, Any]],
    table: RoutingTable,
    unavailable: list[str],
) -> dict[str, Any]:
    """``base`` (the gateway's own document) plus every reachable path of ``services``."""
    merged = copy.deepcopy(base)
    paths: dict[str, Any] = merged.setdefault("paths", {})
    schemas: dict[str, Any] = merged.setdefault("components", {}).setdefault("schemas", {})
    tags: list[dict[str, Any]] = merged.setdefault("tags", [])
    for service, document in services.items():  # the first named keeps a clashing name
        their_schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
        renames = {
            name: _pascal(service) + name
            for name, schema in their_schemas.items()
            if name in schemas and schemas[name] != schema
        }
        for name, schema in their_schemas.items():
            schemas[renames.get(name, name)] = _rename_refs(schema, renames)
        for path, item in document.get("paths", {}).items():
            public = table.public_path(service, path)
            if public is None or public in paths:
                continue
            paths[public] = _rename_refs(item, renames)
        known = {tag.get("name") for tag in tags}
        tags.extend(tag for tag in document.get("tags", []) if tag.get("name") not in known)
    if unavailable:
        merged["x-unavailable-services"] = sorted(unavailable)
    return merged
