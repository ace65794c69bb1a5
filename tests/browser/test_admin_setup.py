"""The seed ``000_*`` setup's SLA and assignment screens in Chromium through the real gateway, as
a manager, over the real SLA and assignment workers: an SLA policy with office hours, a holiday,
targets and a condition (the API's message shown while the draft is wrong, its preview of the
due instants while it is right); a load-balancing assignment rule; the breaching-soon list. Then a
mail to the session's GreenMail inbox becomes a ticket that the rule assigns and that shows the
policy's due time. Each step checks the API's state; axe-core on every new screen.

The workers run for this module only, on the ports the session's gateway routes those services
to (the SLA worker's port is test_ticket_work's too, one module at a time). Branding, teams,
agents and connecting the inbox in the browser are test_admin_console's and
test_admin_services'; here the inbox is added through the API.
"""

from __future__ import annotations

import re
import smtplib
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from helpdesk_devstack.procs import run_sync
from helpdesk_devstack.worker_process import WorkerProcess
from tests.integration.conftest import ServiceProcess
from tests.integration.test_assignment_end_to_end import _events_of

from .conftest import Stack, assert_accessible, screenshot, solve
from .test_admin_console import eventually, get, open_section, pick

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

HOLIDAY = "2030-01-01"


@pytest.fixture(scope="module")
def setup_team(ticket_stack: Stack) -> dict[str, Any]:
    """A team of this module's own (the policy and rule take its tickets only): the signed-in
    manager and a colleague."""
    with ticket_stack.client("manager") as api:
        colleague = api.post(
            "/agents",
            json={
                "email": f"rina-{uuid.uuid4().hex[:6]}@helpdesk.example",
                "name": "Rina Setup",
                "role": "agent",
            },
        )
        assert colleague.status_code == 201, colleague.text
        team = api.post("/teams", json={"name": f"Setup {uuid.uuid4().hex[:6]}", "tier": 1})
        assert team.status_code == 201, team.text
        made: dict[str, Any] = team.json()
        for member in (ticket_stack.agent_id, colleague.json()["id"]):
            api.put(f"/teams/{made['id']}/members/{member}").raise_for_status()
        made["members"] = [ticket_stack.agent_id, colleague.json()["id"]]
        return made


@pytest.fixture(scope="module")
def inbox(ticket_stack: Stack, setup_team: dict[str, Any], mail_gateway: ServiceProcess) -> str:
    """An inbox on the session's GreenMail whose tickets go to the team (connecting it in the
    browser is test_admin_services'); its address."""
    mail_server = ticket_stack.mail
    address = f"setup-{uuid.uuid4().hex[:6]}@helpdesk.local"
    account = {
        "address": address,
        "imap_host": mail_server.host,
        "imap_port": mail_server.imap_port,
        "imap_tls": "none",
        "imap_user": address,
        "smtp_host": mail_server.host,
        "smtp_port": mail_server.smtp_port,
        "smtp_tls": "none",
        "team_id": setup_team["id"],
        "acknowledge": False,
        "secrets": {"imap_password": "inbox password"},
    }
    with ticket_stack.client("manager") as api:
        added = api.post("/mail/accounts", json=account)
        assert added.status_code in (200, 201), added.text
    return address


