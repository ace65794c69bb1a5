"""The team stage as a pure function of (message, table): choices, load, waiting, redelivery."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from assignment_service.domain.rule_set import RuleSet, fold_rules
from assignment_service.domain.ticket_facts import TicketFacts
from assignment_service.service_layer.team_stage import (
    RECONCILE_GRACE,
    Outcome,
    handle,
    team_key,
)
from helpdesk_events import StatusCategory

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TEAM = uuid.UUID(int=0x100)
NEXT_TIER = uuid.UUID(int=0x200)
AGENTS = [uuid.UUID(int=i) for i in (1, 2, 3)]


class Table:
    """The stage's table: applies an outcome's writes as the worker does after the send."""

    def __init__(self, rules: RuleSet | None = None) -> None:
        self.data: dict[str, Any] = {}
        self.rules: RuleSet = rules or {}

    def send(self, message: dict[str, Any]) -> Outcome:
        outcome = handle(message, self.data.get, self.rules, NOW, self.scan)
        self.write(outcome.ordered_writes())
        return outcome

    def scan(self, prefix: str) -> list[tuple[str, Any]]:
        return [(key, value) for key, value in self.data.items() if key.startswith(prefix)]

    def write(self, writes: list[tuple[str, Any]]) -> None:
        for key, value in writes:
            if value is None:
                self.data.pop(key, None)
            else:
                self.data[key] = value

    def load(self, agent: uuid.UUID) -> int:
        loads: dict[str, int] = self.data[team_key(TEAM)].get("loads", {})
        return loads.get(str(agent), 0)


def team(table: Table, *, escalates_to: uuid.UUID | None = None) -> None:
    table.send(
        {
            "kind": "team",
            "team_id": str(TEAM),
            "name": "L1",
            "escalates_to": str(escalates_to) if escalates_to else None,
        }
    )


def member(table: Table, agent: uuid.UUID, availability: str = "active", **kw: Any) -> Outcome:
    return table.send(
        {
            "kind": "member",
            "team_id": str(TEAM),
            "agent_id": str(agent),
            "member": kw.get("member", True),
            "availability": availability,
            "active": kw.get("active", True),
            "email": kw.get("email"),
        }
    )


def facts(version: int = 1, ticket: uuid.UUID | None = None, **fields: Any) -> TicketFacts:
    defaults: dict[str, Any] = {"status": "Open", "priority": "Medium"}
    return TicketFacts(
        ticket_id=ticket or uuid.uuid4(),
        version=version,
        last_event_id=uuid.uuid4(),
        team_id=TEAM,
        **(defaults | fields),
    )


def ticket(table: Table, ticket_facts: TicketFacts) -> Outcome:
    return table.send(
        {"kind": "ticket", "team_id": str(TEAM), "facts": ticket_facts.model_dump(mode="json")}
    )


def chosen(outcome: Outcome) -> uuid.UUID:
    (command,) = outcome.commands
    assert command.event_type == "AssignTicket"
    return uuid.UUID(command.data["agent_id"])


def staffed_table(rules: RuleSet | None = None) -> Table:
    table = Table(rules)
    team(table)
    for agent in AGENTS:
        member(table, agent)
    return table


def test_a_burst_is_spread_in_turn_before_any_answer_comes_back() -> None:
    table = staffed_table()
    picks = [chosen(ticket(table, facts())) for _ in range(7)]
    assert picks[:3] == AGENTS
    counts = Counter(picks)
    assert max(counts.values()) - min(counts.values()) <= 1
    # The provisional load is counted at once.
    assert [table.load(a) for a in AGENTS] == [3, 2, 2]


def test_a_redelivered_request_resends_the_same_command_and_moves_nothing() -> None:
    table = staffed_table()
    request = facts()
    first = ticket(table, request)
    before = dict(table.data)
    again = ticket(table, request)
    assert [c.event_id for c in again.commands] == [c.event_id for c in first.commands]
    assert again.commands[0].data == first.commands[0].data
    assert table.data == before


def test_replaying_before_the_write_makes_the_same_choice() -> None:
    table = staffed_table()
    request = facts()
    # The worker crashed after sending, before writing: the table is as before.
    first = handle(
        {"kind": "ticket", "team_id": str(TEAM), "facts": request.model_dump(mode="json")},
        table.data.get,
        {},
        NOW,
        table.scan,
    )
    replay = ticket(table, request)
    assert replay.commands[0].event_id == first.commands[0].event_id
    assert chosen(replay) == chosen(first)


def _handle(table: Table, request: TicketFacts) -> Outcome:
    message = {"kind": "ticket", "team_id": str(TEAM), "facts": request.model_dump(mode="json")}
    return handle(message, table.data.get, table.rules, NOW, table.scan)


def test_a_crash_between_the_slot_and_the_team_record_is_settled_on_redelivery() -> None:
    table = staffed_table()
    first, second = facts(), facts()
    outcome = _handle(table, first)
    writes = outcome.ordered_writes()
    assert writes[-1][0] == team_key(TEAM)  # the slot goes first, the team record last
    table.write(writes[:-1])  # kill -9: the team record never reached the changelog
    redelivered = ticket(table, first)
    assert [c.event_id for c in redelivered.commands] == [c.event_id for c in outcome.commands]
    assert table.load(chosen(outcome)) == 1
    # The cursor moved past the first choice: the next ticket goes to the next agent.
    assert chosen(ticket(table, second)) == AGENTS[1]
    assert [table.load(a) for a in AGENTS] == [1, 1, 0]


def test_every_crash_point_in_a_burst_keeps_the_turns_fair() -> None:
    # Whatever prefix of a decision's writes survives a crash, the burst ends up spread evenly
    # and every ticket keeps its first choice.
    for cut in range(3):
        table = staffed_table()
        requests = [facts() for _ in range(9)]
        first_choice: dict[uuid.UUID, uuid.UUID] = {}
        for index, request in enumerate(requests):
            outcome = _handle(table, request)
            first_choice[request.ticket_id] = chosen(outcome)
            writes = outcome.ordered_writes()
            if index == 4:
                table.write(writes[:cut])  # the crash; then the message comes again
                outcome = ticket(table, request)
                assert chosen(outcome) == first_choice[request.ticket_id]
            else:
                table.write(writes)
        counts = Counter(first_choice.values())
        assert sorted(counts.values()) == [3, 3, 3], cut
        assert [table.load(a) for a in AGENTS] == [3, 3, 3], cut


def test_when_the_assignment_comes_back_the_load_follows_the_facts() -> None:
    table = staffed_table()
    request = facts()
    agent = chosen(ticket(table, request))
    assigned = request.model_copy(
        update={"version": 2, "assignee_id": agent, "assignment_method": "rule"}
    )
    assert ticket(table, assigned).commands == []
    assert table.load(agent) == 1
    # Reassigned by hand to someone else: the load moves; resolved: it goes.
    other = next(a for a in AGENTS if a != agent)
    by_hand = assigned.model_copy(
        update={"version": 3, "assignee_id": other, "assignment_method": "manual"}
    )
    assert ticket(table, by_hand).commands == []
    assert (table.load(agent), table.load(other)) == (0, 1)
    resolved = by_hand.model_copy(update={"version": 4, "status_category": StatusCategory.RESOLVED})
    ticket(table, resolved)
    assert table.load(other) == 0


def test_nobody_available_waits_until_someone_is() -> None:
    table = Table()
    team(table)
    member(table, AGENTS[0], "unavailable")
    waiting = facts()
    assert ticket(table, waiting).commands == []
    assert member(table, AGENTS[1], "away").commands[0].data["agent_id"] == str(AGENTS[1])
    # Not twice.
    assert member(table, AGENTS[2]).commands == []


def test_a_deactivated_member_gets_nothing() -> None:
    table = Table()
    team(table)
    member(table, AGENTS[0], active=False)
    member(table, AGENTS[1])
    assert {chosen(ticket(table, facts())) for _ in range(3)} == {AGENTS[1]}


def test_load_balancing_rule_takes_the_least_loaded() -> None:
    rule = {
        "rule_id": "lb",
        "name": "lb",
        "order": 1,
        "method": "load_balancing",
        "teams": [str(TEAM)],
    }
    table = staffed_table(fold_rules({}, "AssignmentRuleSaved", {"rule": rule}))
    for _ in range(2):
        ticket(table, facts(assignee_id=AGENTS[0], assignment_method="manual"))
    ticket(table, facts(assignee_id=AGENTS[1], assignment_method="manual"))
    # Loads 2, 1, 0: the third agent first, then one each to the two at 1, then all are at 2.
    picks = [chosen(ticket(table, facts())) for _ in range(3)]
    assert picks[0] == AGENTS[2]
    assert sorted(picks[1:]) == [AGENTS[1], AGENTS[2]]
    assert [table.load(a) for a in AGENTS] == [2, 2, 2]


def test_a_ticket_leaving_the_team_frees_its_load() -> None:
    table = staffed_table()
    request = facts()
    agent = chosen(ticket(table, request))
    moved = request.model_copy(update={"version": 2, "team_id": NEXT_TIER})
    ticket(table, moved)
    assert table.load(agent) == 0


def test_breach_escalates_only_when_the_rule_says_so_and_the_team_has_a_next_tier() -> None:
    escalating = {"rule_id": "esc", "name": "esc", "teams": [str(TEAM)], "escalate_on_breach": True}
    breached = facts()
    message = {
        "kind": "breach",
        "team_id": str(TEAM),
        "cause": str(uuid.uuid4()),
        "facts": breached.model_dump(mode="json"),
    }

    plain = staffed_table()
    team(plain, escalates_to=NEXT_TIER)
    assert plain.send(message).commands == []

    table = staffed_table(fold_rules({}, "AssignmentRuleSaved", {"rule": escalating}))
    assert table.send(message).commands == []  # no next tier yet
    team(table, escalates_to=NEXT_TIER)
    (command,) = table.send(message).commands
    assert command.event_type == "EscalateTicket"
    assert command.data["from_team_id"] == str(TEAM)
    assert command.data["reason"] == "sla_breach"
    assert command.causation_id == uuid.UUID(message["cause"])


def test_a_rule_takes_back_its_ticket_when_its_unassign_condition_holds_never_a_manual_one() -> (
    None
):
    rule = {
        "rule_id": "urgent",
        "name": "urgent",
        "order": 1,
        "teams": [str(TEAM)],
        "assign_condition": 'priority == "Urgent"',
        "unassign_condition": '"spam" in tags',
    }
    table = staffed_table(fold_rules({}, "AssignmentRuleSaved", {"rule": rule}))
    by_rule = facts(
        priority="Urgent", assignee_id=AGENTS[0], assignment_method="rule", rule_id="urgent"
    )
    assert ticket(table, by_rule).commands == []
    spam = by_rule.model_copy(update={"version": 2, "tags": ("spam",)})
    (command,) = ticket(table, spam).commands
    assert command.event_type == "UnassignTicket"
    assert command.data["assignee_id"] == str(AGENTS[0])
    assert command.data["expected_version"] == 2

    by_hand = spam.model_copy(
        update={"ticket_id": uuid.uuid4(), "assignment_method": "manual", "rule_id": None}
    )
    assert ticket(table, by_hand).commands == []
    # Unassigned and still spam: neither the urgent rule nor the team default takes it back
    # (it was unassigned on purpose), and it is not reported as unassignable.
    released = spam.model_copy(
        update={"version": 3, "assignee_id": None, "assignment_method": None, "rule_id": None}
    )
    assert table.load(AGENTS[0]) == 2  # the spam ticket and the one assigned by hand
    held = ticket(table, released)
    assert held.commands == [] and held.events == []
    assert table.load(AGENTS[0]) == 1  # the released ticket's capacity is freed
    # No longer spam: assigned again.
    cleaned = released.model_copy(update={"version": 4, "tags": ()})
    (assign,) = ticket(table, cleaned).commands
    assert assign.data["rule_id"] == "urgent"


def test_a_decision_for_an_agent_who_leaves_before_it_lands_is_made_again() -> None:
    # The ticket service refuses AssignTicket for a non-member: the worker must not wait forever.
    table = staffed_table()
    request = facts()
    first = ticket(table, request)
    leaver = chosen(first)
    again = member(table, leaver, member=False)
    (command,) = again.commands
    assert command.event_type == "AssignTicket"
    assert command.stream_id == request.ticket_id
    assert command.event_id != first.commands[0].event_id  # a new command, not a duplicate
    assert uuid.UUID(command.data["agent_id"]) not in (leaver,)
    assert table.load(leaver) == 0
    assert table.load(uuid.UUID(command.data["agent_id"])) == 1


def test_a_deactivated_agent_s_pending_decision_is_made_again_but_an_answered_one_is_not() -> None:
    table = staffed_table()
    pending, answered = facts(), facts()
    agent = chosen(ticket(table, pending))
    ticket(table, facts())
    ticket(table, facts())
    assert chosen(ticket(table, answered)) == agent  # round robin came back to them
    came_back = answered.model_copy(
        update={"version": 2, "assignee_id": agent, "assignment_method": "rule"}
    )
    ticket(table, came_back)
    outcome = member(table, agent, active=False)
    assert [c.stream_id for c in outcome.commands] == [pending.ticket_id]
    assert table.load(agent) == 1  # the answered ticket stays theirs


def test_a_redelivered_member_change_makes_the_same_new_decision() -> None:
    table = staffed_table()
    ticket(table, facts())
    message = {"kind": "member", "team_id": str(TEAM), "agent_id": str(AGENTS[0]), "member": False}
    crashed = handle(message, table.data.get, table.rules, NOW, table.scan)  # never written
    replayed = table.send(message)
    assert [c.event_id for c in replayed.commands] == [c.event_id for c in crashed.commands]


# --- reconciliation (reliability issue #13) ---------------------------------------------------


def reconcile(table: Table, ticket_facts: TicketFacts, at: datetime) -> Outcome:
    message = {
        "kind": "reconcile",
        "team_id": str(TEAM),
        "facts": ticket_facts.model_dump(mode="json"),
    }
    outcome = handle(
        orjson.loads(orjson.dumps(message)), table.data.get, table.rules, at, table.scan
    )
    table.write(outcome.ordered_writes())
    return outcome


LATER = NOW + RECONCILE_GRACE + timedelta(seconds=1)


def test_reconcile_decides_a_ticket_whose_forward_was_lost() -> None:
    """The issue's ticket: the facts stage holds it with its team, the team stage never saw it."""
    table = staffed_table()
    lost = facts()
    outcome = reconcile(table, lost, NOW)
    assert chosen(outcome) == AGENTS[0]
    assert table.load(AGENTS[0]) == 1
    # Reconciled again before the answer is back: nothing new is decided.
    assert reconcile(table, lost, NOW).commands == []


