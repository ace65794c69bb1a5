"""Columns for the customer's context and the ticket detail (#20 items 5 and 12).

* ``customer_views.country``, ``company_views.country`` / ``tier`` / ``tags``: what SLA and
  assignment conditions read about a ticket's customer ("Enterprise customers", "customers in
  India") is edited in the directory and listed there.
* ``team_views.time_zone`` / ``languages`` / ``business_calendar_id``: regional teams (item 11).
* ``ticket_views.custom_fields``: custom field values (item 6), for ``custom.<key>=value`` filters.
* ``ticket_sla.next_response_due`` / ``next_response_state``: the ticket detail shows the next
  response's due time beside the first response's and the resolution's.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE customer_views ADD COLUMN country text;
    ALTER TABLE company_views
        ADD COLUMN country text,
        ADD COLUMN tier text,
        ADD COLUMN tags text[] NOT NULL DEFAULT '{}';
    ALTER TABLE team_views
        ADD COLUMN time_zone text,
        ADD COLUMN languages text[] NOT NULL DEFAULT '{}',
        ADD COLUMN business_calendar_id text;
    ALTER TABLE ticket_views ADD COLUMN custom_fields jsonb NOT NULL DEFAULT '{}';
    CREATE INDEX ticket_views_custom_fields ON ticket_views USING gin (custom_fields);
    ALTER TABLE ticket_sla
        ADD COLUMN next_response_due timestamptz,
        ADD COLUMN next_response_state text;
    """)


def downgrade() -> None:
    op.execute("""
    ALTER TABLE ticket_sla DROP COLUMN next_response_due, DROP COLUMN next_response_state;
    ALTER TABLE ticket_views DROP COLUMN custom_fields;
    ALTER TABLE team_views
        DROP COLUMN time_zone, DROP COLUMN languages, DROP COLUMN business_calendar_id;
    ALTER TABLE company_views DROP COLUMN country, DROP COLUMN tier, DROP COLUMN tags;
    ALTER TABLE customer_views DROP COLUMN country;
    """)
