"""Email accounts in the gateway's store, passwords encrypted with Fernet (AES-128-CBC with an
HMAC) under a key from the environment (``HELPDESK_MAIL_SECRET_KEY``). Optimistic versions: a
write names the version it was decided on and loses to a concurrent one (HTTP 412).

Every change is also an event (``EmailAccountSaved`` / ``EmailAccountDeleted``, non-secret
fields only) written in the same transaction to ``mail_account_events``, an outbox that
:class:`AccountEventPublisher` sends to ``helpdesk.mail-accounts.v1`` (keyed by account id), so
other services can follow the accounts without ever seeing a password, and a Kafka outage loses
nothing."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime

import asyncpg
import orjson
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from cryptography.fernet import Fernet, InvalidToken

from helpdesk_events import (
    Actor,
    ActorKind,
    EventEnvelope,
    derived_event_id,
    encode_envelope,
    kafka_headers,
)
from helpdesk_events.mail import EmailAccountDeleted, EmailAccountSaved
from helpdesk_events.topics import MAIL_ACCOUNTS
from mail_gateway.domain.accounts import Account, AccountSecrets, AccountSettings
from mail_gateway.service_layer.admin import AccountConflict, DuplicateAddress

log = structlog.get_logger("mail_gateway.accounts")


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
        event = EmailAccountSaved(
            account_id=account_id,
            **settings.model_dump(exclude={"signature"}),
        )
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                done: str = await connection.execute(
                    sql,
                    account_id,
                    settings.address.lower(),
                    settings.model_dump(mode="json"),
                    self._box.seal(secrets),
                    version,
                )
                if done.endswith(" 1"):
                    await _record(connection, account_id, version + 1, event)
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
        async with self._pool.acquire() as connection, connection.transaction():
            done = await connection.execute(
                "DELETE FROM mail_accounts WHERE account_id = $1 AND version = $2",
                account_id,
                expected_version,
            )
            if done.endswith(" 1"):
                event = EmailAccountDeleted(account_id=account_id)
                await _record(connection, account_id, expected_version + 1, event)
        if not done.endswith(" 1"):
            latest = await self.get(account_id)
            raise AccountConflict(expected_version, latest.version if latest else None)


ACCOUNTS_STREAM = uuid.UUID("6f1d8a52-3c1e-4a8e-9d0b-7a7c1e0f5a11")


async def _record(
    connection: asyncpg.Connection,
    account_id: uuid.UUID,
    version: int,
    event: EmailAccountSaved | EmailAccountDeleted,
) -> None:
    envelope = EventEnvelope(
        event_id=derived_event_id("mail-account", account_id, version),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=account_id,
        stream_type=event.stream_type,
        stream_version=version,
        occurred_at=datetime.now(UTC),
        actor=Actor(kind=ActorKind.SERVICE, id="mail-gateway"),
        correlation_id=uuid.uuid4(),
        data=event.model_dump(mode="json"),
    )
    await connection.execute(
        "INSERT INTO mail_account_events (account_id, envelope) VALUES ($1, $2)",
        account_id,
        envelope.model_dump(mode="json"),
    )


class AccountEventPublisher:
    """Sends the outbox of account events to ``helpdesk.mail-accounts.v1`` in order."""

    def __init__(self, pool: asyncpg.Pool, bootstrap: str) -> None:
        self._pool = pool
        self._bootstrap = bootstrap

    async def run(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self._bootstrap, acks="all")
        started = False
        try:
            while not stop.is_set():
                try:
                    if not started:
                        await producer.start()
                        started = True
                    await self.publish(producer)
                except (KafkaError, OSError) as error:
                    log.warning("account events not published yet", error=str(error))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)
        finally:
            if started:
                await producer.stop()

    async def publish(self, producer: AIOKafkaProducer) -> int:
        rows = await self._pool.fetch(
            "SELECT position, account_id, envelope FROM mail_account_events"
            " WHERE NOT published ORDER BY position LIMIT 100"
        )
        for row in rows:
            envelope = EventEnvelope.model_validate(row["envelope"])
            await producer.send_and_wait(
                MAIL_ACCOUNTS,
                encode_envelope(envelope),
                key=str(row["account_id"]).encode(),
                headers=kafka_headers(envelope, None),
            )
            await self._pool.execute(
                "UPDATE mail_account_events SET published = true WHERE position = $1",
                row["position"],
            )
        return len(rows)
