"""Who may call what: every route of a service, from its own /openapi.json, called as no one, as
a forged token, as two customers, a technician, an agent and a manager, each answer checked
against the matrix below. A route missing from the matrix fails the test, so a new route cannot
ship without a decision about who may call it.

The matrix is data: per service, ``(method, path) -> Route(call, expect)`` where ``expect``
maps each caller to the status class it must get (``2xx``, ``401``, ``403``, ``404``). To cover
another service, add its table to ``MATRIX`` and a ``World`` builder to ``WORLDS`` (what to
create first, with which ids) — the SLA and assignment services' tables are to be added there.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from helpdesk_devstack.tokens import mint_token

pytestmark = pytest.mark.integration

CALLERS = (
    "anonymous",
    "forged",
    "customer_a",
    "customer_b",
    "technician",
    "agent",
    "manager",
)
STAFF = ("technician", "agent", "manager")

# --- the matrix as data ---------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """How to call a route: ``{name}`` in the path, query, and body are filled from the
    world's ids; ``fresh`` names ids made anew for every caller (for changes that can happen
    only once, such as a merge)."""

    path: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    query: Mapping[str, str] = field(default_factory=dict)
    content: bytes | None = None
    fresh: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route:
    call: Call
    expect: Mapping[str, str]


def expect(
    *,
    customer_a: str,
    customer_b: str | None = None,
    technician: str = "2xx",
    agent: str = "2xx",
    manager: str = "2xx",
    anonymous: str = "401",
) -> dict[str, str]:
    """The expected status class per caller; a forged token is always refused like none."""
    return {
        "anonymous": anonymous,
        "forged": anonymous,
        "customer_a": customer_a,
        "customer_b": customer_b or customer_a,
        "technician": technician,
        "agent": agent,
        "manager": manager,
    }


EVERYONE = expect(customer_a="2xx")
PUBLIC = expect(customer_a="2xx", anonymous="2xx")
STAFF_ONLY = expect(customer_a="403")
ROUTERS_ONLY = expect(customer_a="403", technician="403")
MANAGERS_ONLY = expect(customer_a="403", technician="403", agent="403")
#: Only tokens the mail gateway mints (claim ``via: mail-gateway``) may record email on tickets.
MAIL_GATEWAY_ONLY = expect(customer_a="403", technician="403", agent="403", manager="403")
#: Customer A's own record: B is told it does not exist.
OWNER_OR_STAFF = expect(customer_a="2xx", customer_b="404")

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

TICKET_SERVICE: dict[tuple[str, str], Route] = {
    ("GET", "/healthz"): Route(Call(), PUBLIC),
    ("GET", "/readyz"): Route(Call(), PUBLIC),
    # tickets
    ("POST", "/tickets"): Route(Call(body={"subject": "Matrix"}), EVERYONE),
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
    ("PUT", "/ticket-options"): Route(Call(body=OPTIONS), MANAGERS_ONLY),
    ("GET", "/reports/sla"): Route(
        Call(query={"from": "2026-01-01", "to": "2026-01-31"}), STAFF_ONLY
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
    ("GET", "/agents/me"): Route(Call(), STAFF_ONLY),
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

#: Per service: its routes -> who gets what. Services add their tables here.
_MAIL = {
    "body_html": "<p>Hello</p>",
    "email": {
        "email_message_id": "<matrix@customer.example>",
        "account": "support@helpdesk.local",
        "from_address": "budi@example.co.id",
    },
}
TICKET_SERVICE |= {
    ("POST", "/mail/tickets"): Route(Call(body=_MAIL | {"subject": "By mail"}), MAIL_GATEWAY_ONLY),
    ("POST", "/mail/tickets/{ticket_id}/messages"): Route(
        Call(TICKET_A, body=_MAIL), MAIL_GATEWAY_ONLY
    ),
    ("POST", "/mail/tickets/{ticket_id}/deliveries"): Route(
        Call(
            TICKET_A,
            body={
                "email_message_id": "<out@helpdesk.local>",
                "state": "sent",
                "account": "support@helpdesk.local",
            },
        ),
        MAIL_GATEWAY_ONLY,
    ),
    ("POST", "/mail/tickets/{ticket_id}/bounces"): Route(
        Call(TICKET_A, body={"address": "budi@example.co.id"}), MAIL_GATEWAY_ONLY
    ),
}

MATRIX: dict[str, dict[tuple[str, str], Route]] = {"ticket-service": TICKET_SERVICE}


# --- the world the calls run in -----------------------------------------------------------------


@dataclass
class World:
    """A running service, a token per caller, and the ids the calls name."""

    url: str
    headers: dict[str, dict[str, str]]
    ids: dict[str, str]
    #: Makes the ids named in ``Call.fresh`` anew: name -> {id name: id}.
    fresh: Callable[[httpx.AsyncClient, str], Awaitable[dict[str, str]]]


def forged_token() -> str:
    """A well-formed manager token signed by a key the services do not trust."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return mint_token(pem, "manager", str(uuid.uuid4()), timedelta(hours=1))


