"""Custom ticket field definitions as configuration events (``CustomFieldsConfigured`` on their
own configuration stream), and the checks of values and filters that need them.

Managers replace the definitions as a whole and name the version they changed (If-Match; 428
without, 409 when stale), like the ticket options and the SLA policies. Reads are cached for a
second per process, as the ticket options are.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from helpdesk_events import DomainEvent
from helpdesk_events.directory import (
    CustomFieldDefinition,
    CustomFieldForm,
    CustomFieldKind,
    CustomFieldsConfigured,
)
from ticket_service.domain import custom_fields as rules
from ticket_service.domain.custom_fields import CUSTOM_FIELDS_STREAM_ID, CustomFields
from ticket_service.domain.errors import PreconditionRequired
from ticket_service.service_layer import access
from ticket_service.service_layer.access import Action
from ticket_service.service_layer.context import CommandContext, envelope_for
from ticket_service.service_layer.event_store import EventStore, StreamAppend

CACHE_SECONDS = 1.0


class CustomFieldConfig:
    def __init__(
        self,
        store: EventStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._clock = clock
        self._cached: tuple[float, CustomFields, int] | None = None

    async def definitions(self) -> tuple[CustomFields, int]:
        """The defined fields and their stream version (0: none defined yet)."""
        now = time.monotonic()
        if self._cached is not None and now - self._cached[0] < CACHE_SECONDS:
            return self._cached[1], self._cached[2]
        recorded = await self._store.read_stream(CUSTOM_FIELDS_STREAM_ID)
        fields, version = CustomFields(), 0
        if recorded:
            event = recorded[-1].envelope.payload()
            assert isinstance(event, CustomFieldsConfigured)
            fields, version = CustomFields(event.fields), recorded[-1].envelope.stream_version
        self._cached = (now, fields, version)
        return fields, version

    async def read(self, who: access.Principal) -> tuple[CustomFields, int]:
        """What the caller may know: staff every field, customers the portal form's."""
        access.require(who, Action.READ_OPTIONS)
        fields, version = await self.definitions()
        if who.role is access.Role.CUSTOMER:
            fields = CustomFields(fields.on_form(CustomFieldForm.PORTAL))
        return fields, version

    async def configure(
        self,
        fields: Iterable[Mapping[str, Any] | CustomFieldDefinition],
        context: CommandContext,
        expected_version: int | None,
    ) -> tuple[CustomFields, int]:
        access.require(access.caller_of(context), Action.CONFIGURE_OPTIONS)
        expected = require_version(expected_version, "/custom-fields")
        event = rules.configure(fields)
        version = await append_configuration(
            self._store, CUSTOM_FIELDS_STREAM_ID, event, context, expected, self._clock()
        )
        self._cached = None
        return CustomFields(event.fields), version


def require_version(expected_version: int | None, path: str) -> int:
    """Shared configuration changes name the version they were decided on (else 428), so two
    managers never silently overwrite each other's changes."""
    if expected_version is None:
        raise PreconditionRequired(
            f'name the version you changed in If-Match (the ETag of GET {path}, e.g. "3"), '
            "so that a concurrent change is not overwritten"
        )
    return expected_version


async def append_configuration(
    store: EventStore,
    stream_id: uuid.UUID,
    event: DomainEvent,
    context: CommandContext,
    expected_version: int,
    now: datetime,
) -> int:
    """Append a configuration event after ``expected_version`` (stale: a 409); its version."""
    envelope = envelope_for(
        event,
        stream_id=stream_id,
        stream_version=expected_version + 1,
        context=context,
        occurred_at=now,
    )
    versions = await store.append(
        [StreamAppend(stream_id, "config", expected_version, [envelope])],
        traceparent=context.traceparent,
    )
    return versions[stream_id]


def filter_values(
    definitions: CustomFields, wanted: Mapping[str, str], *, by_customer: bool
) -> dict[str, Any]:
    """``custom.<key>=value`` list filters as a jsonb containment document: the text of the
    query string read by each field's kind (a number, true/false, one of several choices)."""
    document: dict[str, Any] = {}
    for key, text in wanted.items():
        field = field_named(definitions, key, by_customer=by_customer, use="filter by")
        if field.kind is CustomFieldKind.MULTI_SELECT:
            document[key] = [rules.check_value(field, [text])[0]]  # type: ignore[index]
        elif field.kind is CustomFieldKind.NUMBER:
            try:
                document[key] = rules.check_value(field, float(text))
            except ValueError:
                raise rules.InvalidCustomField(f"custom.{key}: {text!r} is not a number") from None
        elif field.kind is CustomFieldKind.CHECKBOX:
            if text.lower() not in ("true", "false"):
                raise rules.InvalidCustomField(f"custom.{key}: use true or false")
            document[key] = text.lower() == "true"
        else:
            document[key] = rules.check_value(field, text)
    return document


def field_named(
    definitions: CustomFields, key: str, *, by_customer: bool, use: str
) -> CustomFieldDefinition:
    """The definition a list sort or a report names (``custom.<key>``); a customer only names
    the portal form's. Else :class:`InvalidCustomField` (422) saying so."""
    field = definitions.get(key)
    if field is None or (by_customer and CustomFieldForm.PORTAL not in field.forms):
        raise rules.InvalidCustomField(f"cannot {use} custom.{key}: no such custom field")
    return field


def check_sort_key(definitions: CustomFields, key: str, *, by_customer: bool) -> None:
    """``sort=custom.<key>`` names a defined field (the caller may see)."""
    field_named(definitions, key, by_customer=by_customer, use="sort by")


def visible_values(
    who: access.Principal, definitions: CustomFields, values: Mapping[str, Any]
) -> dict[str, Any]:
    if who.role is access.Role.CUSTOMER:
        return definitions.visible_to_customers(values)
    return dict(values)


__all__ = [
    "CustomFieldConfig",
    "append_configuration",
    "check_sort_key",
    "field_named",
    "filter_values",
    "require_version",
    "visible_values",
]
