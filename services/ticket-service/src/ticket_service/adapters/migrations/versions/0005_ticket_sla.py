"""SLA state of tickets as the SLA service publishes it (helpdesk.sla.v1).

Kept apart from ``ticket_views``: those are rebuilt from this service's own log, these come from
another service's topic (its consumer group offsets say how far it got).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE ticket_sla (
        ticket_id             uuid PRIMARY KEY,
        policy                text,
        first_response_due    timestamptz,
        first_response_state  text,
        resolution_due        timestamptz,
        resolution_state      text,
        breached_metrics      text[] NOT NULL DEFAULT '{}',
        sla_updated_at        timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX ticket_sla_resolution_due ON ticket_sla (resolution_due);
    CREATE INDEX ticket_sla_first_response_due ON ticket_sla (first_response_due);
    ALTER TABLE ticket_views
        DROP COLUMN first_response_due,
        DROP COLUMN resolution_due,
        DROP COLUMN sla_breached;
    """)


def downgrade() -> None:
    op.execute("""
    ALTER TABLE ticket_views
        ADD COLUMN first_response_due timestamptz,
        ADD COLUMN resolution_due timestamptz,
        ADD COLUMN sla_breached boolean NOT NULL DEFAULT false;
    DROP TABLE ticket_sla;
    """)