def caller_headers(private_key: bytes) -> dict[str, dict[str, str]]:
    def bearer(role: str, email: str) -> dict[str, str]:
        token = mint_token(
            private_key, role, str(uuid.uuid4()), timedelta(hours=1), f"Matrix {role}", email=email
        )
        return {"Authorization": f"Bearer {token}"}

    marker = uuid.uuid4().hex[:8]
    return {
        "anonymous": {},
        "forged": {"Authorization": f"Bearer {forged_token()}"},
        "customer_a": bearer("customer", f"a-{marker}@example.co.id"),
        "customer_b": bearer("customer", f"b-{marker}@example.co.id"),
        "technician": bearer("technician", f"tech-{marker}@helpdesk.example"),
        "agent": bearer("agent", f"agent-{marker}@helpdesk.example"),
        "manager": bearer("manager", f"manager-{marker}@helpdesk.example"),
    }


async def ok(response: Awaitable[httpx.Response]) -> dict[str, Any]:
    answer = await response
    assert answer.is_success, f"{answer.request.method} {answer.request.url}: {answer.text}"
    return dict(answer.json())


async def ticket_service_world(url: str, private_key: bytes) -> World:
    headers = caller_headers(private_key)
    agent, manager = headers["agent"], headers["manager"]
    ids: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=url, timeout=30) as api:
        # Staff are in the directory (so /agents/me finds them), with a spare member to use.
        for role in STAFF:
            email = _email_of(headers[role])
            await ok(
                api.post(
                    "/agents", json={"email": email, "name": role, "role": role}, headers=manager
                )
            )
        member = await ok(
            api.post(
                "/agents",
                json={"email": f"member-{uuid.uuid4().hex}@helpdesk.example", "name": "Member"},
                headers=manager,
            )
        )
        ids["member"] = member["id"]
        l2 = await ok(
            api.post("/teams", json={"name": f"L2 {uuid.uuid4().hex}", "tier": 2}, headers=manager)
        )
        l1 = await ok(
            api.post(
                "/teams",
                json={"name": f"L1 {uuid.uuid4().hex}", "tier": 1, "escalates_to": l2["id"]},
                headers=manager,
            )
        )
        ids["l1_team"] = l1["id"]
        # Customer A's ticket with a public message and attachment; B has a ticket of their own.
        ticket_a = await ok(
            api.post("/tickets", json={"subject": "A's"}, headers=headers["customer_a"])
        )
        await ok(api.post("/tickets", json={"subject": "B's"}, headers=headers["customer_b"]))
        upload = await api.post(
            "/attachments",
            params={"filename": "a.txt"},
            content=b"a's file",
            headers=headers["customer_a"] | {"Content-Type": "text/plain"},
        )
        attachment = upload.json()["attachment_id"]
        await ok(
            api.post(
                f"/tickets/{ticket_a['id']}/messages",
                json={"body": "see file", "attachment_ids": [attachment]},
                headers=headers["customer_a"],
            )
        )
        company = await ok(api.post("/companies", json={"name": "PT Matrix"}, headers=agent))
        ids |= {
            "ticket_a": ticket_a["id"],
            "customer_a": ticket_a["customer_id"],
            "attachment_a": attachment,
            "company": company["id"],
        }
    customer_a_email = _email_of(headers["customer_a"])

    async def fresh(api: httpx.AsyncClient, name: str) -> dict[str, str]:
        async def ticket(**body: Any) -> str:
            made = await ok(
                api.post(
                    "/tickets",
                    json={
                        "subject": "Fresh",
                        "requester": {"email": customer_a_email},
                        **body,
                    },
                    headers=agent,
                )
            )
            return str(made["id"])

        async def team() -> str:
            made = await ok(
                api.post("/teams", json={"name": f"T {uuid.uuid4().hex}"}, headers=manager)
            )
            return str(made["id"])

        if name in ("fresh_ticket", "fresh_child"):
            return {name: await ticket()}
        if name == "l1_ticket":
            return {name: await ticket(team_id=ids["l1_team"])}
        if name == "merged_pair":
            parent, child = await ticket(), await ticket()
            await ok(
                api.post(f"/tickets/{parent}/merge", json={"children": [child]}, headers=agent)
            )
            return {"merged_parent": parent, "merged_child": child}
        if name == "fresh_agent":
            made = await ok(
                api.post(
                    "/agents",
                    json={
                        "email": f"fresh-{uuid.uuid4().hex}@helpdesk.example",
                        "name": "Fresh",
                    },
                    headers=manager,
                )
            )
            return {name: str(made["id"])}
        if name == "fresh_team":
            return {name: await team()}
        if name == "team_with_member":
            team_id = await team()
            await ok(api.put(f"/teams/{team_id}/members/{ids['member']}", headers=manager))
            return {name: team_id}
        if name == "unique":
            return {name: f"matrix-{uuid.uuid4().hex}"}
        raise AssertionError(f"no way to make a fresh {name!r}")

    return World(url, headers, ids, fresh)


