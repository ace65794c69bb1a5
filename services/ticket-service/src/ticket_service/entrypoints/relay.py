"""Background processes: the outbox relay (``python -m ticket_service relay``), the SLA
projection (``python -m ticket_service sla-projector``), the ticket command consumer
(``python -m ticket_service commands``) and the customer-context follower (its own command,
``customer-context``, and also part of ``commands`` so that every stack runs it)."""

from __future__ import annotations

import asyncio
import signal

import asyncpg

from helpdesk_platform.telemetry import setup_telemetry
from ticket_service.adapters.command_consumer import TicketCommandConsumer
from ticket_service.adapters.customer_context_consumer import CustomerContextConsumer
from ticket_service.adapters.customer_context_queries import CustomerContextQueries
from ticket_service.adapters.event_store import PostgresEventStore, create_pool
from ticket_service.adapters.idempotency import IdempotentAppender
from ticket_service.adapters.kafka_relay import OutboxRelay
from ticket_service.adapters.projections import Projector
from ticket_service.adapters.sla_projection import SlaProjector
from ticket_service.service_layer.customer_context import CustomerContextFollower
from ticket_service.service_layer.customers import CustomerApplication
from ticket_service.service_layer.directory import DirectoryApplication
from ticket_service.service_layer.ticket_commands import TicketCommandHandler
from ticket_service.service_layer.tickets import TicketApplication
from ticket_service.settings import Settings


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM: the process finishes its batch and stops."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def run_relay(settings: Settings) -> None:
    setup_telemetry("ticket-relay")
    stop = stop_on_signals()
    pool = await create_pool(settings.database_url, min_size=2, max_size=4)
    try:
        relay = OutboxRelay(
            PostgresEventStore(pool),
            pool,
            settings.kafka_bootstrap,
            name=settings.relay_name,
            batch_size=settings.relay_batch_size,
            idle_seconds=settings.relay_idle_seconds,
        )
        await relay.run(stop)
    finally:
        await pool.close()


async def run_sla_projector(settings: Settings) -> None:
    setup_telemetry("ticket-sla-projector")
    stop = stop_on_signals()
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        await SlaProjector(pool, settings.kafka_bootstrap).run(stop)
    finally:
        await pool.close()


def command_handler(pool: asyncpg.Pool) -> TicketCommandHandler:
    store = PostgresEventStore(pool)
    directory = DirectoryApplication(pool, store)
    tickets = TicketApplication(store, IdempotentAppender(pool, store), directory=directory)
    return TicketCommandHandler(pool, store, tickets, directory)


async def run_commands(settings: Settings) -> None:
    setup_telemetry("ticket-commands")
    stop = stop_on_signals()
    # One connection per ticket decided at once, and one for the rest.
    pool = await create_pool(
        settings.database_url, min_size=1, max_size=settings.commands_concurrency + 1
    )
    try:
        handler = command_handler(pool)
        consumer = TicketCommandConsumer(
            handler.handle,
            settings.kafka_bootstrap,
            group_id=settings.commands_group,
            topic=settings.commands_topic,
            concurrency=settings.commands_concurrency,
        )
        follower = CustomerContextConsumer(
            customer_context_follower(pool).follow, settings.kafka_bootstrap
        )
        async with asyncio.TaskGroup() as group:
            group.create_task(consumer.run(stop))
            group.create_task(follower.run(stop))
    finally:
        await pool.close()


def customer_context_follower(pool: asyncpg.Pool) -> CustomerContextFollower:
    from ticket_service.entrypoints.http import projections

    store = PostgresEventStore(pool)
    customers = CustomerApplication(pool, store)
    tickets = TicketApplication(store, IdempotentAppender(pool, store), customers=customers)
    projector = Projector(store, pool, projections())
    return CustomerContextFollower(
        tickets, customers, CustomerContextQueries(pool), catch_up=projector.catch_up
    )


async def run_customer_context(settings: Settings) -> None:
    setup_telemetry("ticket-customer-context")
    stop = stop_on_signals()
    pool = await create_pool(settings.database_url, min_size=1, max_size=3)
    try:
        follower = customer_context_follower(pool)
        await CustomerContextConsumer(follower.follow, settings.kafka_bootstrap).run(stop)
    finally:
        await pool.close()
