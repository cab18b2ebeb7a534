-- One drawdown attempt, the floor of the work: the guarded update of the line and the ledger row,
-- in one statement and one transaction; past the limit the update matches nothing and nothing is
-- inserted (a refusal).
BEGIN;
WITH booked AS (
    UPDATE bench_lines
       SET outstanding_fen = outstanding_fen + 10000, used_fen = used_fen + 10000
     WHERE id = 1 AND status = 'active' AND used_fen + 10000 <= limit_fen
 RETURNING id
)
INSERT INTO bench_movements (id, line_id, kind, amount_fen, value_date, booked_at, booked_by)
SELECT gen_random_uuid(), id, 'drawdown', 10000, current_date, now(), '00000000-0000-0000-0000-000000000001'
  FROM booked;
END;
