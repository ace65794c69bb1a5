"""The authorization matrix's tables: per service, ``(method, OpenAPI path) -> Route(call,
expect)``, what each caller must get from each route (the harness is
``helpdesk_devstack.authz``; the worlds the calls run in are in ``test_authorization_matrix``).

Writes that need a version (``If-Match``) are called without one where the world has nothing to
change: a manager then gets past the role check to the 428, which says who may call it without
writing anything.
"""

from __future__ import annotations

from helpdesk_devstack.authz import (
    EVERYONE,
    MANAGERS_ONLY,
    OWNER_OR_STAFF,
    PUBLIC,
    ROUTERS_ONLY,
    STAFF_ONLY,
    Call,
    Route,
    expect,
)

Table = dict[tuple[str, str], Route]

#: Only tokens the mail gateway mints (claim ``via: mail-gateway``) may record email on tickets:
#: a customer's mail opens a ticket and adds to their own; the gateway itself records deliveries.
_NO_ONE_ELSE = {"customer_a": "403", "technician": "403", "agent": "403", "manager": "403"}
MAIL_FROM_CUSTOMERS = expect(**_NO_ONE_ELSE, mail_gateway="403", mail_customer="2xx")
MAIL_GATEWAY_ONLY = expect(**_NO_ONE_ELSE, mail_gateway="2xx", mail_customer="403")
MAIL_MESSAGES = expect(**_NO_ONE_ELSE, mail_gateway="2xx", mail_customer="2xx")
#: Health and the OpenAPI document: everyone, token or not.
HEALTH: Table = {
    ("GET", "/healthz"): Route(Call(), PUBLIC),
    ("GET", "/readyz"): Route(Call(), PUBLIC),
}

OPTIONS = {
    "priorities": ["Low", "Medium", "High", "Urgent"],
    "statuses": [
        {"name": name, "category": category}
        for name, category in (
            ("New", "new"),
            ("Open", "active"),
            ("In Progress", "active"),
            ("Pending", "paused"),
            ("Waiting on Customer", "paused"),
            ("Solved", "resolved"),
            ("Closed", "closed"),
        )
    ],
    "types": ["Question", "Incident", "Problem", "Checking Issue"],
    "categories": ["Problem", "Complaint", "Support"],
}

TICKET_A = {"ticket_id": "ticket_a"}
#: A configuration written without If-Match: a manager gets past the role check to the 428
#: (nothing written).
_IF_MATCH_MISSING = expect(
    customer_a="403", technician="403", agent="403", manager="428", mail_gateway="403"
)


