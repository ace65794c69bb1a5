"""What an agent waits for in the browser with 100,000 tickets (issue #17): sign-in → the first
ticket row of the list on screen, and a filter change → the list showing the new result.

The API side of both is measured by ``reports_1m.py`` (requests straight to the ticket service);
this adds what that cannot see: the gateway, the portal's JavaScript, React's render and the
paint, in Debian's Chromium driven by Playwright.

The stack runs on a data set kept by ``reports_1m.py --keep DIR`` (PostgreSQL and Kafka data of
100,000 tickets / 1.3M events): its PostgreSQL, Kafka and ticket service (2 uvicorn workers and
the SLA projector, ``reports_1m.throwaway_stack`` / ``Stack.start_service``, after this
checkout's migrations), and the API gateway serving the built portal (``web/dist``, ``make
web-build``) from its own database, started as the browser tests start it
(``tests/integration/gateway_stack.start_gateway``). The agent who signs in is one of the data
set's agents (team "Tim 1"); ``bootstrap-manager`` gives that directory agent a password (a new
random one each run, never printed) — the account keeps the directory's role, ``agent``. The
sign-in is the real one: the form, ``POST /api/auth/sign-in``, argon2, the refresh cookie. The
gateway's sign-in limits (20/min per IP, 10/min per email) are raised to 600/min: this script
signs the same person in 40 times in a few minutes. The SLA, assignment and notification
services are not started (the bell's requests get 502 from the gateway and back off).

Timing is taken **inside the page** with ``performance.now()`` (an init script; the portal is
not changed):

- sign-in: from the form's ``submit`` event to the frame after the first
  ``[data-testid=ticket-row]`` is in the DOM (a MutationObserver sees the row; the time is taken
  in a task posted from the next ``requestAnimationFrame``, i.e. after that frame was painted).
  Resource Timing gives the parts: the sign-in response, the list response.
- filter change: from the ``click`` event on the option (its ``timeStamp``) to the frame after
  the list table's ``aria-busy`` (TanStack Query's ``isFetching``) went back to ``false`` after
  the response of a ``GET /api/tickets?…`` request that started after the click: React commits
  the new rows and ``aria-busy="false"`` in one render. Each change leads to a filter state not
  seen before in that page, so TanStack Query has nothing cached for it (a revisited state
  would be shown from the cache first). Changes are random among status, priority, team, agent
  (Select options clicked with the mouse), sort, and the view links of the navigation.

``cold``: each run in a new browser context (empty HTTP cache, no cookies): open ``/agent/``,
sign in. ``warm``: one context; after a first sign-in (not counted) each run signs out through
the menu and opens ``/agent/`` again, so the portal's files come from the HTTP cache. After the
last run of each, ``--changes`` filter changes in that page.

    python bench/agent_list_browser.py --reuse /tmp/tix-bench/data [--runs 20] [--changes 50]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from machine import describe
from reports_1m import (
    STATE_FILE,
    Stack,
    _exit_on_term,
    load_state,
    loadavg,
    percentile,
    throwaway_stack,
)

from helpdesk_devstack.greenmail import MailServer
from helpdesk_devstack.postgres import create_database, database_dsn
from helpdesk_devstack.procs import free_port
from helpdesk_devstack.tokens import ensure_dev_keys
from tests.integration.conftest import running_services
from tests.integration.gateway_stack import shared_env, start_gateway

ROOT = Path(__file__).resolve().parents[1]
WEB_DIST = ROOT / "web" / "dist"
CHROMIUM = os.environ.get("HELPDESK_CHROMIUM", "/usr/bin/chromium")
GATEWAY_DATABASE = "api_gateway"
#: The agent who signs in: the second member of "Tim 1", as made by ``reports_1m.make_directory``
#: (the agent ``reports_1m.measure_list`` asks as).
AGENT_EMAIL = "agent0-1@bench.example"
NOT_STARTED = ("sla-service", "assignment-service", "notification-service", "mail-gateway")

#: The page's probe, installed before the portal's own scripts on every navigation.
PROBE = """
(() => {
  const bench = { submitAt: null, downAt: null, clickAt: null, armed: false,
                  rowAt: null, rowPaintAt: null, busy: [] };
  window.__bench = bench;
  performance.setResourceTimingBufferSize(100000);
  // After the frame that shows the change: a task posted from requestAnimationFrame runs once
  // that frame was handed to the compositor.
  const afterPaint = (done) => requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => done(performance.now());
    channel.port2.postMessage(null);
  });
  document.addEventListener("submit", () => { bench.submitAt = performance.now(); }, true);
  document.addEventListener("pointerdown", (event) => {
    if (bench.armed) bench.downAt = event.timeStamp;
  }, true);
  document.addEventListener("click", (event) => {
    if (bench.armed) { bench.clickAt = event.timeStamp; bench.armed = false; }
  }, true);
  new MutationObserver((records) => {
    const now = performance.now();
    if (bench.submitAt !== null && bench.rowAt === null
        && document.querySelector('[data-testid="ticket-row"]')) {
      bench.rowAt = now;
      afterPaint((at) => { bench.rowPaintAt = at; });
    }
    for (const record of records) {
      if (record.type !== "attributes" || record.target.tagName !== "TABLE") continue;
      const entry = { at: now, value: record.target.getAttribute("aria-busy"), paintAt: null };
      bench.busy.push(entry);
      if (entry.value === "false") afterPaint((at) => { entry.paintAt = at; });
    }
  }).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["aria-busy"],
  });
})();
"""

#: Resolves once the first row is painted after the sign-in form was submitted.
SIGNED_IN = """
() => {
  const b = window.__bench;
  if (b.rowPaintAt === null) return false;
  const last = (part) => performance.getEntriesByType("resource")
    .filter((e) => e.name.includes(part)).map((e) => e.responseEnd).pop() ?? null;
  const list = performance.getEntriesByType("resource")
    .find((e) => e.name.includes("/api/tickets?"));
  return { submit: b.submitAt, row: b.rowAt, painted: b.rowPaintAt,
           signIn: last("/api/auth/sign-in"), listStart: list ? list.startTime : null,
           listEnd: list ? list.responseEnd : null };
}
"""

#: Resolves once the list shows the answer to a request started by the armed click; or reports
#: that no list request followed (the change did not alter the list's query).
CHANGED = """
() => {
  const b = window.__bench;
  if (b.clickAt === null) return false;
  const from = b.downAt ?? b.clickAt;
  const list = performance.getEntriesByType("resource")
    .find((e) => e.name.includes("/api/tickets?") && e.startTime >= from);
  if (!list) {
    const busy = b.busy.some((e) => e.at >= from && e.value === "true");
    return performance.now() - b.clickAt > 5000 ? { skipped: true } : false;
  }
  if (!list.responseEnd) return false;
  const shown = b.busy.find((e) => e.value === "false" && e.at >= list.responseEnd && e.paintAt);
  if (!shown) return false;
  return { click: b.clickAt, requestStart: list.startTime, responseEnd: list.responseEnd,
           rendered: shown.at, painted: shown.paintAt, url: list.name };
}
"""

#: A Select's label → the query parameter of ``GET /tickets`` it sets (None: the view links).
CONTROLS: dict[str, str | None] = {
    "Status": "status=",
    "Priority": "priority=",
    "Team": "team_id=",
    "Agent": "assignee=",
    "Sort by": "sort=",
    "view": None,
}


@dataclass
class SignIn:
    total: float  # submit → first row painted, ms
    auth: float  # submit → sign-in response received
    until_list: float  # sign-in response received → list request sent
    list_request: float  # the list request: sent → received
    after_list: float  # list received → first row painted


@dataclass
class Change:
    control: str
    option: str
    total: float  # click → the new rows painted, ms
    until_request: float  # click → the list request sent
    request: float  # the list request: sent → received
    after_response: float  # received → painted


def start_stack(
    stack: Stack, start: Callable[..., Any], email: str, password: str, web_dir: Path = WEB_DIST
) -> str:
    """The ticket service (this checkout's migrations first) and the gateway serving the built
    portal on the kept data set; returns the gateway's URL."""
    began = time.monotonic()
    stack.migrate(None)
    stack.start_service(None)
    print(f"ticket service ready in {time.monotonic() - began:.0f} s", flush=True)
    server = stack.postgres.dsn("postgres")
    create_database(server, GATEWAY_DATABASE)
    private, public = ensure_dev_keys(stack.home / "jwt")
    common = shared_env(stack.dsn, stack.kafka.bootstrap, (private, public), stack.home / "blobs")
    dead = f"http://127.0.0.1:{free_port()}"  # services not started: the gateway answers 502
    url, _, _ = start_gateway(
        start,
        common=common,
        ticket_url=stack.url,
        # No mail is sent: the gateway follows the directory from now on (no invitations).
        mail=MailServer("127.0.0.1", free_port(), 0, 0),
        web_dir=web_dir,
        upstreams=dict.fromkeys(NOT_STARTED, dead),
        manager=(email, "Agen 0-1", password),
        extra={
            "HELPDESK_DATABASE_URL": database_dsn(server, GATEWAY_DATABASE),
            "HELPDESK_GATEWAY_AUTH_RATE_LIMIT": "600/minute",
            "HELPDESK_GATEWAY_ACCOUNT_RATE_LIMIT": "600/minute",
        },
    )
    print(f"gateway ready at {url} in {time.monotonic() - began:.0f} s", flush=True)
    return url


def new_context(browser: Browser) -> BrowserContext:
    context = browser.new_context(
        locale="en-US", timezone_id="Asia/Jakarta", viewport={"width": 1440, "height": 900}
    )
    context.set_default_timeout(60_000)
    context.add_init_script(PROBE)
    return context


def wait(page: Page, condition: str) -> dict[str, Any]:
    """The marks ``condition`` returns once true; on a timeout, what the page shows and what
    the probe saw, for the person running the bench."""
    try:
        marks: dict[str, Any] = page.wait_for_function(
            condition, polling=50, timeout=60_000
        ).json_value()
    except PlaywrightTimeout:
        probe = page.evaluate("JSON.stringify(window.__bench)")
        text = page.locator("body").inner_text()[:2000]
        raise SystemExit(f"timed out at {page.url}\nprobe: {probe}\npage:\n{text}") from None
    return marks


def sign_in(page: Page, url: str, email: str, password: str) -> SignIn:
    page.goto(f"{url}/agent/")
    expect(page.get_by_role("heading", name="Sign in to the agent portal")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password")).fill(password)
    page.get_by_role("button", name="Sign in").click()
    marks = wait(page, SIGNED_IN)
    if marks["signIn"] is None or marks["listEnd"] is None:
        raise SystemExit(f"sign-in or list request not seen: {marks}")
    return SignIn(
        total=marks["painted"] - marks["submit"],
        auth=marks["signIn"] - marks["submit"],
        until_list=marks["listStart"] - marks["signIn"],
        list_request=marks["listEnd"] - marks["listStart"],
        after_list=marks["painted"] - marks["listEnd"],
    )


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Account of").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to the agent portal")).to_be_visible()


