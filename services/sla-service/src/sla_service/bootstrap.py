"""Builds the SLA worker and its dependencies once, for every entry point (``__main__``, tests).

The configuration log, the tracker, the Faust app and the HTTP APIs are made here and handed to
the pieces that use them, so no entry point builds its own.
"""

from __future__ import annotations

from helpdesk_events.directory import CONFIG, TICKET_OPTIONS_STREAM_ID
from helpdesk_events.envelope import EventEnvelope
from helpdesk_events.sla_policies import SLA_POLICIES_STREAM
from helpdesk_events.topics import DIRECTORY, SLA_POLICIES
from helpdesk_platform.config_http import BearerAuth
from helpdesk_platform.config_log import ConfigLog
from sla_service.adapters.faust_app import SlaFaustApp
from sla_service.domain.known_statuses import KnownStatuses, fold_options
from sla_service.domain.policies import (
    PolicyCatalog,
    SavedPolicies,
    built_in_rule,
    fold_policies,
)
from sla_service.entrypoints.admin_api import OPENAPI, AdminApi
from sla_service.entrypoints.policies_api import PoliciesApi
from sla_service.entrypoints.worker import POLICIES_STREAM_ID, SlaWorker
from sla_service.service_layer.configuration import SlaConfiguration
from sla_service.service_layer.tracker import SlaTracker
from sla_service.settings import SlaSettings


def _fold(saved: SavedPolicies, envelope: EventEnvelope) -> SavedPolicies:
    return fold_policies(saved, envelope.event_type, envelope.data, envelope.occurred_at)


def _fold_options(known: KnownStatuses, envelope: EventEnvelope) -> KnownStatuses:
    return fold_options(known, envelope.event_type, envelope.data)


def build_worker(settings: SlaSettings) -> SlaWorker:
    built_in = built_in_rule(settings.policy, settings.calendar)
    tracker = SlaTracker(PolicyCatalog.of(built_in), settings.warning_fraction)
    policies: ConfigLog[SavedPolicies] = ConfigLog(
        bootstrap=settings.kafka_bootstrap,
        topic=SLA_POLICIES,
        stream_id=POLICIES_STREAM_ID,
        stream_type=SLA_POLICIES_STREAM,
        initial=SavedPolicies(),
        fold=_fold,
        client_id=settings.app_id,
    )
    # Read only: the ticket statuses policies may name (the ticket service writes them).
    options: ConfigLog[KnownStatuses] = ConfigLog(
        bootstrap=settings.kafka_bootstrap,
        topic=DIRECTORY,
        stream_id=TICKET_OPTIONS_STREAM_ID,
        stream_type=CONFIG,
        initial=KnownStatuses(),
        fold=_fold_options,
        client_id=f"{settings.app_id}-ticket-options",
    )
    faust_app = SlaFaustApp(settings, OPENAPI["paths"])
    worker = SlaWorker(settings, faust_app, tracker, policies, built_in, options)
    configuration = SlaConfiguration(policies, lambda: tracker.policies, lambda: options.state)
    policies_api = PoliciesApi(configuration, settings.jwt_public_key_file)
    AdminApi(
        auth=BearerAuth(settings.jwt_public_key_file),
        tracker=tracker,
        policies_api=policies_api,
        load=faust_app.load,
        states=faust_app.states,
        ready=worker.ready,
    ).add_pages(faust_app.app)
    return worker
