"""Alembic environment: plain SQL migrations of the gateway's own schema (``api_gateway``),
its version table kept in that schema too, so it never meets another service's."""

from alembic import context
from sqlalchemy import create_engine, pool, text

url = context.config.get_main_option("sqlalchemy.url")
assert url, "sqlalchemy.url must be set by api_gateway.adapters.migrate"

engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    connection.execute(text("CREATE SCHEMA IF NOT EXISTS api_gateway"))
    connection.commit()
    context.configure(
        connection=connection,
        transaction_per_migration=True,
        version_table_schema="api_gateway",
    )
    with context.begin_transaction():
        context.run_migrations()
