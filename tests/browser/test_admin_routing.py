"""The admin console's team routing and calendars screens in Chromium through the real gateway,
as a manager, over the real assignment and SLA workers (issue #19): a routing rule made in the
browser (the worker's message while its expression is wrong), a channel's team, and the list of
tickets no rule could route - then new tickets go where the screen said; named holiday lists and
calendars, a team's calendar, an SLA policy counting in a named calendar, and a window ending at
24:00. Each step checks the API's state; axe-core on every new screen.

The workers run for this module only, on the ports the session's gateway routes to, the
assignment worker with the ticket service's command consumer that carries out its RouteTicket
(as test_admin_setup's). Their configuration lives on the session's Kafka: what this module adds
it removes again, and its conditions and channels are its own (a marker), so no other module's
ticket matches them.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from helpdesk_devstack.worker_process import WorkerProcess
from tests.integration.conftest import ServiceProcess

from .conftest import AGENT_NAME, Stack, assert_accessible, new_ticket, screenshot, solve
from .test_admin_console import eventually, get, open_section, pick

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def routing_team(ticket_stack: Stack) -> dict[str, Any]:
    """A team of this module's own, with the signed-in manager as its member."""
    with ticket_stack.client("manager") as api:
        team = api.post("/teams", json={"name": f"Routing {uuid.uuid4().hex[:6]}", "tier": 1})
        assert team.status_code == 201, team.text
        made: dict[str, Any] = team.json()
        api.put(f"/teams/{made['id']}/members/{ticket_stack.agent_id}").raise_for_status()
        return made


def team_known(api: httpx.Client, team: dict[str, Any]) -> None:
    """Wait until the worker's directory has seen the team (a rule naming it is refused before)."""
    eventually(
        lambda: get(api, "/rules")["rules"],
        lambda rules: any(r["rule_id"] == f"team-{team['id']}" for r in rules),
        timeout=90,
    )


def team_of(api: httpx.Client, ticket_id: str) -> str | None:
    team: str | None = get(api, f"/tickets/{ticket_id}")["team_id"]
    return team


