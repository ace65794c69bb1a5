"""The SLA worker's HTTP API (aiohttp, Faust's web server), besides the policies API.

``/healthz``, ``/readyz``, ``/openapi.json``, ``GET /tickets/{ticket_id}/sla`` (a bearer token:
staff see every ticket's, a customer their own tickets' only, as on the ticket service) and
``GET /sla/breaching-soon`` (staff); the policies API for managers is
:mod:`sla_service.entrypoints.policies_api`. Nothing else is served: Faust's own views
(``/table``, ``/router``, ...) would show the table to anyone (:mod:`helpdesk_platform.faust_web`).
Routes parse, call the service layer (:mod:`sla_service.service_layer.queries`) and map errors.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import faust
from faust.web import Request, Response, View

from helpdesk_platform.config_http import BearerAuth, HttpRefusal
from helpdesk_platform.faust_worker import add_health_pages
from sla_service.entrypoints.calendars_api import CalendarsApi
from sla_service.entrypoints.config_docs import CALENDARS_PATHS, POLICIES_PATHS, SCHEMAS
from sla_service.entrypoints.policies_api import PoliciesApi
from sla_service.service_layer.queries import (
    breaching_soon,
    breaching_soon_view,
    parse_duration,
    sees,
    ticket_view,
)
from sla_service.service_layer.tracker import SlaTracker, TicketSla


def _now() -> datetime:
    return datetime.now(UTC)


class AdminApi:
    """The worker's pages; ``load``/``states`` read the table, ``ready`` says if it is settled."""

    def __init__(
        self,
        *,
        auth: BearerAuth,
        tracker: SlaTracker,
        policies_api: PoliciesApi,
        load: Callable[[str], TicketSla | None],
        states: Callable[[], list[tuple[str, TicketSla]]],
        ready: Callable[[], bool],
    ) -> None:
        self.auth = auth
        self.tracker = tracker
        self.policies_api = policies_api
        self.load = load
        self.states = states
        self.ready = ready

    def add_pages(self, app: faust.App) -> None:
        api = self
        add_health_pages(app, self.ready, OPENAPI)

        @app.page("/tickets/{ticket_id}/sla")
        async def ticket_sla(web: View, request: Request, ticket_id: str) -> Response:
            try:
                caller = api.auth.caller(request.headers.get("Authorization"))
            except HttpRefusal as refusal:
                return web.json({"detail": refusal.detail}, status=refusal.status)
            try:
                key = str(uuid.UUID(ticket_id))
            except ValueError:
                return web.json({"detail": "ticket id must be a UUID"}, status=422)
            state = api.load(key)
            if state is None or not sees(caller, state):
                # The same answer for another customer's ticket: never reveal that it exists.
                return web.json({"detail": "no SLA is tracked for this ticket"}, status=404)
            return web.json(ticket_view(api.tracker, state, _now()))

        self.policies_api.add_pages(app)
        CalendarsApi(self.policies_api).add_pages(app)

        @app.page("/sla/breaching-soon")
        async def sla_breaching_soon(web: View, request: Request) -> Response:
            try:
                api.auth.staff(
                    request.headers.get("Authorization"), action="list tickets breaching soon"
                )
            except HttpRefusal as refusal:
                return web.json({"detail": refusal.detail}, status=refusal.status)
            query = request.query
            try:
                within = parse_duration(query.get("within", "PT2H"))
                team_id = _uuid_or_none(query.get("team_id"), "team_id")
                assignee_id = _uuid_or_none(query.get("assignee_id"), "assignee_id")
            except ValueError as error:
                return web.json({"detail": str(error)}, status=422)
            states = [state for _, state in api.states()]
            found = breaching_soon(api.tracker, states, _now(), within, team_id, assignee_id)
            return web.json(breaching_soon_view(within, found))


def _uuid_or_none(value: str | None, name: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValueError(f"{name} must be a UUID; got {value!r}") from None


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "SLA service", "version": "0.1.0"},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        "schemas": SCHEMAS,
    },
    "paths": {
        "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"description": "up"}}}},
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {"200": {"description": "the OpenAPI document"}},
            }
        },
        "/readyz": {
            "get": {
                "summary": "Readiness (partitions assigned, state recovered, policies read)",
                "responses": {"200": {"description": "ready"}, "503": {"description": "not yet"}},
            }
        },
        "/tickets/{ticket_id}/sla": {
            "get": {
                "summary": "The SLA clocks of one ticket (staff; a customer their own tickets')",
                "security": [{"bearer": []}],
                "parameters": [
                    {
                        "name": "ticket_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "format": "uuid"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": (
                            "policy, priority, status category, team_id and assignee_id; "
                            "targets, clocks and due instants per metric"
                        )
                    },
                    "401": {"description": "no valid bearer token"},
                    "404": {"description": "no SLA is tracked for this ticket (or not yours)"},
                    "422": {"description": "the ticket id is not a UUID"},
                },
            }
        },
        "/sla/breaching-soon": {
            "get": {
                "summary": (
                    "Running metrics due within a window or already breached, soonest first "
                    "(this worker's partitions only; staff)"
                ),
                "security": [{"bearer": []}],
                "parameters": [
                    {
                        "name": "within",
                        "in": "query",
                        "schema": {"type": "string", "default": "PT2H"},
                        "description": "ISO 8601 duration (PnDTnHnMnS), at most P366D",
                    },
                    {
                        "name": "team_id",
                        "in": "query",
                        "schema": {"type": "string", "format": "uuid"},
                    },
                    {
                        "name": "assignee_id",
                        "in": "query",
                        "schema": {"type": "string", "format": "uuid"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": (
                            "within_seconds; items: ticket_id, metric, due_at, remaining_seconds "
                            "(business time, negative once exceeded), breached, priority, team_id, "
                            "assignee_id"
                        )
                    },
                    "401": {"description": "no valid bearer token"},
                    "403": {"description": "not staff"},
                    "422": {
                        "description": (
                            "within is not a duration (or longer than P366D) or an id is not a UUID"
                        )
                    },
                },
            }
        },
        **POLICIES_PATHS,
        **CALENDARS_PATHS,
    },
}
