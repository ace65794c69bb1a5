"""What managers do with the gateway: its email accounts and the quarantined mail.

The use cases behind the HTTP API (:mod:`mail_gateway.entrypoints.http_accounts`,
:mod:`mail_gateway.entrypoints.http_quarantine`), so the routes only parse, call and map these
errors to statuses. The stores are ports (Protocols) here; the PostgreSQL adapters
(:class:`mail_gateway.adapters.accounts.AccountStore`,
:class:`mail_gateway.adapters.store.MailStore`) implement them and raise the errors defined here.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from mail_gateway.domain.accounts import Account, AccountSecrets, AccountSettings

__all__ = [
    "AccountConflict",
    "AccountNotFound",
    "Accounts",
    "AlreadySettled",
    "CannotRelease",
    "ConnectionCheck",
    "DuplicateAddress",
    "EmailAccounts",
    "Quarantine",
    "QuarantineNotFound",
    "QuarantineStore",
]


class AccountConflict(Exception):
    """A write named a version the account is no longer at (or the account is gone)."""

    def __init__(self, expected: int, actual: int | None) -> None:
        super().__init__(
            f"the account is at version {actual}, not {expected}; read it again and retry"
            if actual is not None
            else "no such account"
        )
        self.actual = actual


class DuplicateAddress(Exception):
    """Another account has this address already."""


class AccountNotFound(LookupError):
    def __init__(self, account_id: uuid.UUID) -> None:
        super().__init__(f"no email account {account_id}")


class QuarantineNotFound(LookupError):
    def __init__(self, quarantine_id: uuid.UUID) -> None:
        super().__init__(f"no quarantined mail {quarantine_id}")


class AlreadySettled(Exception):
    """The quarantined mail was released or discarded already (or its account is gone)."""


class CannotRelease(Exception):
    """The quarantined mail cannot become a ticket."""


class Accounts(Protocol):
    """The accounts' store (optimistic versions; raises :class:`AccountConflict`,
    :class:`DuplicateAddress`)."""

    async def all(self) -> list[Account]: ...
    async def get(self, account_id: uuid.UUID) -> Account | None: ...
    async def create(self, settings: AccountSettings, secrets: AccountSecrets) -> Account: ...
    async def update(
        self,
        account_id: uuid.UUID,
        settings: AccountSettings,
        secrets: AccountSecrets | None,
        expected_version: int,
    ) -> Account: ...
    async def delete(self, account_id: uuid.UUID, expected_version: int) -> None: ...


class QuarantineStore(Protocol):
    async def quarantined(self, state: str | None = "held") -> list[Any]: ...
    async def quarantined_one(self, quarantine_id: uuid.UUID) -> Any | None: ...
    async def settle_quarantine(
        self, quarantine_id: uuid.UUID, state: str, ticket_id: uuid.UUID | None = None
    ) -> bool: ...


class _Released(Protocol):
    @property
    def ticket_id(self) -> uuid.UUID | None: ...


@dataclass(frozen=True)
class ConnectionCheck:
    """What a connection test found: each server's error, None where it worked."""

    imap_error: str | None
    smtp_error: str | None

    @property
    def ok(self) -> bool:
        return self.imap_error is None and self.smtp_error is None


#: Tries one server with an account's settings: None when it works, else why not.
Probe = Callable[[Account], Awaitable[str | None]]


class EmailAccounts:
    """Accounts read and changed by managers; every change restarts the inbox watchers."""

    def __init__(
        self,
        accounts: Accounts,
        sync_watchers: Callable[[], Awaitable[None]],
        status_of: Callable[[uuid.UUID], Any | None],
        probes: tuple[Probe, Probe] | None = None,
    ) -> None:
        self._accounts = accounts
        self._sync = sync_watchers
        self._status_of = status_of
        self._probes = probes

    async def test_connection(
        self, settings: AccountSettings, secrets: AccountSecrets
    ) -> ConnectionCheck:
        """Log in to the IMAP and SMTP servers with these settings, as the inbox watcher and
        the sender would, before they are saved: both at once, nothing stored or sent."""
        if self._probes is None:
            raise RuntimeError("this gateway has no connection probes")
        account = Account(uuid.uuid4(), 0, settings, secrets)
        imap, smtp = self._probes
        imap_error, smtp_error = await asyncio.gather(imap(account), smtp(account))
        return ConnectionCheck(imap_error, smtp_error)

    async def all(self) -> list[Account]:
        return await self._accounts.all()

    async def get(self, account_id: uuid.UUID) -> Account:
        account = await self._accounts.get(account_id)
        if account is None:
            raise AccountNotFound(account_id)
        return account

    async def create(self, settings: AccountSettings, secrets: AccountSecrets) -> Account:
        account = await self._accounts.create(settings, secrets)
        await self._sync()
        return account

    async def replace(
        self,
        account_id: uuid.UUID,
        settings: AccountSettings,
        secrets: AccountSecrets | None,
        expected_version: int,
    ) -> Account:
        account = await self._accounts.update(account_id, settings, secrets, expected_version)
        await self._sync()
        return account

    async def remove(self, account_id: uuid.UUID, expected_version: int) -> None:
        await self._accounts.delete(account_id, expected_version)
        await self._sync()

    async def status(self, account_id: uuid.UUID) -> tuple[Account, Any | None]:
        """The account and its inbox watcher's status (None: no watcher, it is disabled)."""
        return await self.get(account_id), self._status_of(account_id)


class Quarantine:
    """Mail that could not become a ticket as it was, kept whole until a manager decides."""

    def __init__(
        self,
        store: QuarantineStore,
        accounts: Accounts,
        release: Callable[[Account, bytes], Awaitable[_Released]],
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._release = release

    async def list(self, state: str | None) -> list[Mapping[str, Any]]:
        """The quarantined mail in ``state`` (``"all"``: every state)."""
        rows = await self._store.quarantined(None if state == "all" else state)
        return [dict(row) for row in rows]

    async def raw(self, quarantine_id: uuid.UUID) -> bytes:
        row = await self._held(quarantine_id, held=False)
        return bytes(row["raw"])

    async def release(self, quarantine_id: uuid.UUID) -> Mapping[str, Any]:
        """Turn the mail into a ticket (or a message on the ticket it answers)."""
        row = await self._held(quarantine_id)
        account = await self._accounts.get(row["account_id"])
        if account is None:
            raise AlreadySettled("its email account was removed; discard it instead")
        try:
            outcome = await self._release(account, bytes(row["raw"]))
        except Exception as error:
            raise CannotRelease(f"cannot make a ticket of it: {error}") from None
        await self._store.settle_quarantine(quarantine_id, "released", outcome.ticket_id)
        return await self._one(quarantine_id)

    async def discard(self, quarantine_id: uuid.UUID) -> Mapping[str, Any]:
        await self._held(quarantine_id)
        if not await self._store.settle_quarantine(quarantine_id, "discarded"):
            await self._held(quarantine_id)  # settled meanwhile: say how
        return await self._one(quarantine_id)

    async def _one(self, quarantine_id: uuid.UUID) -> Mapping[str, Any]:
        rows = await self._store.quarantined(None)
        return dict(next(r for r in rows if r["quarantine_id"] == quarantine_id))

    async def _held(self, quarantine_id: uuid.UUID, *, held: bool = True) -> Any:
        """The quarantined mail; with ``held``, refused if already settled."""
        row = await self._store.quarantined_one(quarantine_id)
        if row is None:
            raise QuarantineNotFound(quarantine_id)
        if held and row["state"] != "held":
            raise AlreadySettled(f"the mail was already {row['state']}")
        return row