def test_reconcile_resends_an_unanswered_decision_with_its_own_id_after_the_grace() -> None:
    table = staffed_table()
    request = facts()
    first = ticket(table, request)
    assert reconcile(table, request, NOW + timedelta(seconds=1)).commands == []
    again = reconcile(table, request, LATER)
    assert [c.event_id for c in again.commands] == [c.event_id for c in first.commands]
    assert [table.load(a) for a in AGENTS] == [1, 0, 0]


def test_reconcile_decides_again_when_the_ticket_changed_since_its_unanswered_decision() -> None:
    table = staffed_table()
    request = facts()
    first = ticket(table, request)
    changed = request.model_copy(update={"version": 2, "priority": "High"})
    ticket(table, changed)  # kept the pending decision, made for version 1
    again = reconcile(table, changed, LATER)
    (command,) = again.commands
    assert command.event_id != first.commands[0].event_id
    assert command.data["expected_version"] == 2
    assert sum(table.load(a) for a in AGENTS) == 1  # the old provisional load moved


def test_reconcile_puts_a_waiting_ticket_back_on_the_waiting_list() -> None:
    table = Table()
    team(table)  # nobody in the team: the ticket waits
    request = facts()
    assert ticket(table, request).commands == []
    key = team_key(TEAM)
    table.data[key] = {**table.data[key], "waiting": []}  # a crash lost the team record's part
    assert reconcile(table, request, LATER).commands == []
    assert table.data[key]["waiting"] == [str(request.ticket_id)]
    assert chosen(member(table, AGENTS[0])) == AGENTS[0]


def test_reconcile_with_older_facts_or_for_an_assigned_ticket_does_nothing() -> None:
    table = staffed_table()
    request = facts()
    ticket(table, request)
    newer = request.model_copy(update={"version": 3})
    ticket(table, newer)
    assert reconcile(table, request, LATER).commands == []
    assigned = newer.model_copy(update={"version": 4, "assignee_id": AGENTS[0]})
    assert reconcile(table, assigned, LATER).commands == []
