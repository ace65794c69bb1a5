"""Conditions on ticket fields, written in CEL and checked against an allow-list when parsed.

The language
------------
A condition is a `Common Expression Language <https://cel.dev>`_ expression that must come out
true or false, over the ticket fields listed in :data:`TICKET_FIELDS`::

    priority == "High"
    priority in ["High", "Urgent"] && channel != "email"
    "vpn" in tags || subject.contains("VPN")
    subject.lowerAscii().contains("refund") && !(status_category in ["resolved", "closed"])
    tags.exists(t, t.startsWith("billing-"))
    created_hour >= 8 && created_hour < 17
    subject.matches("^(?i)re: ")

It is evaluated by `cel-python <https://pypi.org/project/cel-python/>`_'s tree-walking
interpreter, never by Python's ``eval``: a condition can only read the fields it is given and
call the functions below; it cannot import, open files, loop forever or reach any object.
Regular expressions (``matches``) run on RE2, so they take linear time. Conditions may be parsed
and evaluated from several threads.

When a condition is parsed (:meth:`Condition.parse`) it is rejected with a :class:`ConditionError`
that names the line and column of the problem when:

* it is not valid CEL, or longer than :data:`MAX_SOURCE_LENGTH` characters or nested too deeply;
* it names a field outside :data:`TICKET_FIELDS` (a typo gets a suggestion), selects a sub-field
  (``priority.name``) or builds a message (``Foo{a: 1}``);
* it calls a function outside :data:`GLOBAL_FUNCTIONS` / :data:`METHODS` / :data:`MACROS`
  (so ``__import__("os")`` is an error: ``__import__`` is not a function of the language);
* it comes out as something other than true or false for a ticket with every field empty
  (``priority`` alone, ``size(tags)``).

Evaluation
----------
:meth:`Condition.matches` never raises for a parsed condition. What it sees:

* a field missing from the ticket (or ``None``) is ``null``, except ``tags``, which is an empty
  list. So ``priority == "High"`` is false and ``priority != "High"`` true for a ticket without a
  priority, and ``"vpn" in tags`` is false for a ticket without tags;
* UUIDs and enums are compared as strings (``team_id == "5f0c…"``, ``status_category ==
  "active"``); ``tags`` may be any list, tuple or set of strings; keys outside
  :data:`TICKET_FIELDS` are ignored.

A field the condition reads that holds a value of the wrong kind (a number as ``subject``, a string
as ``tags``) makes the condition not match, whatever the rest says. When CEL reports an error
(calling ``contains`` on a missing subject, comparing ``created_hour`` with a string, dividing by
zero, …) the condition does not match either: :meth:`Condition.matches` returns ``False``. If a
field the condition reads was missing, that is expected and logged at DEBUG level; otherwise it is
a mistake in the condition or the data and is logged as a WARNING on the ``helpdesk_conditions``
logger. CEL's logic is commutative for errors, so ``subject.contains("x") || priority == "High"``
is still true for a High ticket without a subject. :meth:`Condition.evaluate` tells the error.
"""

from __future__ import annotations

import difflib
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Annotated, Any, Final

import celpy
import lark
from celpy import celtypes
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError
from pydantic import AfterValidator, GetCoreSchemaHandler
from pydantic_core import core_schema

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

logger = logging.getLogger("helpdesk_conditions")

#: The longest condition accepted, in characters.
MAX_SOURCE_LENGTH: Final = 4000

#: The most items a list field (``tags``) may hold when a condition is evaluated: a ticket has at
#: most 50 tags. A longer list makes the condition not match, so the cost bound below holds.
MAX_LIST_ITEMS: Final = 50
#: Macros (``exists``, ``all``, ...) may be nested at most this deep: each level multiplies the
#: work by the length of a list.
MAX_MACRO_NESTING: Final = 2
#: The most parse-tree nodes one evaluation may visit, counting every macro body once per item of
#: the longest list it may run over (:data:`MAX_LIST_ITEMS` per list the macro's target names).
#: celpy's interpreter takes 4-10 microseconds a node here, so the worst accepted condition costs
#: tens of milliseconds; ``tags.exists(t, t.startsWith("billing-"))`` costs about 1,300.
MAX_COST: Final = 5000


