"""A version number of the webhook subscriptions, bumped by a trigger on every change, so the
consumer re-reads them only when they changed (one small read per batch instead of all of them).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE subscription_version (
        id       integer PRIMARY KEY CHECK (id = 1),
        version  bigint NOT NULL
    );
    INSERT INTO subscription_version VALUES (1, 0);

    CREATE FUNCTION bump_subscription_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE subscription_version SET version = version + 1 WHERE id = 1;
        RETURN NULL;
    END $$;

    CREATE TRIGGER webhook_subscriptions_changed
        AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON webhook_subscriptions
        FOR EACH STATEMENT EXECUTE FUNCTION bump_subscription_version();
    """)


def downgrade() -> None:
    op.execute("""
    DROP TRIGGER webhook_subscriptions_changed ON webhook_subscriptions;
    DROP FUNCTION bump_subscription_version();
    DROP TABLE subscription_version;
    """)
