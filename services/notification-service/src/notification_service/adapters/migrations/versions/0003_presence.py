"""Presence on tickets (the collision warning): the last heartbeat of each open ticket page.

UNLOGGED: no WAL, so heartbeats cost little and a crash may empty the table — which loses
nothing, as pages send a heartbeat every ~10 s and the rows are worthless after 30 s anyway.
It lives in PostgreSQL (not in one process's memory) so that every notification-service
process sees every agent, whichever replica their heartbeats and streams reach.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE UNLOGGED TABLE presence (
        ticket_id   uuid NOT NULL,
        agent_id    text NOT NULL,
        session_id  uuid NOT NULL,
        activity    text NOT NULL CHECK (activity IN ('viewing', 'replying')),
        name        text,
        since       timestamptz NOT NULL,
        seen_at     timestamptz NOT NULL,
        PRIMARY KEY (ticket_id, agent_id, session_id)
    );
    CREATE INDEX presence_seen_at ON presence (seen_at);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE presence")