class FieldKind(StrEnum):
    STRING = "string"
    STRING_LIST = "list of strings"
    INT = "int"
    #: Named values chosen by a manager (custom ticket fields): ``custom.account_manager`` or
    #: ``custom["account_manager"]``; each value a string, number, true/false or list of strings.
    MAP = "map"


#: The ticket fields a condition may read, and their kinds.
TICKET_FIELDS: Final[Mapping[str, FieldKind]] = {
    "subject": FieldKind.STRING,
    "description": FieldKind.STRING,
    "channel": FieldKind.STRING,
    "status": FieldKind.STRING,
    "status_category": FieldKind.STRING,
    "priority": FieldKind.STRING,
    "type": FieldKind.STRING,
    "category": FieldKind.STRING,
    "team_id": FieldKind.STRING,
    "assignee_id": FieldKind.STRING,
    "tags": FieldKind.STRING_LIST,
    "business_unit": FieldKind.STRING,
    "brand": FieldKind.STRING,
    "customer_id": FieldKind.STRING,
    "company_id": FieldKind.STRING,
    #: Taken from the directory when the ticket is opened and kept up to date by the ticket
    #: service (``TicketCustomerContextChanged``), so "Enterprise customers" or "customers in
    #: India" are conditions on the ticket: ``"enterprise" in company_tags``,
    #: ``customer_country == "IN"``, ``company_tier == "Enterprise"``.
    "customer_tags": FieldKind.STRING_LIST,
    "customer_country": FieldKind.STRING,
    "company_tags": FieldKind.STRING_LIST,
    "company_tier": FieldKind.STRING,
    "company_country": FieldKind.STRING,
    #: The contact's language (ISO 639-1): ``customer_language == "hi"``; routing rules with
    #: ``by_language`` send the ticket to a team that speaks it.
    "customer_language": FieldKind.STRING,
    #: The ticket's custom fields (a manager defines them), by key.
    "custom": FieldKind.MAP,
    #: The hour (0-23) the ticket was created, in whatever zone the caller chose.
    "created_hour": FieldKind.INT,
}

#: Functions called as ``f(x)``.
GLOBAL_FUNCTIONS: Final = frozenset({"size", "int", "string"})
#: Functions called as ``x.f(…)``.
METHODS: Final = frozenset(
    {"contains", "startsWith", "endsWith", "matches", "size", "lowerAscii", "upperAscii", "trim"}
)
#: CEL macros over lists; their first argument names a variable bound in the others.
MACROS: Final = frozenset({"exists", "all", "exists_one", "filter", "map"})

_MAP_FIELDS: Final = frozenset(
    name for name, kind in TICKET_FIELDS.items() if kind is FieldKind.MAP
)

# Parse-tree levels allowed: about 24 nested parentheses, or 240 terms joined by && or ||.
# celpy evaluates recursively (about 4 frames a level); this keeps well inside its limit of 2500.
_MAX_DEPTH = 250


