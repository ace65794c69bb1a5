"""Event types by name, their current schema version, and upcasters for older versions.

An event type is a pydantic model of the event's ``data``. Its name (past tense) and schema
version are declared once with :func:`event_type`. When a type's data changes incompatibly the
version goes up and an upcaster turns stored data of the old version into the new shape, so that
a replay of years-old events still parses. (A change that breaks *consumers* gets a new topic.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownEventType(LookupError):
    """An event type name that this version of the contract does not know."""


class DomainEvent(BaseModel):
    """Base of every event's ``data`` model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int]
    stream_type: ClassVar[str]


E = TypeVar("E", bound=type[DomainEvent])

_EVENTS: dict[str, type[DomainEvent]] = {}
_UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def event_type(name: str, *, version: int, stream_type: str) -> Callable[[E], E]:
    """Class decorator: register a :class:`DomainEvent` subclass under ``name``."""

    def register(cls: E) -> E:
        if name in _EVENTS:
            raise ValueError(f"event type {name!r} is registered twice")
        cls.event_type = name
        cls.schema_version = version
        cls.stream_type = stream_type
        _EVENTS[name] = cls
        return cls

    return register


def upcaster(name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Decorator: register a function turning ``name`` data of ``from_version`` into the next."""

    def register(fn: Upcaster) -> Upcaster:
        _UPCASTERS[(name, from_version)] = fn
        return fn

    return register


def event_class(name: str) -> type[DomainEvent]:
    try:
        return _EVENTS[name]
    except KeyError:
        raise UnknownEventType(f"unknown event type {name!r}") from None


def registered_events() -> Mapping[str, type[DomainEvent]]:
    return dict(_EVENTS)


def upcast(name: str, version: int, data: dict[str, Any]) -> dict[str, Any]:
    """Bring ``data`` stored at ``version`` up to the current version of ``name``."""
    current = event_class(name).schema_version
    if version > current:
        raise UnknownEventType(
            f"{name} schema version {version} is newer than this contract ({current}); "
            "upgrade helpdesk-events"
        )
    while version < current:
        step = _UPCASTERS.get((name, version))
        if step is None:
            raise UnknownEventType(f"no upcaster for {name} from schema version {version}")
        data = step(data)
        version += 1
    return data


def parse_event(name: str, version: int, data: Mapping[str, Any]) -> DomainEvent:
    """Parse stored or received event data into its model, upcasting old versions first."""
    return event_class(name).model_validate(upcast(name, version, dict(data)))
