"""The notification service's tables: consumer positions, the projection it decides from
(tickets, followers, agents, teams), notifications, preferences, the email outbox, webhook
subscriptions, deliveries and attempts.

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    -- Where the consumer is in each partition; written in the transaction of what it handled.
    CREATE TABLE consumer_positions (
        topic        text NOT NULL,
        partition    integer NOT NULL,
        next_offset  bigint NOT NULL,
        updated_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (topic, partition)
    );

    CREATE TABLE tickets (
        ticket_id  uuid PRIMARY KEY,
        number     integer,
        facts      jsonb NOT NULL DEFAULT '{}'
    );

    CREATE TABLE ticket_followers (
        ticket_id  uuid NOT NULL,
        agent_id   text NOT NULL,
        source     text NOT NULL CHECK (source IN ('activity', 'explicit')),
        since      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (ticket_id, agent_id)
    );

    CREATE TABLE agents (
        agent_id  text PRIMARY KEY,
        name      text NOT NULL,
        email     text NOT NULL,
        role      text NOT NULL,
        active    boolean NOT NULL DEFAULT true
    );

    CREATE TABLE teams (
        team_id       text PRIMARY KEY,
        name          text NOT NULL,
        lead_id       text,
        escalates_to  text,
        members       text[] NOT NULL DEFAULT '{}'
    );

    -- Bumped with every directory change: consumers reload their copy when it moved.
    CREATE TABLE directory_version (
        id       integer PRIMARY KEY CHECK (id = 1),
        version  bigint NOT NULL
    );
    INSERT INTO directory_version VALUES (1, 0);

    CREATE TABLE notifications (
        id             uuid PRIMARY KEY,
        seq            bigserial NOT NULL UNIQUE,
        recipient_id   text NOT NULL,
        kind           text NOT NULL,
        title          text NOT NULL,
        body           text NOT NULL,
        ticket_id      uuid,
        ticket_number  integer,
        event_id       uuid NOT NULL,
        event_type     text NOT NULL,
        occurred_at    timestamptz NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        read_at        timestamptz
    );
    CREATE INDEX notifications_by_recipient ON notifications (recipient_id, seq DESC);
    CREATE INDEX notifications_unread ON notifications (recipient_id, seq DESC)
        WHERE read_at IS NULL;

    CREATE TABLE preferences (
        recipient_id  text NOT NULL,
        kind          text NOT NULL,
        channel       text NOT NULL CHECK (channel IN ('in_app', 'email', 'both', 'none')),
        digest        boolean NOT NULL DEFAULT false,
        PRIMARY KEY (recipient_id, kind)
    );

    -- Emails to send: one row per notification (its id), sent once, retried with backoff.
    CREATE TABLE emails (
        id               uuid PRIMARY KEY,
        recipient_id     text NOT NULL,
        kind             text NOT NULL,
        subject          text NOT NULL,
        body             text NOT NULL,
        ticket_id        uuid,
        digest           boolean NOT NULL DEFAULT false,
        status           text NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'sent', 'failed')),
        attempts         integer NOT NULL DEFAULT 0,
        next_attempt_at  timestamptz NOT NULL DEFAULT now(),
        created_at       timestamptz NOT NULL DEFAULT now(),
        sent_at          timestamptz,
        last_error       text
    );
    CREATE INDEX emails_due ON emails (next_attempt_at) WHERE status = 'pending';

    CREATE TABLE webhook_subscriptions (
        id                          uuid PRIMARY KEY,
        owner                       text NOT NULL,
        url                         text NOT NULL,
        description                 text,
        event_types                 text[] NOT NULL,
        condition                   text,
        secret                      text NOT NULL,
        previous_secret             text,
        previous_secret_expires_at  timestamptz,
        enabled                     boolean NOT NULL DEFAULT true,
        disabled_reason             text,
        created_at                  timestamptz NOT NULL DEFAULT now(),
        updated_at                  timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE webhook_deliveries (
        id               uuid PRIMARY KEY,
        seq              bigserial NOT NULL UNIQUE,
        subscription_id  uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
        event_id         uuid NOT NULL,
        event_type       text NOT NULL,
        order_key        text NOT NULL,
        payload          bytea NOT NULL,
        status           text NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts         integer NOT NULL DEFAULT 0,
        next_attempt_at  timestamptz NOT NULL DEFAULT now(),
        created_at       timestamptz NOT NULL DEFAULT now(),
        last_attempt_at  timestamptz,
        delivered_at     timestamptz,
        last_status      integer,
        last_error       text
    );
    CREATE INDEX webhook_deliveries_pending
        ON webhook_deliveries (subscription_id, order_key, seq) WHERE status = 'pending';
    CREATE INDEX webhook_deliveries_by_subscription
        ON webhook_deliveries (subscription_id, seq DESC);

    CREATE TABLE webhook_attempts (
        id            bigserial PRIMARY KEY,
        delivery_id   uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
        attempted_at  timestamptz NOT NULL DEFAULT now(),
        status_code   integer,
        response_ms   double precision NOT NULL,
        error         text
    );
    CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, id);
    """)


def downgrade() -> None:
    op.execute("""
    DROP TABLE webhook_attempts, webhook_deliveries, webhook_subscriptions, emails, preferences,
        notifications, directory_version, teams, agents, ticket_followers, tickets,
        consumer_positions;
    """)
