"""The SLA policies API for managers, on the worker's web server (Faust/aiohttp).

* ``GET /policies`` - the effective policies in the order they are tried, the default last
  (``saved: false``: the built-in default from the settings), and the configuration ``version``,
  also sent as ``ETag``;
* ``GET /policies/{policy_id}`` - one of them (``ETag``: the configuration version);
* ``PUT /policies/{policy_id}`` - create or replace a policy (the body is a
  :class:`~sla_service.domain.policies.PolicyDocument`);
* ``DELETE /policies/{policy_id}`` - delete a saved policy (not the default).

Every call needs a manager's bearer token (401 without a valid token, 403 for another role).
A change names the version it was decided on in ``If-Match`` (428 when missing, 400 when not a
version, 409 when the configuration moved on since); an invalid policy or a change the
configuration refuses (a second default, deleting the default, a condition that does not parse)
is a 422 saying why, as is a status name the ticket options do not have (once the SLA service has
read them: :mod:`sla_service.domain.known_statuses`). The changes are ``SlaPolicySaved`` /
``SlaPolicyDeleted`` events on ``helpdesk.sla-policies.v1``, written through
:class:`~helpdesk_platform.config_log.ConfigLog`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import structlog
from aiokafka.errors import KafkaError
from faust.web import Request, Response, View

from helpdesk_events import Actor, ActorKind, DomainEvent
from helpdesk_events.sla_policies import SlaPolicyDeleted, SlaPolicySaved
from helpdesk_platform.auth import Principal, TokenVerifier
from helpdesk_platform.config_http import HttpRefusal, etag, expected_version, require_role
from helpdesk_platform.config_log import ConfigConflict, ConfigLog, ConfigRefused
from sla_service.domain.known_statuses import KnownStatuses
from sla_service.domain.policies import (
    BUILT_IN_DEFAULT_ID,
    PolicyCatalog,
    SavedPolicies,
    fold_policies,
    parse_policy,
)
from sla_service.domain.shared_calendars import InUseError

log = structlog.get_logger("sla_service.policies_api")

_READ_FROM = "GET /policies"
_ACTION = "read or change SLA policies"


class PoliciesApi:
    """The handlers; ``catalog()`` gives the effective policies of the current configuration."""

    def __init__(
        self,
        config: ConfigLog[SavedPolicies],
        catalog: Callable[[], PolicyCatalog],
        jwt_public_key_file: Path,
        statuses: Callable[[], KnownStatuses] = KnownStatuses,
    ) -> None:
        self.config = config
        self.catalog = catalog
        self.statuses = statuses
        self.jwt_public_key_file = jwt_public_key_file
        self._verifier: TokenVerifier | None = None

    # --- rules of every call --------------------------------------------------------------------

    def manager(self, request: Request) -> Principal:
        if self._verifier is None:
            try:
                self._verifier = TokenVerifier.from_file(self.jwt_public_key_file)
            except FileNotFoundError as error:
                raise HttpRefusal(503, str(error)) from None
        return require_role(self._verifier, request.headers.get("Authorization"), action=_ACTION)

    def ready(self) -> None:
        if not self.config.caught_up.is_set():
            raise HttpRefusal(503, "the SLA policies are still being read; retry shortly")

    # --- documents ------------------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        return {"version": self.config.version, "policies": self.catalog().describe()}

    def one(self, policy_id: str) -> dict[str, Any] | None:
        return next(
            (view for view in self.catalog().describe() if view["policy_id"] == policy_id), None
        )

    # --- handlers -------------------------------------------------------------------------------

    def list(self, web: View, request: Request) -> Response:
        try:
            self.manager(request)
            self.ready()
        except HttpRefusal as refusal:
            return refused(web, refusal)
        return with_etag(web.json(self.document()), self.config.version)

    def get(self, web: View, request: Request, policy_id: str) -> Response:
        try:
            self.manager(request)
            self.ready()
        except HttpRefusal as refusal:
            return refused(web, refusal)
        view = self.one(policy_id)
        if view is None:
            return web.json({"detail": f"there is no policy {policy_id!r}"}, status=404)
        return with_etag(web.json({"version": self.config.version, **view}), self.config.version)

    async def put(self, web: View, request: Request, policy_id: str) -> Response:
        try:
            principal = self.manager(request)
            self.ready()
            expected = expected_version(request.headers.get("If-Match"), read_from=_READ_FROM)
        except HttpRefusal as refusal:
            return refused(web, refusal)
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return web.json({"detail": "the body must be a JSON policy"}, status=422)
        if not isinstance(body, dict):
            return web.json({"detail": "the body must be a JSON object"}, status=422)
        if body.setdefault("policy_id", policy_id) != policy_id:
            return web.json({"detail": "policy_id in the body differs from the path"}, status=422)
        try:
            policy = parse_policy(body)
            self.statuses().check(policy.sla_policy())
        except ValueError as error:
            return web.json({"detail": str(error)}, status=422)
        event = SlaPolicySaved(policy=policy.model_dump(mode="json"))
        return await self._write(web, event, expected, principal)

    async def delete(self, web: View, request: Request, policy_id: str) -> Response:
        try:
            principal = self.manager(request)
            self.ready()
            expected = expected_version(request.headers.get("If-Match"), read_from=_READ_FROM)
        except HttpRefusal as refusal:
            return refused(web, refusal)
        if policy_id not in self.config.state.documents:
            if policy_id == BUILT_IN_DEFAULT_ID:
                return web.json(
                    {"detail": "the built-in default policy cannot be deleted"}, status=422
                )
            return web.json({"detail": f"there is no saved policy {policy_id!r}"}, status=404)
        return await self._write(web, SlaPolicyDeleted(policy_id=policy_id), expected, principal)

    async def _write(
        self,
        web: View,
        event: SlaPolicySaved | SlaPolicyDeleted,
        expected: int,
        principal: Principal,
    ) -> Response:
        return await self.write(web, event, expected, principal, self.document)

    async def write(
        self,
        web: View,
        event: DomainEvent,
        expected: int,
        principal: Principal,
        answer: Callable[[], dict[str, Any]],
    ) -> Response:
        """Append a configuration event decided on version ``expected``; the answer is
        ``answer()`` after the change, with the new version (also as ``ETag``). A change the
        fold refuses is a 422, one that would delete what is in use a 409 naming the users."""
        if expected != self.config.version:
            return web.json(
                {"detail": str(ConfigConflict(expected, self.config.version))}, status=409
            )
        try:
            # What every replica's fold would refuse is answered here, and never written.
            fold_policies(
                self.config.state, event.event_type, event.model_dump(mode="json"), _now()
            )
        except InUseError as error:
            return web.json({"detail": str(error), "used_by": list(error.users)}, status=409)
        except ValueError as error:
            return web.json({"detail": str(error)}, status=422)
        actor = Actor(kind=ActorKind.AGENT, id=principal.subject, role=principal.role.value)
        try:
            version = await self.config.append(event, expected_version=expected, actor=actor)
        except ConfigConflict as error:
            return web.json({"detail": str(error)}, status=409)
        except ConfigRefused as error:
            return web.json({"detail": str(error)}, status=422)
        except (KafkaError, TimeoutError) as error:
            log.warning("SLA policy change not written", error=repr(error))
            return web.json(
                {"detail": "the change could not be written to Kafka; retry"}, status=503
            )
        log.info(event.event_type, version=version, actor=principal.subject)
        return with_etag(web.json({**answer(), "version": version}), version)

    def add_pages(self, app: Any) -> None:
        api = self

        @app.page("/policies")
        class PoliciesPage(View):
            async def get(self, request: Request) -> Response:
                return api.list(self, request)

        @app.page("/policies/{policy_id}")
        class PolicyPage(View):
            async def get(self, request: Request, policy_id: str) -> Response:
                return api.get(self, request, policy_id)

            async def put(self, request: Request, policy_id: str) -> Response:
                return await api.put(self, request, policy_id)

            async def delete(self, request: Request, policy_id: str) -> Response:
                return await api.delete(self, request, policy_id)


def _now() -> datetime:
    return datetime.now(UTC)


def refused(web: View, refusal: HttpRefusal) -> Response:
    return web.json({"detail": refusal.detail}, status=refusal.status)


def with_etag(response: Response, version: int) -> Response:
    response.headers["ETag"] = etag(version)
    return response


_POLICY_ID = {"name": "policy_id", "in": "path", "required": True, "schema": {"type": "string"}}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": "the configuration version read (the ETag of GET /policies)",
}
DENIED = {
    "401": {"description": "no valid bearer token"},
    "403": {"description": "not a manager"},
    "503": {"description": "the policies are still being read (or Kafka is unreachable)"},
}
WRITE_RESPONSES = {
    "200": {"description": "version and the policies after the change; ETag: the new version"},
    "400": {"description": "If-Match is not a version"},
    **DENIED,
    "409": {
        "description": "the configuration changed since the If-Match version, or what is "
        "deleted is in use (used_by names the policies, calendars and teams)"
    },
    "422": {"description": "the policy or the change is not valid (the message says why)"},
    "428": {"description": "If-Match is missing"},
}
_POLICY_SCHEMA = {
    "type": "object",
    "required": ["name", "targets", "default_priority"],
    "properties": {
        "policy_id": {"type": "string", "description": "defaults to the path's"},
        "name": {"type": "string"},
        "position": {"type": "integer", "default": 0, "description": "lower first"},
        "is_default": {"type": "boolean", "default": False},
        "condition": {
            "type": ["string", "null"],
            "description": 'CEL over ticket fields, e.g. priority == "Urgent" && "vip" in tags',
        },
        "active_from": {"type": ["string", "null"], "format": "date-time"},
        "active_to": {"type": ["string", "null"], "format": "date-time"},
        "calendar": {
            "type": "object",
            "description": "time_zone, weekly_hours (windows per weekday), holidays, always_open",
        },
        "calendar_id": {
            "type": ["string", "null"],
            "description": "a named calendar (GET /calendars) instead of calendar",
        },
        "holiday_list_ids": {
            "type": "array",
            "items": {"type": "string"},
            "description": "holiday lists (GET /holiday-lists) counted as well",
        },
        "use_team_calendar": {
            "type": "boolean",
            "default": False,
            "description": "count in the calendar of the ticket's team when it has one",
        },
        "targets": {
            "type": "object",
            "description": "per priority: first_response, next_response, resolution "
            "(seconds or ISO 8601 durations)",
        },
        "default_priority": {"type": "string"},
        "pausing": {"type": "object", "description": "status category -> metrics it pauses"},
        "fulfilling": {"type": "object", "description": "status category -> metrics it meets"},
        "pausing_statuses": {
            "type": "object",
            "description": "status name -> metrics it pauses (a named status decides alone)",
        },
        "fulfilling_statuses": {
            "type": "object",
            "description": "status name -> metrics it meets (a named status decides alone)",
        },
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/policies": {
        "get": {
            "summary": "The SLA policies in the order they are tried, the default last",
            "security": [{"bearer": []}],
            "responses": {
                "200": {"description": "version and policies; ETag: the version"},
                **DENIED,
            },
        }
    },
    "/policies/{policy_id}": {
        "get": {
            "summary": "One SLA policy",
            "security": [{"bearer": []}],
            "parameters": [_POLICY_ID],
            "responses": {
                "200": {"description": "the policy and the version; ETag: the version"},
                **DENIED,
                "404": {"description": "no such policy"},
            },
        },
        "put": {
            "summary": "Create or replace an SLA policy",
            "security": [{"bearer": []}],
            "parameters": [_POLICY_ID, IF_MATCH],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _POLICY_SCHEMA}},
            },
            "responses": WRITE_RESPONSES,
        },
        "delete": {
            "summary": "Delete a saved SLA policy (its tickets fall back to the default)",
            "security": [{"bearer": []}],
            "parameters": [_POLICY_ID, IF_MATCH],
            "responses": {**WRITE_RESPONSES, "404": {"description": "no such saved policy"}},
        },
    },
}
