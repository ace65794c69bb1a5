"""The OpenAPI document of the assignment worker, built from the operations its API modules
declare (:class:`Operation`) and the pydantic models' JSON Schemas - no hand-written document, so a
route and its description cannot drift apart. The same list tells Faust's web server which paths
to serve (:func:`helpdesk_platform.faust_web.web_settings`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

__all__ = ["Operation", "openapi_document", "served_paths"]


@dataclass(frozen=True)
class Operation:
    """One documented route: the OpenAPI document and the served paths come from these."""

    path: str
    method: str
    summary: str
    responses: dict[str, str]
    secured: bool = True
    if_match: bool = False
    body: type[BaseModel] | None = None
    path_params: tuple[str, ...] = field(default=())
    #: The JSON Schema of the 200 answer, so the typed clients know its shape.
    answer: type[BaseModel] | None = None


def served_paths(operations: Iterable[Operation]) -> list[str]:
    return sorted({op.path for op in operations})


def _schemas(models: list[type[BaseModel]]) -> dict[str, Any]:
    """The models' JSON Schemas as OpenAPI components; a body's id field named by the path may
    be left out."""
    if not models:
        return {}
    _, top = models_json_schema(
        [(model, "validation") for model in models], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = dict(top["$defs"])
    for model in models:
        schema = dict(schemas[model.__name__])
        schema["required"] = [name for name in schema.get("required", []) if name != "rule_id"]
        schemas[model.__name__] = schema
    return schemas


def openapi_document(operations: Iterable[Operation]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the declared operations."""
    ops = list(operations)
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        entry: dict[str, Any] = {
            "summary": op.summary,
            "responses": {code: {"description": text} for code, text in op.responses.items()},
        }
        if op.secured:
            entry["security"] = [{"bearer": []}]
        parameters: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in op.path_params
        ]
        if op.if_match:
            parameters.append(
                {
                    "name": "If-Match",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "the version read (ETag of the GET)",
                }
            )
        if parameters:
            entry["parameters"] = parameters
        if op.body is not None:
            ref = {"$ref": f"#/components/schemas/{op.body.__name__}"}
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref}},
            }
        if op.answer is not None and "200" in entry["responses"]:
            ref = {"$ref": f"#/components/schemas/{op.answer.__name__}"}
            entry["responses"]["200"]["content"] = {"application/json": {"schema": ref}}
        paths.setdefault(op.path, {})[op.method] = entry
    models = [model for op in ops for model in (op.body, op.answer) if model is not None]
    bodies = list(dict.fromkeys(models))
    return {
        "openapi": "3.1.0",
        "info": {"title": "Assignment service", "version": "0.1.0"},
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
            "schemas": _schemas(bodies),
        },
        "paths": paths,
    }
