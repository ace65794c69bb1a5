"""The unassignable list of the assignment worker (staff): ``GET /unassignable``.

The tickets nobody can take now, with the reason (what ``AssignmentBlocked`` said), and the open
tickets without a team that no routing rule or channel default takes. It reads this worker's
tables: with several replicas, each answers for the partitions it holds. The answer's model
(:class:`UnassignableList`) is in the worker's OpenAPI document.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Literal

import faust
from faust.web import Request, Response, View
from pydantic import BaseModel

from assignment_service.domain.routing import RoutingConfig, TeamLanguages, choose_team
from assignment_service.domain.ticket_facts import TicketFacts
from assignment_service.entrypoints.admin_api import denied
from assignment_service.entrypoints.api_docs import Operation
from assignment_service.service_layer.team_stage import unassignable_slots
from helpdesk_events.assignment import UnassignableReason
from helpdesk_platform.config_http import BearerAuth

__all__ = ["UNASSIGNABLE_OPERATIONS", "UnassignableApi", "UnassignableList", "unrouted"]


class UnassignableTicket(BaseModel):
    """A ticket nobody can take now (``no_route``: no routing rule gives it a team)."""

    ticket_id: uuid.UUID
    team_id: uuid.UUID | None
    status: str
    priority: str | None
    reason: UnassignableReason | Literal["no_route"]
    detail: str
    rule_id: str | None
    since: datetime | None


class UnassignableList(BaseModel):
    """``GET /unassignable``."""

    tickets: list[UnassignableTicket]


UNASSIGNABLE_OPERATIONS: list[Operation] = [
    Operation(
        "/unassignable",
        "get",
        "Tickets nobody can take now, and open tickets no routing rule gives a team (staff)",
        {
            "200": "the tickets with their reason",
            "401": "no valid bearer token",
            "403": "not staff",
        },
        answer=UnassignableList,
    ),
]


def unrouted(
    facts_values: Iterable[Any], routing: RoutingConfig, languages: TeamLanguages | None = None
) -> list[dict[str, Any]]:
    """The open tickets without a team (nor an assignee) that routing gives no team."""
    found = []
    for stored in facts_values:
        if stored is None or stored.get("team_id") is not None or stored.get("assignee_id"):
            continue
        facts = TicketFacts.model_validate(stored)
        choice = choose_team(routing, facts.condition_fields(), languages)
        if not facts.needs_team or choice is not None:
            continue
        found.append(
            {
                "ticket_id": str(facts.ticket_id),
                "team_id": None,
                "status": facts.status,
                "priority": facts.priority,
                "reason": "no_route",
                "detail": "no routing rule or channel default gives the ticket a team",
                "rule_id": None,
                "since": None,
            }
        )
    return sorted(found, key=lambda item: item["ticket_id"])


class UnassignableApi:
    """``GET /unassignable`` (staff)."""

    def __init__(
        self,
        team_entries: Callable[[], Iterable[tuple[str, Any]]],
        facts_values: Callable[[], Iterable[Any]],
        routing: Callable[[], RoutingConfig],
        auth: BearerAuth,
        languages: Callable[[], TeamLanguages] = dict,
    ) -> None:
        self.team_entries = team_entries
        self.facts_values = facts_values
        self.routing = routing
        self.auth = auth
        self.languages = languages

    def document(self) -> dict[str, Any]:
        tickets = unassignable_slots(self.team_entries())
        tickets += unrouted(self.facts_values(), self.routing(), self.languages())
        return {"tickets": tickets}

    def register(self, app: faust.App) -> None:
        api = self

        @app.page("/unassignable")
        class UnassignablePage(View):
            async def get(self, request: Request) -> Response:
                refusal = denied(api.auth, self, request, "see unassignable tickets", staff=True)
                if refusal is not None:
                    return refusal
                return self.json(api.document())
