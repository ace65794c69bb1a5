"""Settings of the mail gateway, from the environment (pydantic-settings).

Stack-wide: ``HELPDESK_KAFKA_BOOTSTRAP``, ``HELPDESK_JWT_PUBLIC_KEY_FILE`` (verifies callers of
the API), ``HELPDESK_JWT_PRIVATE_KEY_FILE`` (signs the short-lived tokens the gateway calls the
ticket service with), ``HELPDESK_TICKET_SERVICE_URL``, ``HELPDESK_LOG_LEVEL``, and
``HELPDESK_SMTP_HOST/PORT``, ``HELPDESK_IMAP_HOST/PORT`` (the local mail server, for the
bootstrap account). The gateway's own are ``HELPDESK_MAIL_*``; see the service README.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from helpdesk_platform.mail_reply import reply_key
from mail_gateway.domain.fetching import FETCH_BYTES


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPDESK_MAIL_", extra="ignore")

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/mail_gateway",
        validation_alias=_alias("HELPDESK_MAIL_DATABASE_URL", "HELPDESK_DATABASE_URL"),
        description="the gateway's own database (accounts, inbox state, send queue)",
    )
    kafka_bootstrap: str = Field(
        default="localhost:9092",
        validation_alias=_alias("HELPDESK_KAFKA_BOOTSTRAP", "HELPDESK_MAIL_KAFKA_BOOTSTRAP"),
    )
    ticket_service_url: str = Field(
        default="http://127.0.0.1:8001",
        validation_alias=_alias("HELPDESK_TICKET_SERVICE_URL", "HELPDESK_MAIL_TICKET_SERVICE_URL"),
    )
    jwt_public_key_file: Path = Field(
        default=Path(".local/jwt/public.pem"),
        validation_alias=_alias(
            "HELPDESK_JWT_PUBLIC_KEY_FILE", "HELPDESK_MAIL_JWT_PUBLIC_KEY_FILE"
        ),
    )
    jwt_private_key_file: Path = Field(
        default=Path(".local/jwt/private.pem"),
        validation_alias=_alias(
            "HELPDESK_JWT_PRIVATE_KEY_FILE", "HELPDESK_MAIL_JWT_PRIVATE_KEY_FILE"
        ),
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet key (urlsafe base64 of 32 bytes) that encrypts account passwords",
    )
    secret_key_file: Path | None = Field(
        default=None, description="or: a file holding the key (e.g. a mounted Secret)"
    )
    create_secret_key: bool = Field(
        default=False,
        description="local stack only: write a new key to secret_key_file when it is missing",
    )
    reply_key: SecretStr | None = Field(
        default=None,
        description="checks the signed reply reference of notification mails, so an agent's "
        "answer to one lands on its ticket (the notification service signs with the same key); "
        "unset: such answers follow the ordinary rules",
    )
    reply_key_file: Path | None = Field(
        default=None, description="or: a file holding the key (e.g. a mounted Secret)"
    )
    reply_previous_key: SecretStr | None = Field(
        default=None,
        description="during a key rotation: the key before, still accepted (not signed with)",
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8004, ge=0, le=65535)
    message_id_domain: str = Field(
        default="helpdesk.local", description="domain of our Message-IDs (loop detection too)"
    )
    trusted_authserv_ids: str = Field(
        default="",
        description="comma-separated authserv-ids of the inboxes' mail servers (e.g."
        " mx.google.com) whose Authentication-Results (DKIM, SPF, DMARC) are believed; empty:"
        " senders are not checked",
    )
    portal_url: str = Field(
        default="http://127.0.0.1:8080/portal",
        pattern=r"^https?://",
        description="the customer portal's address, for the rating links of the solved mail",
    )
    branding_seconds: float = Field(
        default=60.0,
        ge=0,
        description="how long the helpdesk's branding (name, logo, accent colour) in outgoing"
        " mail is kept before it is asked for again",
    )
    consumer_group: str = "mail-gateway"
    idle_renew_seconds: float = Field(default=25 * 60, gt=0)
    imap_fetch_max_bytes: int = Field(
        default=FETCH_BYTES,
        ge=64 * 1024,
        description="the most bytes of mail one IMAP fetch takes (a larger mail comes alone)",
    )
    send_interval: float = Field(default=0.2, gt=0, description="seconds between queue looks")
    max_send_attempts: int = Field(default=8, ge=1)
    sender_limit: int = Field(default=30, ge=1, description="mails per sender per window")
    sender_window_seconds: float = Field(default=60.0, gt=0)
    bootstrap_address: str | None = Field(
        default=None,
        description="create this account on first start (the local stack: support@helpdesk.local)",
    )
    bootstrap_password: SecretStr | None = None
    imap_host: str = Field(default="127.0.0.1", validation_alias=_alias("HELPDESK_IMAP_HOST"))
    imap_port: int = Field(default=3143, validation_alias=_alias("HELPDESK_IMAP_PORT"))
    smtp_host: str = Field(default="127.0.0.1", validation_alias=_alias("HELPDESK_SMTP_HOST"))
    smtp_port: int = Field(default=3025, validation_alias=_alias("HELPDESK_SMTP_PORT"))
    log_level: str = Field(
        default="INFO", validation_alias=_alias("HELPDESK_LOG_LEVEL", "HELPDESK_MAIL_LOG_LEVEL")
    )

    def trusted_servers(self) -> frozenset[str]:
        return frozenset(
            name.strip().lower() for name in self.trusted_authserv_ids.split(",") if name.strip()
        )

    def reply_keys(self) -> tuple[bytes, ...]:
        """The keys a notification's reply reference may be signed with: current, previous."""
        current = reply_key(
            self.reply_key.get_secret_value() if self.reply_key else None, self.reply_key_file
        )
        previous = reply_key(
            self.reply_previous_key.get_secret_value() if self.reply_previous_key else None, None
        )
        return tuple(key for key in (current, previous) if key is not None)

    def fernet_key(self) -> str:
        """The key, from ``HELPDESK_MAIL_SECRET_KEY`` or its file (created if allowed)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.secret_key_file
        if path is None:
            raise ValueError(
                "set HELPDESK_MAIL_SECRET_KEY (python -m mail_gateway new-key prints one) or "
                "HELPDESK_MAIL_SECRET_KEY_FILE"
            )
        if not path.exists() and self.create_secret_key:
            from cryptography.fernet import Fernet

            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(Fernet.generate_key())
        return path.read_text().strip()