def options_of(page: Page) -> dict[str, list[str]]:
    """Every choice the list offers: each Select's options (opened and read) and the views."""
    choices: dict[str, list[str]] = {}
    for control in CONTROLS:
        if control == "view":
            links = page.get_by_role("navigation", name="Ticket views").get_by_role("link")
            choices[control] = links.all_inner_texts()
            continue
        page.get_by_role("combobox", name=control, exact=True).click()
        expect(page.get_by_role("option").first).to_be_visible()
        choices[control] = page.get_by_role("option").all_inner_texts()
        page.keyboard.press("Escape")
    return choices


def change_filters(page: Page, count: int, rng: random.Random) -> list[Change]:
    """``count`` filter changes as an agent clicks them, each to a state not seen before."""
    choices = options_of(page)
    state: dict[str, str] = {"view": "Ticket list"}
    seen = {frozenset(state.items()), frozenset()}
    changes: list[Change] = []
    skipped = 0
    while len(changes) < count:
        control = rng.choice(list(CONTROLS))
        if control == "view":
            options = [(o, {"view": o}) for o in choices[control]]
        else:
            shown = page.get_by_role("combobox", name=control, exact=True).input_value()
            options = [(o, state | {control: o}) for o in choices[control] if o != shown]
        options = [(o, s) for o, s in options if frozenset(s.items()) not in seen]
        if not options:
            continue
        option, after = rng.choice(options)
        if control != "view":
            # Open the select first: the change is the option's click, armed only now (armed
            # before this click, main's figures up to 1dc26c0 timed from the combobox's click:
            # the dropdown opening and Playwright's own checks before the option's click).
            page.get_by_role("combobox", name=control, exact=True).click()
            expect(page.get_by_role("option", name=option, exact=True)).to_be_visible()
        page.evaluate("window.__bench.clickAt = window.__bench.downAt = null;"
                      " performance.clearResourceTimings(); window.__bench.busy = [];"
                      " window.__bench.armed = true")  # fmt: skip
        if control == "view":
            nav = page.get_by_role("navigation", name="Ticket views")
            nav.get_by_role("link", name=option, exact=True).click()
        else:
            page.get_by_role("option", name=option, exact=True).click()
        marks = wait(page, CHANGED)
        seen.add(frozenset(after.items()))
        state = after
        if marks.get("skipped"):
            skipped += 1  # the same query as before (e.g. "Me" on "My tickets"): no request
            continue
        parameter = CONTROLS[control]
        if parameter is not None and parameter not in marks["url"]:
            raise SystemExit(f"{control} = {option}: the list asked {marks['url']}")
        changes.append(
            Change(
                control=control,
                option=option,
                total=marks["painted"] - marks["click"],
                until_request=marks["requestStart"] - marks["click"],
                request=marks["responseEnd"] - marks["requestStart"],
                after_response=marks["painted"] - marks["responseEnd"],
            )
        )
    if skipped:
        print(f"  ({skipped} changes left the list's query as it was: not counted)")
    return changes


