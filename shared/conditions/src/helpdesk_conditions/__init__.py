"""A safe condition language (CEL) over ticket fields, for SLA policies and assignment rules."""

from helpdesk_conditions.condition import (
    GLOBAL_FUNCTIONS,
    MACROS,
    MAX_COST,
    MAX_LIST_ITEMS,
    MAX_MACRO_NESTING,
    MAX_SOURCE_LENGTH,
    METHODS,
    TICKET_FIELDS,
    Condition,
    ConditionError,
    ConditionSource,
    FieldKind,
    Outcome,
)

__all__ = [
    "GLOBAL_FUNCTIONS",
    "MACROS",
    "MAX_COST",
    "MAX_LIST_ITEMS",
    "MAX_MACRO_NESTING",
    "MAX_SOURCE_LENGTH",
    "METHODS",
    "TICKET_FIELDS",
    "Condition",
    "ConditionError",
    "ConditionSource",
    "FieldKind",
    "Outcome",
]
