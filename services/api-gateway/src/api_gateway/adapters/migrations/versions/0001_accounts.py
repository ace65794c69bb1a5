"""The gateway's accounts: staff credentials, customer sign-ins, one-time links, refresh tokens.

Only digests of secrets are stored (domain/credentials.py); nothing here is ever published.
"""

from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE api_gateway.staff_accounts (
            agent_id          uuid PRIMARY KEY,
            email             text NOT NULL UNIQUE,
            name              text NOT NULL,
            role              text NOT NULL,
            active            boolean NOT NULL DEFAULT true,
            password_hash     text,
            failed_attempts   integer NOT NULL DEFAULT 0,
            locked_until      timestamptz,
            directory_version integer NOT NULL DEFAULT 0,
            created_at        timestamptz NOT NULL DEFAULT now(),
            updated_at        timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE api_gateway.customer_accounts (
            customer_id     uuid PRIMARY KEY,
            email           text NOT NULL UNIQUE,
            name            text,
            created_at      timestamptz NOT NULL DEFAULT now(),
            last_sign_in_at timestamptz
        );
        CREATE TABLE api_gateway.one_time_tokens (
            token_hash      bytea PRIMARY KEY,
            purpose         text NOT NULL
                CHECK (purpose IN ('invitation', 'password_reset', 'customer_sign_in')),
            subject         text NOT NULL,
            code_hash       bytea,
            code_attempts   integer NOT NULL DEFAULT 0,
            source_event_id uuid UNIQUE,
            created_at      timestamptz NOT NULL DEFAULT now(),
            expires_at      timestamptz NOT NULL,
            used_at         timestamptz,
            sent_at         timestamptz
        );
        CREATE INDEX one_time_tokens_subject ON api_gateway.one_time_tokens (purpose, subject);
        CREATE TABLE api_gateway.refresh_tokens (
            token_hash bytea PRIMARY KEY,
            family_id  uuid NOT NULL,
            kind       text NOT NULL CHECK (kind IN ('staff', 'customer')),
            subject    uuid NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            used_at    timestamptz,
            revoked_at timestamptz
        );
        CREATE INDEX refresh_tokens_family ON api_gateway.refresh_tokens (family_id);
        CREATE INDEX refresh_tokens_subject ON api_gateway.refresh_tokens (kind, subject);
        """
    )
