"""Team routing (issue #20 item 1): routing rules, channel defaults, their fold, and the facts
stage sending RouteTicket for a ticket without a team."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from assignment_service.domain.routing import (
    RoutingConfig,
    check_teams,
    choose_team,
    fold_routing,
)
from assignment_service.service_layer.batch import Batch
from assignment_service.service_layer.facts_stage import FactsStage
from helpdesk_events import EventEnvelope, TicketCreated, decode_envelope, encode_envelope
from helpdesk_events.commands import TICKET_COMMAND
from helpdesk_events.tickets import CustomerContext, StatusCategory, TeamChanged

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DEV = uuid.UUID(int=0xD)
ENTERPRISE = uuid.UUID(int=0xE)
SUPPORT = uuid.UUID(int=0x5)


def config(*events: tuple[str, dict[str, Any]]) -> RoutingConfig:
    state = RoutingConfig()
    for event_type, data in events:
        state = fold_routing(state, event_type, data)
    return state


def saved(rule_id: str, team: uuid.UUID, condition: str | None, **more: Any) -> tuple[str, Any]:
    rule = {"rule_id": rule_id, "name": rule_id, "team_id": str(team), **more}
    if condition is not None:
        rule["condition"] = condition
    return ("RoutingRuleSaved", {"rule": rule})


SEED = config(
    saved("checking", DEV, 'type == "Checking Issue"', order=1),
    saved("enterprise", ENTERPRISE, 'company_tier == "Enterprise"', order=2),
    ("ChannelTeamSet", {"channel": "WhatsApp", "team_id": str(SUPPORT)}),
)


def test_the_first_matching_rule_in_order_gives_the_team() -> None:
    choice = choose_team(SEED, {"type": "Checking Issue", "company_tier": "Enterprise"})
    assert choice is not None and (choice.team_id, choice.rule_id) == (DEV, "checking")
    choice = choose_team(SEED, {"type": "Question", "company_tier": "Enterprise"})
    assert choice is not None and choice.team_id == ENTERPRISE


def test_a_ticket_no_rule_takes_goes_to_its_channels_default_team() -> None:
    choice = choose_team(SEED, {"type": "Question", "channel": "WhatsApp"})
    assert choice is not None and (choice.team_id, choice.rule_id) == (SUPPORT, "channel:WhatsApp")
    assert choose_team(SEED, {"type": "Question", "channel": "Phone"}) is None


def test_custom_fields_and_customer_country_route_too() -> None:
    routing = config(
        saved("india", SUPPORT, 'customer_country == "IN"', enabled=False),
        saved("product", DEV, 'custom.product == "Payroll"'),
    )
    assert choose_team(routing, {"customer_country": "IN"}) is None  # disabled
    choice = choose_team(routing, {"custom": {"product": "Payroll"}})
    assert choice is not None and choice.team_id == DEV


def test_the_fold_replaces_deletes_and_clears_channel_defaults() -> None:
    routing = fold_routing(SEED, "RoutingRuleDeleted", {"rule_id": "checking"})
    assert list(routing.rules) == ["enterprise"]
    routing = fold_routing(routing, "ChannelTeamSet", {"channel": "WhatsApp", "team_id": None})
    assert routing.channel_teams == {}
    with pytest.raises(ValueError, match="no routing rule"):
        fold_routing(routing, "RoutingRuleDeleted", {"rule_id": "checking"})
    with pytest.raises(ValueError, match="team_id"):
        fold_routing(routing, "RoutingRuleSaved", {"rule": {"rule_id": "x", "name": "x"}})
    with pytest.raises(ValueError, match="condition"):
        fold_routing(
            routing,
            "RoutingRuleSaved",
            {"rule": {"rule_id": "x", "name": "x", "team_id": str(DEV), "condition": "nope =="}},
        )


def test_teams_must_exist() -> None:
    check_teams([DEV], lambda team: True)
    with pytest.raises(ValueError, match=str(DEV)):
        check_teams([DEV], lambda team: False)


class Topic:
    """A stand-in for a Faust topic in a Batch's sends (the stage only hands it over)."""


def run(stage: FactsStage, table: dict[str, Any], envelope: EventEnvelope) -> Batch:
    batch = Batch()
    batch.begin(envelope)
    stage.on_event(batch, "helpdesk.tickets.v1", encode_envelope(envelope))
    batch.keep()
    for _, _, key, value in batch.writes:
        table[key] = value
    return batch


def ticket_event(ticket: uuid.UUID, version: int, event: Any) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=1,
        stream_id=ticket,
        stream_type="ticket",
        stream_version=version,
        occurred_at=NOW,
        actor={"kind": "service", "id": "test"},
        correlation_id=ticket,
        data=event.model_dump(mode="json"),
    )


def created(**fields: Any) -> TicketCreated:
    return TicketCreated(
        subject="Cek tagihan",
        channel=fields.pop("channel", "Email"),
        status="Open",
        status_category=StatusCategory.NEW,
        priority="Medium",
        **fields,
    )


