"""Event log, outbox checkpoints and idempotency keys.

The event log is append-only. Readers that tail the whole log (the outbox relay, projections)
order it by (transaction_id, position) and read only below the oldest transaction still running,
so an event that commits late is never skipped. ``append_events`` takes a transaction-scoped
advisory lock on every stream it appends to *before* its first write: the transaction id is
assigned by that first write, so a stream's later versions always carry larger transaction ids
than its earlier ones, and the global order keeps each stream's order.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE events (
        position        bigint GENERATED ALWAYS AS IDENTITY,
        transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
        stream_id       uuid NOT NULL,
        stream_type     text NOT NULL,
        stream_version  integer NOT NULL CHECK (stream_version > 0),
        event_id        uuid NOT NULL,
        event_type      text NOT NULL,
        schema_version  integer NOT NULL CHECK (schema_version > 0),
        occurred_at     timestamptz NOT NULL,
        recorded_at     timestamptz NOT NULL DEFAULT now(),
        actor           jsonb NOT NULL,
        correlation_id  uuid NOT NULL,
        causation_id    uuid,
        data            jsonb NOT NULL,
        traceparent     text,
        PRIMARY KEY (stream_id, stream_version),
        CONSTRAINT events_event_id_unique UNIQUE (event_id)
    );
    CREATE INDEX events_global_order ON events (transaction_id, position);

    COMMENT ON TABLE events IS
        'Append-only event log. Tail it in (transaction_id, position) order below '
        'pg_snapshot_xmin(pg_current_snapshot()); write it only through append_events().';

    CREATE TABLE outbox_checkpoints (
        consumer        text PRIMARY KEY,
        transaction_id  xid8 NOT NULL,
        position        bigint NOT NULL,
        updated_at      timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE idempotency_keys (
        scope            text NOT NULL,
        key              text NOT NULL,
        request_hash     text NOT NULL,
        response_status  integer NOT NULL,
        response_body    jsonb NOT NULL,
        created_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, key)
    );

    -- batch: [{"stream_id", "stream_type", "expected_version" (null = any),
    --          "events": [{"event_id", "event_type", "schema_version", "occurred_at", "actor",
    --                      "correlation_id", "causation_id", "data", "traceparent"}]}]
    -- Returns {"<stream_id>": <new version>, ...}.
    CREATE FUNCTION append_events(batch jsonb) RETURNS jsonb
    LANGUAGE plpgsql AS $fn$
    DECLARE
        stream jsonb;
        stream_key text;
        current_version integer;
        expected integer;
        new_versions jsonb := '{}'::jsonb;
    BEGIN
        IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
            RAISE EXCEPTION 'append_events must be the first write of its transaction'
                USING ERRCODE = 'HD001',
                      HINT = 'write read models and other rows after appending events';
        END IF;
        -- Lock every stream before the first write, in one order (no deadlocks between
        -- multi-stream appends). Advisory locks do not assign a transaction id.
        FOR stream_key IN
            SELECT DISTINCT value->>'stream_id' FROM jsonb_array_elements(batch) ORDER BY 1
        LOOP
            PERFORM pg_advisory_xact_lock(hashtextextended(stream_key, 0));
        END LOOP;

        FOR stream IN SELECT value FROM jsonb_array_elements(batch) LOOP
            SELECT coalesce(max(stream_version), 0) INTO current_version
              FROM events WHERE stream_id = (stream->>'stream_id')::uuid;
            expected := (stream->>'expected_version')::integer;
            IF expected IS NOT NULL AND expected <> current_version THEN
                RAISE EXCEPTION 'stream % is at version %, not %',
                        stream->>'stream_id', current_version, expected
                    USING ERRCODE = 'HD409',
                          DETAIL = json_build_object('stream_id', stream->>'stream_id',
                                                     'expected', expected,
                                                     'actual', current_version)::text;
            END IF;
            INSERT INTO events (stream_id, stream_type, stream_version, event_id, event_type,
                                schema_version, occurred_at, actor, correlation_id,
                                causation_id, data, traceparent)
            SELECT (stream->>'stream_id')::uuid,
                   stream->>'stream_type',
                   current_version + e.ordinality,
                   (e.value->>'event_id')::uuid,
                   e.value->>'event_type',
                   (e.value->>'schema_version')::integer,
                   (e.value->>'occurred_at')::timestamptz,
                   e.value->'actor',
                   (e.value->>'correlation_id')::uuid,
                   (e.value->>'causation_id')::uuid,
                   e.value->'data',
                   e.value->>'traceparent'
              FROM jsonb_array_elements(stream->'events') WITH ORDINALITY AS e;
            new_versions := new_versions || jsonb_build_object(
                stream->>'stream_id', current_version + jsonb_array_length(stream->'events'));
        END LOOP;
        RETURN new_versions;
    END
    $fn$;
    """)


def downgrade() -> None:
    op.execute("""
    DROP FUNCTION append_events(jsonb);
    DROP TABLE idempotency_keys;
    DROP TABLE outbox_checkpoints;
    DROP TABLE events;
    """)
