"""Outcomes of the commands other services send (helpdesk.ticket-commands.v1).

One row per command id: applied (its events are in the log, written in the same transaction) or
refused (with the reason), so a redelivered command is decided once and an operator can see why
a ticket was not assigned.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE command_outcomes (
        command_id    uuid PRIMARY KEY,
        command_type  text NOT NULL,
        ticket_id     uuid NOT NULL,
        outcome       text NOT NULL CHECK (outcome IN ('applied', 'refused')),
        reason        text,
        trace_id      text,
        decided_at    timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX command_outcomes_ticket ON command_outcomes (ticket_id, decided_at);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE command_outcomes")