def line(name: str, values: list[float], load: str, parts: str = "") -> str:
    return (
        f"| {name} | {len(values)} | {percentile(values, 0.5):,.0f} |"
        f" {percentile(values, 0.95):,.0f} | {max(values):,.0f} | {parts} | {load} |"
    )


def p50s(**parts: list[float]) -> str:
    return ", ".join(f"{name} {percentile(v, 0.5):,.0f}" for name, v in parts.items())


def report_sign_ins(name: str, runs: list[SignIn], load: str) -> None:
    parts = p50s(
        auth=[r.auth for r in runs],
        app=[r.until_list for r in runs],
        list=[r.list_request for r in runs],
        paint=[r.after_list for r in runs],
    )
    print(line(name, [r.total for r in runs], load, parts), flush=True)


def change_parts(changes: list[Change]) -> str:
    return p50s(
        react=[c.until_request for c in changes],
        list=[c.request for c in changes],
        paint=[c.after_response for c in changes],
    )


def report_changes(name: str, changes: list[Change], load: str) -> None:
    print(line(name, [c.total for c in changes], load, change_parts(changes)), flush=True)
    # View switches apart from the selects' changes: a view mounts a page of other tickets,
    # a select often keeps most rows of the page it narrows (issue #17's slowest changes).
    for kind, of in (
        ("view switches", [c for c in changes if c.control == "view"]),
        ("select changes", [c for c in changes if c.control != "view"]),
    ):
        if of:
            print(line(f"{name}: {kind}", [c.total for c in of], load, change_parts(of)))
    for control in CONTROLS:
        of = [c for c in changes if c.control == control]
        if of:
            print(f"  {control}: N {len(of)}, p50 {percentile([c.total for c in of], 0.5):,.0f}"
                  f" ms, max {max(c.total for c in of):,.0f} ms")  # fmt: skip


