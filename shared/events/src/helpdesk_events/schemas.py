"""Generate the published schemas: one JSON Schema per event type and an AsyncAPI document.

``python -m helpdesk_events.schemas docs/events`` (``make schemas``) writes them; a test fails
when the checked-in files are stale, and when a change is not backward compatible for consumers
(:func:`breaking_changes`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson

from helpdesk_events.envelope import EventEnvelope
from helpdesk_events.registry import DomainEvent, registered_events
from helpdesk_events.topics import TOPIC_BY_STREAM_TYPE, all_topics

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_file_name(event: type[DomainEvent]) -> str:
    return f"{event.event_type}.v{event.schema_version}.schema.json"


def event_schema(event: type[DomainEvent]) -> dict[str, Any]:
    """The JSON Schema of the whole envelope carrying ``event``."""
    envelope = EventEnvelope.model_json_schema()
    data = event.model_json_schema()
    defs = {**envelope.pop("$defs", {}), **data.pop("$defs", {})}
    envelope["properties"]["data"] = data
    envelope["properties"]["event_type"] = {"const": event.event_type, "title": "Event Type"}
    envelope["properties"]["schema_version"] = {
        "const": event.schema_version,
        "title": "Schema Version",
    }
    envelope["properties"]["stream_type"] = {"const": event.stream_type, "title": "Stream Type"}
    return {
        **envelope,
        "$schema": SCHEMA_DIALECT,
        "$id": f"urn:helpdesk:events:{event.event_type}:v{event.schema_version}",
        "title": event.event_type,
        "description": (event.__doc__ or "").strip(),
        "x-topic": TOPIC_BY_STREAM_TYPE[event.stream_type],
        "$defs": defs,
    }


def asyncapi_document() -> dict[str, Any]:
    """An AsyncAPI 3.0 document: channels are topics, messages are event types."""
    events = registered_events()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in all_topics():
        messages = {
            name: {"$ref": f"#/components/messages/{name}"}
            for name, event in sorted(events.items())
            if TOPIC_BY_STREAM_TYPE.get(event.stream_type) == topic.name
        }
        channel_id = topic.name.replace(".", "_").replace("-", "_")
        channels[channel_id] = {
            "address": topic.name,
            "description": f"Key: {topic.key}. Retention: "
            + ("forever" if topic.retention_ms < 0 else f"{topic.retention_ms} ms")
            + f". Partitions (local default): {topic.partitions}.",
            "messages": messages,
        }
        if messages:
            operations[f"consume_{channel_id}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{channel_id}"},
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Helpdesk events",
            "version": "1.0.0",
            "description": "Events published by the helpdesk services. Headers: event_type, "
            "event_id, schema_version, traceparent (W3C).",
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": {
                name: {
                    "name": name,
                    "contentType": "application/json",
                    "headers": {
                        "type": "object",
                        "properties": {
                            "event_type": {"type": "string", "const": name},
                            "event_id": {"type": "string", "format": "uuid"},
                            "schema_version": {"type": "string"},
                            "traceparent": {"type": "string"},
                        },
                    },
                    "payload": {"$ref": schema_file_name(event)},
                }
                for name, event in sorted(events.items())
            }
        },
    }


def render_all() -> dict[str, bytes]:
    """File name → content of every generated schema file."""
    options = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
    files = {
        schema_file_name(event): orjson.dumps(event_schema(event), option=options)
        for event in registered_events().values()
    }
    files["asyncapi.json"] = orjson.dumps(asyncapi_document(), option=options)
    return files


def breaking_changes(old: dict[str, Any], new: dict[str, Any], path: str = "") -> list[str]:
    """Why ``new`` would break a consumer written against ``old`` (empty when compatible).

    Breaking: a property removed, a property's type changed, a property newly required, a
    constant changed, a value no longer allowed by an enum. Adding optional properties is fine.
    """
    problems: list[str] = []
    for key in ("type", "const", "format"):
        if key in old and old.get(key) != new.get(key):
            problems.append(f"{path or '/'}: {key} changed from {old[key]!r} to {new.get(key)!r}")
    if "enum" in old and set(old["enum"]) - set(new.get("enum", old["enum"])):
        problems.append(f"{path or '/'}: enum values removed")
    old_props: dict[str, Any] = old.get("properties", {})
    new_props: dict[str, Any] = new.get("properties", {})
    for name, old_prop in old_props.items():
        if name not in new_props:
            problems.append(f"{path}/{name}: property removed")
        else:
            problems.extend(breaking_changes(old_prop, new_props[name], f"{path}/{name}"))
    newly_required = set(new.get("required", [])) - set(old.get("required", []))
    problems.extend(f"{path}/{name}: newly required" for name in sorted(newly_required))
    return problems


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/events")
    out.mkdir(parents=True, exist_ok=True)
    for name, content in render_all().items():
        (out / name).write_bytes(content)
    print(f"wrote {len(render_all())} files to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