TICKET_SERVICE: Table = HEALTH | {
    # tickets
    # A customer's mail opens a ticket through /mail/tickets (on the email channel), not here.
    ("POST", "/tickets"): Route(
        Call(body={"subject": "Matrix"}), expect(customer_a="2xx", mail_customer="403")
    ),
    ("GET", "/tickets"): Route(Call(query={"view": "all"}), EVERYONE),
    ("GET", "/tickets/{ticket_id}"): Route(Call(TICKET_A), OWNER_OR_STAFF),
    ("PATCH", "/tickets/{ticket_id}"): Route(
        Call(TICKET_A, body={"add_tags": ["matrix"]}), STAFF_ONLY
    ),
    ("POST", "/tickets/{ticket_id}/status"): Route(
        Call(
            {"ticket_id": "fresh_ticket"}, body={"status": "In Progress"}, fresh=("fresh_ticket",)
        ),
        STAFF_ONLY,
    ),
    ("POST", "/tickets/{ticket_id}/escalate"): Route(
        Call({"ticket_id": "l1_ticket"}, body={"reason": "needs L2"}, fresh=("l1_ticket",)),
        ROUTERS_ONLY,
    ),
    ("GET", "/tickets/{ticket_id}/timeline"): Route(Call(TICKET_A), OWNER_OR_STAFF),
    ("POST", "/tickets/{ticket_id}/messages"): Route(
        Call(TICKET_A, body={"body": "Any news?"}), OWNER_OR_STAFF
    ),
    ("GET", "/tickets/{ticket_id}/messages"): Route(Call(TICKET_A), OWNER_OR_STAFF),
    ("POST", "/tickets/{ticket_id}/merge"): Route(
        Call(
            {"ticket_id": "fresh_ticket"},
            body={"children": ["{fresh_child}"]},
            fresh=("fresh_ticket", "fresh_child"),
        ),
        ROUTERS_ONLY,
    ),
    ("POST", "/tickets/{ticket_id}/unmerge"): Route(
        Call(
            {"ticket_id": "merged_parent"},
            body={"child_id": "{merged_child}"},
            fresh=("merged_pair",),
        ),
        ROUTERS_ONLY,
    ),
    ("GET", "/tickets/{ticket_id}/sla-times"): Route(Call(TICKET_A), STAFF_ONLY),
    ("GET", "/ticket-options"): Route(Call(), EVERYONE),
    ("PUT", "/ticket-options"): Route(Call(body=OPTIONS), _IF_MATCH_MISSING),
    ("GET", "/custom-fields"): Route(Call(), EVERYONE),
    ("PUT", "/custom-fields"): Route(Call(body={"fields": []}), _IF_MATCH_MISSING),
    # Managers; a team's lead reads their teams' (none of the matrix's callers leads one).
    ("GET", "/reports/sla"): Route(
        Call(query={"from": "2026-01-01", "to": "2026-01-31"}), MANAGERS_ONLY
    ),
    # attachments
    ("POST", "/attachments"): Route(
        Call(query={"filename": "notes.txt"}, content=b"some notes"), EVERYONE
    ),
    ("GET", "/attachments/{attachment_id}"): Route(
        Call({"attachment_id": "attachment_a"}), OWNER_OR_STAFF
    ),
    # customers and companies
    ("POST", "/customers"): Route(Call(body={"name": "Matrix Contact"}), STAFF_ONLY),
    ("GET", "/customers"): Route(Call(), STAFF_ONLY),
    ("GET", "/customers/me"): Route(
        # staff have no contact record of their own
        Call(),
        expect(customer_a="2xx", technician="404", agent="404", manager="404"),
    ),
    ("GET", "/customers/{customer_id}"): Route(Call({"customer_id": "customer_a"}), OWNER_OR_STAFF),
    ("PATCH", "/customers/{customer_id}"): Route(
        Call({"customer_id": "customer_a"}, body={"job_title": "IT lead"}), STAFF_ONLY
    ),
    ("POST", "/companies"): Route(Call(body={"name": "PT Matrix"}), STAFF_ONLY),
    ("GET", "/companies"): Route(Call(), STAFF_ONLY),
    ("GET", "/companies/{company_id}"): Route(Call({"company_id": "company"}), STAFF_ONLY),
    ("PATCH", "/companies/{company_id}"): Route(
        Call({"company_id": "company"}, body={"city": "Bandung"}), STAFF_ONLY
    ),
    # agents
    ("POST", "/agents"): Route(
        Call(
            body={"email": "{unique}@helpdesk.example", "name": "New", "role": "agent"},
            fresh=("unique",),
        ),
        MANAGERS_ONLY,
    ),
    ("GET", "/agents"): Route(Call(), STAFF_ONLY),
    # the mail gateway's principal is a service, not an agent of the directory
    ("GET", "/agents/me"): Route(Call(), expect(customer_a="403", mail_gateway="404")),
    ("GET", "/agents/{agent_id}"): Route(Call({"agent_id": "member"}), STAFF_ONLY),
    ("PATCH", "/agents/{agent_id}"): Route(
        Call({"agent_id": "fresh_agent"}, body={"active": False}, fresh=("fresh_agent",)),
        MANAGERS_ONLY,
    ),
    ("PUT", "/agents/{agent_id}/availability"): Route(
        # someone else's availability: managers only (one's own: every staff member)
        Call({"agent_id": "fresh_agent"}, body={"availability": "away"}, fresh=("fresh_agent",)),
        MANAGERS_ONLY,
    ),
    # teams
    ("POST", "/teams"): Route(Call(body={"name": "{unique}"}, fresh=("unique",)), MANAGERS_ONLY),
    ("GET", "/teams"): Route(Call(), STAFF_ONLY),
    ("GET", "/teams/{team_id}"): Route(Call({"team_id": "l1_team"}), STAFF_ONLY),
    ("PATCH", "/teams/{team_id}"): Route(
        Call({"team_id": "fresh_team"}, body={"description": "first line"}, fresh=("fresh_team",)),
        MANAGERS_ONLY,
    ),
    ("PUT", "/teams/{team_id}/members/{agent_id}"): Route(
        Call({"team_id": "fresh_team", "agent_id": "member"}, fresh=("fresh_team",)),
        MANAGERS_ONLY,
    ),
    ("DELETE", "/teams/{team_id}/members/{agent_id}"): Route(
        Call({"team_id": "team_with_member", "agent_id": "member"}, fresh=("team_with_member",)),
        MANAGERS_ONLY,
    ),
    ("PUT", "/teams/{team_id}/lead"): Route(
        Call({"team_id": "fresh_team"}, body={"agent_id": "{member}"}, fresh=("fresh_team",)),
        MANAGERS_ONLY,
    ),
}

