"""The routing API's answers as its OpenAPI document declares them (issue #19: the admin
console's typed client is generated from that document), and the draft check's refusals."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from assignment_service.domain.routing import RoutingConfig, fold_routing
from assignment_service.entrypoints.api_docs import openapi_document
from assignment_service.entrypoints.routing_api import (
    ROUTING_OPERATIONS,
    RoutingApi,
    RoutingCheck,
    RoutingDocument,
)
from assignment_service.entrypoints.unassignable_api import (
    UNASSIGNABLE_OPERATIONS,
    UnassignableList,
    unrouted,
)
from assignment_service.service_layer.directory_stage import DirectoryView
from helpdesk_platform.config_http import BearerAuth, HttpRefusal
from helpdesk_platform.config_log import ConfigLog

TEAM = uuid.UUID(int=0x7E)


def routing_api() -> RoutingApi:
    """The API over a configuration log that is never started (its state is set here) and a
    directory that knows one team."""
    log: ConfigLog[RoutingConfig] = ConfigLog(
        bootstrap="127.0.0.1:1",
        topic="unused",
        stream_id=uuid.uuid4(),
        stream_type="routing",
        initial=RoutingConfig(),
        fold=fold_routing,
    )
    rule = {
        "rule_id": "vip",
        "name": "VIP",
        "team_id": str(TEAM),
        "condition": 'priority == "High"',
    }
    log.state = fold_routing(log.state, "RoutingRuleSaved", {"rule": rule})
    log.state = fold_routing(
        log.state, "ChannelTeamSet", {"channel": "email", "team_id": str(TEAM)}
    )
    log.version = 2
    directory = DirectoryView({f"team:{TEAM}": {"name": "Support"}})
    return RoutingApi(log, directory, BearerAuth(Path("/nonexistent/public.pem")))


def answer_schema(path: str, method: str) -> Any:
    document = openapi_document([*ROUTING_OPERATIONS, *UNASSIGNABLE_OPERATIONS])
    content = document["paths"][path][method]["responses"]["200"]["content"]
    return content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1], document


def test_the_document_declares_each_answers_schema() -> None:
    for path, method, model in [
        ("/routing", "get", RoutingDocument),
        ("/routing/rules/{rule_id}", "put", RoutingDocument),
        ("/routing/rules/{rule_id}/check", "post", RoutingCheck),
        ("/routing/channels/{channel}", "put", RoutingDocument),
        ("/unassignable", "get", UnassignableList),
    ]:
        name, document = answer_schema(path, method)
        assert name == model.__name__
        assert name in document["components"]["schemas"]
    schemas = answer_schema("/unassignable", "get")[1]["components"]["schemas"]
    reason = schemas["UnassignableTicket"]["properties"]["reason"]
    assert "no_route" in orjson.dumps(reason).decode()


def test_the_routing_answer_is_what_the_document_says() -> None:
    api = routing_api()
    answer = RoutingDocument.model_validate(api.document())
    assert answer.version == 2
    assert [rule.rule_id for rule in answer.rules] == ["vip"]
    assert answer.channel_teams == {"email": TEAM}


def test_a_draft_is_checked_as_a_put_would_check_it() -> None:
    api = routing_api()
    good = {"name": "Billing", "team_id": str(TEAM), "condition": 'type == "Billing"'}
    rule = api.checked_rule("billing", orjson.dumps(good))
    assert RoutingCheck(rule=rule).rule.rule_id == "billing"
    with pytest.raises(ValueError, match="did you mean 'priority'"):
        api.checked_rule("billing", orjson.dumps({**good, "condition": 'prority == "High"'}))
    with pytest.raises(ValueError, match="unknown teams"):
        api.checked_rule("billing", orjson.dumps({**good, "team_id": str(uuid.uuid4())}))
    with pytest.raises(HttpRefusal, match="differs from the path"):
        api.checked_rule("other", orjson.dumps({**good, "rule_id": "billing"}))


def test_the_unrouted_tickets_are_what_the_document_says() -> None:
    ticket = uuid.uuid4()
    facts = {
        "ticket_id": str(ticket),
        "version": 1,
        "status": "Open",
        "status_category": "new",
        "priority": "Low",
        "channel": "portal",
        "team_id": None,
        "assignee_id": None,
    }
    listed = UnassignableList.model_validate({"tickets": unrouted([facts], RoutingConfig())})
    (only,) = listed.tickets
    assert only.ticket_id == ticket and only.reason == "no_route" and only.team_id is None