def set_sla_policy(page: Page, api: httpx.Client, team: dict[str, Any]) -> str:
    """The manager makes an SLA policy with office hours and a holiday for the team's tickets;
    its id."""
    policy_id = f"office-{uuid.uuid4().hex[:6]}"
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Admin").click()
    open_section(page, "SLA policies")
    expect(page.get_by_test_id("policy-row").filter(has_text="Every ticket").first).to_be_visible()
    assert_accessible(page, "admin SLA policies")

    page.get_by_role("button", name="New SLA policy").click()
    form = page.get_by_role("form", name="SLA policy")
    form.get_by_label(re.compile(r"^Policy id")).fill(policy_id)
    form.get_by_label(re.compile(r"^Name")).fill(f"Office hours {policy_id}")
    form.get_by_label("First response target for High").fill("1h")
    form.get_by_label("Resolution target for High").fill("2d")
    form.get_by_label("Next response target for High").fill("2h")
    # Office hours are the form's start: Monday to Friday 08-12 and 13-17 in Jakarta.
    expect(form.get_by_label("Monday window 2 opens")).to_have_value("13:00")
    form.get_by_role("button", name="Add a holiday").click()
    form.get_by_label("Date of holiday 1").fill(HOLIDAY)
    form.get_by_label("Name of holiday 1").fill("Tahun Baru")

    # A wrong expression: the SLA service's message, as the manager types.
    expression = form.get_by_label("Condition expression")
    expression.fill('prority == "High"')
    expect(form.get_by_role("alert")).to_contain_text("did you mean 'priority'?")
    expect(form.get_by_role("button", name="Save")).to_be_disabled()
    expression.fill("")
    pick(page, form, "Team is one of", team["name"])
    page.keyboard.press("Escape")
    expect(expression).to_have_value(f'team_id == "{team["id"]}"')
    expect(form.get_by_role("alert")).to_have_count(0)
    preview = form.get_by_test_id("sla-preview")
    expect(preview).to_contain_text("A High ticket created now would be due: first response")
    expect(preview).to_contain_text("Asia/Jakarta")
    assert_accessible(page, "admin SLA policy form")
    screenshot(page, "admin-sla")

    form.get_by_role("button", name="Save").click()
    saved = eventually(
        lambda: api.get(f"/policies/{policy_id}"), lambda r: r.status_code == 200
    ).json()
    assert saved["condition"] == f'team_id == "{team["id"]}"'
    assert saved["is_default"] is False
    assert saved["targets"]["High"] == {
        "first_response": "PT1H",
        "next_response": "PT2H",
        "resolution": "P2D",
    }
    calendar = saved["calendar"]
    assert calendar["time_zone"] == "Asia/Jakarta"
    assert calendar["holidays"] == [{"kind": "date", "on": HOLIDAY, "name": "Tahun Baru"}]
    assert calendar["weekly_hours"]["monday"] == [
        {"start": "08:00", "end": "12:00"},
        {"start": "13:00", "end": "17:00"},
    ]
    assert "saturday" not in calendar["weekly_hours"] or not calendar["weekly_hours"]["saturday"]
    expect(
        page.get_by_test_id("policy-row").filter(has_text=f"Office hours {policy_id}")
    ).to_be_visible()

    # Edit it (If-Match: the version listed): a new position is saved.
    page.get_by_role("button", name=f"Edit Office hours {policy_id}").click()
    form.get_by_label(re.compile(r"^Position")).fill("5")
    form.get_by_role("button", name="Save").click()
    eventually(lambda: get(api, f"/policies/{policy_id}"), lambda p: p["position"] == 5)
    return policy_id


def add_load_balancing_rule(page: Page, api: httpx.Client, team: dict[str, Any]) -> str:
    """The manager adds a load-balancing rule for the team's tickets, on every day and hour (the
    test runs at any time); its id."""
    rule_id = f"lb-{uuid.uuid4().hex[:6]}"
    open_section(page, "Assignment rules")
    default = page.get_by_test_id("rule-row").filter(has_text=f"{team['name']} (team default)")
    expect(default).to_contain_text("Team default")
    expect(default).to_contain_text("Round robin")
    assert_accessible(page, "admin assignment rules")

    page.get_by_role("button", name="New assignment rule").click()
    form = page.get_by_role("form", name="Assignment rule")
    form.get_by_label(re.compile(r"^Rule id")).fill(rule_id)
    form.get_by_label(re.compile(r"^Name")).fill(f"Least loaded {rule_id}")
    form.get_by_label(re.compile(r"^Order")).fill("1")
    expression = form.get_by_label("Condition expression")
    expression.fill('priority == "High" && prority == "High"')
    expect(form.get_by_role("alert")).to_contain_text("did you mean 'priority'?")
    expression.fill("")
    pick(page, form, "Team is one of", team["name"])
    page.keyboard.press("Escape")
    for day in ("Saturday", "Sunday"):
        pick(page, form, "Assignment days", day)
        page.keyboard.press("Escape")
    form.get_by_label(re.compile(r"^From")).fill("00:00")
    form.get_by_label(re.compile(r"^Until")).fill("00:00")
    expect(form.get_by_role("combobox", name="Method", exact=True)).to_have_value(
        "Load balancing (fewest open tickets)"
    )
    form.get_by_label(re.compile(r"^Capacity per agent")).fill("5")
    pick(page, form, "Teams", team["name"])
    page.keyboard.press("Escape")
    form.get_by_label(re.compile(r"^Escalate")).check()
    expect(form.get_by_role("alert")).to_have_count(0)
    assert_accessible(page, "admin assignment rule form")
    screenshot(page, "admin-assignment")
    form.get_by_role("button", name="Save").click()

    def saved_rule() -> dict[str, Any] | None:
        rules = get(api, "/rules")["rules"]
        return next((r for r in rules if r["rule_id"] == rule_id), None)

    rule = eventually(saved_rule, lambda r: r is not None)
    assert rule["method"] == "load_balancing" and rule["capacity"] == 5
    assert rule["teams"] == [team["id"]] and rule["escalate_on_breach"] is True
    assert rule["assign_condition"] == f'team_id == "{team["id"]}"'
    assert rule["schedule"]["start"] == "00:00" and rule["schedule"]["end"] == "24:00"
    assert len(rule["schedule"]["days"]) == 7 and rule["schedule"]["time_zone"] == "Asia/Jakarta"
    expect(
        page.get_by_test_id("rule-row").filter(has_text=f"Least loaded {rule_id}")
    ).to_be_visible()
    return rule_id


