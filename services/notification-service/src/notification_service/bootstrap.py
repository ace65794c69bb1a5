"""Wiring: the pool, the service layer and the background loops of one process.

One process (``python -m notification_service serve``) runs the HTTP API and, in its
background, the event consumer (``HELPDESK_RUN_CONSUMER``), the email sender (when
``HELPDESK_SMTP_HOST`` is set) and the webhook dispatcher. Several processes may run: Kafka
splits the partitions among their consumers, and one email sender and one dispatcher are
active per database (a PostgreSQL session lock) while the others stand by.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import structlog

from helpdesk_platform.auth import TokenVerifier
from notification_service.adapters.broadcast import Broadcaster
from notification_service.adapters.database import (
    DELIVERIES_CHANNEL,
    EMAIL_SENDER_LOCK,
    EMAILS_CHANNEL,
    PRESENCE_CHANNEL,
    TICKET_CHANGED_CHANNEL,
    WEBHOOK_DISPATCHER_LOCK,
    create_pool,
    listen,
    while_holding,
)
from notification_service.adapters.email_sender import EmailSender
from notification_service.adapters.kafka_consumer import consume
from notification_service.adapters.webhook_dispatcher import WebhookDispatcher
from notification_service.service_layer.events import EventProcessor
from notification_service.service_layer.inbox import Inbox
from notification_service.service_layer.presence import Presences
from notification_service.service_layer.webhooks import Webhooks
from notification_service.settings import Settings

log = structlog.get_logger("notification_service")


@dataclass
class Running:
    settings: Settings
    pool: Any
    verifier: TokenVerifier
    inbox: Inbox
    webhooks: Webhooks
    broadcaster: Broadcaster
    presences: Presences
    #: Per ticket: presence changed / the ticket changed (keyed by ticket id).
    presence_broadcasters: tuple[Broadcaster, Broadcaster]
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    listeners: list[asyncpg.Connection] = field(default_factory=list)

    async def close(self) -> None:
        self.stop.set()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 10)
        for connection in self.listeners:
            with contextlib.suppress(Exception):
                await connection.close()
        await self.broadcaster.stop()
        for broadcaster in self.presence_broadcasters:
            await broadcaster.stop()
        await self.pool.close()


async def start(settings: Settings) -> Running:
    # Read first: a reply key that cannot sign (too short) stops the start, with the reason.
    reply_key = settings.reply_key()
    pool = await create_pool(
        settings.database_url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        schema=settings.database_schema,
    )
    broadcaster = Broadcaster(settings.database_url)
    await broadcaster.start()
    presence_wakeups = Broadcaster(settings.database_url, PRESENCE_CHANNEL)
    change_wakeups = Broadcaster(settings.database_url, TICKET_CHANGED_CHANNEL)
    await presence_wakeups.start()
    await change_wakeups.start()
    running = Running(
        settings=settings,
        pool=pool,
        verifier=TokenVerifier.from_file(settings.jwt_public_key_file),
        inbox=Inbox(pool),
        webhooks=Webhooks(
            pool,
            allow_private=settings.webhooks_allow_private,
            overlap=timedelta(hours=settings.webhook_secret_overlap_hours),
        ),
        broadcaster=broadcaster,
        presences=Presences(pool, presence_wakeups, change_wakeups),
        presence_broadcasters=(presence_wakeups, change_wakeups),
    )
    stop = running.stop
    if settings.run_consumer:
        running.tasks.append(
            asyncio.create_task(
                consume(
                    stop,
                    pool=pool,
                    bootstrap=settings.kafka_bootstrap,
                    group_id=settings.consumer_group,
                    processor=EventProcessor(settings.portal_url, replies=reply_key is not None),
                    max_records=settings.consumer_max_records,
                )
            )
        )
    dispatcher = WebhookDispatcher(
        pool,
        timeout=settings.webhook_timeout_seconds,
        concurrency=settings.webhook_concurrency,
        allow_private=settings.webhooks_allow_private,
    )
    running.listeners.append(
        await listen(settings.database_url, DELIVERIES_CHANNEL, dispatcher.wake)
    )
    running.tasks.append(
        asyncio.create_task(
            while_holding(
                pool,
                WEBHOOK_DISPATCHER_LOCK,
                stop,
                lambda: dispatcher.run(stop),
                name="webhook dispatcher",
            )
        )
    )
    if settings.smtp_host:
        sender = EmailSender(
            pool,
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            digest_interval=timedelta(minutes=settings.digest_minutes),
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            reply_key=reply_key,
            reply_to=settings.mail_reply_to,
        )
        running.listeners.append(await listen(settings.database_url, EMAILS_CHANNEL, sender.wake))
        running.tasks.append(
            asyncio.create_task(
                while_holding(
                    pool, EMAIL_SENDER_LOCK, stop, lambda: sender.run(stop), name="email sender"
                )
            )
        )
    else:
        log.info("HELPDESK_SMTP_HOST not set: emails are queued, not sent")
    return running