# --- the customer portal's routes (issue #18) ----------------------------------------------------

#: A 1x1 PNG: the branding's images are checked by their bytes.
_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\x90\xa9\xbb\x06\x00\x02*\x01q\xabQ\xf0m"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
#: Customer A's own ticket, made anew: only A may rate or resolve it, staff may not (403).
OWN_CUSTOMER_ONLY = expect(
    customer_a="2xx", customer_b="404", technician="403", agent="403", manager="403"
)
TICKET_SERVICE |= {
    ("POST", "/tickets/{ticket_id}/satisfaction"): Route(
        Call(
            {"ticket_id": "solved_ticket"},
            body={"scale": "one_to_five", "score": 5},
            fresh=("solved_ticket",),
        ),
        OWN_CUSTOMER_ONLY,
    ),
    ("GET", "/tickets/{ticket_id}/satisfaction"): Route(Call(TICKET_A), OWNER_OR_STAFF),
    ("POST", "/tickets/{ticket_id}/resolve"): Route(
        Call({"ticket_id": "open_ticket"}, fresh=("open_ticket",)), OWN_CUSTOMER_ONLY
    ),
    ("GET", "/reports/csat"): Route(
        Call(query={"from": "2026-01-01", "to": "2026-01-31"}), MANAGERS_ONLY
    ),
    ("GET", "/reports/volume"): Route(
        Call(query={"from": "2026-01-01", "to": "2026-01-31"}), MANAGERS_ONLY
    ),
    ("GET", "/reports/workload"): Route(Call(), MANAGERS_ONLY),
    ("GET", "/companies/{company_id}/portal-sharing"): Route(
        Call({"company_id": "company"}), STAFF_ONLY
    ),
    ("PUT", "/companies/{company_id}/portal-sharing"): Route(
        Call({"company_id": "company"}, body={"customers_see_company_tickets": False}),
        MANAGERS_ONLY,
    ),
    ("GET", "/branding"): Route(Call(), PUBLIC),
    ("PUT", "/branding"): Route(Call(body={"accent_color": "#1c7ed6"}), MANAGERS_ONLY),
    ("PUT", "/branding/{kind}"): Route(
        Call({"kind": "favicon_kind"}, content=_PNG, content_type="image/png"), MANAGERS_ONLY
    ),
    # Public; no logo is configured in this world (the upload above is a favicon).
    ("GET", "/branding/{kind}"): Route(
        Call({"kind": "logo_kind"}),
        expect(customer_a="404", technician="404", agent="404", manager="404", anonymous="404"),
    ),
}

