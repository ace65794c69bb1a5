"""Alembic environment: plain SQL migrations run on the URL the service is configured with, in
its own schema when one is configured (a database shared with other services)."""

import re

from alembic import context
from sqlalchemy import create_engine, pool, text

url = context.config.get_main_option("sqlalchemy.url")
assert url, "sqlalchemy.url must be set by notification_service.adapters.migrate"
schema = context.config.get_main_option("schema")
assert schema is None or re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema), schema

engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    if schema:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        connection.execute(text(f'SET search_path TO "{schema}"'))
        connection.commit()
    context.configure(
        connection=connection, transaction_per_migration=True, version_table_schema=schema
    )
    with context.begin_transaction():
        context.run_migrations()