def test_the_facts_stage_routes_a_ticket_without_a_team_once_per_change() -> None:
    commands, teams = Topic(), Topic()
    table: dict[str, Any] = {}
    stage = FactsStage(table, teams, commands, lambda: SEED, lambda: NOW)
    ticket = uuid.uuid4()
    context = CustomerContext(company_tier="Enterprise", company_country="ID")
    batch = run(stage, table, ticket_event(ticket, 1, created(customer_context=context)))
    ((topic, key, value, _),) = batch.sends
    assert topic is commands and key == str(ticket).encode()
    command = decode_envelope(value)
    assert command.stream_type == TICKET_COMMAND and command.event_type == "RouteTicket"
    assert command.data["team_id"] == str(ENTERPRISE)
    assert command.data["rule_id"] == "enterprise"
    assert command.data["expected_version"] == 1
    # The team comes back: the facts go to the team's stage, nothing is routed again.
    moved = run(
        stage, table, ticket_event(ticket, 2, TeamChanged(from_team_id=None, to_team_id=ENTERPRISE))
    )
    ((topic, key, value, _),) = moved.sends
    assert topic is teams and key == str(ENTERPRISE).encode()
    assert orjson.loads(value)["kind"] == "ticket"


def test_a_ticket_with_a_team_or_an_assignee_is_not_routed() -> None:
    stage = FactsStage({}, Topic(), Topic(), lambda: SEED, lambda: NOW)
    context = CustomerContext(company_tier="Enterprise")
    with_team = created(customer_context=context, team_id=DEV)
    batch = run(stage, {}, ticket_event(uuid.uuid4(), 1, with_team))
    assert [orjson.loads(value)["kind"] for _, _, value, _ in batch.sends] == ["ticket"]
    assigned = created(customer_context=context, assignee_id=uuid.uuid4())
    assert run(stage, {}, ticket_event(uuid.uuid4(), 1, assigned)).sends == []


INDIA = uuid.UUID(int=0x1D)
JAKARTA = uuid.UUID(int=0x1A)
SPEAKS = {INDIA: ("en", "hi"), JAKARTA: ("id", "en"), DEV: ()}


def by_language(rule_id: str, *teams: uuid.UUID, **more: Any) -> tuple[str, Any]:
    rule = {"rule_id": rule_id, "name": rule_id, "by_language": True, **more}
    return ("RoutingRuleSaved", {"rule": rule | {"teams": [str(t) for t in teams]}})


def test_by_language_routes_to_a_team_that_speaks_the_customers_language() -> None:
    """Issue #20 item 11 (seed 001's regional teams): the contact's language picks the team."""
    routing = config(by_language("language", order=1), saved("rest", SUPPORT, None, order=2))
    choice = choose_team(routing, {"customer_language": "hi"}, SPEAKS)
    assert choice is not None and (choice.team_id, choice.rule_id) == (INDIA, "language")
    choice = choose_team(routing, {"customer_language": "id"}, SPEAKS)
    assert choice is not None and choice.team_id == JAKARTA
    # Nobody speaks it, or no language known: the next rule takes the ticket.
    for ticket in ({"customer_language": "fr"}, {"customer_language": None}, {}):
        choice = choose_team(routing, ticket, SPEAKS)
        assert choice is not None and choice.rule_id == "rest"


def test_by_language_prefers_the_rules_teams_in_their_order() -> None:
    routing = config(by_language("ordered", JAKARTA, INDIA, condition='priority == "High"'))
    english = {"customer_language": "en", "priority": "High"}
    choice = choose_team(routing, english, SPEAKS)
    assert choice is not None and choice.team_id == JAKARTA  # both speak en: the first named
    assert choose_team(routing, english | {"priority": "Low"}, SPEAKS) is None  # condition
    only_india = config(by_language("india", INDIA))
    assert choose_team(only_india, {"customer_language": "id"}, SPEAKS) is None


def test_a_routing_rule_has_a_team_or_by_language_not_both() -> None:
    with pytest.raises(ValueError, match="either a team_id or by_language"):
        config(by_language("both", team_id=str(DEV)))
    with pytest.raises(ValueError, match="either a team_id or by_language"):
        config(("RoutingRuleSaved", {"rule": {"rule_id": "none", "name": "none"}}))
    with pytest.raises(ValueError, match="only for by_language"):
        config(saved("teams", DEV, None, teams=[str(INDIA)]))


def test_the_facts_stage_routes_by_the_contacts_language() -> None:
    routing = config(by_language("language"))
    stage = FactsStage({}, Topic(), Topic(), lambda: routing, lambda: NOW, lambda: SPEAKS)
    context = CustomerContext(customer_language="hi")
    batch = run(stage, {}, ticket_event(uuid.uuid4(), 1, created(customer_context=context)))
    (command,) = [decode_envelope(value) for _, _, value, _ in batch.sends]
    assert command.event_type == "RouteTicket" and command.data["team_id"] == str(INDIA)
