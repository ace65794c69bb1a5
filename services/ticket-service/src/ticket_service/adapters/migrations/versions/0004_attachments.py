"""Attachment metadata (the files themselves are in the blob store).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE attachments (
        attachment_id  uuid PRIMARY KEY,
        storage_key    text NOT NULL UNIQUE,
        filename       text NOT NULL,
        content_type   text NOT NULL,
        size_bytes     bigint NOT NULL CHECK (size_bytes >= 0),
        sha256         text NOT NULL,
        uploaded_by    text NOT NULL,
        uploaded_at    timestamptz NOT NULL DEFAULT now()
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE attachments;")
