"""Ticket read models (projections of the log) and ticket numbers.

``ticket_views`` and ``ticket_messages`` are rebuilt from the event log by
``ticket-service projections rebuild``; nothing else writes them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    -- Human-friendly ticket numbers (#1001, #1002, ...). Gaps are possible (a refused create
    -- still used its number); numbers are never reused.
    CREATE SEQUENCE ticket_numbers START 1001;

    CREATE TABLE ticket_views (
        ticket_id          uuid PRIMARY KEY,
        number             integer,
        version            integer NOT NULL,
        subject            text NOT NULL,
        description        text NOT NULL,
        status             text NOT NULL,
        status_category    text NOT NULL,
        priority           text NOT NULL,
        priority_rank      integer NOT NULL,
        type               text,
        category           text,
        channel            text NOT NULL,
        team_id            uuid,
        assignee_id        uuid,
        customer_id        uuid,
        company_id         uuid,
        requester_email    text,
        requester_name     text,
        tags               text[] NOT NULL DEFAULT '{}',
        business_unit      text,
        brand              text,
        follow_up_of       uuid,
        merged_into        uuid,
        message_count      integer NOT NULL DEFAULT 0,
        last_message_at    timestamptz,
        first_response_due timestamptz,
        resolution_due     timestamptz,
        sla_breached       boolean NOT NULL DEFAULT false,
        created_at         timestamptz NOT NULL,
        updated_at         timestamptz NOT NULL,
        search             tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('simple', subject), 'A')
            || setweight(to_tsvector('simple', description), 'B')) STORED
    );
    CREATE INDEX ticket_views_number ON ticket_views (number);
    CREATE INDEX ticket_views_category_created ON ticket_views (status_category, created_at);
    CREATE INDEX ticket_views_status ON ticket_views (status);
    CREATE INDEX ticket_views_team ON ticket_views (team_id);
    CREATE INDEX ticket_views_assignee ON ticket_views (assignee_id);
    CREATE INDEX ticket_views_customer ON ticket_views (customer_id);
    CREATE INDEX ticket_views_requester ON ticket_views (lower(requester_email));
    CREATE INDEX ticket_views_merged_into ON ticket_views (merged_into);
    CREATE INDEX ticket_views_tags ON ticket_views USING gin (tags);
    CREATE INDEX ticket_views_search ON ticket_views USING gin (search);

    CREATE TABLE ticket_messages (
        message_id   uuid PRIMARY KEY,
        ticket_id    uuid NOT NULL,
        visibility   text NOT NULL,
        author       jsonb NOT NULL,
        body_html    text NOT NULL,
        body_text    text NOT NULL,
        attachments  jsonb NOT NULL,
        channel      text,
        automated    boolean NOT NULL,
        created_at   timestamptz NOT NULL,
        search       tsvector GENERATED ALWAYS AS (to_tsvector('simple', body_text)) STORED
    );
    CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, created_at);
    CREATE INDEX ticket_messages_search ON ticket_messages USING gin (search);
    """)


def downgrade() -> None:
    op.execute("""
    DROP TABLE ticket_messages;
    DROP TABLE ticket_views;
    DROP SEQUENCE ticket_numbers;
    """)
