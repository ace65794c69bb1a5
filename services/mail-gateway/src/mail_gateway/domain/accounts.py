"""An email account: an inbox the gateway reads and the SMTP submission it replies through.

Settings are what managers see and what events carry; :class:`AccountSecrets` (passwords) are
kept only encrypted in the gateway's store and never leave it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

TlsMode = Literal["none", "starttls", "ssl"]

#: Not in an archive folder's name: IMAP's wildcards, quote and backslash. With printable ASCII
#: only, the name needs no modified UTF-7 and is quoted alike on every server.
ARCHIVE_FOLDER_FORBIDS = frozenset('*%"\\')


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
    archive_folder: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="move handled mail to this folder (created when missing; the server must"
        " support MOVE); none: handled mail stays in the inbox folder, marked read",
    )
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

    @field_validator("archive_folder")
    @classmethod
    def _archive_name(cls, name: str | None) -> str | None:
        if name is None:
            return None
        if name != name.strip() or not all(" " <= c <= "~" for c in name):
            raise ValueError("use printable ASCII, without spaces at either end")
        if ARCHIVE_FOLDER_FORBIDS & set(name):
            raise ValueError('a folder name cannot hold *, %, " or \\')
        return name

    @model_validator(mode="after")
    def _archive_apart(self) -> AccountSettings:
        """Moving handled mail into the folder it is read from would read it again."""
        if self.archive_folder is not None and _same_folder(self.archive_folder, self.imap_folder):
            raise ValueError("archive_folder must differ from imap_folder (or be left empty)")
        return self


def _same_folder(a: str, b: str) -> bool:
    """INBOX is case-insensitive in IMAP; other names are compared as given."""
    a, b = a.strip(), b.strip()
    return a == b or (a.upper() == "INBOX" and b.upper() == "INBOX")


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
