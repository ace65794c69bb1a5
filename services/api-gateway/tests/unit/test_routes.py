"""The routing table: parsing, longest-prefix matching by whole segments, rewrites, overrides,
and the shipped table itself."""

from __future__ import annotations

import pytest

from api_gateway.domain.routes import RoutingTable, RoutingTableError
from api_gateway.settings import ROUTES_FILE

TABLE = {
    "services": {
        "tickets": {"url": "http://t:8001"},
        "sla": {"url": "http://s:8002"},
    },
    "routes": [
        {"prefix": "/api/tickets", "service": "tickets"},
        {"prefix": "/api/tickets/export", "service": "sla", "rewrite": "/exports"},
        {"prefix": "/api/sla", "service": "sla", "stream": True, "max_body": 10},
    ],
}


def test_matches_whole_segments_longest_prefix_first() -> None:
    table = RoutingTable.parse(TABLE)
    found = table.match("/api/tickets/1/messages")
    assert found is not None
    assert (found.route.service, found.path) == ("tickets", "/tickets/1/messages")
    exported = table.match("/api/tickets/export/2026")
    assert exported is not None
    assert (exported.route.service, exported.path) == ("sla", "/exports/2026")
    assert table.match("/api/ticketsx") is None
    assert table.match("/api/tickets").path == "/tickets"  # type: ignore[union-attr]
    assert table.match("/other") is None


def test_upstream_overrides_and_options() -> None:
    table = RoutingTable.parse(TABLE, {"sla": "http://sla.internal:9000/"})
    route = table.match("/api/sla/x")
    assert route is not None
    assert route.route.upstream == "http://sla.internal:9000"
    assert route.route.stream and route.route.max_body == 10
    with pytest.raises(RoutingTableError, match="unknown services: nope"):
        RoutingTable.parse(TABLE, {"nope": "http://x:1"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"routes": [{"prefix": "/api/x", "service": "missing"}]}, "unknown service"),
        ({"routes": [{"prefix": "/api/x/", "service": "tickets"}]}, "prefix"),
        ({"routes": [{"prefix": "api/x", "service": "tickets"}]}, "prefix"),
        ({"routes": [{"prefix": "/api/x", "service": "tickets", "extra": 1}]}, "extra"),
        (
            {
                "routes": [
                    {"prefix": "/a", "service": "tickets"},
                    {"prefix": "/a", "service": "sla"},
                ]
            },
            "twice",
        ),
        ({"services": {"tickets": {"url": "http://t:1/path"}}}, "url"),
    ],
)
def test_a_bad_table_is_refused_with_a_reason(change: dict[str, object], message: str) -> None:
    with pytest.raises(RoutingTableError, match=message):
        RoutingTable.parse({**TABLE, **change})


def test_public_path_of_a_service_path() -> None:
    table = RoutingTable.parse(TABLE)
    assert table.public_path("tickets", "/tickets/{id}") == "/api/tickets/{id}"
    assert table.public_path("sla", "/exports/{year}") == "/api/tickets/export/{year}"
    assert table.public_path("sla", "/sla") == "/api/sla"
    assert table.public_path("tickets", "/internal") is None


def test_the_shipped_table_routes_every_public_api() -> None:
    table = RoutingTable.load(ROUTES_FILE)
    expected = {
        "/api/tickets/1": ("ticket-service", "/tickets/1"),
        "/api/attachments": ("ticket-service", "/attachments"),
        "/api/customers/me": ("ticket-service", "/customers/me"),
        "/api/companies": ("ticket-service", "/companies"),
        "/api/agents": ("ticket-service", "/agents"),
        "/api/teams": ("ticket-service", "/teams"),
        "/api/ticket-options": ("ticket-service", "/ticket-options"),
        "/api/custom-fields": ("ticket-service", "/custom-fields"),
        "/api/reports/sla": ("ticket-service", "/reports/sla"),
        "/api/sla/calendars": ("sla-service", "/sla/calendars"),
        "/api/policies": ("sla-service", "/policies"),
        "/api/holiday-lists/id-2027": ("sla-service", "/holiday-lists/id-2027"),
        "/api/calendars/jakarta": ("sla-service", "/calendars/jakarta"),
        "/api/sla/teams/1/calendar": ("sla-service", "/sla/teams/1/calendar"),
        "/api/sla/tickets/7/sla": ("sla-service", "/tickets/7/sla"),
        "/api/rules": ("assignment-service", "/rules"),
        "/api/mail/accounts": ("mail-gateway", "/accounts"),
        "/api/mail/accounts/1/status": ("mail-gateway", "/accounts/1/status"),
        "/api/mail/quarantine/1/release": ("mail-gateway", "/quarantine/1/release"),
        "/api/routing/rules/1": ("assignment-service", "/routing/rules/1"),
        "/api/unassignable": ("assignment-service", "/unassignable"),
        "/api/webhooks/1/rotate-secret": ("notification-service", "/webhooks/1/rotate-secret"),
        "/api/reports/volume": ("ticket-service", "/reports/volume"),
        "/api/notifications/stream": ("notification-service", "/notifications/stream"),
    }
    for path, (service, upstream) in expected.items():
        found = table.match(path)
        assert found is not None, path
        assert (found.route.service, found.path) == (service, upstream)
    attachments = table.match("/api/attachments")
    assert attachments is not None and attachments.route.max_body > 20 * 1024 * 1024
    assert table.match("/api/auth/sign-in") is None  # the gateway's own
    # The SLA worker's ticket page is published under /api/sla (the ticket service has /api/tickets)
    assert table.public_path("sla-service", "/tickets/{ticket_id}/sla") == (
        "/api/sla/tickets/{ticket_id}/sla"
    )
    assert table.public_path("sla-service", "/sla/breaching-soon") == "/api/sla/breaching-soon"