def test_the_managers_sla_policy_and_rule_take_a_mailed_ticket(
    agent_page: tuple[Page, Any],
    ticket_stack: Stack,
    sla_worker: WorkerProcess,
    assignment_worker: ServiceProcess,
    inbox: str,
    setup_team: dict[str, Any],
    kafka_bootstrap: str,
) -> None:
    page, _ = agent_page
    api = ticket_stack.client("manager")
    policy_id = set_sla_policy(page, api, setup_team)
    rule_id = add_load_balancing_rule(page, api, setup_team)

    # A customer writes to the inbox (the session's GreenMail): a ticket in the inbox's team,
    # assigned by the rule, counted by the policy.
    subject = f"Printer offline {uuid.uuid4().hex[:6]}"
    mail = ticket_stack.mail
    raw = (
        f"From: Andi <andi-{subject[-6:]}@customer.example>\r\nTo: {inbox}\r\n"
        f"Subject: {subject}\r\n\r\nThe printer on floor 3 is offline.\r\n"
    )
    with smtplib.SMTP(mail.host, mail.smtp_port, timeout=10) as smtp:
        smtp.sendmail(f"andi-{subject[-6:]}@customer.example", [inbox], raw.encode())
    ticket = eventually(
        lambda: get(api, "/tickets", q=subject, view="all")["items"],
        lambda found: len(found) == 1,
        timeout=90,
    )[0]
    assert ticket["team_id"] == setup_team["id"]
    events = run_sync(_events_of(kafka_bootstrap, ticket["id"], "TicketAssigned"))
    (assigned,) = [e for e in events if e.event_type == "TicketAssigned"]
    assert assigned.data["method"] == "rule" and assigned.data["rule_id"] == rule_id
    assert assigned.data["assignee_id"] in setup_team["members"]
    sla = eventually(
        lambda: api.get(f"/sla/tickets/{ticket['id']}/sla"),
        lambda r: r.status_code == 200 and r.json()["policy"] == policy_id,
    ).json()
    due = sla["metrics"]["first_response"]["due_at"]
    assert due is not None

    # The ticket page shows the policy's due time; the breaching-soon list links to it.
    page.goto(f"{ticket_stack.url}/agent/tickets/{ticket['id']}")
    expect(page.locator(f'time[datetime="{due}"]')).to_be_visible()
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Admin").click()
    open_section(page, "Breaching soon")
    pick(page, page.locator("body"), "Due within", "7 days")
    pick(page, page.locator("body"), "Team", setup_team["name"])
    row = page.get_by_test_id("breaching-row").filter(has_text=subject)
    expect(row.first).to_contain_text("First response")
    assert_accessible(page, "admin breaching soon")
    screenshot(page, "admin-breaching")
    row.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(f"/agent/tickets/{ticket['id']}$"))
    expect(page.get_by_text(subject).first).to_be_visible()
    solve(api, ticket["id"])  # the agent portal's test counts the open tickets
