"""Configuration of the ticket service, from ``HELPDESK_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPDESK_", extra="ignore")

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/helpdesk",
        description="PostgreSQL holding the event log (asyncpg DSN)",
    )
    kafka_bootstrap: str = Field(default="127.0.0.1:9092", description="Kafka bootstrap servers")
    jwt_public_key_file: Path = Field(
        default=Path(".local/jwt/public.pem"),
        description="PEM public key that verifies bearer tokens (RS256)",
    )
    blob_dir: Path = Field(
        default=Path(".local/blobs"), description="where attachments are stored (local blob store)"
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8001
    http_workers: int = Field(default=1, ge=1, description="uvicorn worker processes")
    db_pool_min: int = Field(default=2, ge=1)
    db_pool_max: int = Field(default=20, ge=1)
    relay_name: str = Field(default="kafka-relay", description="checkpoint name of the relay")
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    relay_idle_seconds: float = Field(
        default=0.02, gt=0, description="pause between polls of the log once it is caught up"
    )
    relay_idle_max_seconds: float = Field(
        default=0.1,
        gt=0,
        description="longest pause between polls while the log stays quiet (doubling from"
        " relay_idle_seconds; an append of the same process cuts it short)",
    )
    commands_topic: str = Field(
        default="helpdesk.ticket-commands.v1", description="topic the command consumer reads"
    )
    commands_group: str = Field(
        default="ticket-service-commands",
        description="Kafka consumer group of the ticket command consumer",
    )
    commands_concurrency: int = Field(
        default=8,
        ge=1,
        le=64,
        description="tickets whose commands the command consumer decides at the same time",
    )

    @model_validator(mode="after")
    def _relay_pauses_in_order(self) -> Self:
        if self.relay_idle_max_seconds < self.relay_idle_seconds:
            raise ValueError(
                "HELPDESK_RELAY_IDLE_MAX_SECONDS must be at least HELPDESK_RELAY_IDLE_SECONDS"
            )
        return self
