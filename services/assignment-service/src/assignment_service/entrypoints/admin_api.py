"""The assignment worker's admin HTTP API on Faust's web server (aiohttp): the rules for managers.

``GET /rules`` (the rules in order, with each team's implied default; ETag: the version),
``PUT /rules/{rule_id}`` and ``DELETE /rules/{rule_id}`` (If-Match: the version read; 409 when it
moved, 428 without it), and ``POST /rules/{rule_id}/check``: a draft checked as a ``PUT`` would
check it (the same 422s) and answered as it would be saved, with its warnings; nothing is
written (the admin console's form calls it as the manager types). A rule naming a team or agent
the directory stage has not seen, or an agent who is not a member of the rule's teams, is
refused (422). Routes only parse, call and map errors; the rules live in
:class:`helpdesk_platform.config_log.ConfigLog`.

The routes are declared as :data:`RULES_OPERATIONS` for the OpenAPI document
(:mod:`~assignment_service.entrypoints.api_docs`); the helpers here (:func:`denied`,
:func:`json_body`, :func:`write_config`) serve the routing API too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import faust
import orjson
from faust.web import Request, Response, View

from assignment_service.domain.rule_set import (
    RuleSet,
    agents_outside_teams,
    check_references,
    effective_rules,
    parse_rule,
    rule_teams,
)
from assignment_service.domain.rules import AssignmentRule
from assignment_service.entrypoints.api_docs import Operation
from assignment_service.service_layer.directory_stage import DirectoryView
from helpdesk_events import Actor, ActorKind, DomainEvent
from helpdesk_events.assignment import AssignmentRuleDeleted, AssignmentRuleSaved
from helpdesk_platform.config_http import BearerAuth, HttpRefusal, etag, expected_version
from helpdesk_platform.config_log import ConfigConflict, ConfigLog, ConfigRefused

__all__ = [
    "RULES_OPERATIONS",
    "RulesApi",
    "denied",
    "json_body",
    "write_config",
]

RULES_ACTION = "change assignment rules"

_AUTH = {"401": "no valid bearer token", "403": "not a manager"}
_WRITE = {
    "200": "the rules after the change; ETag: the new version",
    **_AUTH,
    "409": "the rules changed since the If-Match version",
    "422": "the rule is not valid, names a team or agent that does not exist, or could never "
    "assign (the message says why)",
    "428": "If-Match is missing",
}


RULES_OPERATIONS: list[Operation] = [
    Operation("/healthz", "get", "Liveness", {"200": "up"}, secured=False),
    Operation("/openapi.json", "get", "This document", {"200": "the document"}, secured=False),
    Operation(
        "/readyz",
        "get",
        "Readiness (partitions assigned, state and rules recovered)",
        {"200": "ready", "503": "not yet"},
        secured=False,
    ),
    Operation(
        "/rules",
        "get",
        "The assignment rules in order, with each team's implied default",
        {"200": "version and rules; ETag: the version", **_AUTH},
    ),
    Operation(
        "/rules/{rule_id}",
        "put",
        "Create or replace a rule",
        _WRITE,
        if_match=True,
        body=AssignmentRule,
        path_params=("rule_id",),
    ),
    Operation(
        "/rules/{rule_id}/check",
        "post",
        "Check a draft rule as a save would (nothing is written)",
        {
            "200": "the rule as it would be saved, and its warnings",
            **_AUTH,
            "422": "the rule is not valid, names a team or agent that does not exist, or could "
            "never assign (the message says why)",
        },
        body=AssignmentRule,
        path_params=("rule_id",),
    ),
    Operation(
        "/rules/{rule_id}",
        "delete",
        "Delete a saved rule (a team default comes back)",
        {**_WRITE, "404": "no such saved rule"},
        if_match=True,
        path_params=("rule_id",),
    ),
]


def denied(
    auth: BearerAuth, web: View, request: Request, action: str, *, staff: bool = False
) -> Response | None:
    """None when the caller may (a manager; any staff with ``staff``); else the 401/403 (503:
    no key yet) response."""
    authorization = request.headers.get("Authorization")
    try:
        if staff:
            auth.staff(authorization, action=action)
        else:
            auth.role(authorization, action=action)
    except HttpRefusal as refusal:
        return web.json({"detail": refusal.detail}, status=refusal.status)
    return None


def json_body(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object; HttpRefusal(422) otherwise."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise HttpRefusal(422, "the body must be JSON") from None
    if not isinstance(body, dict):
        raise HttpRefusal(422, "the body must be a JSON object")
    return body


async def write_config(
    web: View,
    request: Request,
    log: ConfigLog[Any],
    event: DomainEvent,
    document: Callable[[], dict[str, Any]],
    read_from: str,
) -> Response:
    """Append a configuration event under the request's If-Match; the document after it."""
    try:
        expected = expected_version(request.headers.get("If-Match"), read_from=read_from)
    except HttpRefusal as refusal:
        return web.json({"detail": refusal.detail}, status=refusal.status)
    actor = Actor(kind=ActorKind.AGENT, id="manager", role="manager")
    try:
        version = await log.append(event, expected_version=expected, actor=actor)
    except ConfigConflict as error:
        return web.json({"detail": str(error)}, status=409)
    except ConfigRefused as error:
        return web.json({"detail": str(error)}, status=422)
    response = web.json({**document(), "version": version})
    response.headers["ETag"] = etag(version)
    return response


