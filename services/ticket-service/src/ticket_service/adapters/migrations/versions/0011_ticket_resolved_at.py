"""When a ticket was solved, in ``ticket_views.resolved_at``: the reports' "solved per day"
counts every solved ticket from it, not only those an SLA policy measured (issue #19).

It is the moment the ticket's current resolution began (a Solved ticket later Closed keeps the
time it was solved); a reopened ticket has none until it is solved again. Existing rows are
filled from the event log once: the last change into a solved or closed status from an open
one (events written before the categories were recorded count by their target status's
category alone). ``projections rebuild`` gives the same values from the projection's code.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
    ALTER TABLE ticket_views ADD COLUMN resolved_at timestamptz;
    UPDATE ticket_views v SET resolved_at = coalesce((
        SELECT max(e.occurred_at) FROM events e
        WHERE e.stream_id = v.ticket_id AND e.event_type = 'StatusChanged'
          AND e.data->>'to_category' IN ('resolved', 'closed')
          AND coalesce(e.data->>'from_category', '') NOT IN ('resolved', 'closed')
    ), v.updated_at)
    WHERE v.status_category IN ('resolved', 'closed');
    CREATE INDEX ticket_views_resolved_at ON ticket_views (resolved_at)
        WHERE resolved_at IS NOT NULL;
    """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE ticket_views DROP COLUMN resolved_at")
