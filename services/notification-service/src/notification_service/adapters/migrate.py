"""Schema migrations of the service's own database, with Alembic (plain SQL revisions)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def upgrade(database_url: str, revision: str = "head", schema: str | None = None) -> None:
    """Migrate the database (``schema``: into that schema, created if missing; its own
    ``alembic_version`` table there)."""
    scheme, _, rest = database_url.partition("://")
    if scheme not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL URL: {database_url!r}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # SQLAlchemy's psycopg driver; ConfigParser interpolation needs a literal % doubled.
    config.set_main_option("sqlalchemy.url", f"postgresql+psycopg://{rest}".replace("%", "%%"))
    if schema:
        config.set_main_option("schema", schema)
    command.upgrade(config, revision)