class ConditionError(ValueError):
    """A condition cannot be used: bad syntax, unknown field or function, or not a true/false."""

    def __init__(
        self, message: str, source: str, line: int | None = None, column: int | None = None
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.column = column
        where = f" at line {line}, column {column}" if line is not None else ""
        super().__init__(f"{message}{where}: {source!r}")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What evaluating a condition gave: ``matched``, or the ``error`` that made it not match."""

    matched: bool
    error: str | None = None
    missing_fields: frozenset[str] = frozenset()


# --- custom functions (CEL's "strings" extension) --------------------------------------------


def _string_function(
    name: str, apply: Callable[[str], str]
) -> Callable[[celtypes.Value], celtypes.Value]:
    def function(value: celtypes.Value) -> celtypes.Value:
        if not isinstance(value, str):
            raise TypeError(f"{name}() applies to a string, not {type(value).__name__}")
        return celtypes.StringType(apply(value))

    return function


def _lower_ascii(text: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in text)


def _upper_ascii(text: str) -> str:
    return "".join(c.upper() if c.isascii() else c for c in text)


_FUNCTIONS: Final[dict[str, Any]] = {
    "lowerAscii": _string_function("lowerAscii", _lower_ascii),
    "upperAscii": _string_function("upperAscii", _upper_ascii),
    "trim": _string_function("trim", str.strip),
}

# The interpreter only (celpy's CompiledRunner generates Python source and runs it). Note that
# creating an Environment sets the process's recursion limit to 2500, as CEL's nesting needs.
# An Environment is not thread-safe (cel-python issue #38: ``program()`` hands its result over
# through an attribute), so parsing holds a lock; evaluation has per-call state only.
_ENVIRONMENT: Final = celpy.Environment(runner_class=celpy.InterpretedRunner)
_ENVIRONMENT_LOCK: Final = threading.Lock()


# --- checking the parse tree -----------------------------------------------------------------


def _first_token(node: lark.Tree[Any] | lark.Token | None) -> lark.Token | None:
    if isinstance(node, lark.Token):
        return node
    if isinstance(node, lark.Tree):
        for child in node.children:
            token = _first_token(child)
            if token is not None:
                return token
    return None


def _bare_ident(node: lark.Tree[Any] | lark.Token | None) -> str | None:
    """The name when ``node`` is an expression made of one identifier only."""
    if not isinstance(node, lark.Tree):
        return None
    tokens = list(node.scan_values(lambda value: isinstance(value, lark.Token)))
    idents = list(node.find_data("ident"))
    if len(tokens) == 1 and len(idents) == 1 and tokens[0].type == "IDENT":
        return str(tokens[0])
    return None


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source
        self.fields: set[str] = set()

    def fail(self, message: str, at: lark.Tree[Any] | lark.Token | None) -> ConditionError:
        token = _first_token(at)
        line = getattr(token, "line", None)
        column = getattr(token, "column", None)
        return ConditionError(message, self.source, line, column)

    def field(self, name: str, token: Any, scope: frozenset[str]) -> None:
        if name in scope:
            return
        if name not in TICKET_FIELDS:
            hint = difflib.get_close_matches(name, TICKET_FIELDS, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            known = ", ".join(sorted(TICKET_FIELDS))
            raise self.fail(f"unknown field '{name}'{suggestion}; known fields: {known}", token)
        self.fields.add(name)

    def check(self, node: Any, scope: frozenset[str], depth: int = 0, macros: int = 0) -> None:
        if not isinstance(node, lark.Tree):
            return
        if depth > _MAX_DEPTH:
            raise self.fail("the condition is nested too deeply", node)
        rule = str(node.data)
        children = node.children
        if rule == "ident":
            self.field(str(children[0]), children[0], scope)
            return
        if rule == "dot_ident":
            self.field(str(children[0]), children[0], frozenset())
            return
        if rule == "dot_ident_arg":
            raise self.fail(f"unknown function '.{children[0]}'", children[0])
        if rule == "member_object":
            raise self.fail("building messages is not supported in conditions", node)
        if rule == "member_dot":
            self.check(children[0], scope, depth + 1)
            if _bare_ident(children[0]) in _MAP_FIELDS and _bare_ident(children[0]) not in scope:
                return
            raise self.fail(
                f"ticket fields have no sub-fields: '.{children[1]}' cannot be selected",
                children[1],
            )
        if rule == "ident_arg":
            name = str(children[0])
            if name not in GLOBAL_FUNCTIONS:
                allowed = ", ".join(sorted(GLOBAL_FUNCTIONS))
                raise self.fail(f"unknown function '{name}'; functions: {allowed}", children[0])
            self.check_all(children[1:], scope, depth, macros)
            return
        if rule == "member_dot_arg":
            target, method, args = children[0], str(children[1]), children[2:]
            self.check(target, scope, depth + 1, macros)
            if method in MACROS:
                self.check_macro(method, children[1], args, scope, depth, macros)
                return
            if method not in METHODS:
                allowed = ", ".join(sorted(METHODS | MACROS))
                raise self.fail(f"unknown method '{method}'; methods: {allowed}", children[1])
            self.check_all(args, scope, depth, macros)
            return
        self.check_all(children, scope, depth, macros)

    def check_all(self, nodes: list[Any], scope: frozenset[str], depth: int, macros: int) -> None:
        for child in nodes:
            self.check(child, scope, depth + 1, macros)

    def check_macro(
        self,
        name: str,
        at: Any,
        args: list[Any],
        scope: frozenset[str],
        depth: int,
        macros: int,
    ) -> None:
        if macros >= MAX_MACRO_NESTING:
            raise self.fail(
                f"macros may be nested at most {MAX_MACRO_NESTING} deep ({name}() inside "
                f"{macros} others): each level multiplies the work by the length of a list",
                at,
            )
        exprs = _macro_exprs(args)
        if len(exprs) != 2:
            raise self.fail(f"{name}() takes a variable and an expression, e.g. {name}(t, …)", at)
        variable = _bare_ident(exprs[0])
        if variable is None:
            raise self.fail(f"the first argument of {name}() must be a variable name", exprs[0])
        inner = scope | {variable}
        for expr in exprs[1:]:
            self.check(expr, inner, depth + 1, macros + 1)


def _macro_exprs(args: list[Any]) -> list[lark.Tree[Any]]:
    """The argument expressions of a macro call (``t`` and the body of ``exists(t, …)``)."""
    return [
        expr
        for arglist in args
        if isinstance(arglist, lark.Tree)
        for expr in arglist.children
        if isinstance(expr, lark.Tree)
    ]


def _items(target: lark.Tree[Any]) -> int:
    """The most items the list ``target`` evaluates to: :data:`MAX_LIST_ITEMS` for each field or
    variable it names (``tags + tags`` is two lists long), plus the items of its list literals."""
    items = 0
    for sub in target.iter_subtrees():
        if str(sub.data) == "ident":
            items += MAX_LIST_ITEMS
        elif str(sub.data) == "list_lit":
            items += sum(len(part.children) for part in sub.children if isinstance(part, lark.Tree))
    return max(1, items)


def _cost(node: Any) -> int:
    """How many parse-tree nodes an evaluation may visit, at most (see :data:`MAX_COST`).

    A macro's body counts once per item of the list it runs over (:func:`_items`). Runs after the
    checks, so macros have their two arguments.
    """
    if not isinstance(node, lark.Tree):
        return 0
    children = node.children
    if str(node.data) == "member_dot_arg" and str(children[1]) in MACROS:
        target, body = children[0], _macro_exprs(children[2:])[-1]
        return 1 + _cost(target) + _items(target) * (_cost(body) + 1)
    return 1 + sum(_cost(child) for child in children)


# --- values ----------------------------------------------------------------------------------


def _to_string(value: Any) -> Any:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, uuid.UUID):
        return celtypes.StringType(str(value))
    if isinstance(value, str):
        return celtypes.StringType(value)
    return _to_cel(value)


def _to_cel(value: Any) -> Any:
    """Any other value as CEL sees it (a wrong type shows up as an error when used)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        return celtypes.IntType(value)
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, str | uuid.UUID | Enum):
        return _to_string(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return celtypes.ListType([_to_cel(item) for item in items])
    if isinstance(value, Mapping):
        return celtypes.MapType({_to_string(k): _to_cel(v) for k, v in value.items()})
    return celtypes.StringType(str(value))


def _wrong_kind(kind: FieldKind, value: Any) -> bool:
    if kind is FieldKind.STRING:
        return not isinstance(value, str | uuid.UUID | Enum)
    if kind is FieldKind.INT:
        return isinstance(value, bool) or not isinstance(value, int)
    if kind is FieldKind.MAP:
        return not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value)
    return not isinstance(value, list | tuple | set | frozenset) or not all(
        isinstance(item, str | uuid.UUID | Enum) for item in value
    )


