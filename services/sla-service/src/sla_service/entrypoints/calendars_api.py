"""Holiday lists, business calendars and teams' calendars for managers, on the worker's web
server (Faust/aiohttp), beside the policies API whose rules every call shares.

* ``GET /holiday-lists``, ``GET|PUT|DELETE /holiday-lists/{holiday_list_id}`` - named holiday
  lists (:class:`~sla_service.domain.shared_calendars.HolidayListDocument`);
* ``GET /calendars``, ``GET|PUT|DELETE /calendars/{calendar_id}`` - named business calendars
  (:class:`~sla_service.domain.shared_calendars.CalendarDocument`);
* ``GET|PUT /teams/{team_id}/calendar`` - the calendar a team works by (``{"calendar_id": ...}``,
  ``null`` for none).

They are one configuration with the policies (``helpdesk.sla-policies.v1``, one version): a
change names the version it was decided on in ``If-Match`` (428 without, 409 when it moved on).
Deleting a list or calendar that a policy, a calendar or a team uses is a 409 whose ``used_by``
names them; a policy linking a list or calendar that does not exist is a 422. Each view says who
uses the object (``used_by``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import faust
import orjson
from faust.web import Request, Response, View
from pydantic import BaseModel, ValidationError

from helpdesk_events import DomainEvent
from helpdesk_events.sla_policies import (
    BusinessCalendarDeleted,
    BusinessCalendarSaved,
    HolidayListDeleted,
    HolidayListSaved,
    TeamCalendarSet,
)
from helpdesk_platform.config_http import HttpRefusal, expected_version
from sla_service.domain.policies import SavedPolicies
from sla_service.domain.shared_calendars import (
    CalendarDocument,
    HolidayListDocument,
    parse_calendar,
    parse_holiday_list,
)
from sla_service.domain.validation import problems
from sla_service.entrypoints.policies_api import (
    DENIED,
    IF_MATCH,
    WRITE_RESPONSES,
    PoliciesApi,
    refused,
    with_etag,
)

_READ_FROM = "GET /calendars"


@dataclass(frozen=True)
class SharedKind:
    """One kind of named shared object and how the configuration keeps it."""

    path: str  # "/holiday-lists"
    id_field: str  # "holiday_list_id"
    noun: str  # "holiday list"
    model: type[BaseModel]
    parse: Callable[[object], BaseModel]
    items: Callable[[SavedPolicies], Mapping[str, BaseModel]]
    users: Callable[[SavedPolicies, str], list[str]]
    saved: Callable[[dict[str, Any]], DomainEvent]
    deleted: Callable[[str], DomainEvent]


HOLIDAY_LISTS = SharedKind(
    path="/holiday-lists",
    id_field="holiday_list_id",
    noun="holiday list",
    model=HolidayListDocument,
    parse=parse_holiday_list,
    items=lambda saved: saved.holiday_lists,
    users=SavedPolicies.holiday_list_users,
    saved=lambda document: HolidayListSaved(holiday_list=document),
    deleted=lambda key: HolidayListDeleted(holiday_list_id=key),
)
CALENDARS = SharedKind(
    path="/calendars",
    id_field="calendar_id",
    noun="calendar",
    model=CalendarDocument,
    parse=parse_calendar,
    items=lambda saved: saved.calendars,
    users=SavedPolicies.calendar_users,
    saved=lambda document: BusinessCalendarSaved(calendar=document),
    deleted=lambda key: BusinessCalendarDeleted(calendar_id=key),
)


class CalendarsApi:
    """The handlers, over the policies API's configuration and rules."""

    def __init__(self, policies: PoliciesApi) -> None:
        self.policies = policies
        self.config = policies.config

    def _view(self, kind: SharedKind, key: str) -> dict[str, Any] | None:
        saved = self.config.state
        document = kind.items(saved).get(key)
        if document is None:
            return None
        return {**document.model_dump(mode="json"), "used_by": kind.users(saved, key)}

    def _list(self, kind: SharedKind) -> dict[str, Any]:
        items = kind.items(self.config.state)
        views = [self._view(kind, key) for key in sorted(items)]
        return {"version": self.config.version, kind.path.strip("/"): views}

    def _check(self, request: Request, *, write: bool) -> tuple[Any, int]:
        principal = self.policies.manager(request)
        self.policies.ready()
        if not write:
            return principal, self.config.version
        return principal, expected_version(request.headers.get("If-Match"), read_from=_READ_FROM)

    async def list(self, web: View, request: Request, kind: SharedKind) -> Response:
        try:
            self._check(request, write=False)
        except HttpRefusal as refusal:
            return refused(web, refusal)
        return with_etag(web.json(self._list(kind)), self.config.version)

    async def get(self, web: View, request: Request, kind: SharedKind, key: str) -> Response:
        try:
            self._check(request, write=False)
        except HttpRefusal as refusal:
            return refused(web, refusal)
        view = self._view(kind, key)
        if view is None:
            return web.json({"detail": f"there is no {kind.noun} {key!r}"}, status=404)
        version = self.config.version
        return with_etag(web.json({"version": version, **view}), version)

    async def put(self, web: View, request: Request, kind: SharedKind, key: str) -> Response:
        try:
            principal, expected = self._check(request, write=True)
            body = await _json_object(request)
        except HttpRefusal as refusal:
            return refused(web, refusal)
        if body.setdefault(kind.id_field, key) != key:
            detail = f"{kind.id_field} in the body differs from the path"
            return web.json({"detail": detail}, status=422)
        try:
            document = kind.parse(body)
        except ValueError as error:
            return web.json({"detail": str(error)}, status=422)
        event = kind.saved(document.model_dump(mode="json"))
        return await self.policies.write(
            web, event, expected, principal, lambda: self._view(kind, key) or {}
        )

    async def delete(self, web: View, request: Request, kind: SharedKind, key: str) -> Response:
        try:
            principal, expected = self._check(request, write=True)
        except HttpRefusal as refusal:
            return refused(web, refusal)
        if key not in kind.items(self.config.state):
            return web.json({"detail": f"there is no {kind.noun} {key!r}"}, status=404)
        return await self.policies.write(
            web, kind.deleted(key), expected, principal, lambda: self._list(kind)
        )

    def _team_view(self, team_id: uuid.UUID) -> dict[str, Any]:
        calendar_id = self.config.state.team_calendars.get(team_id)
        return {"team_id": str(team_id), "calendar_id": calendar_id}

    async def get_team(self, web: View, request: Request, team_id: str) -> Response:
        try:
            self._check(request, write=False)
            team = _team_id(team_id)
        except HttpRefusal as refusal:
            return refused(web, refusal)
        version = self.config.version
        return with_etag(web.json({"version": version, **self._team_view(team)}), version)

    async def put_team(self, web: View, request: Request, team_id: str) -> Response:
        try:
            principal, expected = self._check(request, write=True)
            team = _team_id(team_id)
            body = await _json_object(request)
        except HttpRefusal as refusal:
            return refused(web, refusal)
        calendar_id = body.get("calendar_id")
        if set(body) != {"calendar_id"} or not isinstance(calendar_id, str | None):
            detail = 'the body is {"calendar_id": "<a calendar id>"} (null: none)'
            return web.json({"detail": detail}, status=422)
        try:
            event = TeamCalendarSet(team_id=team, calendar_id=calendar_id or None)
        except ValidationError as error:
            return web.json({"detail": problems(error)}, status=422)
        return await self.policies.write(
            web, event, expected, principal, lambda: self._team_view(team)
        )

    def add_pages(self, app: faust.App) -> None:
        api = self
        for kind in (HOLIDAY_LISTS, CALENDARS):
            _add_kind_pages(app, api, kind)

        @app.page("/teams/{team_id}/calendar")
        class TeamCalendarPage(View):
            async def get(self, request: Request, team_id: str) -> Response:
                return await api.get_team(self, request, team_id)

            async def put(self, request: Request, team_id: str) -> Response:
                return await api.put_team(self, request, team_id)


