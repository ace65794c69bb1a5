"""Merging the services' OpenAPI documents under their public paths."""

from __future__ import annotations

from api_gateway.domain.openapi import merge
from api_gateway.domain.routes import RoutingTable

TABLE = RoutingTable.parse(
    {
        "services": {"tickets": {"url": "http://t:1"}, "sla": {"url": "http://s:2"}},
        "routes": [
            {"prefix": "/api/tickets", "service": "tickets"},
            {"prefix": "/api/sla", "service": "sla"},
        ],
    }
)


def test_public_paths_only_and_clashing_schemas_renamed() -> None:
    problem = {"type": "object", "properties": {"detail": {"type": "string"}}}
    tickets = {
        "paths": {
            "/tickets": {"get": {"responses": {"404": {"$ref": "#/components/schemas/Problem"}}}},
            "/healthz": {"get": {}},
        },
        "components": {"schemas": {"Problem": problem}},
        "tags": [{"name": "tickets"}],
    }
    sla = {
        "paths": {
            "/sla/x": {"get": {"responses": {"200": {"$ref": "#/components/schemas/Problem"}}}}
        },
        "components": {"schemas": {"Problem": {"type": "string"}}},
    }
    base = {"openapi": "3.1.0", "paths": {"/api/auth/me": {}}, "components": {"schemas": {}}}
    merged = merge(base, {"tickets": tickets, "sla": sla}, TABLE, ["mail"])
    assert set(merged["paths"]) == {"/api/auth/me", "/api/tickets", "/api/sla/x"}
    schemas = merged["components"]["schemas"]
    assert schemas["Problem"] == problem  # tickets come first in the table
    assert schemas["SlaProblem"] == {"type": "string"}
    ref = merged["paths"]["/api/sla/x"]["get"]["responses"]["200"]["$ref"]
    assert ref == "#/components/schemas/SlaProblem"
    assert merged["x-unavailable-services"] == ["mail"]
    assert base["paths"] == {"/api/auth/me": {}}  # the gateway's own document is not changed