def test_a_manager_routes_tickets_to_a_team_by_rule_and_by_channel(
    agent_page: tuple[Page, Any],
    ticket_stack: Stack,
    assignment_worker: ServiceProcess,
    routing_team: dict[str, Any],
) -> None:
    page, _ = agent_page
    api = ticket_stack.client("manager")
    team_known(api, routing_team)
    marker = f"r{uuid.uuid4().hex[:6]}"
    rule_id = f"route-{marker}"
    channel = f"kiosk-{marker}"

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Admin").click()
    open_section(page, "Team routing")
    expect(page.get_by_test_id("channel-row").first).to_be_visible()
    assert_accessible(page, "admin team routing")

    # A routing rule: the worker's message while the expression is wrong, then a team.
    page.get_by_role("button", name="New routing rule").click()
    form = page.get_by_role("form", name="Routing rule")
    form.get_by_label(re.compile(r"^Rule id")).fill(rule_id)
    form.get_by_label(re.compile(r"^Name")).fill(f"Tagged {marker}")
    form.get_by_label(re.compile(r"^Order")).fill("3")
    expression = form.get_by_label("Condition expression")
    expression.fill(f'"{marker}" in tags && prority == "High"')
    expect(form.get_by_role("alert")).to_contain_text("did you mean 'priority'?")
    expect(form.get_by_role("button", name="Save")).to_be_disabled()
    expression.fill(f'"{marker}" in tags')
    pick(page, form, "Team", routing_team["name"])
    expect(form.get_by_role("alert")).to_have_count(0)
    assert_accessible(page, "admin routing rule form")
    screenshot(page, "admin-routing")
    form.get_by_role("button", name="Save").click()

    def saved_rule() -> dict[str, Any] | None:
        return next((r for r in get(api, "/routing")["rules"] if r["rule_id"] == rule_id), None)

    rule = eventually(saved_rule, lambda r: r is not None)
    assert rule["condition"] == f'"{marker}" in tags' and rule["order"] == 3
    assert rule["team_id"] == routing_team["id"] and rule["by_language"] is False
    row = page.get_by_test_id("routing-row").filter(has_text=f"Tagged {marker}")
    expect(row).to_contain_text(routing_team["name"])

    # A channel of its own goes to the team.
    page.get_by_label("Other channel").fill(channel)
    pick(page, page.locator("body"), "Team", routing_team["name"])
    page.get_by_role("button", name="Set team").click()
    eventually(
        lambda: get(api, "/routing")["channel_teams"],
        lambda teams: teams.get(channel) == routing_team["id"],
    )
    channel_select = page.get_by_role("combobox", name=f"Team for {channel}", exact=True)
    expect(channel_select).to_have_value(routing_team["name"])

    # New tickets without a team: the rule's, the channel's, and one neither takes.
    tagged = new_ticket(api, f"Tagged {marker}", tags=[marker], channel=f"other-{marker}")
    by_channel = new_ticket(api, f"Kiosk {marker}", channel=channel)
    stray = new_ticket(api, f"Stray {marker}", channel=f"nowhere-{marker}")
    for ticket in (tagged, by_channel):
        eventually(
            lambda t=ticket: team_of(api, t["id"]), lambda team: team == routing_team["id"], 90
        )
    assert team_of(api, stray["id"]) is None

    # The stray one is listed with the reason, and links to the ticket.
    eventually(
        lambda: get(api, "/unassignable")["tickets"],
        lambda tickets: any(t["ticket_id"] == stray["id"] for t in tickets),
        timeout=60,
    )
    page.reload()
    stuck = page.get_by_test_id("unassignable-row").filter(
        has=page.get_by_role("link", name=f"Open ticket {stray['id'][:8]}")
    )
    expect(stuck).to_contain_text("No routing rule or channel gives it a team")
    stuck.get_by_role("link").click()
    expect(page).to_have_url(re.compile(f"/agent/tickets/{stray['id']}$"))
    expect(page.get_by_text(f"Stray {marker}").first).to_be_visible()

    # Clean up in the browser: the channel's team cleared, the rule deleted.
    page.go_back()
    expect(page.get_by_role("heading", name="Admin: Team routing", level=2)).to_be_visible()
    page.get_by_role("button", name=f"Remove Team for {channel}").click()
    eventually(lambda: get(api, "/routing")["channel_teams"], lambda teams: channel not in teams)
    page.get_by_role("button", name=f"Delete Tagged {marker}").click()
    eventually(saved_rule, lambda r: r is None)
    for ticket in (tagged, by_channel, stray):
        solve(api, ticket["id"])  # the agent portal's test counts the open tickets


def add_holiday(page: Page, form: Locator, n: int, kind: str) -> None:
    """Add holiday ``n`` of a kind ("One date", "Dates from … to", "Every year")."""
    form.get_by_role("button", name="Add a holiday").click()
    if kind != "One date":
        pick(page, form, f"Holiday {n}", kind)


