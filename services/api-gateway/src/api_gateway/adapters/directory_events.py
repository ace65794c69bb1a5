"""Follows ``helpdesk.directory.v1``: the gateway learns of invited, re-roled and deactivated
agents from the directory's events (the ticket service is their one writer).

At least once: offsets are committed after a batch is handled, and handling is idempotent
(directory versions order the changes; an invitation is keyed by its event id and mailed once
it is recorded). When Kafka, PostgreSQL or the mail server fails, the consumer starts again
after a pause that doubles up to ten seconds, from the last committed offset: nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from aiosmtplib import SMTPException
from pydantic import ValidationError

from helpdesk_events import EventEnvelope, decode_envelope
from helpdesk_events.topics import DIRECTORY

log = structlog.get_logger()

Handler = Callable[[EventEnvelope], Awaitable[None]]
AGENT_EVENTS = frozenset(
    {"AgentInvited", "AgentRoleChanged", "AgentDeactivated", "AgentReactivated"}
)
RETRIED = (KafkaError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError, SMTPException)


async def follow_directory(
    stop: asyncio.Event, *, bootstrap: str, group_id: str, handle: Handler
) -> None:
    backoff = 0.5
    while not stop.is_set():
        consumer = AIOKafkaConsumer(
            DIRECTORY,
            bootstrap_servers=bootstrap,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        try:
            await consumer.start()
            log.info("following the directory", group=group_id)
            backoff = 0.5
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500, max_records=100)
                records = [record for batch in batches.values() for record in batch]
                for record in records:
                    await _handle_one(record.value, handle)
                if records:
                    await consumer.commit()
        except RETRIED as error:
            log.warning("directory consumer interrupted; retrying", error=repr(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2, 10.0)
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()


async def _handle_one(raw: bytes | None, handle: Handler) -> None:
    if not raw:
        return
    try:
        envelope = decode_envelope(raw)
    except (ValidationError, ValueError) as error:
        log.warning("unreadable directory record skipped", error=str(error)[:200])
        return
    if envelope.event_type in AGENT_EVENTS:
        await handle(envelope)
