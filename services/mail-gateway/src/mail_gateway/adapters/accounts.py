"""Email accounts in the gateway's store, passwords encrypted with Fernet (AES-128-CBC with an
HMAC) under a key from the environment (``HELPDESK_MAIL_SECRET_KEY``). Optimistic versions: a
write names the version it was decided on and loses to a concurrent one (HTTP 412)."""

from __future__ import annotations

import uuid

import asyncpg
import orjson
from cryptography.fernet import Fernet, InvalidToken

from mail_gateway.domain.accounts import Account, AccountSecrets, AccountSettings


class AccountConflict(Exception):
    def __init__(self, expected: int, actual: int | None) -> None:
        super().__init__(
            f"the account is at version {actual}, not {expected}; read it again and retry"
            if actual is not None
            else "no such account"
        )
        self.actual = actual


class DuplicateAddress(Exception):
    pass


class SecretBox:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def seal(self, secrets: AccountSecrets) -> bytes:
        plain = {
            "imap_password": secrets.imap_password.get_secret_value(),
            "smtp_password": secrets.smtp_password.get_secret_value()
            if secrets.smtp_password
            else None,
        }
        return self._fernet.encrypt(orjson.dumps(plain))

    def open(self, sealed: bytes) -> AccountSecrets:
        try:
            return AccountSecrets.model_validate(orjson.loads(self._fernet.decrypt(sealed)))
        except InvalidToken:
            raise ValueError(
                "cannot decrypt an account's secrets: HELPDESK_MAIL_SECRET_KEY changed"
            ) from None


class AccountStore:
    def __init__(self, pool: asyncpg.Pool, box: SecretBox) -> None:
        self._pool = pool
        self._box = box

    def _account(self, row: asyncpg.Record) -> Account:
        return Account(
            account_id=row["account_id"],
            version=row["version"],
            settings=AccountSettings.model_validate(row["settings"]),
            secrets=self._box.open(row["secret"]),
        )

    async def all(self) -> list[Account]:
        rows = await self._pool.fetch("SELECT * FROM mail_accounts ORDER BY address")
        return [self._account(row) for row in rows]

    async def get(self, account_id: uuid.UUID) -> Account | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM mail_accounts WHERE account_id = $1", account_id
        )
        return self._account(row) if row else None

    async def by_address(self, address: str) -> Account | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM mail_accounts WHERE address = $1", address.lower()
        )
        return self._account(row) if row else None

    async def create(
        self,
        settings: AccountSettings,
        secrets: AccountSecrets,
        account_id: uuid.UUID | None = None,
    ) -> Account:
        account_id = account_id or uuid.uuid4()
        await self._write(
            "INSERT INTO mail_accounts (account_id, address, settings, secret, version)"
            " VALUES ($1, $2, $3, $4, $5 + 1)",
            account_id, settings, secrets, 0,
        )  # fmt: skip
        return Account(account_id, 1, settings, secrets)

    async def _write(
        self,
        sql: str,
        account_id: uuid.UUID,
        settings: AccountSettings,
        secrets: AccountSecrets,
        version: int,
    ) -> str:
        try:
            done: str = await self._pool.execute(
                sql,
                account_id,
                settings.address.lower(),
                settings.model_dump(mode="json"),
                self._box.seal(secrets),
                version,
            )
        except asyncpg.UniqueViolationError:
            raise DuplicateAddress(f"an account for {settings.address} exists already") from None
        return done

    async def update(
        self,
        account_id: uuid.UUID,
        settings: AccountSettings,
        secrets: AccountSecrets | None,
        expected_version: int,
    ) -> Account:
        current = await self.get(account_id)
        if current is None or current.version != expected_version:
            raise AccountConflict(expected_version, current.version if current else None)
        kept = secrets or current.secrets
        done = await self._write(
            "UPDATE mail_accounts SET address = $2, settings = $3, secret = $4,"
            " version = version + 1, updated_at = now() WHERE account_id = $1 AND version = $5",
            account_id, settings, kept, expected_version,
        )  # fmt: skip
        if not done.endswith(" 1"):
            latest = await self.get(account_id)
            raise AccountConflict(expected_version, latest.version if latest else None)
        return Account(account_id, expected_version + 1, settings, kept)

    async def delete(self, account_id: uuid.UUID, expected_version: int) -> None:
        done = await self._pool.execute(
            "DELETE FROM mail_accounts WHERE account_id = $1 AND version = $2",
            account_id,
            expected_version,
        )
        if not done.endswith(" 1"):
            latest = await self.get(account_id)
            raise AccountConflict(expected_version, latest.version if latest else None)
