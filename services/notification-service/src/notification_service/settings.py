"""Configuration of the notification service, from ``HELPDESK_*`` environment variables
(documented in the service README)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from helpdesk_platform.mail_reply import reply_key


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPDESK_", extra="ignore")

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/notifications",
        description="the service's own PostgreSQL database (asyncpg DSN)",
    )
    database_schema: str | None = Field(
        default=None,
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="a schema of its own in a shared database (compose, Kubernetes: "
        "notifications); unset: the database's default schema (a database of its own)",
    )
    kafka_bootstrap: str = Field(default="127.0.0.1:9092", description="Kafka bootstrap servers")
    jwt_public_key_file: Path = Field(
        default=Path(".local/jwt/public.pem"),
        description="PEM public key that verifies bearer tokens (RS256)",
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8005
    db_pool_min: int = Field(default=2, ge=1)
    db_pool_max: int = Field(default=20, ge=1)

    consumer_group: str = Field(
        default="notification-service", description="Kafka consumer group of the event consumer"
    )
    consumer_max_records: int = Field(default=500, ge=1, le=10_000)
    run_consumer: bool = Field(
        default=True, description="consume events in this process (the HTTP API always runs)"
    )

    stream_ping_seconds: float = Field(default=15, gt=0, description="SSE keep-alive comments")
    stream_query_token_max_ttl: int = Field(
        default=900,
        ge=10,
        description="seconds an ?access_token= on the stream route may still be valid at most "
        "(longer-lived tokens belong in the Authorization header, not in URLs)",
    )

    smtp_host: str | None = Field(default=None, description="SMTP server; unset: no email sent")
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = Field(default="Helpdesk <notifications@helpdesk.local>")
    mail_reply_key: SecretStr | None = Field(
        default=None,
        description="signs the reply reference in notification mails about a ticket, so an "
        "agent's answer lands on it (the mail gateway holds the same key); at least 32 bytes; "
        "unset: notification mails cannot be answered",
    )
    mail_reply_key_file: Path | None = Field(
        default=None, description="or: a file holding the key (e.g. a mounted Secret)"
    )
    mail_reply_to: str | None = Field(
        default=None,
        max_length=320,
        description="Reply-To of notification mails about a ticket that never came by mail "
        "(a support inbox of the mail gateway); a ticket's own inbox wins when it has one",
    )
    portal_url: str = Field(
        default="http://127.0.0.1:8080/agent", description="links in emails point here"
    )
    digest_minutes: float = Field(
        default=60, gt=0, description="how often low-priority kinds chosen as a digest are sent"
    )

    webhooks_allow_private: bool = Field(
        default=False,
        description="allow webhook targets in private, loopback or link-local ranges",
    )
    webhook_timeout_seconds: float = Field(default=15, gt=0, le=60)
    webhook_concurrency: int = Field(default=16, ge=1, le=256)
    webhook_secret_overlap_hours: float = Field(
        default=24, ge=0, description="hours a rotated-out secret still signs deliveries"
    )

    def reply_key(self) -> bytes | None:
        """The mail reply key (from its setting or file), or None: no reply references."""
        value = self.mail_reply_key.get_secret_value() if self.mail_reply_key else None
        return reply_key(value, self.mail_reply_key_file)
