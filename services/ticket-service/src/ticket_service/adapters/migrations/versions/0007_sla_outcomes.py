"""SLA outcomes for reports: how each SLA metric of a ticket ended or broke (helpdesk.sla.v1).

One row per outcome, written by the sla-projector from ``SlaMet`` and ``SlaBreached``:

* ``first_response`` and ``resolution``: one row per ticket (``exchange`` = 1). A breach sets it
  breached and open; a later ``SlaMet`` turns the same row into *met late*. A resolution met
  again after a reopen updates the row (the ticket's last resolution counts, once).
* ``next_response``: one row per exchange (``exchange`` = 1, 2, ...). The SLA events do not
  name the exchange; the SLA service opens the next exchange only after the previous one was met
  and breaches a clock at most once, so a ``SlaMet`` or ``SlaBreached`` updates the ticket's
  latest exchange while it is not met, and otherwise starts the next one.

``at`` is when the metric ended (``met_at``) or, while it is breached and not met, when it broke
(the breach instant); reports count the rows whose ``at`` falls in their period.
``sla_outcome_events`` holds the ids of the events applied, so a redelivery changes nothing.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE sla_outcomes (
        ticket_id        uuid NOT NULL,
        metric           text NOT NULL
            CHECK (metric IN ('first_response', 'next_response', 'resolution')),
        exchange         integer NOT NULL DEFAULT 1 CHECK (exchange >= 1),
        at               timestamptz NOT NULL,
        met              boolean NOT NULL,
        within_target    boolean NOT NULL,
        elapsed_seconds  double precision,
        met_at           timestamptz,
        due_at           timestamptz,
        breached_at      timestamptz,
        last_event_id    uuid NOT NULL,
        updated_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (ticket_id, metric, exchange),
        CHECK (met OR NOT within_target),
        CHECK (met = (met_at IS NOT NULL))
    );
    CREATE INDEX sla_outcomes_at ON sla_outcomes (at);

    CREATE TABLE sla_outcome_events (
        event_id     uuid PRIMARY KEY,
        ticket_id    uuid NOT NULL,
        recorded_at  timestamptz NOT NULL DEFAULT now()
    );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE sla_outcome_events; DROP TABLE sla_outcomes")