#: The mail gateway sends every write with an Idempotency-Key.
_ONCE = {"Idempotency-Key": "{unique}"}
_MAIL = {
    "body_html": "<p>Hello</p>",
    "email": {
        "email_message_id": "<matrix@customer.example>",
        "account": "support@helpdesk.local",
        "from_address": "{customer_a_email}",
    },
}
TICKET_SERVICE |= {
    ("POST", "/mail/tickets"): Route(
        Call(body=_MAIL | {"subject": "By mail"}, headers=_ONCE, fresh=("unique",)),
        MAIL_FROM_CUSTOMERS,
    ),
    ("POST", "/mail/tickets/{ticket_id}/messages"): Route(
        Call(TICKET_A, body=_MAIL, headers=_ONCE, fresh=("unique",)), MAIL_MESSAGES
    ),
    # Customers' mails of a batch with the gateway's own token, each item for its sender (a
    # customer's own mail token may not act for others: 403).
    ("POST", "/mail/tickets/batch"): Route(
        Call(
            body={
                "items": [
                    _MAIL
                    | {"subject": "By mail, batched", "idempotency_key": "batch-matrix-{unique}"}
                ]
            },
            fresh=("unique",),
        ),
        MAIL_GATEWAY_ONLY,
    ),
    ("POST", "/mail/deliveries"): Route(
        Call(
            body={
                "items": [
                    {
                        "ticket_id": "{ticket_a}",
                        "idempotency_key": "delivery-matrix-{unique}",
                        "email_message_id": "<batch@helpdesk.local>",
                        "state": "sent",
                        "account": "support@helpdesk.local",
                    }
                ]
            },
            fresh=("unique",),
        ),
        MAIL_GATEWAY_ONLY,
    ),
    ("POST", "/mail/tickets/{ticket_id}/bounces"): Route(
        Call(TICKET_A, body={"address": "budi@example.co.id"}, headers=_ONCE, fresh=("unique",)),
        MAIL_GATEWAY_ONLY,
    ),
}


# --- the SLA and assignment workers -------------------------------------------------------------

_OPENAPI = {("GET", "/openapi.json"): Route(Call(), PUBLIC)}
#: A thing that does not exist: a manager gets past the role check to the 404.
_UNKNOWN_TO_MANAGERS = expect(
    customer_a="403", technician="403", agent="403", manager="404", mail_gateway="403"
)
SLA_SERVICE: Table = (
    HEALTH
    | _OPENAPI
    | {
        # Customer A's ticket: B gets the same 404 as for a ticket that does not exist.
        ("GET", "/tickets/{ticket_id}/sla"): Route(Call(TICKET_A), OWNER_OR_STAFF),
        ("GET", "/sla/breaching-soon"): Route(Call(query={"within": "P1D"}), STAFF_ONLY),
        ("GET", "/policies"): Route(Call(), MANAGERS_ONLY),
        ("GET", "/policies/{policy_id}"): Route(Call({"policy_id": "policy"}), MANAGERS_ONLY),
        ("PUT", "/policies/{policy_id}"): Route(
            Call({"policy_id": "policy"}, body={"name": "authz"}), _IF_MATCH_MISSING
        ),
        ("DELETE", "/policies/{policy_id}"): Route(
            Call({"policy_id": "policy"}), _IF_MATCH_MISSING
        ),
        # A draft checked and previewed, nothing written (no If-Match): a manager gets past the
        # role check to the draft's check (a policy without targets: 422).
        ("POST", "/policies/{policy_id}/preview"): Route(
            Call({"policy_id": "policy"}, body={"name": "authz"}),
            expect(
                customer_a="403", technician="403", agent="403", manager="422", mail_gateway="403"
            ),
        ),
        # Holiday lists, calendars and teams' calendars: managers only, like the policies.
        ("GET", "/holiday-lists"): Route(Call(), MANAGERS_ONLY),
        ("GET", "/holiday-lists/{holiday_list_id}"): Route(
            Call({"holiday_list_id": "missing"}), _UNKNOWN_TO_MANAGERS
        ),
        ("PUT", "/holiday-lists/{holiday_list_id}"): Route(
            Call({"holiday_list_id": "missing"}, body={"name": "authz"}), _IF_MATCH_MISSING
        ),
        ("DELETE", "/holiday-lists/{holiday_list_id}"): Route(
            Call({"holiday_list_id": "missing"}), _IF_MATCH_MISSING
        ),
        ("GET", "/calendars"): Route(Call(), MANAGERS_ONLY),
        ("GET", "/calendars/{calendar_id}"): Route(
            Call({"calendar_id": "missing"}), _UNKNOWN_TO_MANAGERS
        ),
        ("PUT", "/calendars/{calendar_id}"): Route(
            Call({"calendar_id": "missing"}, body={"name": "authz"}), _IF_MATCH_MISSING
        ),
        ("DELETE", "/calendars/{calendar_id}"): Route(
            Call({"calendar_id": "missing"}), _IF_MATCH_MISSING
        ),
        ("GET", "/sla/teams/{team_id}/calendar"): Route(Call({"team_id": "team"}), MANAGERS_ONLY),
        ("PUT", "/sla/teams/{team_id}/calendar"): Route(
            Call({"team_id": "team"}, body={"name": "authz"}), _IF_MATCH_MISSING
        ),
    }
)

