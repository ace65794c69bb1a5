"""The OpenAPI paths of the managers' configuration APIs (policies, holiday lists, calendars,
teams' calendars), hand-written because Faust's web server makes none; served in
``/openapi.json`` by :mod:`sla_service.entrypoints.admin_api`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from sla_service.domain.policies import PolicyDocument
from sla_service.service_layer.configuration import CALENDARS, HOLIDAY_LISTS, SharedKind

_POLICY_ID = {"name": "policy_id", "in": "path", "required": True, "schema": {"type": "string"}}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": "the configuration version read (the ETag of GET /policies)",
}
DENIED = {
    "401": {"description": "no valid bearer token"},
    "403": {"description": "not a manager"},
    "503": {"description": "the policies are still being read (or Kafka is unreachable)"},
}
WRITE_RESPONSES = {
    "200": {"description": "version and the policies after the change; ETag: the new version"},
    "400": {"description": "If-Match is not a version"},
    **DENIED,
    "409": {
        "description": "the configuration changed since the If-Match version, or what is "
        "deleted is in use (used_by names the policies, calendars and teams)"
    },
    "422": {"description": "the policy or the change is not valid (the message says why)"},
    "428": {"description": "If-Match is missing"},
}
#: The JSON Schemas the paths refer to (``#/components/schemas/...``): the shared documents'
#: models and the models they nest (a calendar's holidays), for the document's ``components``.
SCHEMAS: dict[str, Any] = {}


def _component(model: type[BaseModel]) -> dict[str, Any]:
    """A reference to ``model``'s JSON Schema, kept with its nested models in :data:`SCHEMAS`."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    SCHEMAS.update(schema.pop("$defs", {}))
    SCHEMAS[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _policy_body() -> dict[str, Any]:
    """The policy document's schema; its ``policy_id`` defaults to the path's."""
    ref = _component(PolicyDocument)
    schema = SCHEMAS["PolicyDocument"]
    schema["required"] = [name for name in schema.get("required", []) if name != "policy_id"]
    return {"required": True, "content": {"application/json": {"schema": ref}}}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


_POLICY_BODY = _policy_body()
_NULLABLE_INSTANT = {"type": ["string", "null"], "format": "date-time"}
_NULLABLE_SECONDS = {"type": ["number", "null"]}
_METRICS = ("first_response", "next_response", "resolution")
#: The answer of a preview.
PREVIEW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "policy_id", "created_at", "time_zone", "priorities"],
    "properties": {
        "version": {"type": "integer"},
        "policy_id": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "time_zone": {"type": "string"},
        "priorities": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["priority", "target_seconds", "due_at"],
                "properties": {
                    "priority": {"type": "string"},
                    "target_seconds": {
                        "type": "object",
                        "required": list(_METRICS),
                        "properties": {metric: _NULLABLE_SECONDS for metric in _METRICS},
                    },
                    "due_at": {
                        "type": "object",
                        "required": ["first_response", "resolution"],
                        "properties": {
                            "first_response": _NULLABLE_INSTANT,
                            "resolution": _NULLABLE_INSTANT,
                        },
                    },
                },
            },
        },
    },
}


POLICIES_PATHS: dict[str, Any] = {
    "/policies": {
        "get": {
            "summary": "The SLA policies in the order they are tried, the default last",
            "security": [{"bearer": []}],
            "responses": {
                "200": {"description": "version and policies; ETag: the version"},
                **DENIED,
            },
        }
    },
    "/policies/{policy_id}": {
        "get": {
            "summary": "One SLA policy",
            "security": [{"bearer": []}],
            "parameters": [_POLICY_ID],
            "responses": {
                "200": {"description": "the policy and the version; ETag: the version"},
                **DENIED,
                "404": {"description": "no such policy"},
            },
        },
        "put": {
            "summary": "Create or replace an SLA policy",
            "security": [{"bearer": []}],
            "parameters": [_POLICY_ID, IF_MATCH],
            "requestBody": _POLICY_BODY,
            "responses": WRITE_RESPONSES,
        },
        "delete": {
            "summary": "Delete a saved SLA policy (its tickets fall back to the default)",
            "security": [{"bearer": []}],
            "parameters": [_POLICY_ID, IF_MATCH],
            "responses": {**WRITE_RESPONSES, "404": {"description": "no such saved policy"}},
        },
    },
    "/policies/{policy_id}/preview": {
        "post": {
            "summary": "Check a draft policy as a save would, and when a ticket of each priority "
            "created now would be due under it (nothing is written)",
            "security": [{"bearer": []}],
            "parameters": [_POLICY_ID],
            "requestBody": _POLICY_BODY,
            "responses": {
                "200": {
                    "description": "created_at, time_zone and per priority: target_seconds "
                    "(first_response, next_response, resolution) and due_at (first_response, "
                    "resolution; null: no target)",
                    "content": _json(PREVIEW_SCHEMA),
                },
                **DENIED,
                "422": {"description": "the draft is not valid (the message says why)"},
            },
        }
    },
}


