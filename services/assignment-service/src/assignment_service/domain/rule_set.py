"""The saved assignment rules, folded from the ``helpdesk.assignment-rules.v1`` events (pure).

The fold is what :class:`helpdesk_platform.config_log.ConfigLog` runs on every replica; raising
``ValueError`` refuses an event (an invalid rule, or deleting a rule that does not exist), so
every replica refuses it alike and the writer gets the reason back.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from assignment_service.domain.rules import AssignmentRule, default_rule_for_team

__all__ = [
    "RuleSet",
    "agents_outside_teams",
    "check_references",
    "effective_rules",
    "fold_rules",
    "parse_as",
    "parse_rule",
    "rule_teams",
]

M = TypeVar("M", bound=BaseModel)

#: rule id -> rule; replaced as a whole on every change (immutable by convention).
RuleSet = Mapping[str, AssignmentRule]


def parse_rule(raw: object) -> AssignmentRule:
    """A rule from its JSON; ``ValueError`` with a readable reason when it is not valid."""
    return parse_as(AssignmentRule, raw)


def parse_as(model: type[M], raw: object) -> M:
    """``model`` from JSON; ``ValueError`` with a readable reason when it is not valid."""
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc']) or 'rule'}: {issue['msg']}"
            for issue in error.errors()
        )
        raise ValueError(problems) from None


def check_references(
    rule: AssignmentRule,
    team_known: Callable[[uuid.UUID], bool],
    agent_known: Callable[[uuid.UUID], bool],
) -> None:
    """``ValueError`` naming the teams and agents the rule names that the directory does not
    know (a typo'd id would make a rule that never assigns, silently)."""
    teams = sorted(str(team) for team in rule.teams if not team_known(team))
    agents = sorted(
        str(agent) for agent in rule.agents | set(rule.agent_capacity) if not agent_known(agent)
    )
    problems = [
        *([f"unknown teams: {', '.join(teams)}"] if teams else []),
        *([f"unknown agents: {', '.join(agents)}"] if agents else []),
    ]
    if problems:
        raise ValueError("; ".join(problems))


_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def rule_teams(rule: AssignmentRule) -> frozenset[uuid.UUID]:
    """The teams whose tickets the rule is meant for: its ``teams``, and the team ids its assign
    condition compares ``team_id`` with (``team_id == "<id>"``, ``team_id in [...]``).

    A rule picks among the members of the ticket's team, so these are the teams its named agents
    must belong to. The condition is read for the ids it names only when it reads ``team_id``
    (a literal elsewhere, such as a customer id, names no team).
    """
    named: set[uuid.UUID] = set(rule.teams)
    condition = rule.assign_condition
    if condition is not None and "team_id" in condition.fields:
        named.update(uuid.UUID(text) for text in _UUID.findall(condition.source))
    return frozenset(named)


def agents_outside_teams(
    rule: AssignmentRule, agent_teams: Callable[[uuid.UUID], frozenset[uuid.UUID]]
) -> frozenset[uuid.UUID]:
    """The rule's agents it could never assign: not members of any of the rule's teams
    (:func:`rule_teams`), or of no team at all when the rule names none."""
    teams = rule_teams(rule)
    return frozenset(
        agent
        for agent in rule.agents
        if not (agent_teams(agent) & teams if teams else agent_teams(agent))
    )


def fold_rules(rules: RuleSet, event_type: str, data: Mapping[str, object]) -> RuleSet:
    """The rule set after one configuration event; ``ValueError`` refuses the event."""
    if event_type == "AssignmentRuleSaved":
        rule = parse_rule(data.get("rule"))
        return {**rules, rule.rule_id: rule}
    if event_type == "AssignmentRuleDeleted":
        rule_id = str(data.get("rule_id"))
        if rule_id not in rules:
            raise ValueError(f"there is no saved rule {rule_id!r}")
        return {key: rule for key, rule in rules.items() if key != rule_id}
    return rules


def effective_rules(saved: RuleSet, teams: Iterable[tuple[uuid.UUID, str]]) -> list[AssignmentRule]:
    """The saved rules and the implied default rule of every team a saved rule does not replace.

    A saved rule whose id is a team default's (``team-<team id>``) overrides that default.
    """
    rules = dict(saved)
    for team_id, name in teams:
        default = _default_rule(team_id, name)
        rules.setdefault(default.rule_id, default)
    return sorted(rules.values(), key=lambda rule: (rule.order, rule.rule_id))


@lru_cache(maxsize=4096)
def _default_rule(team_id: uuid.UUID, name: str) -> AssignmentRule:
    # Parsing the condition costs about a millisecond; a team's default changes only with its name.
    return default_rule_for_team(team_id, name)