#: A rule that names no team or agent (so it passes the reference check).
_FIELD_RULE = {"name": "authz", "method": "based_on_field", "assignee_field": "assignee_id"}
_NO_SUCH_TEAM = "00000000-0000-4000-8000-00000000a11c"
ASSIGNMENT_SERVICE: Table = (
    HEALTH
    | _OPENAPI
    | {
        ("GET", "/rules"): Route(Call(), MANAGERS_ONLY),
        ("PUT", "/rules/{rule_id}"): Route(
            Call({"rule_id": "rule"}, body=_FIELD_RULE), _IF_MATCH_MISSING
        ),
        # A rule that was never saved: a manager gets past the role check to the 404.
        ("DELETE", "/rules/{rule_id}"): Route(Call({"rule_id": "rule"}), _UNKNOWN_TO_MANAGERS),
        # A draft checked as a save would check it, nothing written: no If-Match.
        ("POST", "/rules/{rule_id}/check"): Route(
            Call({"rule_id": "rule"}, body=_FIELD_RULE), MANAGERS_ONLY
        ),
        ("GET", "/routing"): Route(Call(), MANAGERS_ONLY),
        # The world has no team: a manager gets past the role check to the team check (422).
        ("PUT", "/routing/rules/{rule_id}"): Route(
            Call({"rule_id": "rule"}, body={"name": "authz", "team_id": _NO_SUCH_TEAM}),
            expect(
                customer_a="403", technician="403", agent="403", manager="422", mail_gateway="403"
            ),
        ),
        # A routing draft checked as the save would: the same team check, nothing written.
        ("POST", "/routing/rules/{rule_id}/check"): Route(
            Call({"rule_id": "rule"}, body={"name": "authz", "team_id": _NO_SUCH_TEAM}),
            expect(
                customer_a="403", technician="403", agent="403", manager="422", mail_gateway="403"
            ),
        ),
        ("DELETE", "/routing/rules/{rule_id}"): Route(
            Call({"rule_id": "rule"}), _UNKNOWN_TO_MANAGERS
        ),
        ("PUT", "/routing/channels/{channel}"): Route(
            Call({"channel": "channel"}, body={"team_id": None}), _IF_MATCH_MISSING
        ),
        # Staff see the tickets nobody can take.
        ("GET", "/unassignable"): Route(Call(), STAFF_ONLY),
    }
)

# --- the mail gateway: managers configure it ------------------------------------------------