def _add_kind_pages(app: faust.App, api: CalendarsApi, kind: SharedKind) -> None:
    @app.page(kind.path)
    class CollectionPage(View):
        async def get(self, request: Request) -> Response:
            return await api.list(self, request, kind)

    @app.page(f"{kind.path}/{{{kind.id_field}}}")
    class ItemPage(View):
        async def get(self, request: Request, **path: str) -> Response:
            return await api.get(self, request, kind, path[kind.id_field])

        async def put(self, request: Request, **path: str) -> Response:
            return await api.put(self, request, kind, path[kind.id_field])

        async def delete(self, request: Request, **path: str) -> Response:
            return await api.delete(self, request, kind, path[kind.id_field])


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise HttpRefusal(422, "the body must be JSON") from None
    if not isinstance(body, dict):
        raise HttpRefusal(422, "the body must be a JSON object")
    return body


def _team_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise HttpRefusal(422, "the team id must be a UUID") from None


def _kind_paths(kind: SharedKind) -> dict[str, Any]:
    """The OpenAPI paths of one kind; the request body's schema is the document model's."""
    key = {"name": kind.id_field, "in": "path", "required": True, "schema": {"type": "string"}}
    body = {
        "required": True,
        "content": {"application/json": {"schema": kind.model.model_json_schema()}},
    }
    item_responses = {"200": {"description": f"the {kind.noun} and used_by"}, **DENIED}
    return {
        kind.path: {
            "get": {
                "summary": f"Every {kind.noun}, with who uses it",
                "security": [{"bearer": []}],
                "responses": {"200": {"description": "version and the items; ETag"}, **DENIED},
            }
        },
        f"{kind.path}/{{{kind.id_field}}}": {
            "get": {
                "summary": f"One {kind.noun}",
                "security": [{"bearer": []}],
                "parameters": [key],
                "responses": {**item_responses, "404": {"description": "no such item"}},
            },
            "put": {
                "summary": f"Create or replace a {kind.noun} (the policies using it follow)",
                "security": [{"bearer": []}],
                "parameters": [key, IF_MATCH],
                "requestBody": body,
                "responses": WRITE_RESPONSES,
            },
            "delete": {
                "summary": f"Delete a {kind.noun} nothing uses",
                "security": [{"bearer": []}],
                "parameters": [key, IF_MATCH],
                "responses": {**WRITE_RESPONSES, "404": {"description": "no such item"}},
            },
        },
    }


_TEAM_ID = {
    "name": "team_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}

OPENAPI_PATHS: dict[str, Any] = {
    **_kind_paths(HOLIDAY_LISTS),
    **_kind_paths(CALENDARS),
    "/teams/{team_id}/calendar": {
        "get": {
            "summary": "The calendar a team works by (calendar_id null: none)",
            "security": [{"bearer": []}],
            "parameters": [_TEAM_ID],
            "responses": {"200": {"description": "team_id, calendar_id, version"}, **DENIED},
        },
        "put": {
            "summary": "Set the calendar a team works by (null: none)",
            "security": [{"bearer": []}],
            "parameters": [_TEAM_ID, IF_MATCH],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["calendar_id"],
                            "properties": {"calendar_id": {"type": ["string", "null"]}},
                        }
                    }
                },
            },
            "responses": WRITE_RESPONSES,
        },
    },
}
