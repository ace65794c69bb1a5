"""Custom fields beyond the ticket form (#20 item 6): in the rows of ticket lists, as a list's
sort (``sort=custom.<key>``) and as a report's groups (``/reports/sla?group_by=custom.<key>``),
on the real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from .conftest import bearer
from .test_seed_issue_20 import FIELDS, clear_custom_fields, created
from .test_sla_reports import FIRST, a_quiet_day, apply, met

pytestmark = pytest.mark.integration


@pytest.fixture
async def manager(
    api: httpx.AsyncClient, token: Callable[..., str], app: FastAPI
) -> AsyncIterator[dict[str, str]]:
    """A manager's headers, with the seed's custom fields defined for the test."""
    headers = bearer(token("manager", subject=str(uuid.uuid4())))
    current = await api.get("/custom-fields", headers=headers)
    saved = await api.put(
        "/custom-fields",
        json={"fields": FIELDS},
        headers=headers | {"If-Match": current.headers["ETag"]},
    )
    assert saved.status_code == 200, saved.text
    try:
        yield headers
    finally:
        await clear_custom_fields(api, headers, app)


async def test_list_rows_carry_custom_fields_and_sort_by_one(
    api: httpx.AsyncClient,
    manager: dict[str, str],
    token: Callable[..., str],
    caught_up: Callable[[], Awaitable[int]],
) -> None:
    marker = uuid.uuid4().hex[:8]
    seats = {"few": {"seats": 5}, "many": {"seats": 30}, "none": {}, "some": {"seats": 12.5}}
    ids = {}
    for name, values in seats.items():
        ticket = await created(
            api.post(
                "/tickets",
                json={"subject": f"{name} {marker}", "custom_fields": values},
                headers=manager,
            )
        )
        ids[ticket["id"]] = name
    await caught_up()

    async def listed(sort: str) -> list[tuple[str, dict[str, object]]]:
        page = await api.get("/tickets", params={"q": marker, "sort": sort}, headers=manager)
        assert page.status_code == 200, page.text
        return [(ids[item["id"]], item["custom_fields"]) for item in page.json()["items"]]

    ascending = await listed("custom.seats")
    assert ascending == [
        ("few", {"seats": 5}),
        ("some", {"seats": 12.5}),  # numbers sort as numbers, not as text
        ("many", {"seats": 30}),
        ("none", {}),  # without a value: last either way
    ]
    assert [name for name, _ in await listed("-custom.seats")] == ["many", "some", "few", "none"]
    unknown = await api.get("/tickets", params={"sort": "custom.nope"}, headers=manager)
    assert unknown.status_code == 422 and "custom.nope" in unknown.json()["detail"]
    malformed = await api.get("/tickets", params={"sort": "custom.Bad Key"}, headers=manager)
    assert malformed.status_code == 422

    # A customer's rows show the portal form's fields only, and sort only by those.
    email = f"cfl-{uuid.uuid4().hex[:8]}@example.co.id"
    customer = bearer(token("customer", subject=str(uuid.uuid4()), email=email))
    mine = await created(
        api.post(
            "/tickets",
            json={"subject": "Laptop", "custom_fields": {"device": "Laptop"}},
            headers=customer,
        )
    )
    edited = await api.patch(
        f"/tickets/{mine['id']}", json={"custom_fields": {"seats": 3}}, headers=manager
    )
    assert edited.status_code == 200, edited.text
    await caught_up()
    rows = (await api.get("/tickets", params={"sort": "custom.device"}, headers=customer)).json()
    assert [(r["id"], r["custom_fields"]) for r in rows["items"]] == [
        (mine["id"], {"device": "Laptop"})
    ]
    hidden = await api.get("/tickets", params={"sort": "custom.seats"}, headers=customer)
    assert hidden.status_code == 422


async def test_the_sla_report_groups_by_a_custom_field(
    api: httpx.AsyncClient,
    manager: dict[str, str],
    pool: asyncpg.Pool,
    token: Callable[..., str],
    caught_up: Callable[[], Awaitable[int]],
) -> None:
    """Seed 004: the manager's reports; by a custom field (a multi-select ticket counts under
    each of its choices; tickets without a value are the null group)."""
    modules = {"hr": ["HR"], "both": ["HR", "Payroll"], "none": []}
    day = a_quiet_day()
    for name, chosen in modules.items():
        body = {"subject": name, "custom_fields": {"modules": chosen} if chosen else {}}
        ticket = await created(api.post("/tickets", json=body, headers=manager))
        within = name != "both"
        ticket_id = uuid.UUID(str(ticket["id"]))
        await apply(pool, met(ticket_id, FIRST, day + timedelta(hours=1), 600, within=within))
    await caught_up()

    params = {"from": day.date().isoformat(), "to": day.date().isoformat()}
    report = await api.get(
        "/reports/sla", params=params | {"group_by": "custom.modules"}, headers=manager
    )
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["group_by"] == "custom.modules"
    first = {
        group["value"]: (
            group["first_response"]["met_within"],
            group["first_response"]["met_late"],
        )
        for group in body["groups"]
    }
    assert first == {"HR": (1, 1), "Payroll": (0, 1), None: (1, 0)}
    assert all(group["group_id"] is None for group in body["groups"])

    unknown = await api.get(
        "/reports/sla", params=params | {"group_by": "custom.nope"}, headers=manager
    )
    assert unknown.status_code == 422 and "custom.nope" in unknown.json()["detail"]
    agent = bearer(token("agent", subject=str(uuid.uuid4())))
    refused = await api.get(
        "/reports/sla", params=params | {"group_by": "custom.modules"}, headers=agent
    )
    assert refused.status_code == 403