_ACCOUNT = {
    "address": "{unique}@helpdesk.local",
    "imap_host": "{imap_host}",
    "imap_port": "{imap_port}",
    "imap_user": "{unique}",
    "smtp_host": "{smtp_host}",
    "smtp_port": "{smtp_port}",
    "enabled": False,
}
MAIL_GATEWAY_SERVICE: Table = HEALTH | {
    ("GET", "/accounts"): Route(Call(), MANAGERS_ONLY),
    ("POST", "/accounts"): Route(
        Call(
            body=_ACCOUNT | {"secrets": {"imap_password": "secret"}},
            fresh=("unique",),
        ),
        MANAGERS_ONLY,
    ),
    # Logs in to the world's GreenMail and saves nothing: a manager gets the report (200).
    ("POST", "/accounts/test"): Route(
        Call(body=_ACCOUNT | {"secrets": {"imap_password": "secret"}}, fresh=("unique",)),
        MANAGERS_ONLY,
    ),
    ("GET", "/accounts/{account_id}"): Route(Call({"account_id": "account"}), MANAGERS_ONLY),
    ("PUT", "/accounts/{account_id}"): Route(
        Call({"account_id": "account"}, body=_ACCOUNT, fresh=("unique",)), _IF_MATCH_MISSING
    ),
    ("DELETE", "/accounts/{account_id}"): Route(Call({"account_id": "account"}), _IF_MATCH_MISSING),
    ("GET", "/accounts/{account_id}/status"): Route(Call({"account_id": "account"}), MANAGERS_ONLY),
    ("GET", "/quarantine"): Route(Call(), MANAGERS_ONLY),
    ("GET", "/quarantine/{quarantine_id}/raw"): Route(
        Call({"quarantine_id": "unknown"}), _UNKNOWN_TO_MANAGERS
    ),
    ("POST", "/quarantine/{quarantine_id}/release"): Route(
        Call({"quarantine_id": "unknown"}), _UNKNOWN_TO_MANAGERS
    ),
    ("POST", "/quarantine/{quarantine_id}/discard"): Route(
        Call({"quarantine_id": "unknown"}), _UNKNOWN_TO_MANAGERS
    ),
}

# --- the notification service: staff's own notifications; managers' webhooks ----------------