class RulesApi:
    """``/rules``: the saved assignment rules (managers only)."""

    def __init__(self, rules: ConfigLog[RuleSet], directory: DirectoryView, auth: BearerAuth):
        self.rules = rules
        self.directory = directory
        self.auth = auth

    def denied(self, web: View, request: Request) -> Response | None:
        return denied(self.auth, web, request, RULES_ACTION)

    def document(self) -> dict[str, Any]:
        rules = effective_rules(self.rules.state, sorted(self.directory.team_names().items()))
        return {
            "version": self.rules.version,
            "rules": [
                {
                    **rule.model_dump(mode="json"),
                    "saved": rule.rule_id in self.rules.state,
                    "warnings": self.warnings(rule),
                }
                for rule in rules
            ],
        }

    def check(self, rule: AssignmentRule) -> None:
        """422 for unknown teams and agents, and for agents the rule could never assign: a rule
        picks among the members of the ticket's team, so each agent it names must be a member of
        one of the rule's teams (its ``teams`` and the teams its condition names), or of some
        team when it names none. A later membership change is the runtime's
        ``AssignmentBlocked(no_candidates)`` and a warning of ``GET /rules``."""
        check_references(rule, self.directory.team_known, self.directory.agent_known)
        outside = self.outside(rule)
        if not outside:
            return
        names = ", ".join(sorted(str(agent) for agent in outside))
        teams = sorted(str(team) for team in rule_teams(rule))
        where = f"the rule's teams ({', '.join(teams)})" if teams else "any team"
        raise ValueError(
            f"agents {names} are not members of {where}, and a rule picks among the members of "
            "the ticket's team: it could never assign them (add them to the team, or name "
            "their team)"
        )

    def checked(self, rule_id: str, raw: bytes) -> AssignmentRule:
        """The rule of a ``PUT`` (or check) body, checked; HttpRefusal or ValueError (422)."""
        body = json_body(raw)
        if body.setdefault("rule_id", rule_id) != rule_id:
            raise HttpRefusal(422, "rule_id in the body differs from the path")
        rule = parse_rule(body)
        self.check(rule)
        return rule

    async def checked_rule(
        self, web: View, request: Request, rule_id: str
    ) -> AssignmentRule | Response:
        """The checked rule of a manager's ``PUT`` or check; else the refusal to answer."""
        denied = self.denied(web, request)
        if denied is not None:
            return denied
        try:
            return self.checked(rule_id, await request.read())
        except HttpRefusal as refusal:
            return web.json({"detail": refusal.detail}, status=refusal.status)
        except ValueError as error:
            return web.json({"detail": str(error)}, status=422)

    def outside(self, rule: AssignmentRule) -> frozenset[uuid.UUID]:
        return agents_outside_teams(rule, self.directory.agent_teams)

    def warnings(self, rule: AssignmentRule) -> list[str]:
        """What makes a saved rule assign less than it says (shown by GET /rules): agents who
        left the rule's teams since it was saved."""
        found = sorted(str(agent) for agent in self.outside(rule))
        if not found:
            return []
        return [f"agents not in the rule's teams, never assigned by it: {', '.join(found)}"]

    def register(self, app: faust.App) -> None:
        api = self

        @app.page("/rules")
        class RulesPage(View):
            async def get(self, request: Request) -> Response:
                denied = api.denied(self, request)
                if denied is not None:
                    return denied
                response = self.json(api.document())
                response.headers["ETag"] = etag(api.rules.version)
                return response

        @app.page("/rules/{rule_id}")
        class RulePage(View):
            async def put(self, request: Request, rule_id: str) -> Response:
                rule = await api.checked_rule(self, request, rule_id)
                if not isinstance(rule, AssignmentRule):
                    return rule
                event = AssignmentRuleSaved(rule=rule.model_dump(mode="json"))
                return await write_config(
                    self, request, api.rules, event, api.document, "GET /rules"
                )

            async def delete(self, request: Request, rule_id: str) -> Response:
                denied = api.denied(self, request)
                if denied is not None:
                    return denied
                if rule_id not in api.rules.state:
                    return self.json({"detail": f"there is no saved rule {rule_id!r}"}, status=404)
                event = AssignmentRuleDeleted(rule_id=rule_id)
                return await write_config(
                    self, request, api.rules, event, api.document, "GET /rules"
                )

        @app.page("/rules/{rule_id}/check")
        class RuleCheckPage(View):
            async def post(self, request: Request, rule_id: str) -> Response:
                rule = await api.checked_rule(self, request, rule_id)
                if not isinstance(rule, AssignmentRule):
                    return rule
                return self.json(
                    {"rule": rule.model_dump(mode="json"), "warnings": api.warnings(rule)}
                )