def _email_of(headers: dict[str, str]) -> str:
    import jwt

    token = headers["Authorization"].removeprefix("Bearer ")
    return str(jwt.decode(token, options={"verify_signature": False})["email"])


#: Per service: how to start it and build its world.
WORLDS: dict[str, Callable[[pytest.FixtureRequest, bytes], Awaitable[World]]] = {}


async def _ticket_world(request: pytest.FixtureRequest, private_key: bytes) -> World:
    url = request.getfixturevalue("run_ticket_service")("authz")
    return await ticket_service_world(url, private_key)


WORLDS["ticket-service"] = _ticket_world


# --- the test ---------------------------------------------------------------------------------


def operations(schema: dict[str, Any]) -> set[tuple[str, str]]:
    methods = {"get", "post", "put", "patch", "delete", "head", "options"}
    return {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in methods
    }


def fill(value: Any, ids: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    if isinstance(value, str) and "{" in value:
        return value.format(**ids)
    return value


def matches(status: int, expected: str) -> bool:
    return 200 <= status < 300 if expected == "2xx" else status == int(expected)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("service", sorted(MATRIX))
async def test_every_route_answers_each_caller_as_the_matrix_says(
    request: pytest.FixtureRequest, dev_keys: tuple[Path, Path], service: str
) -> None:
    world = await WORLDS[service](request, dev_keys[0].read_bytes())
    table = MATRIX[service]
    async with httpx.AsyncClient(base_url=world.url, timeout=30) as api:
        schema = (await api.get("/openapi.json")).json()
        routes = operations(schema)
        unlisted = sorted(routes - table.keys())
        assert not unlisted, f"{service}: routes without an entry in the matrix: {unlisted}"
        gone = sorted(table.keys() - routes)
        assert not gone, f"{service}: matrix entries for routes that no longer exist: {gone}"

        wrong: list[str] = []
        calls = 0
        for (method, path), route in sorted(table.items()):
            assert set(route.expect) == set(CALLERS), f"{method} {path}: give every caller"
            for caller in CALLERS:
                ids = dict(world.ids)
                for name in route.call.fresh:
                    ids |= await world.fresh(api, name)
                url = path.format(**{k: ids[v] for k, v in route.call.path.items()})
                headers = dict(world.headers[caller])
                if route.call.content is not None:
                    headers["Content-Type"] = "text/plain"
                response = await api.request(
                    method,
                    url,
                    params=fill(dict(route.call.query), ids),
                    json=fill(route.call.body, ids) if route.call.body is not None else None,
                    content=route.call.content,
                    headers=headers,
                )
                calls += 1
                if response.status_code >= 500 or not matches(
                    response.status_code, route.expect[caller]
                ):
                    wrong.append(
                        f"{method} {path} as {caller}: {response.status_code}, expected "
                        f"{route.expect[caller]}: {response.text[:200]}"
                    )
    assert not wrong, f"{len(wrong)} of {calls} calls answered wrongly:\n" + "\n".join(wrong)
    assert calls == len(table) * len(CALLERS)


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
        Call(query={"from": "2026-01-01", "to": "2026-01-31"}), STAFF_ONLY
    ),
    ("GET", "/companies/{company_id}/portal-sharing"): Route(
        Call({"company_id": "company"}), STAFF_ONLY
    ),
    ("PUT", "/companies/{company_id}/portal-sharing"): Route(
        Call({"company_id": "company"}, body={"customers_see_company_tickets": False}),
        MANAGERS_ONLY,
    ),
    ("GET", "/branding"): Route(Call(), PUBLIC),
    ("PUT", "/branding"): Route(Call(body={"accent_color": "#1c7ed6"}), MANAGERS_ONLY),
    ("PUT", "/branding/{kind}"): Route(Call({"kind": "favicon_kind"}, content=_PNG), MANAGERS_ONLY),
    ("GET", "/branding/{kind}"): Route(
        # public; no favicon is configured in this world (the upload above is a favicon)
        Call({"kind": "logo_kind"}),
        expect(customer_a="404", technician="404", agent="404", manager="404", anonymous="404"),
    ),
}


async def _ticket_world_with_portal(request: pytest.FixtureRequest, private_key: bytes) -> World:
    """The ticket service's world, with customer A's tickets made anew to rate and resolve."""
    world = await _ticket_world(request, private_key)
    world.ids |= {"logo_kind": "logo", "favicon_kind": "favicon"}
    made_before = world.fresh
    agent, email_a = world.headers["agent"], _email_of(world.headers["customer_a"])

    async def fresh(api: httpx.AsyncClient, name: str) -> dict[str, str]:
        if name not in ("solved_ticket", "open_ticket"):
            return await made_before(api, name)
        body = {"subject": "Portal", "requester": {"email": email_a}}
        made = await ok(api.post("/tickets", json=body, headers=agent))
        if name == "solved_ticket":
            solved = {"status": "Solved"}
            await ok(api.post(f"/tickets/{made['id']}/status", json=solved, headers=agent))
        return {name: str(made["id"])}

    world.fresh = fresh
    return world


WORLDS["ticket-service"] = _ticket_world_with_portal
