"""The SLA report's rollup: ``sla_report_buckets`` (issue #19; the rules and why in
``ticket_service/domain/sla_histogram.py``).

One row per block of UTC days (``tier`` 0-3: 1, 4, 16 or 64 days; ``block`` = day number since
1970-01-01 shifted right by ``2 * tier``), metric and the ticket's *current* team and assignee
(as the exact report groups): how many outcomes were met within their target, met late and
breached open, the sum of the met times (the average stays exact), and ``counts``, the met
times' histogram: ``counts[b]`` outcomes in business-time bucket ``b``, an array whose
subscripts are the buckets (from the lowest bucket used; null: none). One row per block and
group, not one per bucket: a 90-day report by assignee over the bench's data set reads 1,350
rows (70 buckets each on average) instead of 62,000, ~50 ms instead of ~250 (load ~10).

Kept by triggers, in the transaction that writes the row they follow, whoever writes it (the
SLA projector, a replay, a repair):

* ``sla_outcomes`` insert, update (of what a report reads) or delete: the old row's counts are
  taken out and the new row's added, under the ticket's team and assignee in ``ticket_views``
  (none when the ticket is not there yet);
* ``ticket_views`` insert, delete or a change of team or assignee: the ticket's outcomes move from
  the old group to the new one;
* either table truncated (a projection rebuild truncates ``ticket_views``): built again.

The two run in different consumers (the SLA projector and the ticket projector), so each first
takes a transaction advisory lock on the ticket (key space ``(1913, hashtext(ticket id))``, of
two int4s: apart from the event store's bigint stream locks) and then reads the other table: a
group change and a new outcome of one ticket cannot both miss each other. Two batches touching
the same tickets in different orders can deadlock; PostgreSQL then fails one, and both
consumers retry a failed batch.

The rows are built here from the outcomes as they are (a rebuild by replay writes them again
through the triggers), in the key's order, so that a block's rows lie together. The counts are
updated in place (HOT: no index holds them); the table leaves 30 % of each page free for those
updates to stay on their page.
``tests/integration/test_sla_rollup.py`` compares the reports read from them with the exact
query.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
    CREATE TABLE sla_report_buckets (
        tier           smallint NOT NULL CHECK (tier BETWEEN 0 AND 3),
        block          integer NOT NULL,
        metric         text NOT NULL,
        team_id        uuid,
        assignee_id    uuid,
        met_within     integer NOT NULL DEFAULT 0,
        met_late       integer NOT NULL DEFAULT 0,
        breached_open  integer NOT NULL DEFAULT 0,
        met_seconds    double precision NOT NULL DEFAULT 0,
        counts         integer[],
        CONSTRAINT sla_report_buckets_key
            UNIQUE NULLS NOT DISTINCT (tier, block, metric, team_id, assignee_id)
    ) WITH (fillfactor = 70);

    -- domain/sla_histogram.py bucket_of: 0 under one second, then eight buckets per doubling.
    CREATE FUNCTION sla_seconds_bucket(seconds double precision) RETURNS smallint
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN CASE WHEN seconds < 1 THEN 0 ELSE 1 + floor(ln(seconds) / ln(2.0::float8) * 8) END;

    -- The bucket an outcome counts in: -1 without a met time.
    CREATE FUNCTION sla_outcome_bucket(met boolean, seconds double precision) RETURNS smallint
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN CASE WHEN met AND seconds IS NOT NULL THEN sla_seconds_bucket(seconds) ELSE -1 END;

    -- A histogram with n more (or fewer) times in bucket b (-1: no time, unchanged); the
    -- array grows to a bucket outside it, the positions between are null.
    CREATE FUNCTION sla_histogram_add(counts integer[], b integer, n integer) RETURNS integer[]
        LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    BEGIN
        IF b >= 0 THEN
            counts[b] := coalesce(counts[b], 0) + n;
        END IF;
        RETURN counts;
    END $$;

    -- The histogram of the buckets given (one time each; -1: none).
    CREATE FUNCTION sla_histogram_of(buckets smallint[]) RETURNS integer[]
        LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    DECLARE
        counts integer[];
        b smallint;
    BEGIN
        FOREACH b IN ARRAY coalesce(buckets, '{}') LOOP
            counts := sla_histogram_add(counts, b, 1);
        END LOOP;
        RETURN counts;
    END $$;

    -- Add (sign 1) or take out (sign -1) one outcome's counts in each tier.
    CREATE FUNCTION sla_report_count(
        o sla_outcomes, team uuid, assignee uuid, sign integer
    ) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
        day integer := (o.at AT TIME ZONE 'UTC')::date - date '1970-01-01';
        timed boolean := o.met AND o.elapsed_seconds IS NOT NULL;
        b smallint := sla_outcome_bucket(o.met, o.elapsed_seconds);
    BEGIN
        INSERT INTO sla_report_buckets AS r (tier, block, metric, team_id, assignee_id,
            met_within, met_late, breached_open, met_seconds, counts)
        SELECT t, day >> (2 * t), o.metric, team, assignee,
            sign * (o.met AND o.within_target)::int, sign * (o.met AND NOT o.within_target)::int,
            sign * (NOT o.met)::int, CASE WHEN timed THEN sign * o.elapsed_seconds ELSE 0 END,
            sla_histogram_add(NULL, b, sign)
        FROM generate_series(0, 3) AS t
        ON CONFLICT ON CONSTRAINT sla_report_buckets_key DO UPDATE SET
            met_within = r.met_within + excluded.met_within,
            met_late = r.met_late + excluded.met_late,
            breached_open = r.breached_open + excluded.breached_open,
            met_seconds = r.met_seconds + excluded.met_seconds,
            counts = sla_histogram_add(r.counts, b, sign);
    END $$;

    CREATE FUNCTION sla_report_outcome_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        ticket uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.ticket_id ELSE NEW.ticket_id END;
        team uuid;
        assignee uuid;
    BEGIN
        PERFORM pg_advisory_xact_lock(1913, hashtext(ticket::text));
        SELECT v.team_id, v.assignee_id INTO team, assignee
            FROM ticket_views v WHERE v.ticket_id = ticket;
        IF TG_OP <> 'INSERT' THEN
            PERFORM sla_report_count(OLD, team, assignee, -1);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            PERFORM sla_report_count(NEW, team, assignee, 1);
        END IF;
        RETURN NULL;
    END $$;

    CREATE TRIGGER sla_report_outcome_inserted AFTER INSERT OR DELETE ON sla_outcomes
        FOR EACH ROW EXECUTE FUNCTION sla_report_outcome_changed();
    CREATE TRIGGER sla_report_outcome_updated AFTER UPDATE ON sla_outcomes
        FOR EACH ROW WHEN ((OLD.ticket_id, OLD.metric, OLD.at, OLD.met, OLD.within_target,
                            OLD.elapsed_seconds)
            IS DISTINCT FROM (NEW.ticket_id, NEW.metric, NEW.at, NEW.met, NEW.within_target,
                              NEW.elapsed_seconds))
        EXECUTE FUNCTION sla_report_outcome_changed();

    CREATE FUNCTION sla_report_ticket_moved() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        ticket uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.ticket_id ELSE NEW.ticket_id END;
        old_team uuid;
        old_assignee uuid;
        new_team uuid;
        new_assignee uuid;
        o sla_outcomes;
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            old_team := OLD.team_id;
            old_assignee := OLD.assignee_id;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            new_team := NEW.team_id;
            new_assignee := NEW.assignee_id;
        END IF;
        IF (old_team, old_assignee) IS NOT DISTINCT FROM (new_team, new_assignee) THEN
            RETURN NULL;
        END IF;
        PERFORM pg_advisory_xact_lock(1913, hashtext(ticket::text));
        FOR o IN SELECT * FROM sla_outcomes WHERE ticket_id = ticket LOOP
            PERFORM sla_report_count(o, old_team, old_assignee, -1);
            PERFORM sla_report_count(o, new_team, new_assignee, 1);
        END LOOP;
        RETURN NULL;
    END $$;

    CREATE TRIGGER sla_report_ticket_inserted AFTER INSERT OR DELETE ON ticket_views
        FOR EACH ROW EXECUTE FUNCTION sla_report_ticket_moved();
    CREATE TRIGGER sla_report_ticket_updated AFTER UPDATE OF team_id, assignee_id ON ticket_views
        FOR EACH ROW WHEN ((OLD.team_id, OLD.assignee_id)
            IS DISTINCT FROM (NEW.team_id, NEW.assignee_id))
        EXECUTE FUNCTION sla_report_ticket_moved();

    -- The rollup built again from the outcomes and the groups as they are: by the migration,
    -- and when either table is emptied (TRUNCATE fires no row trigger; a projection rebuild
    -- empties ticket_views, and its replay then moves each ticket's outcomes from no group).
    CREATE FUNCTION sla_report_rebuild() RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM sla_report_buckets;
        INSERT INTO sla_report_buckets (tier, block, metric, team_id, assignee_id,
            met_within, met_late, breached_open, met_seconds, counts)
        SELECT t, ((o.at AT TIME ZONE 'UTC')::date - date '1970-01-01') >> (2 * t), o.metric,
            v.team_id, v.assignee_id,
            count(*) FILTER (WHERE o.met AND o.within_target),
            count(*) FILTER (WHERE o.met AND NOT o.within_target),
            count(*) FILTER (WHERE NOT o.met),
            coalesce(sum(o.elapsed_seconds) FILTER (WHERE o.met), 0),
            sla_histogram_of(array_agg(sla_outcome_bucket(o.met, o.elapsed_seconds)))
        FROM sla_outcomes o LEFT JOIN ticket_views v USING (ticket_id)
            CROSS JOIN generate_series(0, 3) AS t
        GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5;
    END $$;

    CREATE FUNCTION sla_report_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM sla_report_rebuild();
        RETURN NULL;
    END $$;

    CREATE TRIGGER sla_report_outcomes_emptied AFTER TRUNCATE ON sla_outcomes
        FOR EACH STATEMENT EXECUTE FUNCTION sla_report_emptied();
    CREATE TRIGGER sla_report_tickets_emptied AFTER TRUNCATE ON ticket_views
        FOR EACH STATEMENT EXECUTE FUNCTION sla_report_emptied();

    -- Nothing may change the outcomes or the groups between the build and the triggers.
    LOCK TABLE sla_outcomes, ticket_views IN SHARE ROW EXCLUSIVE MODE;
    SELECT sla_report_rebuild();
    ANALYZE sla_report_buckets;
    """
    )


def downgrade() -> None:
    op.execute(
        """
    DROP TRIGGER sla_report_tickets_emptied ON ticket_views;
    DROP TRIGGER sla_report_outcomes_emptied ON sla_outcomes;
    DROP FUNCTION sla_report_emptied();
    DROP FUNCTION sla_report_rebuild();
    DROP TRIGGER sla_report_ticket_updated ON ticket_views;
    DROP TRIGGER sla_report_ticket_inserted ON ticket_views;
    DROP TRIGGER sla_report_outcome_updated ON sla_outcomes;
    DROP TRIGGER sla_report_outcome_inserted ON sla_outcomes;
    DROP FUNCTION sla_report_ticket_moved();
    DROP FUNCTION sla_report_outcome_changed();
    DROP FUNCTION sla_report_count(sla_outcomes, uuid, uuid, integer);
    DROP FUNCTION sla_histogram_of(smallint[]);
    DROP FUNCTION sla_histogram_add(integer[], integer, integer);
    DROP FUNCTION sla_outcome_bucket(boolean, double precision);
    DROP FUNCTION sla_seconds_bucket(double precision);
    DROP TABLE sla_report_buckets;
    """
    )
