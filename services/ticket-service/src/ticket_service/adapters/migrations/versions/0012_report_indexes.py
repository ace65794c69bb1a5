"""Indexes for the reports over a long history (issues #19 and #17; ``bench/reports_1m.py``).

With 100,000 tickets and ~1,300,000 events the workload report, the per-day volume and the SLA
report read every row of ``ticket_views`` (sequential scans: the open tickets and the created-at
range had no index of their own). Each index below holds what its query reads, so PostgreSQL
answers from the index alone (an index-only scan), over the period's or the open tickets' rows:

* ``ticket_views_open_by_group``: open tickets (not resolved, closed or merged) by team and
  assignee - the workload report; its predicate is the report's, word for word.
* ``ticket_views_created_by_group``: created-at with the team and assignee - "created per day".
* ``ticket_views_groups``: each ticket's team and assignee by its id - the SLA report joins
  its outcomes to them; read from this narrow index instead of the whole table (~110 MB).
* ``ticket_views_solved_by_group``: resolved-at with the team and assignee, of tickets not
  merged - "solved per day"; it replaces ``ticket_views_resolved_at`` (same key, narrower
  predicate, which no other query uses).

The queries are unchanged (the workload's breach is now looked up per open ticket, the same
figure), so are their results: ``tests/integration/test_report_indexes.py`` compares them with
index scans turned off. ``team_id`` and ``assignee_id`` were indexed
already, so updates that change them were never HOT; the new indexes make no update
costlier that was not already.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
    CREATE INDEX ticket_views_open_by_group ON ticket_views (team_id, assignee_id)
        INCLUDE (ticket_id)
        WHERE status_category NOT IN ('resolved', 'closed') AND merged_into IS NULL;
    CREATE INDEX ticket_views_created_by_group ON ticket_views (created_at)
        INCLUDE (team_id, assignee_id);
    CREATE INDEX ticket_views_solved_by_group ON ticket_views (resolved_at)
        INCLUDE (team_id, assignee_id)
        WHERE resolved_at IS NOT NULL AND merged_into IS NULL;
    DROP INDEX ticket_views_resolved_at;
    CREATE INDEX ticket_views_groups ON ticket_views (ticket_id) INCLUDE (team_id, assignee_id);
    """
    )


def downgrade() -> None:
    op.execute(
        """
    CREATE INDEX ticket_views_resolved_at ON ticket_views (resolved_at)
        WHERE resolved_at IS NOT NULL;
    DROP INDEX ticket_views_groups;
    DROP INDEX ticket_views_solved_by_group;
    DROP INDEX ticket_views_created_by_group;
    DROP INDEX ticket_views_open_by_group;
    """
    )