def _missing(ticket: Mapping[str, Any], fields: frozenset[str]) -> frozenset[str]:
    return frozenset(name for name in fields if ticket.get(name) is None)


def _activation(ticket: Mapping[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """The CEL values of ``fields``; may raise on values CEL cannot hold (a 100-bit int)."""
    values: dict[str, Any] = {}
    for name in fields:
        kind = TICKET_FIELDS[name]
        value = ticket.get(name)
        if value is None and kind is FieldKind.MAP:
            values[name] = celtypes.MapType({})
        elif value is None:
            values[name] = celtypes.ListType([]) if kind is FieldKind.STRING_LIST else None
        elif kind is FieldKind.STRING:
            values[name] = _to_string(value)
        else:
            values[name] = _to_cel(value)
    return values


_EMPTY_VALUE: Final[Mapping[FieldKind, Any]] = {
    FieldKind.STRING: "",
    FieldKind.STRING_LIST: [],
    FieldKind.INT: 0,
    FieldKind.MAP: {},
}
_EMPTY_TICKET: Final[Mapping[str, Any]] = {
    name: _EMPTY_VALUE[kind] for name, kind in TICKET_FIELDS.items()
}


# --- the condition ---------------------------------------------------------------------------


class Condition:
    """A parsed, checked condition; immutable, hashable and compared by its source text.

    In a pydantic model a ``Condition`` field accepts the source text (or a ``Condition``) and
    is written out as the source text.
    """

    __slots__ = ("_cost", "_fields", "_program", "_source")

    _source: str
    _cost: int
    _fields: frozenset[str]
    _program: celpy.Runner

    def __init__(self) -> None:
        raise TypeError("use Condition.parse(source)")

    @classmethod
    def parse(cls, source: str) -> Condition:
        """Parse and check ``source``; raise :class:`ConditionError` when it cannot be used."""
        if not isinstance(source, str):
            raise ConditionError("a condition must be text", repr(source))
        if not source.strip():
            raise ConditionError("a condition cannot be empty", source)
        if len(source) > MAX_SOURCE_LENGTH:
            raise ConditionError(
                f"a condition can be at most {MAX_SOURCE_LENGTH} characters long", source[:80]
            )
        try:
            with _ENVIRONMENT_LOCK:
                tree = _ENVIRONMENT.compile(source)
        except CELParseError as error:
            raise ConditionError("syntax error", source, error.line, error.column) from None
        except RecursionError:
            raise ConditionError("the condition is nested too deeply", source) from None
        except Exception as error:  # the parser's own failures on odd input
            raise ConditionError(f"syntax error: {error}", source) from None
        checker = _Checker(source)
        try:
            checker.check(tree, frozenset())
            cost = _cost(tree)
        except RecursionError:
            raise ConditionError("the condition is nested too deeply", source) from None
        if cost > MAX_COST:
            raise ConditionError(
                f"the condition is too costly: up to {cost} steps for a ticket with "
                f"{MAX_LIST_ITEMS} tags, at most {MAX_COST} are allowed (nest fewer macros or "
                "give them less to do)",
                source,
            )
        condition = object.__new__(cls)
        condition._source = source
        condition._cost = cost
        condition._fields = frozenset(checker.fields)
        with _ENVIRONMENT_LOCK:
            condition._program = _ENVIRONMENT.program(tree, functions=_FUNCTIONS)
        probe = condition._run(_EMPTY_TICKET)
        if not isinstance(probe, Exception | celtypes.BoolType):
            got = "null" if probe is None else _cel_type_name(probe)
            raise ConditionError(f"a condition must come out true or false, not {got}", source)
        return condition

    @property
    def source(self) -> str:
        return self._source

    @property
    def cost(self) -> int:
        """The most parse-tree nodes one evaluation visits (at most :data:`MAX_COST`)."""
        return self._cost

    @property
    def fields(self) -> frozenset[str]:
        """The ticket fields the condition reads."""
        return self._fields

    def _run(self, ticket: Mapping[str, Any]) -> Any:
        try:
            return self._program.evaluate(_activation(ticket, self._fields))
        except Exception as error:  # CELEvalError, and anything the interpreter lets through
            return error

    def evaluate(self, ticket: Mapping[str, Any]) -> Outcome:
        """Evaluate against ``ticket``; never raises. See the module documentation."""
        missing = _missing(ticket, self._fields)
        for name in sorted(self._fields - missing):
            kind, value = TICKET_FIELDS[name], ticket[name]
            if _wrong_kind(kind, value):
                error = f"field '{name}' holds a {type(value).__name__}, expected {kind}"
                return Outcome(False, error, missing)
            if kind in (FieldKind.STRING_LIST, FieldKind.MAP) and len(value) > MAX_LIST_ITEMS:
                error = f"field '{name}' holds {len(value)} items, at most {MAX_LIST_ITEMS}"
                return Outcome(False, error, missing)
        try:
            result = self._program.evaluate(_activation(ticket, self._fields))
        except Exception as error:
            return Outcome(False, _describe(error), missing)
        if isinstance(result, celtypes.BoolType):
            return Outcome(bool(result), None, missing)
        got = "null" if result is None else _cel_type_name(result)
        return Outcome(False, f"came out as {got}, not true or false", missing)

    def matches(self, ticket: Mapping[str, Any]) -> bool:
        """Whether ``ticket`` satisfies the condition; ``False`` when CEL reports an error."""
        outcome = self.evaluate(ticket)
        if outcome.error is not None:
            if outcome.missing_fields:
                logger.debug(
                    "condition %r does not match: %s (missing: %s)",
                    self._source,
                    outcome.error,
                    ", ".join(sorted(outcome.missing_fields)),
                )
            else:
                logger.warning("condition %r does not match: %s", self._source, outcome.error)
        return outcome.matched

    def __repr__(self) -> str:
        return f"Condition.parse({self._source!r})"

    def __str__(self) -> str:
        return self._source

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Condition) and other._source == self._source

    def __hash__(self) -> int:
        return hash(("Condition", self._source))

    def __reduce__(self) -> tuple[Callable[[str], Condition], tuple[str]]:
        return (Condition.parse, (self._source,))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        from_text = core_schema.no_info_after_validator_function(
            _parse_for_pydantic, core_schema.str_schema()
        )
        return core_schema.json_or_python_schema(
            json_schema=from_text,
            python_schema=core_schema.union_schema(
                [core_schema.is_instance_schema(cls), from_text]
            ),
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda condition: condition.source, when_used="always"
            ),
        )


def _cel_type_name(value: Any) -> str:
    """``StringType`` -> ``string``, as CEL names its types."""
    name = type(value).__name__
    return name.removesuffix("Type").lower() if name.endswith("Type") else name


def _describe(error: Exception) -> str:
    if isinstance(error, CELEvalError) and error.args:
        message = str(error.args[0])
        cause = error.args[2] if len(error.args) > 2 else None
        if isinstance(cause, tuple) and cause:
            message = f"{message}: {cause[0]}"
        return message[:500]
    return f"{type(error).__name__}: {error}"[:500]


def _parse_for_pydantic(source: str) -> Condition:
    try:
        return Condition.parse(source)
    except ConditionError as error:
        # pydantic reports a ValueError raised here as a validation error of the field.
        raise ValueError(str(error)) from None


def _validate_source(source: str) -> str:
    _parse_for_pydantic(source)
    return source


#: A condition kept as text in a pydantic model, checked by parsing it.
ConditionSource = Annotated[str, AfterValidator(_validate_source)]
