"""A schema of its own in a shared database (compose and Kubernetes share the helpdesk
database): ``migrate`` creates it and its tables there, beside another service's tables of the
same names, and the pool reads them there."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable

import asyncpg

from notification_service.adapters.database import create_pool


async def test_migrate_into_a_schema_of_its_own(make_database: Callable[[str], str]) -> None:
    url = make_database("shared_helpdesk")
    other = await asyncpg.connect(url)
    try:
        # Another service's tables of the same names, in the default schema.
        await other.execute("CREATE TABLE tickets (id int); CREATE TABLE alembic_version (x int)")
    finally:
        await other.close()
    env = os.environ | {"HELPDESK_DATABASE_URL": url, "HELPDESK_DATABASE_SCHEMA": "notifications"}
    for _ in range(2):  # twice: the second run finds it up to date
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "notification_service", "migrate"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    check = await asyncpg.connect(url)
    try:
        tables = {
            r["table_name"]
            for r in await check.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'notifications'"
            )
        }
        public = await check.fetch(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = 'tickets'"
        )
    finally:
        await check.close()
    assert {"notifications", "tickets", "emails", "webhook_deliveries", "alembic_version"} <= tables
    assert [r["column_name"] for r in public] == ["id"]  # the other service's table untouched

    pool = await create_pool(url, min_size=1, max_size=1, schema="notifications")
    try:
        assert await pool.fetchval("SELECT version FROM directory_version") == 0
        assert await pool.fetchval("SELECT current_schema()") == "notifications"
    finally:
        await pool.close()
