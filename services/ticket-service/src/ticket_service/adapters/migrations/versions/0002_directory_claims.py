"""Uniqueness claims, and read models of customers, companies, agents and teams.

``directory_claims`` makes contacts unique by email, agents unique by email and team names unique
ignoring case. A claim is written in the same transaction as the event that needs it, after the
append (``append_events`` must be the first write of its transaction): a second claim of the same
key fails and rolls the append back. Claims are part of the write side and are not rebuilt.

The ``*_views`` tables and ``team_members`` are read models, projected from the event log by
``ticket_service.adapters.directory_projections``; ``ticket-service projections rebuild``
empties and refills them. Nothing else writes them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    -- Trigram indexes make "contains" searches (ILIKE '%budi%') on names, emails and phones
    -- fast. pg_trgm is a trusted extension: the database owner may create it.
    CREATE EXTENSION IF NOT EXISTS pg_trgm;

    CREATE TABLE directory_claims (
        kind        text NOT NULL CHECK (kind IN ('contact-email', 'agent-email', 'team-name')),
        key         text NOT NULL,
        owner_id    uuid NOT NULL,
        claimed_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (kind, key)
    );
    COMMENT ON TABLE directory_claims IS
        'Unique keys (normalised emails, team names) and the stream that owns each; written in '
        'the transaction that appends the owning event.';

    CREATE TABLE company_views (
        company_id  uuid PRIMARY KEY,
        version     integer NOT NULL,
        name        text NOT NULL,
        website     text,
        city        text,
        phone       text,
        created_at  timestamptz NOT NULL,
        updated_at  timestamptz NOT NULL,
        search      text GENERATED ALWAYS AS (
            lower(name || ' ' || coalesce(website, '') || ' ' || coalesce(city, '') || ' '
                  || coalesce(phone, ''))) STORED
    );
    CREATE INDEX company_views_name ON company_views (lower(name), company_id);
    CREATE INDEX company_views_search ON company_views USING gin (search gin_trgm_ops);

    CREATE TABLE customer_views (
        customer_id uuid PRIMARY KEY,
        version     integer NOT NULL,
        name        text NOT NULL,
        email       text,
        phone       text,
        tags        text[] NOT NULL DEFAULT '{}',
        gender      text,
        channel     text,
        ip_address  text,
        company_id  uuid,
        job_title   text,
        role        text,
        created_at  timestamptz NOT NULL,
        updated_at  timestamptz NOT NULL,
        -- name, email and phone as typed, plus the phone's digits alone ("0812-555" finds
        -- "+62 812 555" when searched as digits).
        search      text GENERATED ALWAYS AS (
            lower(name || ' ' || coalesce(email, '') || ' ' || coalesce(phone, '')) || ' '
            || regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g')) STORED
    );
    CREATE INDEX customer_views_name ON customer_views (lower(name), customer_id);
    CREATE INDEX customer_views_company ON customer_views (company_id);
    CREATE INDEX customer_views_email ON customer_views (email);
    CREATE INDEX customer_views_tags ON customer_views USING gin (tags);
    CREATE INDEX customer_views_search ON customer_views USING gin (search gin_trgm_ops);

    CREATE TABLE agent_views (
        agent_id      uuid PRIMARY KEY,
        version       integer NOT NULL,
        email         text NOT NULL,
        name          text NOT NULL,
        role          text NOT NULL,
        active        boolean NOT NULL,
        availability  text NOT NULL,
        created_at    timestamptz NOT NULL,
        updated_at    timestamptz NOT NULL
    );
    CREATE INDEX agent_views_name ON agent_views (lower(name), agent_id);
    CREATE INDEX agent_views_email ON agent_views (email);

    CREATE TABLE team_views (
        team_id       uuid PRIMARY KEY,
        version       integer NOT NULL,
        name          text NOT NULL,
        description   text,
        lead_id       uuid,
        tier          integer,
        escalates_to  uuid,
        created_at    timestamptz NOT NULL,
        updated_at    timestamptz NOT NULL
    );
    CREATE INDEX team_views_name ON team_views (lower(name), team_id);

    CREATE TABLE team_members (
        team_id   uuid NOT NULL,
        agent_id  uuid NOT NULL,
        added_at  timestamptz NOT NULL,
        PRIMARY KEY (team_id, agent_id)
    );
    CREATE INDEX team_members_agent ON team_members (agent_id);
    """)


def downgrade() -> None:
    op.execute("""
    DROP TABLE team_members;
    DROP TABLE team_views;
    DROP TABLE agent_views;
    DROP TABLE customer_views;
    DROP TABLE company_views;
    DROP TABLE directory_claims;
    """)
