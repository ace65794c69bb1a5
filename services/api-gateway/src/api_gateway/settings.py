"""Configuration of the API gateway, from ``HELPDESK_*`` environment variables.

One object for the whole process; every field is documented in the service README. Secrets
(the signing key, SMTP credentials) are given as files or environment, never logged.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROUTES_FILE = Path(__file__).with_name("routes.toml")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPDESK_", extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8080
    http_workers: int = Field(default=1, ge=1, description="uvicorn worker processes")

    # --- routing ----------------------------------------------------------------------------
    gateway_routes_file: Path = Field(
        default=ROUTES_FILE, description="the routing table (TOML): prefixes -> services"
    )
    gateway_upstreams: dict[str, str] = Field(
        default_factory=dict,
        description='base URLs overriding the table\'s, as JSON: {"ticket-service": "http://..."}',
    )
    gateway_connect_timeout: float = Field(default=2.0, gt=0, description="seconds to connect")
    gateway_read_timeout: float = Field(
        default=30.0, gt=0, description="seconds to wait for a service's answer (504 after)"
    )
    gateway_max_connections: int = Field(default=200, ge=1)
    gateway_web_dir: Path = Field(
        default=Path("web/dist"), description="built portals: <dir>/agent and <dir>/portal"
    )

    # --- edge ---------------------------------------------------------------------------------
    gateway_public_url: str = Field(
        default="http://127.0.0.1:8080", description="the origin people reach (links in mail)"
    )
    gateway_cors_origins: list[str] = Field(
        default_factory=list, description="origins allowed to call the API from a browser (JSON)"
    )
    gateway_behind_tls: bool = Field(
        default=False, description="send HSTS (set when TLS ends in front of the gateway)"
    )
    gateway_rate_limit: str = Field(
        default="1200/minute", description="requests per client IP (limits syntax)"
    )
    gateway_subject_rate_limit: str = Field(
        default="600/minute", description="requests per signed-in person (token subject)"
    )
    gateway_auth_rate_limit: str = Field(
        default="20/minute", description="sign-in, link and reset requests per client IP"
    )
    gateway_account_rate_limit: str = Field(
        default="10/minute", description="sign-in, link and reset requests per email address"
    )
    gateway_trusted_proxies: int = Field(
        default=0, ge=0, description="X-Forwarded-For hops to trust for the client IP"
    )

    # --- sign-in ------------------------------------------------------------------------------
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/helpdesk",
        description="PostgreSQL; the gateway keeps its tables in its own schema",
    )
    db_pool_min: int = Field(default=1, ge=1)
    db_pool_max: int = Field(default=10, ge=1)
    kafka_bootstrap: str = Field(default="127.0.0.1:9092", description="Kafka bootstrap servers")
    gateway_directory_group: str = Field(
        default="api-gateway-directory", description="consumer group on helpdesk.directory.v1"
    )
    jwt_private_key_file: Path = Field(
        default=Path(".local/jwt/private.pem"), description="PEM key that signs access tokens"
    )
    jwt_public_key_file: Path = Field(
        default=Path(".local/jwt/public.pem"),
        description="PEM public key(s) the gateway accepts (as every service)",
    )
    gateway_previous_public_key_files: list[Path] = Field(
        default_factory=list,
        description="keys still published in the JWKS after a rotation (JSON list of paths)",
    )
    gateway_access_token_minutes: int = Field(default=10, ge=1, le=15)
    gateway_refresh_token_days: int = Field(default=14, ge=1, le=90)
    gateway_invitation_hours: int = Field(default=72, ge=1)
    gateway_reset_minutes: int = Field(default=30, ge=5)
    gateway_customer_link_minutes: int = Field(default=15, ge=1, le=60)
    gateway_branding_seconds: float = Field(
        default=60.0,
        ge=0,
        description="how long the branding its mail is sent in (name, logo, accent colour) is kept"
        " before it is asked for again (a manager's change shows in mail after at most this long)",
    )
    gateway_cookie_secure: bool = Field(
        default=True,
        description="the refresh cookie's Secure flag (browsers accept it on localhost)",
    )
    ticket_service_url: str = Field(
        default="http://127.0.0.1:8001", description="the directory the gateway asks"
    )

    # --- mail (the same outbound settings as the mail gateway) --------------------------------
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 3025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_use_tls: bool = False
    gateway_mail_from: str = Field(default="Helpdesk <no-reply@helpdesk.local>")

    # --- bootstrap ----------------------------------------------------------------------------
    bootstrap_manager_email: str = "manager@example.com"
    bootstrap_manager_name: str = "Helpdesk Manager"
    bootstrap_manager_password: str | None = Field(
        default=None, description="else one is generated and written to the password file"
    )
    bootstrap_manager_password_file: Path = Field(default=Path(".local/manager-password"))