def test_a_manager_keeps_named_calendars_holiday_lists_and_a_teams_calendar(
    agent_page: tuple[Page, Any],
    ticket_stack: Stack,
    sla_worker: WorkerProcess,
    routing_team: dict[str, Any],
) -> None:
    """Seed 000: "working hours, holiday lists" entered once and linked; a window ending at
    24:00 stays 24:00 (it showed, and saved, 23:59); deleting what is in use is refused."""
    page, _ = agent_page
    api = ticket_stack.client("manager")
    marker = uuid.uuid4().hex[:6]
    list_id, list_name = f"id-{marker}", f"Libur nasional {marker}"
    calendar_id, calendar_name = f"jkt-{marker}", f"Jakarta office {marker}"

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Admin").click()
    open_section(page, "Calendars")
    expect(page.get_by_role("button", name="New holiday list")).to_be_visible()
    assert_accessible(page, "admin calendars")

    # A holiday list: one date, a range and a yearly date.
    page.get_by_role("button", name="New holiday list").click()
    form = page.get_by_role("form", name="Holiday list")
    form.get_by_label(re.compile(r"^Holiday list id")).fill(list_id)
    form.get_by_label(re.compile(r"^Name")).first.fill(list_name)
    add_holiday(page, form, 1, "One date")
    form.get_by_label("Date of holiday 1").fill("2030-01-01")
    form.get_by_label("Name of holiday 1").fill("Tahun Baru")
    add_holiday(page, form, 2, "Dates from … to")
    form.get_by_label("First day of holiday 2").fill("2030-03-10")
    form.get_by_label("Last day of holiday 2").fill("2030-03-12")
    form.get_by_label("Name of holiday 2").fill("Lebaran")
    add_holiday(page, form, 3, "Every year")
    form.get_by_label("Month (holiday 3)").fill("8")
    form.get_by_label("Day (holiday 3)").fill("17")
    form.get_by_label("Name of holiday 3").fill("Hari Kemerdekaan")
    form.get_by_role("button", name="Save").click()
    saved_list = eventually(
        lambda: api.get(f"/holiday-lists/{list_id}"), lambda r: r.status_code == 200
    ).json()
    assert saved_list["name"] == list_name
    assert saved_list["holidays"] == [
        {"kind": "date", "on": "2030-01-01", "name": "Tahun Baru"},
        {"kind": "range", "first": "2030-03-10", "last": "2030-03-12", "name": "Lebaran"},
        {"kind": "yearly", "month": 8, "day": 17, "name": "Hari Kemerdekaan"},
    ]

    # A calendar: office hours, a Saturday evening window to the end of the day, the list.
    page.get_by_role("button", name="New calendar").click()
    form = page.get_by_role("form", name="Calendar")
    form.get_by_label(re.compile(r"^Calendar id")).fill(calendar_id)
    form.get_by_label(re.compile(r"^Name")).first.fill(calendar_name)
    form.get_by_role("button", name="Add working hours on Saturday").click()
    form.get_by_label("Saturday window 1 opens").fill("20:00")
    closes = form.get_by_label("Saturday window 1 closes")
    closes.fill("25:00")
    expect(form.get_by_text("HH:MM, up to 24:00 (the end of the day)")).to_be_visible()
    closes.fill("24:00")
    pick(page, form, "Linked holiday lists", list_name)
    page.keyboard.press("Escape")
    assert_accessible(page, "admin calendar form")
    screenshot(page, "admin-calendars")
    form.get_by_role("button", name="Save").click()
    saved = eventually(
        lambda: api.get(f"/calendars/{calendar_id}"), lambda r: r.status_code == 200
    ).json()
    assert saved["holiday_list_ids"] == [list_id]
    assert saved["calendar"]["time_zone"] == "Asia/Jakarta"
    assert saved["calendar"]["weekly_hours"]["saturday"] == [{"start": "20:00", "end": "24:00"}]
    assert saved["calendar"]["weekly_hours"]["friday"] == [
        {"start": "08:00", "end": "12:00"},
        {"start": "13:00", "end": "17:00"},
    ]
    # Edited again, the end of the day still reads 24:00.
    page.get_by_role("button", name=f"Edit {calendar_name}").click()
    expect(form.get_by_label("Saturday window 1 closes")).to_have_value("24:00")
    form.get_by_role("button", name="Cancel").click()

    # The team works by the calendar; each shows who uses it.
    pick(page, page.locator("body"), "Team", routing_team["name"])
    pick(page, page.locator("body"), f"Calendar of {routing_team['name']}", calendar_name)
    eventually(
        lambda: get(api, f"/sla/teams/{routing_team['id']}/calendar"),
        lambda answer: answer["calendar_id"] == calendar_id,
    )
    calendar_row = page.get_by_test_id("calendar-row").filter(has_text=calendar_name)
    expect(calendar_row).to_contain_text(f"team {routing_team['id']}")
    list_row = page.get_by_test_id("holiday-list-row").filter(has_text=list_name)
    expect(list_row).to_contain_text(f"calendar '{calendar_id}'")
    expect(list_row).to_contain_text("3 holidays")

    # A list in use cannot be deleted: the API's 409 names its users.
    list_row.get_by_role("button", name=f"Delete {list_name}").click()
    refusal = page.get_by_role("alert").filter(has_text="Still in use")
    expect(refusal).to_contain_text(f"calendar '{calendar_id}'")
    assert api.get(f"/holiday-lists/{list_id}").status_code == 200

    # An SLA policy counts in the named calendar.
    policy_id = f"named-{marker}"
    open_section(page, "SLA policies")
    page.get_by_role("button", name="New SLA policy").click()
    form = page.get_by_role("form", name="SLA policy")
    form.get_by_label(re.compile(r"^Policy id")).fill(policy_id)
    form.get_by_label(re.compile(r"^Name")).first.fill(f"Named calendar {marker}")
    form.get_by_label("First response target for High").fill("1h")
    pick(page, form, "Calendar", f"Named calendar: {calendar_name}")
    expect(form.get_by_label("Monday window 1 opens")).to_have_count(0)
    form.get_by_label("Condition expression").fill(f'"{marker}" in tags')
    expect(form.get_by_test_id("sla-preview")).to_contain_text("Asia/Jakarta")
    form.get_by_role("button", name="Save").click()
    policy = eventually(
        lambda: api.get(f"/policies/{policy_id}"), lambda r: r.status_code == 200
    ).json()
    assert policy["calendar_id"] == calendar_id and policy["calendar"] is None
    page.get_by_role("button", name=f"Delete Named calendar {marker}").click()
    eventually(lambda: api.get(f"/policies/{policy_id}"), lambda r: r.status_code == 404)

    # Clean up in the browser: the team's calendar removed, then the calendar and the list.
    open_section(page, "Calendars")
    pick(page, page.locator("body"), "Team", routing_team["name"])
    page.get_by_role("button", name=f"Remove Calendar of {routing_team['name']}").click()
    eventually(
        lambda: get(api, f"/sla/teams/{routing_team['id']}/calendar"),
        lambda answer: answer["calendar_id"] is None,
    )
    page.get_by_role("button", name=f"Delete {calendar_name}").click()
    eventually(lambda: api.get(f"/calendars/{calendar_id}"), lambda r: r.status_code == 404)
    page.get_by_role("button", name=f"Delete {list_name}").click()
    eventually(lambda: api.get(f"/holiday-lists/{list_id}"), lambda r: r.status_code == 404)


