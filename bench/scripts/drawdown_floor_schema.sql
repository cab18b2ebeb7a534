-- The floor of a drawdown: one line with its balances, and a ledger with its primary key and the
-- (line_id, id) index the line's movement list reads. No triggers, no other index.
CREATE TABLE bench_lines (
    id integer PRIMARY KEY,
    limit_fen bigint NOT NULL,
    outstanding_fen bigint NOT NULL,
    used_fen bigint NOT NULL,
    status varchar(16) NOT NULL
);
CREATE TABLE bench_movements (
    id uuid PRIMARY KEY,
    line_id integer NOT NULL,
    kind varchar(16) NOT NULL,
    amount_fen bigint NOT NULL,
    value_date date NOT NULL,
    booked_at timestamptz NOT NULL,
    booked_by uuid NOT NULL
);
CREATE INDEX ix_bench_movements_line_id_id ON bench_movements (line_id, id);
INSERT INTO bench_lines VALUES (1, 0, 0, 0, 'active');
