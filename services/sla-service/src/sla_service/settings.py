"""Settings of the SLA service, from the environment (pydantic-settings).

``HELPDESK_KAFKA_BOOTSTRAP`` (default ``localhost:9092``), ``HELPDESK_TOPIC_PARTITIONS``
(default 6, shared with every ticket-keyed topic), ``HELPDESK_JWT_PUBLIC_KEY_FILE`` (default
``.local/jwt/public.pem``: verifies the policies API's bearer tokens) and ``HELPDESK_LOG_LEVEL``
are the stack-wide variables; the rest are ``HELPDESK_SLA_*``. ``HELPDESK_SLA_POLICY`` and
``HELPDESK_SLA_CALENDAR`` take JSON in the shape of :class:`SlaPolicy` and
:class:`BusinessCalendar` (the built-in default policy), e.g.
``HELPDESK_SLA_CALENDAR='{"time_zone": "UTC", "always_open": true}'``.

The built-in default policy (for every ticket no saved policy takes, until a saved policy is made
the default through the policies API):

=========  ==============  ==========
priority   first response  resolution
=========  ==============  ==========
Urgent     1 h             4 h
High       4 h             1 d (24 h)
Medium     8 h             3 d (72 h)
Low        24 h            5 d (120 h)
=========  ==============  ==========

in business time of the calendar Monday to Friday 08:00-17:00 UTC; an unknown priority gets
Medium's targets. The warning is sent when 75 % of a target is used.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from helpdesk_platform.worker_settings import group_instance_id_setting, preload_min_lag_setting
from sla_service.domain import BusinessCalendar, PriorityTargets, SlaPolicy

_HOUR = timedelta(hours=1)


def default_policy() -> SlaPolicy:
    def targets(first_response_h: int, resolution_h: int) -> PriorityTargets:
        return PriorityTargets(
            first_response=first_response_h * _HOUR, resolution=resolution_h * _HOUR
        )

    return SlaPolicy(
        name="Default",
        targets={
            "Urgent": targets(1, 4),
            "High": targets(4, 24),
            "Medium": targets(8, 72),
            "Low": targets(24, 120),
        },
        default_priority="Medium",
    )


def default_calendar() -> BusinessCalendar:
    return BusinessCalendar.office_hours("UTC", [("08:00", "17:00")])


class SlaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPDESK_SLA_", extra="ignore")

    kafka_bootstrap: str = Field(
        default="localhost:9092",
        validation_alias=AliasChoices("HELPDESK_KAFKA_BOOTSTRAP", "HELPDESK_SLA_KAFKA_BOOTSTRAP"),
    )
    topic_partitions: int = Field(
        default=6,
        ge=1,
        validation_alias=AliasChoices("HELPDESK_TOPIC_PARTITIONS", "HELPDESK_SLA_TOPIC_PARTITIONS"),
        description="partitions of the ticket-keyed topics; the state table uses the same",
    )
    app_id: str = Field(default="sla-service", description="consumer group and topic prefix")
    topic_replication_factor: int = Field(
        default=1,
        ge=1,
        description="replicas of the worker's own topics (changelog, ticks): 1 on the local "
        "single broker, 3 on a cluster whose min.insync.replicas is 2",
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8002, ge=0, le=65535)
    data_dir: Path = Field(default_factory=lambda: Path(tempfile.gettempdir()) / "sla-service")
    policy: SlaPolicy = Field(
        default_factory=default_policy,
        description="the built-in default policy, until a saved policy is the default",
    )
    calendar: BusinessCalendar = Field(
        default_factory=default_calendar, description="the built-in default policy's calendar"
    )
    jwt_public_key_file: Path = Field(
        default=Path(".local/jwt/public.pem"),
        validation_alias=AliasChoices(
            "HELPDESK_JWT_PUBLIC_KEY_FILE", "HELPDESK_SLA_JWT_PUBLIC_KEY_FILE"
        ),
        description="PEM public key that verifies bearer tokens of the policies API (RS256)",
    )
    warning_fraction: float = Field(default=0.75, gt=0, lt=1)
    timer_interval: float = Field(
        default=0.2, gt=0, le=5, description="seconds between looks at the due index"
    )
    session_timeout: float = Field(
        default=30.0, ge=6, description="seconds before Kafka gives a dead worker's partitions away"
    )
    preload_min_lag: int = preload_min_lag_setting()
    group_instance_id: str | None = group_instance_id_setting()
    log_level: str = Field(
        default="INFO",
        validation_alias=AliasChoices("HELPDESK_LOG_LEVEL", "HELPDESK_SLA_LOG_LEVEL"),
    )
