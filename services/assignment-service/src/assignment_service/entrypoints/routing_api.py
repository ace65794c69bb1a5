"""The routing API of the assignment worker (managers).

* ``GET /routing``: the routing rules in order and each channel's default team (ETag: version);
* ``PUT /routing/rules/{rule_id}``, ``DELETE /routing/rules/{rule_id}``: a routing rule (a
  condition on the ticket and the team it goes to); ``POST /routing/rules/{rule_id}/check``: a
  draft checked as a ``PUT`` would check it (the same 422s), nothing written - the admin
  console's form says what is wrong as the manager types; ``PUT /routing/channels/{channel}`` with
  ``{"team_id": ...}`` (``null`` removes the default). If-Match as for ``/rules``; a team the
  directory has not seen is refused (422).

The tickets routing gives no team are listed by
:mod:`~assignment_service.entrypoints.unassignable_api`. Routes only parse, call and map errors
(see :mod:`~assignment_service.entrypoints.admin_api`). The answers' model
(:class:`RoutingDocument`) is in the worker's OpenAPI document, so the admin console's typed
client knows their shape.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import faust
from faust.web import Request, Response, View
from pydantic import BaseModel, ConfigDict, ValidationError

from assignment_service.domain.routing import (
    RoutingConfig,
    RoutingRule,
    check_teams,
    parse_routing_rule,
)
from assignment_service.entrypoints.admin_api import denied, json_body, write_config
from assignment_service.entrypoints.api_docs import Operation
from assignment_service.service_layer.directory_stage import DirectoryView
from helpdesk_events.assignment import (
    ChannelTeamSet,
    RoutingRuleDeleted,
    RoutingRuleSaved,
)
from helpdesk_platform.config_http import BearerAuth, HttpRefusal, etag
from helpdesk_platform.config_log import ConfigLog

__all__ = [
    "ROUTING_OPERATIONS",
    "RoutingApi",
    "RoutingCheck",
    "RoutingDocument",
]

_T = TypeVar("_T")
ROUTING_ACTION = "change team routing"
_AUTH = {"401": "no valid bearer token", "403": "not a manager"}
_WRITE = {
    "200": "the routing after the change; ETag: the new version",
    **_AUTH,
    "409": "the routing changed since the If-Match version",
    "422": "not valid, or names a team that does not exist (the message says why)",
    "428": "If-Match is missing",
}


class ChannelTeam(BaseModel):
    """The default team of a channel; null removes it."""

    model_config = ConfigDict(extra="forbid")

    team_id: uuid.UUID | None = None


class RoutingDocument(BaseModel):
    """``GET /routing`` (and every change's answer)."""

    version: int
    rules: list[RoutingRule]
    channel_teams: dict[str, uuid.UUID]


class RoutingCheck(BaseModel):
    """``POST /routing/rules/{rule_id}/check``: the draft as it would be saved."""

    rule: RoutingRule


ROUTING_OPERATIONS: list[Operation] = [
    Operation(
        "/routing",
        "get",
        "The routing rules in order and each channel's default team",
        {"200": "version, rules and channel_teams; ETag: the version", **_AUTH},
        answer=RoutingDocument,
    ),
    Operation(
        "/routing/rules/{rule_id}",
        "put",
        "Create or replace a routing rule",
        _WRITE,
        if_match=True,
        body=RoutingRule,
        path_params=("rule_id",),
        answer=RoutingDocument,
    ),
    Operation(
        "/routing/rules/{rule_id}/check",
        "post",
        "Check a draft routing rule as a PUT would, writing nothing",
        {
            "200": "the rule as it would be saved",
            **_AUTH,
            "422": "not valid, or names a team that does not exist (the message says why)",
        },
        body=RoutingRule,
        path_params=("rule_id",),
        answer=RoutingCheck,
    ),
    Operation(
        "/routing/rules/{rule_id}",
        "delete",
        "Delete a routing rule",
        {**_WRITE, "404": "no such routing rule"},
        if_match=True,
        path_params=("rule_id",),
        answer=RoutingDocument,
    ),
    Operation(
        "/routing/channels/{channel}",
        "put",
        "Set (or with team_id null remove) a channel's default team",
        _WRITE,
        if_match=True,
        body=ChannelTeam,
        path_params=("channel",),
        answer=RoutingDocument,
    ),
]


class RoutingApi:
    """``/routing``: team routing rules and channel default teams (managers only)."""

    def __init__(
        self, routing: ConfigLog[RoutingConfig], directory: DirectoryView, auth: BearerAuth
    ) -> None:
        self.routing = routing
        self.directory = directory
        self.auth = auth

    def document(self) -> dict[str, Any]:
        config = self.routing.state
        return {
            "version": self.routing.version,
            "rules": [rule.model_dump(mode="json") for rule in config.ordered()],
            "channel_teams": {
                channel: str(team) for channel, team in sorted(config.channel_teams.items())
            },
        }

    def checked_rule(self, rule_id: str, raw: bytes) -> RoutingRule:
        """The rule of a ``PUT`` (or check) body; HttpRefusal or ValueError (422)."""
        body = json_body(raw)
        if body.setdefault("rule_id", rule_id) != rule_id:
            raise HttpRefusal(422, "rule_id in the body differs from the path")
        rule = parse_routing_rule(body)
        check_teams(rule.named_teams(), self.directory.team_known)
        return rule

    def rule_event(self, rule_id: str, raw: bytes) -> RoutingRuleSaved:
        rule = self.checked_rule(rule_id, raw)
        return RoutingRuleSaved(rule=rule.model_dump(mode="json"))

    def channel_event(self, channel: str, raw: bytes) -> ChannelTeamSet:
        try:
            body = ChannelTeam.model_validate(json_body(raw))
            event = ChannelTeamSet(channel=channel, team_id=body.team_id)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            raise ValueError(f"{where}: {first['msg']}") from None
        if event.team_id is not None:
            check_teams([event.team_id], self.directory.team_known)
        return event

    def register(self, app: faust.App) -> None:
        api = self

        async def write(web: View, request: Request, event: Any) -> Response:
            return await write_config(
                web, request, api.routing, event, api.document, "GET /routing"
            )

        async def parsed(
            web: View, request: Request, parse: Callable[[bytes], _T]
        ) -> _T | Response:
            """A manager's body, parsed and checked; else the refusal to answer (an aiohttp
            response, which is no ``faust.web.Response``: callers test for what they parse)."""
            if (refusal := denied(api.auth, web, request, ROUTING_ACTION)) is not None:
                return refusal
            try:
                return parse(await request.read())
            except HttpRefusal as error:
                return web.json({"detail": error.detail}, status=error.status)
            except ValueError as error:
                return web.json({"detail": str(error)}, status=422)

        @app.page("/routing")
        class RoutingPage(View):
            async def get(self, request: Request) -> Response:
                if (refusal := denied(api.auth, self, request, ROUTING_ACTION)) is not None:
                    return refusal
                response = self.json(api.document())
                response.headers["ETag"] = etag(api.routing.version)
                return response

        @app.page("/routing/rules/{rule_id}")
        class RoutingRulePage(View):
            async def put(self, request: Request, rule_id: str) -> Response:
                event = await parsed(self, request, lambda raw: api.rule_event(rule_id, raw))
                if not isinstance(event, RoutingRuleSaved):
                    return event
                return await write(self, request, event)

            async def delete(self, request: Request, rule_id: str) -> Response:
                if (refusal := denied(api.auth, self, request, ROUTING_ACTION)) is not None:
                    return refusal
                if rule_id not in api.routing.state.rules:
                    detail = f"there is no routing rule {rule_id!r}"
                    return self.json({"detail": detail}, status=404)
                return await write(self, request, RoutingRuleDeleted(rule_id=rule_id))

        @app.page("/routing/rules/{rule_id}/check")
        class RoutingRuleCheckPage(View):
            async def post(self, request: Request, rule_id: str) -> Response:
                rule = await parsed(self, request, lambda raw: api.checked_rule(rule_id, raw))
                if not isinstance(rule, RoutingRule):
                    return rule
                return self.json({"rule": rule.model_dump(mode="json")})

        @app.page("/routing/channels/{channel}")
        class ChannelPage(View):
            async def put(self, request: Request, channel: str) -> Response:
                event = await parsed(self, request, lambda raw: api.channel_event(channel, raw))
                if not isinstance(event, ChannelTeamSet):
                    return event
                return await write(self, request, event)
