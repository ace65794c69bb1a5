"""Team routing: which team a ticket without one goes to (pure; issue #20 item 1).

Seed ``001_*``: tickets are assigned to a team "based on criteria such as issue type, priority or
customer"; seed ``000_*``: "tickets can be routed to a team, where the helpdesk assigns them to a
member automatically". A :class:`RoutingRule` is a condition on the ticket (any field a condition
reads: type, priority, tags, channel, the customer's and company's tags, tier and country, custom
fields) and the team it sends matching tickets to. Rules are tried in ``order`` (then by id); the
first enabled rule whose condition matches wins. A ticket no rule takes goes to its channel's
default team, if the channel has one (the mail gateway sets a mail account's team itself).

Regional teams (seed ``001_*``: "regional support across time zones and languages"): a rule with
``by_language`` instead of a ``team_id`` sends a matching ticket to a team whose ``languages``
include the ticket's language (its contact's, ``customer_language``): the first such team of the
rule's ``teams`` in the order given, or of every team (by id) when it names none. A ticket
without a language, or whose language no team speaks, falls through to the next rule.

The configuration is folded from events (:func:`fold_routing`), like the assignment rules;
raising ``ValueError`` refuses an event, alike on every replica.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assignment_service.domain.rule_set import parse_as
from assignment_service.domain.rules import OrderedRule
from helpdesk_conditions import Condition

__all__ = [
    "RouteChoice",
    "RoutingConfig",
    "RoutingRule",
    "TeamLanguages",
    "check_teams",
    "choose_team",
    "fold_routing",
    "parse_routing_rule",
]


#: team id -> the ISO 639-1 languages it answers in (the directory's ``TeamRegionChanged``).
TeamLanguages = Mapping[uuid.UUID, Sequence[str]]


class RoutingRule(OrderedRule):
    """Tickets matching ``condition`` (none: every ticket) go to ``team_id``, or with
    ``by_language`` to the first of ``teams`` (none: any team) that speaks their language."""

    condition: Condition | None = None
    team_id: uuid.UUID | None = None
    by_language: bool = False
    teams: tuple[uuid.UUID, ...] = ()

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if self.by_language == (self.team_id is not None):
            raise ValueError("a routing rule has either a team_id or by_language: true")
        if self.teams and not self.by_language:
            raise ValueError("teams (the candidates) are only for by_language rules")
        return self

    def named_teams(self) -> list[uuid.UUID]:
        """The teams the rule names (to check that they exist)."""
        return [self.team_id] if self.team_id is not None else list(self.teams)

    def team_for(self, ticket: Mapping[str, Any], languages: TeamLanguages) -> uuid.UUID | None:
        """The team this rule sends a matching ticket to (None: it does not take it)."""
        if self.team_id is not None:
            return self.team_id
        language = ticket.get("customer_language")
        if not isinstance(language, str) or not language:
            return None
        candidates = self.teams or tuple(sorted(languages))
        return next((team for team in candidates if language in languages.get(team, ())), None)


class RoutingConfig(BaseModel):
    """The routing rules by id and the default team of each channel."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: Mapping[str, RoutingRule] = Field(default_factory=dict)
    channel_teams: Mapping[str, uuid.UUID] = Field(default_factory=dict)

    def ordered(self) -> list[RoutingRule]:
        return sorted(self.rules.values(), key=lambda rule: (rule.order, rule.rule_id))


class RouteChoice(BaseModel):
    """The team chosen for a ticket and what chose it (a rule id, or ``channel:<name>``)."""

    model_config = ConfigDict(frozen=True)

    team_id: uuid.UUID
    rule_id: str


def parse_routing_rule(raw: object) -> RoutingRule:
    """A routing rule from its JSON; ``ValueError`` with a readable reason when it is not valid."""
    return parse_as(RoutingRule, raw)


def check_teams(team_ids: list[uuid.UUID], team_known: Callable[[uuid.UUID], bool]) -> None:
    """``ValueError`` naming the teams the directory does not know."""
    unknown = sorted(str(team) for team in team_ids if not team_known(team))
    if unknown:
        raise ValueError(f"unknown teams: {', '.join(unknown)}")


def choose_team(
    config: RoutingConfig, ticket: Mapping[str, Any], languages: TeamLanguages | None = None
) -> RouteChoice | None:
    """The team for a ticket without one: the first matching rule's (with ``by_language``: a
    team of ``languages`` that speaks the ticket's), else its channel's."""
    for rule in config.ordered():
        if rule.enabled and (rule.condition is None or rule.condition.matches(ticket)):
            team = rule.team_for(ticket, languages or {})
            if team is not None:
                return RouteChoice(team_id=team, rule_id=rule.rule_id)
    channel = ticket.get("channel")
    if isinstance(channel, str) and channel in config.channel_teams:
        return RouteChoice(team_id=config.channel_teams[channel], rule_id=f"channel:{channel}")
    return None


def fold_routing(config: RoutingConfig, event_type: str, data: Mapping[str, Any]) -> RoutingConfig:
    """The configuration after one event; ``ValueError`` refuses the event."""
    if event_type == "RoutingRuleSaved":
        rule = parse_routing_rule(data.get("rule"))
        return config.model_copy(update={"rules": {**config.rules, rule.rule_id: rule}})
    if event_type == "RoutingRuleDeleted":
        rule_id = str(data.get("rule_id"))
        if rule_id not in config.rules:
            raise ValueError(f"there is no routing rule {rule_id!r}")
        rules = {key: rule for key, rule in config.rules.items() if key != rule_id}
        return config.model_copy(update={"rules": rules})
    if event_type == "ChannelTeamSet":
        channel = str(data.get("channel"))
        teams = {key: team for key, team in config.channel_teams.items() if key != channel}
        if data.get("team_id"):
            teams[channel] = uuid.UUID(str(data["team_id"]))
        return config.model_copy(update={"channel_teams": teams})
    return config
