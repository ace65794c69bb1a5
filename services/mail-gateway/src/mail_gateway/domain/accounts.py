"""An email account: an inbox the gateway reads and the SMTP submission it replies through.

Settings are what managers see and what events carry; :class:`AccountSecrets` (passwords) are
kept only encrypted in the gateway's store and never leave it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

TlsMode = Literal["none", "starttls", "ssl"]


class AccountSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str = Field(
        min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$",
        description="the address customers write to",
    )  # fmt: skip
    display_name: str = Field(default="", max_length=200)
    imap_host: str = Field(min_length=1, max_length=255)
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_tls: TlsMode = "ssl"
    imap_user: str = Field(min_length=1, max_length=320)
    imap_folder: str = Field(default="INBOX", min_length=1, max_length=200)
    smtp_host: str = Field(min_length=1, max_length=255)
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_tls: TlsMode = "starttls"
    smtp_user: str | None = Field(
        default=None, max_length=320, description="none: the server takes mail without login"
    )
    team_id: uuid.UUID | None = Field(default=None, description="new tickets go to this team")
    signature: str = Field(default="", max_length=5000)
    acknowledge: bool = Field(default=True, description="answer a new ticket automatically")
    enabled: bool = True


class AccountSecrets(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    imap_password: SecretStr = Field(min_length=1, max_length=1000)
    smtp_password: SecretStr | None = Field(
        default=None, max_length=1000, description="default: the IMAP password"
    )

    @property
    def smtp(self) -> str:
        return (self.smtp_password or self.imap_password).get_secret_value()


@dataclass(frozen=True)
class Account:
    account_id: uuid.UUID
    version: int
    settings: AccountSettings
    secrets: AccountSecrets

    @property
    def address(self) -> str:
        return self.settings.address.lower()
