"""The support address a ticket's mail came in on (``EmailReceived.account``): the Reply-To of
its notification mails, so an agent's answer reaches the mail gateway's inbox (issue #14).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE tickets ADD COLUMN mail_account text")


def downgrade() -> None:
    op.execute("ALTER TABLE tickets DROP COLUMN mail_account")
