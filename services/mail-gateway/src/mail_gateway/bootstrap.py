"""Wires the gateway: store, accounts, ticket service client, intake, outbound, and the
long-running tasks (one IMAP watcher per enabled account, the consumer of the ticket and
directory topics, the send queue). One process runs them all beside the HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from helpdesk_events import EventEnvelope, decode_envelope
from helpdesk_events.topics import DIRECTORY, TICKETS
from helpdesk_platform.mail_branding import BrandingReader
from mail_gateway.adapters.accounts import AccountEventPublisher, AccountStore, SecretBox
from mail_gateway.adapters.directory import AgentDirectory
from mail_gateway.adapters.imap import AccountStatus, InboxWatcher, check_inbox
from mail_gateway.adapters.smtp import check_submission
from mail_gateway.adapters.store import MailStore, create_pool
from mail_gateway.adapters.tickets_api import TicketsApi, TokenMinter
from mail_gateway.domain.accounts import Account, AccountSecrets, AccountSettings
from mail_gateway.service_layer.admin import EmailAccounts, Quarantine
from mail_gateway.service_layer.intake import Intake, SenderLimiter
from mail_gateway.service_layer.outbound import Outbound
from mail_gateway.settings import Settings

log = structlog.get_logger("mail_gateway")


@dataclass
class Gateway:
    settings: Settings
    pool: asyncpg.Pool
    store: MailStore
    accounts: AccountStore
    api: TicketsApi
    intake: Intake
    outbound: Outbound
    directory: AgentDirectory
    watchers: dict[uuid.UUID, tuple[InboxWatcher, asyncio.Task[None], asyncio.Event]] = field(
        default_factory=dict
    )
    own_addresses: frozenset[str] = frozenset()
    consumer_ready: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def email_accounts(self) -> EmailAccounts:
        """The managers' use cases on the accounts (:mod:`mail_gateway.service_layer.admin`)."""
        return EmailAccounts(
            self.accounts,
            self.sync_watchers,
            self.watcher_status,
            probes=(check_inbox, check_submission),
        )

    @property
    def quarantine(self) -> Quarantine:
        """The managers' use cases on quarantined mail."""
        return Quarantine(self.store, self.accounts, self.intake.release)

    def watcher_status(self, account_id: uuid.UUID) -> AccountStatus | None:
        """The inbox watcher's status of an account (None: it has none, being disabled)."""
        entry = self.watchers.get(account_id)
        return entry[0].status if entry else None

    async def publish_account_events(self, stop: asyncio.Event) -> None:
        """Send the accounts' outbox to ``helpdesk.mail-accounts.v1`` until ``stop``."""
        await AccountEventPublisher(self.pool, self.settings.kafka_bootstrap).run(stop)

    async def sync_watchers(self) -> None:
        """Start a watcher for each enabled account, stop those of changed or removed ones."""
        accounts = {a.account_id: a for a in await self.accounts.all()}
        self.own_addresses = frozenset(a.address for a in accounts.values())
        for account_id, (watcher, task, stop) in list(self.watchers.items()):
            current = accounts.get(account_id)
            if current is None or current.version != watcher.account.version:
                stop.set()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, 10)
                del self.watchers[account_id]
        for account_id, account in accounts.items():
            if account.settings.enabled and account_id not in self.watchers:
                watcher = InboxWatcher(
                    account,
                    self.intake.handle_batch,
                    renew_seconds=self.settings.idle_renew_seconds,
                    fetch_bytes=self.settings.imap_fetch_max_bytes,
                )
                stop = asyncio.Event()
                task = asyncio.create_task(watcher.run(stop), name=f"imap-{account.address}")
                self.watchers[account_id] = (watcher, task, stop)

    async def consume(self, stop: asyncio.Event) -> None:
        """Follow helpdesk.tickets.v1 (the threading projection and replies to send) and
        helpdesk.directory.v1 (who the agents are), in one consumer group."""
        while not stop.is_set():
            consumer = AIOKafkaConsumer(
                TICKETS,
                DIRECTORY,
                bootstrap_servers=self.settings.kafka_bootstrap,
                group_id=self.settings.consumer_group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                fetch_max_wait_ms=100,
            )
            try:
                await consumer.start()
                self.consumer_ready = True
                while not stop.is_set():
                    batches = await consumer.getmany(timeout_ms=500, max_records=500)
                    for records in batches.values():
                        envelopes: list[EventEnvelope] = []
                        for record in records:
                            if record.value is None:
                                continue
                            try:
                                envelope = decode_envelope(record.value)
                            except ValueError:
                                continue
                            if record.topic == DIRECTORY:
                                await self.directory.on_event(envelope)
                            else:
                                envelopes.append(envelope)
                        # A partition's ticket events in order, the common writes gathered.
                        await self.outbound.on_events(envelopes)
                    if batches:
                        await consumer.commit()
            except (KafkaError, OSError) as error:
                self.consumer_ready = False
                log.warning("ticket topic consumer failed", error=str(error))
                await asyncio.sleep(2)
            finally:
                self.consumer_ready = False
                with contextlib.suppress(Exception):
                    await consumer.stop()

    async def send_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                sent = await self.outbound.send_due()
            except Exception as error:
                log.warning("send queue pass failed", error=f"{type(error).__name__}: {error}")
                sent = 0
            if not sent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.send_interval)

    async def resync_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 30)
            if not stop.is_set():
                await self.sync_watchers()

    async def stop_all(self) -> None:
        for _, task, stop in self.watchers.values():
            stop.set()
            task.cancel()
        for _, task, _ in self.watchers.values():
            with contextlib.suppress(BaseException):
                await task
        self.watchers.clear()


