"""Settings of the local stack, from ``HELPDESK_*`` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class StackSettings(BaseSettings):
    # extra="ignore": the same prefix carries the services' own settings (HELPDESK_DATABASE_URL...).
    model_config = SettingsConfigDict(env_prefix="HELPDESK_", extra="ignore")

    kafka_port: int = Field(default=9092, ge=1, le=65535, description="Kafka client listener")
    kafka_controller_port: int = Field(
        default=9093, ge=1, le=65535, description="KRaft controller listener"
    )
    postgres_port: int = Field(default=5432, ge=1, le=65535)
    smtp_port: int = Field(default=3025, ge=1, le=65535, description="GreenMail SMTP")
    imap_port: int = Field(default=3143, ge=1, le=65535, description="GreenMail IMAP")
    greenmail_api_port: int = Field(
        default=3080, ge=1, le=65535, description="GreenMail's REST API (never its default 8080)"
    )
    kafka_heap: str = Field(
        default="512m", pattern=r"^\d+[kmgKMG]?$", description="JVM -Xmx/-Xms of the broker"
    )
    database_name: str = Field(
        default="helpdesk", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="the app database"
    )
    health_timeout: float = Field(
        default=180.0,
        gt=0,
        # The Faust workers are ready once their tables are replayed from the changelog topics
        # (in-memory stores), which grows with the tickets kept in .local: minutes after a
        # benchmark has left a hundred thousand behind.
        description="seconds an app process gets to answer its health URL",
    )
