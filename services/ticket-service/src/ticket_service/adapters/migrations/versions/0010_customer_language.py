"""A contact's language (ISO 639-1) in ``customer_views``: routing a ticket to a team that
speaks it (issue #20 item 11).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE customer_views ADD COLUMN language text")


def downgrade() -> None:
    op.execute("ALTER TABLE customer_views DROP COLUMN language")