async def build(settings: Settings) -> Gateway:
    pool = await create_pool(settings.database_url)
    store = MailStore(pool)
    accounts = AccountStore(pool, SecretBox(settings.fernet_key()))
    directory = AgentDirectory(pool)
    api = TicketsApi(
        settings.ticket_service_url, TokenMinter(settings.jwt_private_key_file.read_bytes())
    )
    outbound = Outbound(
        store, accounts, api, domain=settings.message_id_domain,
        max_attempts=settings.max_send_attempts, portal_url=settings.portal_url,
        branding=BrandingReader(
            api.client, settings.ticket_service_url, keep_seconds=settings.branding_seconds
        ),
        agent_emails=directory.emails,
    )  # fmt: skip
    holder: dict[str, Gateway] = {}
    intake = Intake(
        store,
        api,
        own_domain=settings.message_id_domain,
        own_addresses=lambda: holder["gateway"].own_addresses,
        limiter=SenderLimiter(settings.sender_limit, settings.sender_window_seconds),
        acknowledge=outbound.acknowledge,
        find_agent=directory.active_agent,
        agent_addresses=directory.active_addresses,
        acknowledge_many=outbound.acknowledge_many,
        trusted_servers=settings.trusted_servers(),
        reply_keys=settings.reply_keys(),
    )
    gateway = Gateway(settings, pool, store, accounts, api, intake, outbound, directory)
    holder["gateway"] = gateway
    await bootstrap_account(settings, accounts)
    return gateway


async def bootstrap_account(settings: Settings, accounts: AccountStore) -> Account | None:
    """The local stack's support account (GreenMail), created on the first start only."""
    if not settings.bootstrap_address or settings.bootstrap_password is None:
        return None
    if await accounts.by_address(settings.bootstrap_address) is not None:
        return None
    account_settings = AccountSettings(
        address=settings.bootstrap_address,
        display_name="Helpdesk Support",
        imap_host=settings.imap_host,
        imap_port=settings.imap_port,
        imap_tls="none",
        imap_user=settings.bootstrap_address,
        smtp_host=settings.smtp_host,
        smtp_port=settings.smtp_port,
        smtp_tls="none",
        signature="Helpdesk Support",
    )
    secrets = AccountSecrets(imap_password=settings.bootstrap_password)
    with contextlib.suppress(Exception):
        return await accounts.create(account_settings, secrets)
    return None
