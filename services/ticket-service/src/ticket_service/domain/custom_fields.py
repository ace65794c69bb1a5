"""Custom ticket fields (#20 item 6): managers define them, tickets carry their values.

A definition says what a field holds (text, number, date, select, multi-select, checkbox, a
user), its choices, whether it is required, on which forms it is shown (the agent portal's,
the customer portal's) and whether customers may set it. Values are checked here against
their definition, with a message that names the field and what it expects; the service layer
asks the directory whether a user field names an agent. Pure functions, no I/O.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError

from helpdesk_events.directory import (
    CustomFieldDefinition,
    CustomFieldForm,
    CustomFieldKind,
    CustomFieldsConfigured,
)
from helpdesk_events.tickets import CustomFieldChange, CustomFieldsChanged, CustomFieldValue
from ticket_service.domain.errors import DomainError

#: The configuration stream of the custom field definitions.
CUSTOM_FIELDS_STREAM_ID = uuid.UUID("00000000-0000-4000-8000-00000000c0f2")
MAX_FIELDS = 100
MAX_TEXT = 2000
MAX_OPTIONS = 200
#: Numbers every JSON client reads exactly (JavaScript's safe integers).
MAX_NUMBER = 2**53 - 1


class InvalidCustomField(DomainError):
    """A definition or a value the rules refuse (the message names the field)."""


class CustomerMayNotSet(DomainError):
    """A customer named a field only staff may set."""


@dataclass(frozen=True)
class CustomFields:
    """The defined fields, in form order."""

    fields: tuple[CustomFieldDefinition, ...] = ()

    def get(self, key: str) -> CustomFieldDefinition | None:
        return next((f for f in self.fields if f.key == key), None)

    def on_form(self, form: CustomFieldForm) -> tuple[CustomFieldDefinition, ...]:
        return tuple(f for f in self.fields if form in f.forms)

    def visible_to_customers(
        self, values: Mapping[str, CustomFieldValue]
    ) -> dict[str, CustomFieldValue]:
        """The values a customer sees: those of fields on the customer portal's form."""
        shown = {f.key for f in self.on_form(CustomFieldForm.PORTAL)}
        return {key: value for key, value in values.items() if key in shown}


def configure(
    fields: Iterable[Mapping[str, Any] | CustomFieldDefinition],
) -> CustomFieldsConfigured:
    """Decide a new set of definitions: unique keys, choices for (and only for) select fields,
    a customer-settable field shown on the customer portal's form."""
    try:
        definitions = tuple(
            f if isinstance(f, CustomFieldDefinition) else CustomFieldDefinition(**f)
            for f in fields
        )
    except ValidationError as error:
        raise InvalidCustomField(str(error)) from None
    if len(definitions) > MAX_FIELDS:
        raise InvalidCustomField(f"at most {MAX_FIELDS} custom fields")
    seen: set[str] = set()
    for field in definitions:
        if field.key in seen:
            raise InvalidCustomField(f"custom field {field.key!r} is defined twice")
        seen.add(field.key)
        choices = field.kind in (CustomFieldKind.SELECT, CustomFieldKind.MULTI_SELECT)
        if choices and not field.options:
            raise InvalidCustomField(f"custom field {field.key!r}: a {field.kind} needs options")
        if not choices and field.options:
            raise InvalidCustomField(
                f"custom field {field.key!r}: only select and multi_select fields have options"
            )
        if len(field.options) > MAX_OPTIONS or len(set(field.options)) != len(field.options):
            raise InvalidCustomField(
                f"custom field {field.key!r}: options must be unique, at most {MAX_OPTIONS}"
            )
        if field.customer_settable and CustomFieldForm.PORTAL not in field.forms:
            raise InvalidCustomField(
                f"custom field {field.key!r}: a field customers may set must be on the "
                'portal form (forms: [..., "portal"])'
            )
    return CustomFieldsConfigured(fields=definitions)


def check_value(field: CustomFieldDefinition, value: Any) -> CustomFieldValue:
    """The value as tickets store it, or :class:`InvalidCustomField` saying what is expected."""
    where = f"custom field {field.key!r} ({field.label}, {field.kind})"
    kind = field.kind
    if kind is CustomFieldKind.TEXT:
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise InvalidCustomField(f"{where}: expected text of at most {MAX_TEXT} characters")
        return value.strip()
    if kind is CustomFieldKind.NUMBER:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or abs(value) > MAX_NUMBER
        ):
            raise InvalidCustomField(
                f"{where}: expected a number, at most {MAX_NUMBER} in size, got {value!r}"
            )
        return value
    if kind is CustomFieldKind.CHECKBOX:
        if not isinstance(value, bool):
            raise InvalidCustomField(f"{where}: expected true or false, got {value!r}")
        return value
    if kind is CustomFieldKind.DATE:
        try:
            return date.fromisoformat(value).isoformat()
        except (TypeError, ValueError):
            raise InvalidCustomField(f"{where}: expected a date like 2026-12-31") from None
    if kind is CustomFieldKind.SELECT:
        if value not in field.options:
            raise InvalidCustomField(f"{where}: {value!r} is not one of {list(field.options)}")
        return str(value)
    if kind is CustomFieldKind.MULTI_SELECT:
        if not isinstance(value, list | tuple) or any(v not in field.options for v in value):
            raise InvalidCustomField(
                f"{where}: expected a list of choices from {list(field.options)}"
            )
        return tuple(dict.fromkeys(str(v) for v in value))
    try:  # a user: an agent's id
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise InvalidCustomField(f"{where}: expected an agent's id, got {value!r}") from None


def check_values(
    definitions: CustomFields,
    values: Mapping[str, Any],
    *,
    by_customer: bool,
    required_on: CustomFieldForm | None = None,
) -> dict[str, CustomFieldValue | None]:
    """Values checked by their definitions (None clears a field). ``required_on`` (a new ticket
    from that form) refuses a missing required field of that form; a required field is never
    cleared. A customer may set only fields defined as customer-settable."""
    checked: dict[str, CustomFieldValue | None] = {}
    for key, value in values.items():
        field = definitions.get(key)
        if field is None:
            known = ", ".join(f.key for f in definitions.fields) or "none is defined"
            raise InvalidCustomField(f"no custom field {key!r} (defined: {known})")
        if by_customer and not field.customer_settable:
            raise CustomerMayNotSet(f"customers may not set the custom field {key!r}")
        empty = value is None or value == "" or value == []
        if empty and field.required:
            raise InvalidCustomField(f"custom field {key!r} ({field.label}) is required")
        checked[key] = None if empty else check_value(field, value)
    if required_on is not None:
        for field in definitions.on_form(required_on):
            if field.required and checked.get(field.key) is None:
                raise InvalidCustomField(f"custom field {field.key!r} ({field.label}) is required")
    return checked


def users_named(
    definitions: CustomFields, values: Mapping[str, CustomFieldValue | None]
) -> list[uuid.UUID]:
    """The agent ids that user fields among ``values`` name (to check in the directory)."""
    return [
        uuid.UUID(str(value))
        for key, value in values.items()
        if value is not None
        and (field := definitions.get(key)) is not None
        and field.kind is CustomFieldKind.USER
    ]


def change(
    current: Mapping[str, CustomFieldValue], values: Mapping[str, CustomFieldValue | None]
) -> CustomFieldsChanged | None:
    """The event setting ``values`` (None clears); None when nothing changes."""
    changes = tuple(
        CustomFieldChange(key=key, old=current.get(key), new=value)
        for key, value in values.items()
        if current.get(key) != value
    )
    return CustomFieldsChanged(changes=changes) if changes else None
