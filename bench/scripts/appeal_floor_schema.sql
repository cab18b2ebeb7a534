-- The floor of the work `POST /api/v1/appeals` does, as a schema: the tables an appeal, its
-- three SLA clocks and one timeline line need, with their primary keys and only the indexes
-- the appeal list and the SLA monitor need, no foreign keys, no triggers, no other table.
-- bench/scripts/appeals_http.sh loads it into an empty database for the pgbench reference
-- (bench/scripts/appeal_floor_insert.sql).
CREATE SEQUENCE appeal_number_seq;
CREATE TABLE appeals (
    id uuid PRIMARY KEY,
    number text NOT NULL UNIQUE,
    enterprise_id uuid NOT NULL,
    submitted_by uuid NOT NULL,
    chain_id uuid,
    category text NOT NULL,
    title text NOT NULL,
    content text NOT NULL,
    status text NOT NULL,
    department_id uuid,
    assigned_at timestamptz,
    submitted_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
-- The list: a department's, an enterprise's, oldest first.
CREATE INDEX ON appeals (department_id, id);
CREATE INDEX ON appeals (enterprise_id, id);
CREATE TABLE sla_clocks (
    id uuid PRIMARY KEY,
    appeal_id uuid NOT NULL,
    kind text NOT NULL,
    start_at timestamptz NOT NULL,
    target_working_days text NOT NULL,
    due_at timestamptz NOT NULL,
    warn_at timestamptz NOT NULL,
    paused_at timestamptz,
    met_at timestamptz,
    warned_at timestamptz,
    breached_at timestamptz,
    escalate_at timestamptz,
    escalated_at timestamptz,
    cancelled_at timestamptz
);
-- An appeal's clocks; the monitor's three candidate scans.
CREATE INDEX ON sla_clocks (appeal_id);
CREATE INDEX ON sla_clocks (warn_at) WHERE met_at IS NULL AND warned_at IS NULL AND cancelled_at IS NULL AND paused_at IS NULL;
CREATE INDEX ON sla_clocks (due_at) WHERE met_at IS NULL AND breached_at IS NULL AND cancelled_at IS NULL AND paused_at IS NULL;
CREATE INDEX ON sla_clocks (escalate_at) WHERE met_at IS NULL AND escalated_at IS NULL AND cancelled_at IS NULL AND paused_at IS NULL;
CREATE TABLE appeal_events (
    id uuid PRIMARY KEY,
    appeal_id uuid NOT NULL,
    at timestamptz NOT NULL,
    actor_id uuid,
    action text NOT NULL,
    to_status text NOT NULL,
    note text
);
-- An appeal's timeline.
CREATE INDEX ON appeal_events (appeal_id, id);
