"""Read models of the customer portal's features (issue #18).

* ``ticket_ratings``: one row per rated resolution of a ticket (``SatisfactionRated``), with the
  team and assignee it went to, for the ticket page and the CSAT report.
* ``company_portal_settings``: whether a company's customers see all its tickets in the portal
  (``CompanyPortalVisibilityChanged``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE ticket_ratings (
        ticket_id    uuid NOT NULL,
        resolution   integer NOT NULL CHECK (resolution >= 1),
        scale        text NOT NULL,
        score        integer NOT NULL,
        satisfied    boolean NOT NULL,
        comment      text,
        team_id      uuid,
        assignee_id  uuid,
        rated_by     jsonb NOT NULL,
        rated_at     timestamptz NOT NULL,
        event_id     uuid NOT NULL UNIQUE,
        PRIMARY KEY (ticket_id, resolution)
    );
    CREATE INDEX ticket_ratings_rated_at ON ticket_ratings (rated_at);

    CREATE TABLE company_portal_settings (
        company_id                      uuid PRIMARY KEY,
        customers_see_company_tickets   boolean NOT NULL,
        version                         integer NOT NULL
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE company_portal_settings; DROP TABLE ticket_ratings")
