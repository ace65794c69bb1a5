"""The event contract: envelope round trip, upcasting, and the published schemas."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from helpdesk_events import (
    Actor,
    ActorKind,
    EventEnvelope,
    StatusChanged,
    TicketCreated,
    UnknownEventType,
    decode_envelope,
    derived_event_id,
    encode_envelope,
    kafka_headers,
    parse_event,
    registry,
)
from helpdesk_events.registry import DomainEvent, event_type, upcaster
from helpdesk_events.schemas import breaking_changes, render_all

REPO = Path(__file__).resolve().parents[3]
#: Names DESIGN.md and the issues fix that do not end like a past participle.
NAMED_BY_THE_DESIGN = {"SlaWarning"}
#: Commands are requests in the imperative (helpdesk.ticket-commands.v1), not facts.
COMMANDS_TOPIC = "helpdesk.ticket-commands.v1"
SCHEMA_DIR = REPO / "docs" / "events"


def envelope(**overrides: Any) -> EventEnvelope:
    created = TicketCreated(
        subject="Printer on fire", channel="email", status="New", priority="High"
    )
    fields: dict[str, Any] = {
        "event_id": uuid.uuid4(),
        "event_type": "TicketCreated",
        "schema_version": 1,
        "stream_id": uuid.uuid4(),
        "stream_type": "ticket",
        "stream_version": 1,
        "occurred_at": datetime(2026, 11, 23, 17, 0, tzinfo=timezone(timedelta(hours=7))),
        "actor": Actor(kind=ActorKind.AGENT, id="agent-1", role="agent"),
        "correlation_id": uuid.uuid4(),
        "data": created.model_dump(mode="json"),
    }
    return EventEnvelope(**(fields | overrides))


def test_envelope_round_trips_through_json_in_utc() -> None:
    original = envelope()
    decoded = decode_envelope(encode_envelope(original))
    assert decoded == original
    assert decoded.occurred_at.utcoffset() == timedelta(0)
    assert orjson.loads(encode_envelope(original))["occurred_at"] == "2026-11-23T10:00:00Z"
    assert decoded.payload() == TicketCreated(
        subject="Printer on fire", channel="email", status="New", priority="High"
    )


def test_envelope_rejects_naive_times_and_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        envelope(occurred_at=datetime(2026, 1, 1))
    with pytest.raises(ValidationError):
        EventEnvelope.model_validate({**envelope().model_dump(), "surprise": 1})


def test_headers_carry_type_id_and_trace() -> None:
    env = envelope()
    tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    headers = dict(kafka_headers(env, tp))
    assert headers["event_type"] == b"TicketCreated"
    assert headers["event_id"] == str(env.event_id).encode()
    assert headers["traceparent"] == tp.encode()
    assert "traceparent" not in dict(kafka_headers(env, None))


def test_derived_ids_are_deterministic_and_distinct() -> None:
    ticket = uuid.uuid4()
    assert derived_event_id("SlaBreached", ticket, "resolution", 1) == derived_event_id(
        "SlaBreached", ticket, "resolution", 1
    )
    assert derived_event_id("SlaBreached", ticket, "resolution", 1) != derived_event_id(
        "SlaBreached", ticket, "resolution", 2
    )


def test_unknown_event_type_is_reported() -> None:
    with pytest.raises(UnknownEventType):
        parse_event("TicketTeleported", 1, {})
    with pytest.raises(UnknownEventType, match="newer"):
        parse_event("StatusChanged", 99, {"from_status": "New", "to_status": "Open"})


@pytest.fixture
def scratch_registry() -> Iterator[None]:
    """Event types a test registers are forgotten afterwards (they are not part of the contract)."""
    before = dict(registry._EVENTS), dict(registry._UPCASTERS)
    yield
    registry._EVENTS.clear()
    registry._EVENTS.update(before[0])
    registry._UPCASTERS.clear()
    registry._UPCASTERS.update(before[1])


@pytest.mark.usefixtures("scratch_registry")
def test_old_schema_versions_are_upcast() -> None:
    @event_type("ExampleRenamed", version=2, stream_type="ticket")
    class ExampleRenamed(DomainEvent):
        new_name: str

    @upcaster("ExampleRenamed", from_version=1)
    def _rename(data: dict[str, Any]) -> dict[str, Any]:
        return {"new_name": data["old_name"]}

    assert parse_event("ExampleRenamed", 1, {"old_name": "x"}) == ExampleRenamed(new_name="x")
    assert parse_event("ExampleRenamed", 2, {"new_name": "y"}) == ExampleRenamed(new_name="y")


def test_status_changed_is_validated() -> None:
    with pytest.raises(ValidationError):
        StatusChanged.model_validate({"from_status": "New"})


def test_checked_in_schemas_are_current() -> None:
    expected = render_all()
    stale = [
        name
        for name, content in expected.items()
        if not (SCHEMA_DIR / name).exists() or (SCHEMA_DIR / name).read_bytes() != content
    ]
    extra = sorted(p.name for p in SCHEMA_DIR.glob("*.json") if p.name not in expected)
    assert not stale, f"stale schemas {stale}: run `make schemas` and commit docs/events"
    assert not extra, f"schemas of no current event {extra}: remove them or restore the event"


def _committed_versions(path: Path) -> list[tuple[str, dict[str, Any]]]:
    relative = path.relative_to(REPO)
    listed = subprocess.run(
        ["git", "log", "--format=%H", "--", str(relative)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    revisions = listed.stdout.split() if listed.returncode == 0 else []  # no commits yet
    versions = []
    for revision in revisions:
        shown = subprocess.run(
            ["git", "show", f"{revision}:{relative}"], cwd=REPO, capture_output=True, check=False
        )
        if shown.returncode == 0:
            versions.append((revision[:10], orjson.loads(shown.stdout)))
    return versions


def test_schemas_stay_backward_compatible_with_every_published_version() -> None:
    """A schema version, once committed, may only grow compatibly (new optional fields)."""
    if subprocess.run(["git", "rev-parse"], cwd=REPO, capture_output=True).returncode != 0:
        pytest.skip("not a git checkout: no published versions to compare with")
    current = {name: orjson.loads(content) for name, content in render_all().items()}
    problems = []
    for name, schema in current.items():
        if name == "asyncapi.json":
            continue
        for revision, published in _committed_versions(SCHEMA_DIR / name):
            problems += [f"{name} vs {revision}: {p}" for p in breaking_changes(published, schema)]
    assert not problems, "breaking changes need a new schema version or topic:\n" + "\n".join(
        problems
    )


def test_breaking_change_detector_catches_each_kind() -> None:
    old = {
        "type": "object",
        "required": ["a"],
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}, "c": {"enum": [1, 2]}},
    }
    assert breaking_changes(old, old) == []
    assert breaking_changes(old, {**old, "properties": {**old["properties"], "d": {}}}) == []
    removed = {**old, "properties": {"a": {"type": "string"}, "c": {"enum": [1, 2]}}}
    assert breaking_changes(old, removed) == ["/b: property removed"]
    retyped = {**old, "properties": {**old["properties"], "a": {"type": "integer"}}}
    assert breaking_changes(old, retyped) == ["/a: type changed from 'string' to 'integer'"]
    required = {**old, "required": ["a", "b"]}
    assert breaking_changes(old, required) == ["/b: newly required"]
    narrowed = {**old, "properties": {**old["properties"], "c": {"enum": [1]}}}
    assert breaking_changes(old, narrowed) == ["/c: enum values removed"]


def test_every_event_names_its_topic_and_is_past_tense() -> None:
    for name, content in render_all().items():
        if name == "asyncapi.json":
            continue
        schema = orjson.loads(content)
        assert schema["x-topic"].startswith("helpdesk.")
        if schema["title"] in NAMED_BY_THE_DESIGN or schema["x-topic"] == COMMANDS_TOPIC:
            continue
        assert schema["title"].endswith(("ed", "Set", "Met")), (
            f"{schema['title']} is not past tense"
        )


def test_now_is_aware() -> None:  # the services stamp events with aware UTC times
    assert envelope(occurred_at=datetime.now(UTC)).occurred_at.tzinfo is not None
