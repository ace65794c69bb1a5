"""Indexes for the agent list at 100,000 tickets (issue #17; ``bench/reports_1m.py``).

The list's slowest filter change was a view over every ticket ("all", 100,000 rows): p95
522 ms, the page and its total each reading the whole 118 MB table:

* the page, newest first (the list's default sort), could not walk an index:
  ``ticket_views_created_by_group`` is ``created_at`` ascending (backwards: nulls first), not
  ``created_at DESC NULLS LAST, ticket_id`` as the query orders; PostgreSQL sorted every
  matching row to keep 25. ``ticket_views_list_newest`` is that order, of the tickets a list
  shows (not merged): 441 → 10 ms for page 20 of "all" (``EXPLAIN ANALYZE`` on the bench's
  data set, load ~9);
* the total joined ``ticket_sla`` (for the "breached" filter): PostgreSQL drops an unused left
  join, but only after choosing how to read ``ticket_views``, so the ticket id the join named
  kept index-only scans out. The count now joins only when the breached filter is on
  (``adapters/ticket_queries.py``), and ``ticket_views_list_counts`` holds the list's usual
  filters (view, status, priority, team, assignee) for index-only counts: "all" 417 → 49 ms,
  "Solved" 206 → 51 ms, a team's unsolved < 1 ms.

``merged_into`` is in ``ticket_views_list_counts`` (always null there) because PostgreSQL
reads a partial index without the table only when the query's columns are all in it, the
predicate's included. ``tests/integration/test_list_indexes.py`` checks the plans and that the
pages and totals are the same without the indexes.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
    CREATE INDEX ticket_views_list_newest ON ticket_views (created_at DESC NULLS LAST, ticket_id)
        WHERE merged_into IS NULL;
    CREATE INDEX ticket_views_list_counts
        ON ticket_views (status_category, status, priority, team_id, assignee_id)
        INCLUDE (merged_into) WHERE merged_into IS NULL;
    """
    )


def downgrade() -> None:
    op.execute("DROP INDEX ticket_views_list_counts; DROP INDEX ticket_views_list_newest")
