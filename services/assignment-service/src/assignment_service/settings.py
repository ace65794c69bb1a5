"""Settings of the assignment service, from the environment (pydantic-settings).

``HELPDESK_KAFKA_BOOTSTRAP``, ``HELPDESK_TOPIC_PARTITIONS``, ``HELPDESK_JWT_PUBLIC_KEY_FILE`` and
``HELPDESK_LOG_LEVEL`` are the stack-wide variables; the rest are ``HELPDESK_ASSIGNMENT_*``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from helpdesk_platform.worker_settings import group_instance_id_setting, preload_min_lag_setting


class AssignmentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPDESK_ASSIGNMENT_", extra="ignore")

    kafka_bootstrap: str = Field(
        default="localhost:9092",
        validation_alias=AliasChoices(
            "HELPDESK_KAFKA_BOOTSTRAP", "HELPDESK_ASSIGNMENT_KAFKA_BOOTSTRAP"
        ),
    )
    topic_partitions: int = Field(
        default=6,
        ge=1,
        validation_alias=AliasChoices(
            "HELPDESK_TOPIC_PARTITIONS", "HELPDESK_ASSIGNMENT_TOPIC_PARTITIONS"
        ),
        description="partitions of the ticket-keyed topics; the team topic and tables use the same",
    )
    app_id: str = Field(default="assignment-service", description="consumer group and prefix")
    topic_replication_factor: int = Field(
        default=1,
        ge=1,
        description="replicas of the worker's own topics (team requests, changelogs)",
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8003, ge=0, le=65535)
    data_dir: Path = Field(
        default_factory=lambda: Path(tempfile.gettempdir()) / "assignment-service"
    )
    jwt_public_key_file: Path = Field(
        default=Path(".local/jwt/public.pem"),
        validation_alias=AliasChoices(
            "HELPDESK_JWT_PUBLIC_KEY_FILE", "HELPDESK_ASSIGNMENT_JWT_PUBLIC_KEY_FILE"
        ),
        description="PEM public key that verifies bearer tokens of the rules API (RS256)",
    )
    session_timeout: float = Field(
        default=30.0, ge=6, description="seconds before Kafka gives a dead worker's partitions away"
    )
    preload_min_lag: int = preload_min_lag_setting()
    group_instance_id: str | None = group_instance_id_setting()
    reconcile_interval: float = Field(
        default=30.0,
        gt=0,
        description="seconds between re-sends of the open team tickets without an assignee to "
        "their team stage (reliability issue #13); the first comes this long after recovery",
    )
    crash_at: str | None = Field(
        default=None,
        description="tests only: '<stage>:<point>:<n>' ends the process like kill -9 (exit "
        "137) the n-th time stage ticket-facts|directory|team-state reaches point "
        "before-send|after-send|after-write of a batch with messages",
    )
    log_level: str = Field(
        default="INFO",
        validation_alias=AliasChoices("HELPDESK_LOG_LEVEL", "HELPDESK_ASSIGNMENT_LOG_LEVEL"),
    )
