"""Holiday lists, named calendars and teams' calendars (#20 items 8 and 11), and policies chosen
by the customer's context (#20 item 5), on the real Kafka.

The worker runs as a subprocess; the configuration topic is shared by every test of the session,
so each object's id carries the test's own suffix and the policy matches only tickets tagged with
the test's own tag.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from helpdesk_devstack.worker_process import WorkerProcess
from helpdesk_events import StatusCategory, TicketCreated
from helpdesk_events.tickets import CustomerContext, TicketCustomerContextChanged
from sla_service.domain import BusinessCalendar

from .test_policies_api import (  # noqa: F401 - worker, worker_factory, producer: fixtures
    Ticket,
    bearer,
    dues,
    producer,
    targets_sets,
    version_of,
    worker,
    worker_factory,
)

pytestmark = pytest.mark.integration

WORKWEEK = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def office(time_zone: str, closing: str = "17:00") -> dict[str, Any]:
    """09:00 to ``closing`` every day of the week in ``time_zone``."""
    return {
        "time_zone": time_zone,
        "weekly_hours": {day: [{"start": "09:00", "end": closing}] for day in WORKWEEK},
    }


# Mumbai's office closes at 15:00: with the same 8 hours as Jakarta's, the two teams' dues
# coincided for about a fifth of the instants a test could start at (both offices open, whole
# days of target), and the check that they differ failed at those hours; with 6 hours they
# differ from every minute of the week (checked minute by minute when this was changed).


async def test_shared_calendars_api_and_regional_teams(
    worker: WorkerProcess,  # noqa: F811 - the fixture
    producer: AIOKafkaProducer,  # noqa: F811 - the fixture
    kafka_bootstrap: str,
    dev_keys: tuple[Path, Path],
) -> None:
    suffix = uuid.uuid4().hex[:8]
    list_id, jakarta, mumbai = f"id-{suffix}", f"jakarta-{suffix}", f"mumbai-{suffix}"
    policy_id, tag = f"regional-{suffix}", f"regional-{suffix}"
    jakarta_team, mumbai_team = uuid.uuid4(), uuid.uuid4()
    # Now: a change of the configuration applies from its own instant, after the tickets'.
    t0 = datetime.now(UTC).replace(microsecond=0)
    jakarta_hours = BusinessCalendar.model_validate(office("Asia/Jakarta"))
    mumbai_hours = BusinessCalendar.model_validate(office("Asia/Kolkata", "15:00"))

    async with httpx.AsyncClient(base_url=worker.url) as anonymous:
        assert (await anonymous.get("/holiday-lists")).status_code == 401
        agent = await anonymous.get("/calendars", headers=bearer(dev_keys, "agent"))
        assert agent.status_code == 403
        spec = (await anonymous.get("/openapi.json")).json()
        assert {"/holiday-lists/{holiday_list_id}", "/sla/teams/{team_id}/calendar"} <= set(
            spec["paths"]
        )

    async with httpx.AsyncClient(
        base_url=worker.url, headers=bearer(dev_keys, "manager")
    ) as client:
        holidays: dict[str, Any] = {"name": "Indonesia", "holidays": []}
        assert (await client.put(f"/holiday-lists/{list_id}", json=holidays)).status_code == 428

        async def put(path: str, body: Any, expected: int = 200) -> httpx.Response:
            version = await version_of(client)
            answer = await client.put(path, json=body, headers={"If-Match": f'"{version}"'})
            assert answer.status_code == expected, answer.text
            return answer

        bad = await put(f"/holiday-lists/{list_id}", {**holidays, "holidays": [{"kind": "?"}]}, 422)
        assert "holidays" in bad.json()["detail"]
        saved = await put(f"/holiday-lists/{list_id}", holidays)
        assert saved.json()["used_by"] == []
        await put(
            f"/calendars/{jakarta}",
            {"name": "Jakarta", "calendar": office("Asia/Jakarta"), "holiday_list_ids": [list_id]},
        )
        await put(
            f"/calendars/{mumbai}",
            {"name": "Mumbai", "calendar": office("Asia/Kolkata", "15:00")},
        )
        policy = {
            "name": "Regional",
            "position": -1000,
            "condition": f'"{tag}" in tags',
            "calendar_id": jakarta,
            "use_team_calendar": True,
            "targets": {"Medium": {"first_response": "PT4H", "resolution": "PT16H"}},
            "default_priority": "Medium",
        }
        missing = await put(f"/policies/{policy_id}", {**policy, "holiday_list_ids": ["no"]}, 422)
        assert "holiday list 'no', which does not exist" in missing.json()["detail"]
        await put(f"/policies/{policy_id}", policy)

        await put(f"/sla/teams/{jakarta_team}/calendar", {"calendar_id": jakarta})
        await put(f"/sla/teams/{mumbai_team}/calendar", {"calendar_id": mumbai})
        await put(f"/sla/teams/{mumbai_team}/calendar", {"calendar_id": "nope"}, 422)
        await put("/sla/teams/not-a-uuid/calendar", {"calendar_id": mumbai}, 422)
        team = await client.get(f"/sla/teams/{mumbai_team}/calendar")
        assert team.json()["calendar_id"] == mumbai

        # In use: not deleted, and the answer names the users.
        version = await version_of(client)
        in_use = await client.delete(
            f"/holiday-lists/{list_id}", headers={"If-Match": f'"{version}"'}
        )
        assert in_use.status_code == 409, in_use.text
        assert in_use.json()["used_by"] == [f"calendar {jakarta!r}"]
        in_use = await client.delete(f"/calendars/{jakarta}", headers={"If-Match": f'"{version}"'})
        assert in_use.status_code == 409
        assert set(in_use.json()["used_by"]) == {f"policy {policy_id!r}", f"team {jakarta_team}"}
        listed = await client.get("/calendars")
        mine = [c for c in listed.json()["calendars"] if c["calendar_id"] == jakarta]
        assert mine[0]["used_by"] == [f"policy {policy_id!r}", f"team {jakarta_team}"]

        # A Jakarta team and a Mumbai team count their own hours.
        tickets = {team_id: Ticket(producer) for team_id in (jakarta_team, mumbai_team)}
        for team_id, ticket in tickets.items():
            created = TicketCreated(
                subject="VPN down",
                channel="email",
                status="New",
                status_category=StatusCategory.NEW,
                priority="Medium",
                tags=(tag,),
                team_id=team_id,
            )
            await ticket.emit(created, t0)
        (jakarta_set,) = await targets_sets(kafka_bootstrap, tickets[jakarta_team])
        (mumbai_set,) = await targets_sets(kafka_bootstrap, tickets[mumbai_team])
        assert jakarta_set["policy"] == mumbai_set["policy"] == policy_id
        # 09:00-17:00 WIB is 02:00-10:00 UTC, 09:00-15:00 IST 03:30-09:30 UTC.
        for found, hours in ((jakarta_set, jakarta_hours), (mumbai_set, mumbai_hours)):
            assert dues(found) == {
                "first_response": hours.add_business_time(t0, timedelta(hours=4)),
                "resolution": hours.add_business_time(t0, timedelta(hours=16)),
            }
        assert dues(jakarta_set) != dues(mumbai_set)

        # A holiday entered once in the list, on the day the Jakarta ticket's resolution is due,
        # moves it a day on (16 h are two office days: never the day it was opened).
        due = dues(jakarta_set)["resolution"]
        due_day = due.astimezone(jakarta_hours.zone).date()
        await put(
            f"/holiday-lists/{list_id}",
            {**holidays, "holidays": [{"kind": "date", "on": due_day.isoformat()}]},
        )
        moved = (await targets_sets(kafka_bootstrap, tickets[jakarta_team], count=2))[1]
        assert dues(moved)["resolution"] == due + timedelta(days=1)
        # The Mumbai team's calendar does not link the list.
        assert len(await targets_sets(kafka_bootstrap, tickets[mumbai_team])) == 1


async def test_an_enterprise_policy_applies_by_the_companys_tier(
    worker: WorkerProcess,  # noqa: F811 - the fixture
    producer: AIOKafkaProducer,  # noqa: F811 - the fixture
    kafka_bootstrap: str,
    dev_keys: tuple[Path, Path],
) -> None:
    """No agent sends anything: the ticket's customer context chooses the policy, and a change of
    it (the company leaves the tier) chooses again."""
    tier = f"Enterprise-{uuid.uuid4().hex[:8]}"  # this test's own tier
    policy_id = f"enterprise-{tier}"
    async with httpx.AsyncClient(
        base_url=worker.url, headers=bearer(dev_keys, "manager")
    ) as client:
        version = await version_of(client)
        policy = {
            "name": "Enterprise",
            "position": -1000,
            "condition": f'company_tier == "{tier}"',
            "calendar": {"time_zone": "UTC", "always_open": True},
            "targets": {"Medium": {"first_response": "PT30M", "resolution": "PT2H"}},
            "default_priority": "Medium",
        }
        saved = await client.put(
            f"/policies/{policy_id}", json=policy, headers={"If-Match": f'"{version}"'}
        )
        assert saved.status_code == 200, saved.text

    t0 = datetime.now(UTC).replace(microsecond=0)
    ticket = Ticket(producer)
    await ticket.emit(
        TicketCreated(
            subject="Invoice",
            channel="email",
            status="New",
            status_category=StatusCategory.NEW,
            priority="Medium",
            customer_context=CustomerContext(company_tier=tier, company_country="ID"),
        ),
        t0,
    )
    (first,) = await targets_sets(kafka_bootstrap, ticket)
    assert first["policy"] == policy_id
    assert dues(first)["resolution"] == t0 + timedelta(hours=2)

    await ticket.emit(
        TicketCustomerContextChanged(customer_context=CustomerContext(company_tier="SMB")),
        t0 + timedelta(seconds=1),
    )
    second = (await targets_sets(kafka_bootstrap, ticket, count=2))[1]
    assert second["policy"] != policy_id