def test_the_rule_form_sets_unassign_and_close_conditions_and_an_agents_capacity(
    agent_page: tuple[Page, Any],
    ticket_stack: Stack,
    assignment_worker: ServiceProcess,
    routing_team: dict[str, Any],
) -> None:
    """The assignment rules API's unassign and close conditions and per-agent capacity, which
    the form lacked, set in the browser (the worker's message for a wrong expression)."""
    page, _ = agent_page
    api = ticket_stack.client("manager")
    team_known(api, routing_team)
    rule_id = f"caps-{uuid.uuid4().hex[:6]}"
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Admin").click()
    open_section(page, "Assignment rules")
    page.get_by_role("button", name="New assignment rule").click()
    form = page.get_by_role("form", name="Assignment rule")
    form.get_by_label(re.compile(r"^Rule id")).fill(rule_id)
    form.get_by_label(re.compile(r"^Name")).fill(f"Capped {rule_id}")
    form.get_by_label("Condition expression").fill(f'team_id == "{routing_team["id"]}"')
    pick(page, form, "Teams", routing_team["name"])
    page.keyboard.press("Escape")
    unassign = form.get_by_label(re.compile(r"^Unassign when"))
    unassign.fill('stauts == "Waiting on customer"')
    expect(form.get_by_role("alert")).to_contain_text("did you mean 'status'?")
    unassign.fill('status == "Waiting on customer"')
    form.get_by_label(re.compile(r"^Close the assignment when")).fill('status_category == "paused"')
    form.get_by_role("button", name="Add an agent's capacity").click()
    pick(page, form, "Agent 1", AGENT_NAME)
    form.get_by_label("Capacity of agent 1").fill("3")
    expect(form.get_by_role("alert")).to_have_count(0)
    assert_accessible(page, "admin assignment rule form, all fields")
    form.get_by_role("button", name="Save").click()

    def saved_rule() -> dict[str, Any] | None:
        return next((r for r in get(api, "/rules")["rules"] if r["rule_id"] == rule_id), None)

    rule = eventually(saved_rule, lambda r: r is not None)
    assert rule["unassign_condition"] == 'status == "Waiting on customer"'
    assert rule["close_condition"] == 'status_category == "paused"'
    assert rule["agent_capacity"] == {ticket_stack.agent_id: 3}

    # Edited again, the form shows what was saved; then deleted.
    page.get_by_role("button", name=f"Edit Capped {rule_id}").click()
    expect(form.get_by_label("Capacity of agent 1")).to_have_value("3")
    expect(form.get_by_label(re.compile(r"^Unassign when"))).to_have_value(
        'status == "Waiting on customer"'
    )
    form.get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name=f"Delete Capped {rule_id}").click()
    eventually(saved_rule, lambda r: r is None)
