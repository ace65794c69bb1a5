"""Fixtures for the ticket service on the real PostgreSQL and Kafka (see helpdesk_devstack)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import ConsumerRecord
from fastapi import FastAPI

from helpdesk_devstack.tokens import mint_token
from helpdesk_devstack.topic_reader import read_topic
from helpdesk_events import EventEnvelope, decode_envelope
from ticket_service.adapters.event_store import PostgresEventStore, create_pool
from ticket_service.adapters.migrate import upgrade
from ticket_service.entrypoints.http import create_app
from ticket_service.settings import Settings

pytestmark = pytest.mark.integration

# The tests read finished spans from an in-memory exporter, so every span must be recorded.
os.environ.setdefault("OTEL_TRACES_SAMPLER", "parentbased_always_on")


@pytest.fixture(scope="session")
def database_url(make_database: Callable[[str], str]) -> str:
    url = make_database("tickets")
    upgrade(url)
    return url


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, min_size=2, max_size=40)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def store(pool: asyncpg.Pool) -> PostgresEventStore:
    return PostgresEventStore(pool)


@pytest.fixture(scope="session")
def settings(
    database_url: str,
    kafka_bootstrap: str,
    dev_keys: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    return Settings(
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        jwt_public_key_file=dev_keys[1],
        blob_dir=tmp_path_factory.mktemp("blobs"),
    )


@pytest.fixture(scope="session")
def token(dev_keys: tuple[Path, Path]) -> Callable[..., str]:
    private_key = dev_keys[0].read_bytes()

    def make(role: str = "agent", subject: str | None = None, **claims: str) -> str:
        return mint_token(
            private_key, role, subject or f"test-{role}", timedelta(hours=1), **claims
        )

    return make


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The ticket service's app, in process, with its lifespan (pool, keys, projector) running."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tickets") as client:
        yield client


@pytest.fixture
def caught_up(app: FastAPI) -> Callable[[], Awaitable[int]]:
    """Bring the read models up to date with the log (they follow it asynchronously)."""
    return app.state.projector.catch_up  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def consume_until(
    bootstrap: str,
    topic: str,
    wanted: Callable[[list[tuple[EventEnvelope, dict[str, bytes], bytes | None]]], bool],
    *,
    timeout: float = 30.0,
) -> list[tuple[EventEnvelope, dict[str, bytes], bytes | None]]:
    """Read ``topic`` from the beginning until ``wanted(messages)`` holds (or time runs out)."""
    decoded: list[tuple[EventEnvelope, dict[str, bytes], bytes | None]] = []

    def enough(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        decoded.extend(
            (decode_envelope(r.value or b""), dict(r.headers), r.key)
            for r in records[len(decoded) :]
        )
        return wanted(decoded)

    await read_topic(bootstrap, topic, enough, max_wait=timeout)
    return decoded


async def wait_for(condition: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)


#: Index scans only (a sequential scan when there is no index to use), and none at all.
WITH_INDEXES = {"enable_seqscan": "off"}
WITHOUT_INDEXES = {
    "enable_indexscan": "off",
    "enable_indexonlyscan": "off",
    "enable_bitmapscan": "off",
}


@pytest.fixture(scope="module")
async def index_pools(
    make_database: Callable[[str], str],
) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool, asyncpg.Pool]]:
    """A database of the module's own (events applied to the projections without the log, as
    in test_resolved_at.py), written through the first pool, read through a pool that scans
    the indexes and one that cannot (test_report_indexes.py, test_list_indexes.py)."""
    url = make_database("indexes")
    await asyncio.to_thread(upgrade, url)
    writer = await create_pool(url, min_size=1, max_size=4)
    indexed = await asyncpg.create_pool(url, min_size=1, max_size=2, server_settings=WITH_INDEXES)
    plain = await asyncpg.create_pool(url, min_size=1, max_size=2, server_settings=WITHOUT_INDEXES)
    yield writer, indexed, plain
    for pool in (plain, indexed, writer):
        await pool.close()


async def explain(connection: asyncpg.Connection | asyncpg.Pool, query: str, *args: object) -> str:
    return "\n".join(row[0] for row in await connection.fetch(f"EXPLAIN {query}", *args))