def measure(url: str, email: str, password: str, runs: int, changes: int, seed: int) -> None:
    print(
        "\n| measure (in-page performance.now(), ms) | N | p50 | p95 | max | p50 of the parts |"
        " load average (1, 5, 15 min) at the end |\n|---|---:|---:|---:|---:|---|---|",
        flush=True,
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            cold: list[SignIn] = []
            for _ in range(runs):
                context = new_context(browser)
                page = context.new_page()
                cold.append(sign_in(page, url, email, password))
                if len(cold) < runs:
                    context.close()
            report_sign_ins("cold: sign-in → first row painted", cold, loadavg())
            cold_changes = change_filters(page, changes, random.Random(seed))
            report_changes("cold: filter change → list painted", cold_changes, loadavg())
            context.close()

            context = new_context(browser)
            page = context.new_page()
            sign_in(page, url, email, password)  # fills the HTTP cache; not counted
            warm: list[SignIn] = []
            for _ in range(runs):
                sign_out(page)
                warm.append(sign_in(page, url, email, password))
            report_sign_ins("warm: sign-in → first row painted", warm, loadavg())
            warm_changes = change_filters(page, changes, random.Random(seed + 1))
            report_changes("warm: filter change → list painted", warm_changes, loadavg())
            context.close()
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--reuse",
        type=Path,
        metavar="DIR",
        default=Path("/tmp/tix-bench/data"),
        help="a data set kept by bench/reports_1m.py --keep DIR (default: %(default)s)",
    )
    parser.add_argument("--runs", type=int, default=20, help="sign-ins, cold and warm each")
    parser.add_argument("--changes", type=int, default=50, help="filter changes, cold and warm")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument(
        "--web-dist",
        type=Path,
        default=WEB_DIST,
        help="the built portals to serve, e.g. another revision's (default: %(default)s)",
    )
    args = parser.parse_args()
    if not (args.reuse / STATE_FILE).is_file():
        parser.error(f"{args.reuse} holds no data set kept by bench/reports_1m.py --keep")
    if not (args.web_dist / "agent" / "index.html").is_file():
        parser.error("web/dist/agent is missing: run `make web-build` first")
    if not Path(CHROMIUM).exists():
        parser.error(f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium")
    print(describe(), f"load average {loadavg()}", flush=True)
    _, loaded = load_state(args.reuse)
    password = secrets.token_urlsafe(18)
    events = loaded["ticket_events"] + loaded["sla_events"]
    with (
        throwaway_stack(args.reuse) as stack,
        tempfile.TemporaryDirectory(prefix="agent-list-logs-") as logs,
        running_services(Path(logs)) as start,
    ):
        print(f"data set: {args.reuse} ({events:,.0f} events)", flush=True)
        url = start_stack(stack, start, AGENT_EMAIL, password, args.web_dist)
        measure(url, AGENT_EMAIL, password, args.runs, args.changes, args.seed)
        print(f"\nend: load average {loadavg()}", flush=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _exit_on_term)  # unwinds: the stack is stopped
    expect.set_options(timeout=60_000)  # a loaded machine draws the sign-in form in > 5 s
    main()
