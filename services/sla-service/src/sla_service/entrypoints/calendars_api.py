"""Holiday lists, business calendars and teams' calendars for managers, on the worker's web
server (Faust/aiohttp), beside the policies API whose rules every call shares.

* ``GET /holiday-lists``, ``GET|PUT|DELETE /holiday-lists/{holiday_list_id}`` - named holiday
  lists (:class:`~sla_service.domain.shared_calendars.HolidayListDocument`);
* ``GET /calendars``, ``GET|PUT|DELETE /calendars/{calendar_id}`` - named business calendars
  (:class:`~sla_service.domain.shared_calendars.CalendarDocument`);
* ``GET|PUT /sla/teams/{team_id}/calendar`` - the calendar a team works by
  (``{"calendar_id": ...}``, ``null`` for none); under ``/sla`` because the gateway sends
  ``/api/teams`` to the ticket service.

They are one configuration with the policies (``helpdesk.sla-policies.v1``, one version): a
change names the version it was decided on in ``If-Match`` (428 without, 409 when it moved on).
Deleting a list or calendar that a policy, a calendar or a team uses is a 409 whose ``used_by``
names them; a policy linking a list or calendar that does not exist is a 422. Each view says who
uses the object (``used_by``). The rules are the service layer's
(:class:`sla_service.service_layer.configuration.SlaConfiguration`); the OpenAPI paths are in
:mod:`sla_service.entrypoints.config_docs`.
"""

from __future__ import annotations

import uuid

import faust
from faust.web import Request, Response, View

from helpdesk_platform.config_http import HttpRefusal
from sla_service.entrypoints.policies_api import (
    REFUSALS,
    PoliciesApi,
    answered,
    json_object,
    refused,
)
from sla_service.service_layer.configuration import CALENDARS, HOLIDAY_LISTS, SharedKind

_READ_FROM = "GET /calendars"
_NOT_JSON = "the body must be JSON"


class CalendarsApi:
    """The handlers, with the policies API's rules of every call."""

    def __init__(self, policies: PoliciesApi) -> None:
        self.policies = policies
        self.configuration = policies.configuration

    async def list(self, web: View, request: Request, kind: SharedKind) -> Response:
        try:
            self.policies.reader(request)
            return answered(web, self.configuration.items(kind))
        except REFUSALS as error:
            return refused(web, error)

    async def get(self, web: View, request: Request, kind: SharedKind, key: str) -> Response:
        try:
            self.policies.reader(request)
            return answered(web, self.configuration.item(kind, key))
        except REFUSALS as error:
            return refused(web, error)

    async def put(self, web: View, request: Request, kind: SharedKind, key: str) -> Response:
        try:
            principal, expected = self.policies.writer(request, _READ_FROM)
            body = await json_object(request, _NOT_JSON)
            saved = await self.configuration.save_item(kind, key, body, expected, principal)
            return answered(web, saved)
        except REFUSALS as error:
            return refused(web, error)

    async def delete(self, web: View, request: Request, kind: SharedKind, key: str) -> Response:
        try:
            principal, expected = self.policies.writer(request, _READ_FROM)
            deleted = await self.configuration.delete_item(kind, key, expected, principal)
            return answered(web, deleted)
        except REFUSALS as error:
            return refused(web, error)

    async def get_team(self, web: View, request: Request, team_id: str) -> Response:
        try:
            self.policies.reader(request)
            return answered(web, self.configuration.team_calendar(_team_id(team_id)))
        except REFUSALS as error:
            return refused(web, error)

    async def put_team(self, web: View, request: Request, team_id: str) -> Response:
        try:
            principal, expected = self.policies.writer(request, _READ_FROM)
            team = _team_id(team_id)
            body = await json_object(request, _NOT_JSON)
            saved = await self.configuration.set_team_calendar(team, body, expected, principal)
            return answered(web, saved)
        except REFUSALS as error:
            return refused(web, error)

    def add_pages(self, app: faust.App) -> None:
        api = self
        for kind in (HOLIDAY_LISTS, CALENDARS):
            _add_kind_pages(app, api, kind)

        @app.page("/sla/teams/{team_id}/calendar")
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


def _team_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise HttpRefusal(422, "the team id must be a UUID") from None
