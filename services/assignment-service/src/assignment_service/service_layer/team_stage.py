"""The team stage: one team's members, open load, cursors and pending decisions (no I/O).

Messages reach it keyed by team id (the worker repartitions ticket facts by team), so one team's
state is changed by one stream at a time. State lives in a key-value table under three kinds of
keys, so a change writes only what it touches:

* ``team:<team>`` - :class:`TeamInfo`: name, escalation target, members with availability,
  their open load in the team, round-robin cursors, the tickets waiting for an agent and the
  sequence number of the last decision it includes;
* ``ticket:<team>:<ticket>`` - :class:`TicketSlot`: the last ticket version seen, whose open load
  it counts in, the facts (while it waits) and the decision sent for it (with its sequence
  number).

:func:`handle` returns the commands to send and the writes to make; the worker sends the
commands, waits for Kafka's acknowledgement, then writes - ticket slots before the team record
(:meth:`Outcome.ordered_writes`). The two records reach the changelog one after the other, so a
``kill -9`` between them can keep a slot's decision and lose the team's cursor and load. The
decision's sequence number tells: a slot whose decision is newer than the team record is settled
into it (:func:`_settle`) before anything else reads the team, so the next choice goes on from
the right cursor and nobody's load is lost or counted twice. A crash before the slot is written
replays the message against the old state, which makes the same choice: same agent, same command
id.

A decision is recorded at once (cursor moved, the ticket counted in the agent's load), so a burst
of tickets is spread before the ``TicketAssigned`` events come back; when the ticket comes back
assigned (to that agent or, by hand, to another) the load follows the facts.

Reconciliation (reliability issue #13). Every stage writes its state and produces its output in
two steps, and neither Kafka nor Faust makes them one here (at-least-once: the output is
acknowledged before the state is written, and the input's offset is committed later still). What
one stage did right is still lost further on when a process dies at the wrong instant - the
forwarded facts or the ``AssignTicket`` never acted on (a ``kill -9`` of the worker together with
the ticket service's command consumer and relay left a ticket with a team, no assignee and a
decision nobody applied; the stage believed it done and waited for an answer that never came).
So the worker re-sends, periodically and after recovery, the facts of every open team ticket
without an assignee as a ``reconcile`` message (:func:`_on_reconcile`): a ticket the team stage
never saw is decided; a decision older than :data:`RECONCILE_GRACE` that has no answer yet is
sent again with the same command id (the ticket service applies an id once), or made again when
the ticket changed since (the old command's expected version is refused); a waiting ticket is put
back on the waiting list if a crash took it off.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict

from assignment_service.domain import (
    AgentPool,
    AgentState,
    AssignmentRule,
    Availability,
    assignment_closed,
    choose_agent,
    record_assignment,
    select_rule,
    should_unassign,
)
from assignment_service.domain.rule_set import RuleSet, effective_rules
from assignment_service.domain.ticket_facts import TicketFacts
from helpdesk_events import Actor, ActorKind, EventEnvelope, derived_event_id
from helpdesk_events.assignment import ASSIGNMENT_STREAM, AssignmentBlocked, UnassignableReason
from helpdesk_events.commands import (
    TICKET_COMMAND,
    AssignTicket,
    EscalateTicket,
    EscalationReason,
    UnassignTicket,
)
from helpdesk_events.registry import DomainEvent

log = structlog.get_logger("assignment_service.team_stage")

SERVICE_ACTOR = Actor(kind=ActorKind.SERVICE, id="assignment-service")

__all__ = [
    "RECONCILE_GRACE",
    "Outcome",
    "PendingDecision",
    "TeamInfo",
    "TicketSlot",
    "Unassignable",
    "command_envelope",
    "handle",
    "unassignable_slots",
]

#: A decision younger than this is left alone by reconciliation: its answer may be on its way.
RECONCILE_GRACE = timedelta(seconds=10)


class PendingDecision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    command: dict[str, Any]  # the AssignTicket envelope, as JSON, re-sent unchanged
    agent_id: uuid.UUID
    version: int
    seq: int = 0  # the team's decision number (0: made before decisions were numbered)
    cursor_key: str | None = None  # the round-robin cursor the decision moved


class TeamInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    team_id: uuid.UUID
    known: bool = False  # TeamCreated seen: the team's default rule exists
    name: str = ""
    tier: int | None = None
    escalates_to: uuid.UUID | None = None
    members: dict[uuid.UUID, AgentState] = {}
    loads: dict[uuid.UUID, int] = {}  # open tickets per agent in this team
    cursors: dict[str, uuid.UUID] = {}
    waiting: tuple[uuid.UUID, ...] = ()
    decisions: int = 0  # sequence number of the last decision counted in cursors and loads


class Unassignable(BaseModel):
    """Why a waiting ticket has no agent (told once per reason as ``AssignmentBlocked``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: UnassignableReason
    detail: str = ""
    rule_id: str | None = None
    since: datetime


class TicketSlot(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    holder: uuid.UUID | None = None
    facts: TicketFacts
    decided: PendingDecision | None = None
    #: Set while the ticket waits because nobody can take it (not while an unassign condition
    #: holds: that ticket waits on purpose).
    unassignable: Unassignable | None = None


@dataclass
class Outcome:
    commands: list[EventEnvelope] = field(default_factory=list)
    #: ``AssignmentBlocked`` events for ``helpdesk.assignment.v1``.
    events: list[EventEnvelope] = field(default_factory=list)
    writes: dict[str, Any] = field(default_factory=dict)  # value None: delete the key

    def ordered_writes(self) -> list[tuple[str, Any]]:
        """The writes, ticket slots before team records (see the module docstring)."""
        return sorted(self.writes.items(), key=lambda item: item[0].startswith("team:"))


def team_key(team_id: uuid.UUID) -> str:
    return f"team:{team_id}"


def ticket_key(team_id: uuid.UUID, ticket_id: uuid.UUID | None) -> str:
    """A ticket slot's key; without a ticket, the prefix of all the team's slots."""
    return f"ticket:{team_id}:{ticket_id or ''}"


class _View:
    """The table as the handler sees it: reads fall through to the table, writes are kept."""

    def __init__(
        self, read: Callable[[str], Any], scan: Callable[[str], Iterable[tuple[str, Any]]]
    ) -> None:
        self._read = read
        self._scan = scan
        self.outcome = Outcome()
        # Parsed team infos (validating one costs more than the rest of a decision).
        self._teams: dict[uuid.UUID, TeamInfo] = {}

    def get(self, key: str) -> Any:
        if key in self.outcome.writes:
            return self.outcome.writes[key]
        return self._read(key)

    def put(self, key: str, value: Any) -> None:
        self.outcome.writes[key] = value

    def scan(self, prefix: str) -> list[tuple[str, Any]]:
        """The entries whose key starts with ``prefix``, as this handler sees them."""
        found = dict(self._scan(prefix))
        found.update((k, v) for k, v in self.outcome.writes.items() if k.startswith(prefix))
        return [(key, value) for key, value in found.items() if value is not None]

    def team(self, team_id: uuid.UUID) -> TeamInfo:
        info = self._teams.get(team_id)
        if info is None:
            raw = self.get(team_key(team_id))
            info = TeamInfo(team_id=team_id) if raw is None else TeamInfo.model_validate(raw)
            self._teams[team_id] = info
        return info

    def put_team(self, info: TeamInfo) -> None:
        self._teams[info.team_id] = info
        self.put(team_key(info.team_id), info.model_dump(mode="json"))

    def slot(self, team_id: uuid.UUID, ticket_id: uuid.UUID) -> TicketSlot | None:
        raw = self.get(ticket_key(team_id, ticket_id))
        return None if raw is None else TicketSlot.model_validate(raw)

    def put_slot(self, team_id: uuid.UUID, ticket_id: uuid.UUID, slot: TicketSlot | None) -> None:
        value = None if slot is None else slot.model_dump(mode="json")
        self.put(ticket_key(team_id, ticket_id), value)

    def move_load(self, team_id: uuid.UUID, old: uuid.UUID | None, new: uuid.UUID | None) -> None:
        if old == new:
            return
        info = self.team(team_id)
        loads = dict(info.loads)
        if old is not None:
            loads[old] = max(0, loads.get(old, 0) - 1)
        if new is not None:
            loads[new] = loads.get(new, 0) + 1
        self.put_team(info.model_copy(update={"loads": loads}))


def handle(
    message: dict[str, Any],
    read: Callable[[str], Any],
    saved_rules: RuleSet,
    now: datetime,
    scan: Callable[[str], Iterable[tuple[str, Any]]],
) -> Outcome:
    """The commands and table writes one team message leads to.

    ``read`` gets one key of the table; ``scan`` the entries under a key prefix (used only when
    an agent leaves the team or is deactivated).
    """
    view = _View(read, scan)
    team_id = uuid.UUID(message["team_id"])
    kind = message["kind"]
    if kind == "ticket":
        _on_ticket(view, team_id, TicketFacts.model_validate(message["facts"]), saved_rules, now)
    elif kind == "member":
        _on_member(view, team_id, message, saved_rules, now)
        _retry_waiting(view, team_id, saved_rules, now)
    elif kind == "team":
        info = view.team(team_id)
        update: dict[str, Any] = {"known": True, "name": message.get("name") or info.name}
        if "tier" in message:
            update["tier"] = message["tier"]
        if "escalates_to" in message:
            target = message["escalates_to"]
            update["escalates_to"] = uuid.UUID(target) if target else None
        view.put_team(info.model_copy(update=update))
        _retry_waiting(view, team_id, saved_rules, now)
    elif kind == "rules":
        # The rules changed: a waiting ticket may have a rule (or agents) now.
        _retry_waiting(view, team_id, saved_rules, now)
    elif kind == "breach":
        _on_breach(view, team_id, message, saved_rules, now)
    elif kind == "reconcile":
        _on_reconcile(view, team_id, TicketFacts.model_validate(message["facts"]), saved_rules, now)
    return view.outcome


def _on_reconcile(
    view: _View, team_id: uuid.UUID, facts: TicketFacts, saved_rules: RuleSet, now: datetime
) -> None:
    """An open ticket of the team without an assignee, as the facts stage has it now (see the
    module docstring): decide it if nothing is pending for it."""
    if facts.team_id != team_id or not facts.needs_agent:
        return  # (facts stage sends only these; an old message may come late)
    slot = view.slot(team_id, facts.ticket_id)
    if slot is None:
        log.info("reconcile: a ticket the team never saw", ticket_id=str(facts.ticket_id))
        _on_ticket(view, team_id, facts, saved_rules, now)
        return
    _settle(view, team_id, slot)
    if facts.version < slot.version:
        return  # newer facts reached the team already
    decided = slot.decided
    if decided is None:
        if facts.version > slot.version:
            _on_ticket(view, team_id, facts, saved_rules, now)
        elif slot.unassignable is not None:
            _set_waiting(view, team_id, facts.ticket_id, True)  # nobody fits (yet)
        else:
            # Held by its rule's unassign condition: the rules may have changed since.
            _decide(view, team_id, facts, saved_rules, now)
        return
    command = EventEnvelope.model_validate(decided.command)
    if now - command.occurred_at < RECONCILE_GRACE:
        return  # the answer may be on its way
    if decided.version == facts.version:
        log.info("reconcile: decision re-sent", ticket_id=str(facts.ticket_id))
        view.outcome.commands.append(command)
        return
    # The ticket changed since the decision: its command's expected version is refused.
    log.info("reconcile: decided again", ticket_id=str(facts.ticket_id))
    view.move_load(team_id, decided.agent_id, None)
    _decide(view, team_id, facts, saved_rules, now, again=True)


def _on_member(
    view: _View, team_id: uuid.UUID, message: dict[str, Any], saved_rules: RuleSet, now: datetime
) -> None:
    info = view.team(team_id)
    agent_id = uuid.UUID(message["agent_id"])
    members = dict(info.members)
    assignable = message.get("member", True) and bool(message.get("active", True))
    if message.get("member", True):
        members[agent_id] = AgentState(
            agent_id=agent_id,
            availability=Availability(message.get("availability") or Availability.ACTIVE),
            active=bool(message.get("active", True)),
            email=message.get("email"),
        )
    else:
        members.pop(agent_id, None)
    view.put_team(info.model_copy(update={"members": members}))
    if not assignable:
        _redecide_pending(view, team_id, agent_id, saved_rules, now)


def _redecide_pending(
    view: _View, team_id: uuid.UUID, agent_id: uuid.UUID, saved_rules: RuleSet, now: datetime
) -> None:
    """The agent left the team or was deactivated while AssignTicket commands for them were on
    their way: the ticket service refuses those, so the tickets are decided again (with new
    command ids; a command id is applied or refused once)."""
    # A slot keeps its decision until the answer comes back (then it is rewritten without one),
    # so the team's slots with a decision for the agent are the commands still on their way.
    # A scan of the team's slots: agents leave rarely, and no per-decision index is kept.
    unanswered = [
        slot
        for _, raw in sorted(view.scan(ticket_key(team_id, None)))
        if (slot := TicketSlot.model_validate(raw)).decided is not None
        and slot.decided.agent_id == agent_id
    ]
    for slot in sorted(unanswered, key=lambda s: s.decided.seq if s.decided else 0):
        view.move_load(team_id, agent_id, None)
        _decide(view, team_id, slot.facts, saved_rules, now, again=True)


def _on_ticket(
    view: _View, team_id: uuid.UUID, facts: TicketFacts, saved_rules: RuleSet, now: datetime
) -> None:
    slot = view.slot(team_id, facts.ticket_id)
    if slot is not None:
        _settle(view, team_id, slot)
    if slot is not None and facts.version <= slot.version:
        # A redelivery: re-send the decision made for it, unchanged (the ticket service
        # applies a command id once).
        if slot.decided is not None and slot.decided.version == facts.version:
            view.outcome.commands.append(EventEnvelope.model_validate(slot.decided.command))
        return
    old_holder = slot.holder if slot else None
    if facts.team_id == team_id and not facts.needs_agent:
        # (Also in a paused status: "unassign when Pending" is the usual unassign condition.)
        _maybe_unassign(view, facts, saved_rules, now)
    holder = None if _closed(facts, saved_rules) else facts.open_holder
    if facts.team_id != team_id or not (facts.needs_agent or holder):
        # The ticket left the team, left the open statuses or its assignment was closed: it no
        # longer counts here.
        view.move_load(team_id, old_holder, None)
        view.put_slot(team_id, facts.ticket_id, None)
        _set_waiting(view, team_id, facts.ticket_id, False)
        return
    if not facts.needs_agent:
        view.move_load(team_id, old_holder, holder)
        view.put_slot(
            team_id,
            facts.ticket_id,
            TicketSlot(version=facts.version, holder=holder, facts=facts),
        )
        _set_waiting(view, team_id, facts.ticket_id, False)
        return
    if slot is not None and slot.decided is not None:
        # Decided already and the answer has not come back yet: keep that choice (and its
        # provisional load) rather than choosing again for an intermediate change.
        view.put_slot(
            team_id,
            facts.ticket_id,
            slot.model_copy(update={"version": facts.version, "facts": facts}),
        )
        return
    view.move_load(team_id, old_holder, None)
    _decide(view, team_id, facts, saved_rules, now)


def _rules_for(info: TeamInfo, saved_rules: RuleSet) -> list[AssignmentRule]:
    return effective_rules(saved_rules, [(info.team_id, info.name)] if info.known else [])


_HELD = "held"  # _select_rule: the ticket's rule says it stays unassigned for now


def _select_rule(
    info: TeamInfo, saved_rules: RuleSet, fields: dict[str, Any], now: datetime
) -> AssignmentRule | str | None:
    """:func:`select_rule` over the team's rules, without evaluating the implied default's
    condition (``team_id == <this team>``): every ticket the team stage sees is in the team.

    :data:`_HELD` when the first rule that takes the ticket has an unassign condition that holds:
    that rule would take the ticket only to give it back, and a later rule (the team default)
    must not take it either - the ticket was unassigned on purpose and waits until it changes.
    """
    implied = f"team-{info.team_id}"
    for rule in _rules_for(info, saved_rules):
        if rule.rule_id == implied and implied not in saved_rules:
            if rule.is_active(now):
                return rule
        elif rule.applies_to(fields, now):
            return _HELD if should_unassign(rule, fields) else rule
    return None


def _closed(facts: TicketFacts, saved_rules: RuleSet) -> bool:
    """Whether the rule that assigned the ticket says its assignment is closed now."""
    if facts.assignment_method != "rule" or facts.assignee_id is None:
        return False
    rule = saved_rules.get(facts.rule_id or "")
    return rule is not None and assignment_closed(rule, facts.condition_fields())


def _maybe_unassign(view: _View, facts: TicketFacts, saved_rules: RuleSet, now: datetime) -> None:
    """A ticket a rule assigned, whose rule's unassign condition now holds: UnassignTicket.

    Only rule assignments: a manual assignment is never undone by a rule.
    """
    if facts.assignment_method != "rule" or facts.assignee_id is None or facts.merged:
        return
    rule = saved_rules.get(facts.rule_id or "")
    if rule is None or not should_unassign(rule, facts.condition_fields()):
        return
    assert facts.last_event_id is not None
    command = UnassignTicket(
        ticket_id=facts.ticket_id,
        assignee_id=facts.assignee_id,
        expected_version=facts.version,
        rule_id=rule.rule_id,
        reason=f"the unassign condition of rule {rule.rule_id} holds",
    )
    view.outcome.commands.append(command_envelope(command, facts, facts.last_event_id, now))


def _pool(view: _View, info: TeamInfo) -> AgentPool:
    return AgentPool(
        agents=info.members,
        teams={info.team_id: frozenset(info.members)},
        open_load={agent_id: info.loads.get(agent_id, 0) for agent_id in info.members},
        cursors=info.cursors,
    )


def _decide(
    view: _View,
    team_id: uuid.UUID,
    facts: TicketFacts,
    saved_rules: RuleSet,
    now: datetime,
    *,
    again: bool = False,
) -> bool:
    """Choose an agent and send AssignTicket, or put the ticket on the waiting list.

    ``again``: the ticket's earlier decision will be refused; the new command gets its own id.
    """
    info = view.team(team_id)
    fields = facts.condition_fields()
    rule = _select_rule(info, saved_rules, fields, now)
    if rule == _HELD:
        _wait(view, team_id, facts, None, now)
        return False
    if not isinstance(rule, AssignmentRule):
        log.info("no rule takes the ticket", ticket_id=str(facts.ticket_id), team_id=str(team_id))
        detail = (
            "no assignment rule of the team takes the ticket"
            if info.known
            else "the team is unknown to the assignment service, so it has no rule"
        )
        why = Unassignable(reason=UnassignableReason.NO_RULE, detail=detail, since=now)
        _wait(view, team_id, facts, why, now)
        return False
    pool = _pool(view, info)
    decision = choose_agent(rule, fields, pool, now)
    if decision.agent_id is None:
        log.info(
            "nobody fits; the ticket waits",
            ticket_id=str(facts.ticket_id),
            team_id=str(team_id),
            rule_id=rule.rule_id,
            reason=decision.reason,
            detail=decision.detail,
        )
        assert decision.reason is not None
        detail = decision.detail
        if decision.reason is UnassignableReason.NO_CANDIDATES:
            detail = (
                "none of the rule's agents and teams is a member of the ticket's team"
                if info.members
                else "the team has no members"
            )
        why = Unassignable(reason=decision.reason, detail=detail, rule_id=rule.rule_id, since=now)
        _wait(view, team_id, facts, why, now)
        return False
    agent_id = decision.agent_id
    assert facts.last_event_id is not None
    seq = info.decisions + 1
    command = command_envelope(
        AssignTicket(
            ticket_id=facts.ticket_id,
            agent_id=agent_id,
            team_id=team_id,
            expected_version=facts.version,
            rule_id=rule.rule_id,
            method=rule.method.value,
        ),
        facts,
        facts.last_event_id,
        now,
        salt=f"decision-{seq}" if again else None,
    )
    view.outcome.commands.append(command)
    after = record_assignment(pool, rule, agent_id)
    loads = {**info.loads, agent_id: after.load(agent_id)}
    view.put_team(
        info.model_copy(update={"cursors": dict(after.cursors), "loads": loads, "decisions": seq})
    )
    view.put_slot(
        team_id,
        facts.ticket_id,
        TicketSlot(
            version=facts.version,
            holder=agent_id,
            facts=facts,
            decided=PendingDecision(
                command=command.model_dump(mode="json"),
                agent_id=agent_id,
                version=facts.version,
                seq=seq,
                cursor_key=rule.cursor_key,
            ),
        ),
    )
    _set_waiting(view, team_id, facts.ticket_id, False)
    return True


def _settle(view: _View, team_id: uuid.UUID, slot: TicketSlot) -> bool:
    """Count a decision the slot has and the team record lacks (lost in a crash); see the
    module docstring. True when it did."""
    decided = slot.decided
    info = view.team(team_id)
    if decided is None or decided.seq <= info.decisions:
        return False
    cursors = dict(info.cursors)
    if decided.cursor_key is not None:
        cursors[decided.cursor_key] = decided.agent_id
    loads = {**info.loads, decided.agent_id: info.loads.get(decided.agent_id, 0) + 1}
    waiting = tuple(t for t in info.waiting if t != slot.facts.ticket_id)
    view.put_team(
        info.model_copy(
            update={
                "cursors": cursors,
                "loads": loads,
                "decisions": decided.seq,
                "waiting": waiting,
            }
        )
    )
    log.info(
        "decision settled after a crash",
        ticket_id=str(slot.facts.ticket_id),
        team_id=str(team_id),
        seq=decided.seq,
    )
    return True


def _wait(
    view: _View,
    team_id: uuid.UUID,
    facts: TicketFacts,
    why: Unassignable | None,
    now: datetime,
) -> None:
    """Put the ticket on the waiting list; tell why (once per reason) when nobody can take it."""
    before = view.slot(team_id, facts.ticket_id)
    told = before.unassignable if before is not None else None
    if why is not None and told is not None and told.reason == why.reason:
        why = told  # the same reason as before: keep its time, do not tell again
    elif why is not None:
        event = AssignmentBlocked(
            ticket_id=facts.ticket_id,
            team_id=team_id,
            rule_id=why.rule_id,
            reason=why.reason,
            detail=why.detail[:500],
        )
        view.outcome.events.append(_unassignable_envelope(event, facts, now))
    slot = TicketSlot(version=facts.version, facts=facts, unassignable=why)
    view.put_slot(team_id, facts.ticket_id, slot)
    # A ticket held by its rule's unassign condition waits for its own next change, not for
    # members or rules (and must not stop the retries of the tickets behind it).
    _set_waiting(view, team_id, facts.ticket_id, why is not None)


def _unassignable_envelope(
    event: AssignmentBlocked, facts: TicketFacts, now: datetime
) -> EventEnvelope:
    """The event's id is derived from the ticket version and reason: a replay after a crash
    sends the same id (consumers deduplicate by it)."""
    cause = facts.last_event_id or facts.ticket_id
    return command_envelope(
        event, facts, cause, now, salt=event.reason.value, stream_type=ASSIGNMENT_STREAM
    )


def _set_waiting(view: _View, team_id: uuid.UUID, ticket_id: uuid.UUID, waiting: bool) -> None:
    info = view.team(team_id)
    if (ticket_id in info.waiting) == waiting:
        return
    queue = (
        (*info.waiting, ticket_id) if waiting else tuple(t for t in info.waiting if t != ticket_id)
    )
    view.put_team(info.model_copy(update={"waiting": queue}))


def _retry_waiting(view: _View, team_id: uuid.UUID, saved_rules: RuleSet, now: datetime) -> None:
    """Members, availability or the team's rules changed: try the waiting tickets again."""
    for ticket_id in view.team(team_id).waiting:
        slot = view.slot(team_id, ticket_id)
        if slot is None:
            _set_waiting(view, team_id, ticket_id, False)
            continue
        if _settle(view, team_id, slot):
            continue  # decided before a crash that lost the team record's part of it
        if not _decide(view, team_id, slot.facts, saved_rules, now):
            held = view.slot(team_id, ticket_id)
            if held is not None and held.unassignable is None:
                continue  # held by its rule's unassign condition: says nothing of the others
            break  # the rest would find nobody either (same team, same agents)


def _on_breach(
    view: _View, team_id: uuid.UUID, message: dict[str, Any], saved_rules: RuleSet, now: datetime
) -> None:
    facts = TicketFacts.model_validate(message["facts"])
    info = view.team(team_id)
    if facts.team_id != team_id or info.escalates_to is None:
        return
    rules = _rules_for(info, saved_rules)
    by_id = {rule.rule_id: rule for rule in rules}
    rule = by_id.get(facts.rule_id or "") or select_rule(rules, facts.condition_fields(), now)
    if rule is None or not rule.escalate_on_breach:
        return
    cause = uuid.UUID(message["cause"])
    view.outcome.commands.append(
        command_envelope(
            EscalateTicket(
                ticket_id=facts.ticket_id,
                from_team_id=team_id,
                expected_version=facts.version,
                reason=EscalationReason.SLA_BREACH,
                rule_id=rule.rule_id,
            ),
            facts,
            cause,
            now,
        )
    )


def command_envelope(
    command: DomainEvent,
    facts: TicketFacts,
    cause: uuid.UUID,
    now: datetime,
    *,
    salt: str | None = None,
    stream_type: str = TICKET_COMMAND,
) -> EventEnvelope:
    """A command (or the worker's own event) about the ticket, in its envelope; the id derived
    from the type, the ticket, the cause and the salt."""
    parts: tuple[object, ...] = (command.event_type, facts.ticket_id, cause)
    return EventEnvelope(
        event_id=derived_event_id(*parts, *((salt,) if salt else ())),
        event_type=command.event_type,
        schema_version=command.schema_version,
        stream_id=facts.ticket_id,
        stream_type=stream_type,
        stream_version=max(1, facts.version),
        occurred_at=now,
        actor=SERVICE_ACTOR,
        correlation_id=cause,
        causation_id=cause,
        data=command.model_dump(mode="json"),
    )


def unassignable_slots(entries: Iterable[tuple[str, Any]]) -> list[dict[str, Any]]:
    """The waiting tickets that nobody can take, from the team table's entries (for
    ``GET /unassignable``), oldest first."""
    found: list[dict[str, Any]] = []
    for key, raw in entries:
        if not key.startswith("ticket:") or raw is None or not raw.get("unassignable"):
            continue
        slot = TicketSlot.model_validate(raw)
        if slot.unassignable is None or slot.decided is not None:
            continue
        found.append(
            {
                "ticket_id": str(slot.facts.ticket_id),
                "team_id": str(slot.facts.team_id),
                "status": slot.facts.status,
                "priority": slot.facts.priority,
                **slot.unassignable.model_dump(mode="json"),
            }
        )
    return sorted(found, key=lambda item: (item["since"], item["ticket_id"]))