_VERSION = {"type": "integer"}


def _with_users(ref: dict[str, Any]) -> dict[str, Any]:
    """A shared document as the API shows it: with ``used_by`` (a policy, calendar or team)."""
    users = {"type": "array", "items": {"type": "string"}}
    return {
        "allOf": [
            ref,
            {"type": "object", "required": ["used_by"], "properties": {"used_by": users}},
        ]
    }


def _kind_paths(kind: SharedKind) -> dict[str, Any]:
    """The OpenAPI paths of one kind; the request body's schema is the document model's, the
    answers' that with ``used_by`` (so the admin console's typed client knows both)."""
    key = {"name": kind.id_field, "in": "path", "required": True, "schema": {"type": "string"}}
    ref = _component(kind.model)
    body = {"required": True, "content": {"application/json": {"schema": ref}}}
    plural = kind.path.strip("/")
    listed = {
        "type": "object",
        "required": ["version", plural],
        "properties": {"version": _VERSION, plural: {"type": "array", "items": _with_users(ref)}},
    }
    item_responses = {"200": {"description": f"the {kind.noun} and used_by"}, **DENIED}
    return {
        kind.path: {
            "get": {
                "summary": f"Every {kind.noun}, with who uses it",
                "security": [{"bearer": []}],
                "responses": {
                    "200": {"description": "version and the items; ETag", "content": _json(listed)},
                    **DENIED,
                },
            }
        },
        f"{kind.path}/{{{kind.id_field}}}": {
            "get": {
                "summary": f"One {kind.noun}",
                "security": [{"bearer": []}],
                "parameters": [key],
                "responses": {**item_responses, "404": {"description": "no such item"}},
            },
            "put": {
                "summary": f"Create or replace a {kind.noun} (the policies using it follow)",
                "security": [{"bearer": []}],
                "parameters": [key, IF_MATCH],
                "requestBody": body,
                "responses": WRITE_RESPONSES,
            },
            "delete": {
                "summary": f"Delete a {kind.noun} nothing uses",
                "security": [{"bearer": []}],
                "parameters": [key, IF_MATCH],
                "responses": {**WRITE_RESPONSES, "404": {"description": "no such item"}},
            },
        },
    }


_TEAM_ID = {
    "name": "team_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}

_TEAM_CALENDAR = {
    "type": "object",
    "required": ["version", "team_id", "calendar_id"],
    "properties": {
        "version": _VERSION,
        "team_id": {"type": "string", "format": "uuid"},
        "calendar_id": {"type": ["string", "null"]},
    },
}

CALENDARS_PATHS: dict[str, Any] = {
    **_kind_paths(HOLIDAY_LISTS),
    **_kind_paths(CALENDARS),
    "/sla/teams/{team_id}/calendar": {
        "get": {
            "summary": "The calendar a team works by (calendar_id null: none)",
            "security": [{"bearer": []}],
            "parameters": [_TEAM_ID],
            "responses": {
                "200": {
                    "description": "team_id, calendar_id, version",
                    "content": _json(_TEAM_CALENDAR),
                },
                **DENIED,
            },
        },
        "put": {
            "summary": "Set the calendar a team works by (null: none)",
            "security": [{"bearer": []}],
            "parameters": [_TEAM_ID, IF_MATCH],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["calendar_id"],
                            "properties": {"calendar_id": {"type": ["string", "null"]}},
                        }
                    }
                },
            },
            "responses": WRITE_RESPONSES,
        },
    },
}