#: One ticket page's session (a browser tab) for the presence routes.
_PAGE_SESSION = "6f1c2a9e-0b7d-4c55-9e21-3a8d4b6c7e10"
NOTIFICATION_SERVICE: Table = HEALTH | {
    ("GET", "/notifications"): Route(Call(), STAFF_ONLY),
    ("POST", "/notifications/{notification_id}/read"): Route(
        # someone else's (or no) notification: the same 404 as for one that does not exist
        Call({"notification_id": "unknown"}),
        expect(customer_a="403", technician="404", agent="404", manager="404"),
    ),
    ("POST", "/notifications/read-all"): Route(Call(), STAFF_ONLY),
    ("GET", "/notifications/stream"): Route(
        # an endless stream: only its status is read
        Call(stream=True),
        STAFF_ONLY,
    ),
    ("GET", "/notifications/preferences"): Route(Call(), STAFF_ONLY),
    ("PUT", "/notifications/preferences"): Route(
        Call(body={"preferences": {"assigned": {"channel": "both"}}}), STAFF_ONLY
    ),
    ("GET", "/notifications/follows"): Route(Call(), STAFF_ONLY),
    ("PUT", "/notifications/follows/{ticket_id}"): Route(Call({"ticket_id": "ticket"}), STAFF_ONLY),
    ("DELETE", "/notifications/follows/{ticket_id}"): Route(
        Call({"ticket_id": "followed"}, fresh=("followed",)), STAFF_ONLY
    ),
    # Presence on a ticket (the collision warning): staff only, always the caller's own.
    ("PUT", "/presence/tickets/{ticket_id}"): Route(
        Call({"ticket_id": "ticket"}, body={"session": _PAGE_SESSION, "activity": "viewing"}),
        STAFF_ONLY,
    ),
    ("GET", "/presence/tickets/{ticket_id}"): Route(Call({"ticket_id": "ticket"}), STAFF_ONLY),
    ("DELETE", "/presence/tickets/{ticket_id}"): Route(
        Call({"ticket_id": "ticket"}, query={"session": _PAGE_SESSION}), STAFF_ONLY
    ),
    ("GET", "/presence/tickets/{ticket_id}/stream"): Route(
        Call({"ticket_id": "ticket"}, stream=True), STAFF_ONLY
    ),
    ("POST", "/webhooks"): Route(
        Call(body={"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}), MANAGERS_ONLY
    ),
    ("GET", "/webhooks"): Route(Call(), MANAGERS_ONLY),
    ("GET", "/webhooks/{webhook_id}"): Route(Call({"webhook_id": "webhook"}), MANAGERS_ONLY),
    ("PATCH", "/webhooks/{webhook_id}"): Route(
        Call({"webhook_id": "webhook"}, body={"description": "authz"}), MANAGERS_ONLY
    ),
    ("DELETE", "/webhooks/{webhook_id}"): Route(
        Call({"webhook_id": "fresh_webhook"}, fresh=("fresh_webhook",)), MANAGERS_ONLY
    ),
    ("POST", "/webhooks/{webhook_id}/rotate-secret"): Route(
        Call({"webhook_id": "webhook"}), MANAGERS_ONLY
    ),
    ("GET", "/webhooks/{webhook_id}/deliveries"): Route(
        Call({"webhook_id": "webhook"}), MANAGERS_ONLY
    ),
    ("POST", "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"): Route(
        Call({"webhook_id": "webhook", "delivery_id": "unknown"}), _UNKNOWN_TO_MANAGERS
    ),
}

# --- the API gateway's own routes (the proxied ones are the services' rows) ------------------


#: Sign-in routes take no bearer token: every caller gets the same answer.
def _same_for_all(status: str) -> dict[str, str]:
    return expect(
        customer_a=status, technician=status, agent=status, manager=status, anonymous=status
    )


API_GATEWAY: Table = {
    ("GET", "/healthz"): Route(Call(), PUBLIC, undocumented=True),
    ("GET", "/readyz"): Route(Call(), PUBLIC, undocumented=True),
    ("GET", "/api/openapi.json"): Route(Call(), PUBLIC, undocumented=True),
    ("GET", "/.well-known/jwks.json"): Route(Call(), PUBLIC),
    # Sign-in and refresh ignore bearer tokens: unknown credentials (a new address each call,
    # so that no account's sign-in is throttled for the other tests) are a 401 for everyone.
    ("POST", "/api/auth/sign-in"): Route(
        Call(
            body={"email": "nobody-{unique}@example.com", "password": "not the password"},
            fresh=("unique",),
        ),
        _same_for_all("401"),
    ),
    ("POST", "/api/auth/refresh"): Route(
        Call(headers={"Cookie": "helpdesk_refresh={unknown}"}), _same_for_all("401")
    ),
    ("POST", "/api/auth/sign-out"): Route(
        Call(headers={"Cookie": "helpdesk_refresh={unknown}"}), _same_for_all("2xx")
    ),
    ("POST", "/api/auth/sign-out-everywhere"): Route(Call(), EVERYONE),
    ("GET", "/api/auth/me"): Route(Call(), EVERYONE),
    ("POST", "/api/auth/invitations/accept"): Route(
        Call(body={"token": "{unknown_link}", "password": "a long enough password"}),
        _same_for_all("400"),
    ),
    ("POST", "/api/auth/password-reset/confirm"): Route(
        Call(body={"token": "{unknown_link}", "password": "a long enough password"}),
        _same_for_all("400"),
    ),
    ("POST", "/api/auth/password-reset"): Route(
        Call(body={"email": "nobody-{unknown}@example.com"}), _same_for_all("2xx")
    ),
    ("POST", "/api/auth/customer/link"): Route(
        Call(body={"email": "{customer_email}"}), _same_for_all("2xx")
    ),
    ("POST", "/api/auth/customer/redeem"): Route(
        Call(body={"token": "{unknown_link}"}), _same_for_all("400")
    ),
}

MATRIX: dict[str, Table] = {
    "ticket-service": TICKET_SERVICE,
    "sla-service": SLA_SERVICE,
    "assignment-service": ASSIGNMENT_SERVICE,
    "mail-gateway": MAIL_GATEWAY_SERVICE,
    "notification-service": NOTIFICATION_SERVICE,
    "api-gateway": API_GATEWAY,
}
