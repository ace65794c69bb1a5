"""Custom ticket fields (#20 item 6): definitions and values checked by kind; pure rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from helpdesk_events.directory import CustomFieldForm
from ticket_service.domain import custom_fields as rules
from ticket_service.domain import ticket as tickets
from ticket_service.domain.custom_fields import CustomerMayNotSet, CustomFields, InvalidCustomField
from ticket_service.domain.ticket import NewTicket

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)

FORM = [
    {"key": "account_manager", "label": "Account manager", "kind": "user"},
    {"key": "seats", "label": "Seats", "kind": "number"},
    {"key": "go_live", "label": "Go-live", "kind": "date"},
    {"key": "notes", "label": "Notes", "kind": "text"},
    {"key": "urgent_fix", "label": "Hotfix", "kind": "checkbox"},
    {
        "key": "device",
        "label": "Device",
        "kind": "select",
        "options": ["Laptop", "Phone"],
        "required": True,
        "forms": ["agent", "portal"],
        "customer_settable": True,
    },
    {"key": "modules", "label": "Modules", "kind": "multi_select", "options": ["HR", "Payroll"]},
]


def defined() -> CustomFields:
    return CustomFields(rules.configure(FORM).fields)


def test_definitions_are_checked() -> None:
    assert [f.key for f in defined().fields][:2] == ["account_manager", "seats"]
    with pytest.raises(InvalidCustomField, match="defined twice"):
        rules.configure([FORM[1], FORM[1]])
    with pytest.raises(InvalidCustomField, match="needs options"):
        rules.configure([{"key": "x", "label": "X", "kind": "select"}])
    with pytest.raises(InvalidCustomField, match="portal form"):
        rules.configure([{"key": "x", "label": "X", "kind": "text", "customer_settable": True}])
    with pytest.raises(InvalidCustomField, match="key"):
        rules.configure([{"key": "Bad Key", "label": "X", "kind": "text"}])


@pytest.mark.parametrize(
    ("key", "value", "stored"),
    [
        ("seats", 25, 25),
        ("go_live", "2026-12-31", "2026-12-31"),
        ("notes", " VIP ", "VIP"),
        ("urgent_fix", True, True),
        ("device", "Laptop", "Laptop"),
        ("modules", ["HR", "Payroll", "HR"], ("HR", "Payroll")),
    ],
)
def test_values_are_stored_by_kind(key: str, value: object, stored: object) -> None:
    assert rules.check_values(defined(), {key: value}, by_customer=False) == {key: stored}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("seats", "many", "expected a number"),
        ("seats", True, "expected a number"),
        ("seats", 10**30, "expected a number"),
        ("go_live", "31/12/2026", "expected a date"),
        ("urgent_fix", "yes", "true or false"),
        ("device", "Tablet", "is not one of"),
        ("modules", ["HR", "CRM"], "list of choices"),
        ("account_manager", "someone", "agent's id"),
        ("unknown", 1, "no custom field 'unknown'"),
        ("device", None, "is required"),
    ],
)
def test_bad_values_are_refused_with_what_the_field_expects(
    key: str, value: object, message: str
) -> None:
    with pytest.raises(InvalidCustomField, match=message):
        rules.check_values(defined(), {key: value}, by_customer=False)


def test_customers_set_only_customer_settable_fields_and_required_ones_on_their_form() -> None:
    with pytest.raises(CustomerMayNotSet):
        rules.check_values(defined(), {"seats": 3}, by_customer=True)
    with pytest.raises(InvalidCustomField, match=r"'device' .* is required"):
        rules.check_values(defined(), {}, by_customer=True, required_on=CustomFieldForm.PORTAL)
    assert rules.check_values(
        defined(), {"device": "Phone"}, by_customer=True, required_on=CustomFieldForm.PORTAL
    ) == {"device": "Phone"}
    assert defined().visible_to_customers({"device": "Phone", "seats": 3}) == {"device": "Phone"}


def test_values_on_a_ticket_change_and_clear_as_events() -> None:
    agent = str(uuid.uuid4())
    created = tickets.create(NewTicket(subject="x", custom_fields={"seats": 10}))
    ticket = tickets.apply(None, uuid.uuid4(), created, NOW)
    assert ticket.custom_fields == {"seats": 10}
    event = tickets.change_custom_fields(ticket, {"seats": None, "account_manager": agent})
    assert event is not None
    assert [(c.key, c.old, c.new) for c in event.changes] == [
        ("seats", 10, None),
        ("account_manager", None, agent),
    ]
    ticket = tickets.apply(ticket, ticket.id, event, NOW)
    assert ticket.custom_fields == {"account_manager": agent}
    assert tickets.change_custom_fields(ticket, {"account_manager": agent}) is None
