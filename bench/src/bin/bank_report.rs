//! A lead-bank report over a busy month on PostgreSQL: one bank and one chain with 10,000
//! financing requests submitted in October 2026 (each with its `accept` and `decide` clocks,
//! 2,000 approved with a line, 1,000 rejected) and 100,000 ledger movements valued in the month
//! (drawdowns, repayments, 1 % reversed), plus the same again in September so the report's
//! queries must skip history. Times `jobs::bank_reports::generate` — the computation from the
//! ledger and the request history, and the snapshot row it writes — run after run.
//!
//! ```sh
//! cargo build --release -p bench --bin bank_report
//! target/release/bank_report   # --pg-url postgres://postgres:postgres@127.0.0.1:5432/postgres
//!                              # --database lt_bench_report --runs 7 --keep
//! ```

use anyhow::{Context, bail, ensure};
use chrono::{TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use jobs::bank_reports::{Period, generate};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use std::time::Instant;

const USAGE: &str =
    "usage: bank_report [--pg-url URL] [--database lt_bench_report] [--runs 7] [--keep]";

/// Requests and movements per seeded month.
const REQUESTS: i64 = 10_000;
const LINES: i64 = 2_000;
const MOVEMENTS: i64 = 100_000;

struct Args {
    pg_url: String,
    database: String,
    runs: usize,
    keep: bool,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        pg_url: "postgres://postgres:postgres@127.0.0.1:5432/postgres".into(),
        database: "lt_bench_report".into(),
        runs: 7,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .with_context(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--pg-url" => a.pg_url = value()?,
            "--database" => a.database = value()?,
            "--runs" => a.runs = value()?.parse()?,
            "--keep" => a.keep = true,
            _ => bail!("unknown flag {flag}\n{USAGE}"),
        }
    }
    ensure!(a.runs > 0, "--runs must be at least 1");
    Ok(a)
}

/// One month of activity starting at `month` (`'2026-10-01'`), with ids offset by `base` so two
/// months never collide. Set-based: a handful of `INSERT … SELECT generate_series`.
async fn seed_month(db: &DatabaseConnection, month: &str, base: i64) -> anyhow::Result<()> {
    let sql = format!(
        r#"
INSERT INTO financing_requests (id, number, enterprise_id, submitted_by, chain_id, program_id, bank_id,
    amount_fen, term_months, purpose, product, status, refer_count, submitted_at, accepted_at,
    decided_at, decision_working_seconds, updated_at)
SELECT gen_random_uuid(),
       'RZB-' || ({base} + g), 'e0000000-0000-0000-0000-000000000001', 'e0000000-0000-0000-0000-0000000000a1',
       'c0000000-0000-0000-0000-000000000001', NULL, 'b0000000-0000-0000-0000-000000000001',
       100000000 + g, 12, '基准', 'working_capital',
       CASE WHEN g % 10 < 2 THEN 'approved' WHEN g % 10 = 2 THEN 'rejected' ELSE 'accepted' END,
       0, t, t + interval '3 hours',
       CASE WHEN g % 10 < 3 THEN t + interval '30 hours' END,
       CASE WHEN g % 10 < 3 THEN 36000 + g % 7200 END, t
  FROM generate_series(1, {REQUESTS}) g,
       LATERAL (SELECT timestamptz '{month} 01:00:00+00' + (g * interval '230 seconds') AS t) s;

INSERT INTO sla_clocks (id, subject_type, financing_request_id, kind, round, start_at,
    target_working_days, extension_working_days, warn_before_working_hours, paused_working_seconds,
    due_at, warn_at, met_at, updated_at)
SELECT gen_random_uuid(), 'financing_request', r.id, k.kind, 0, r.submitted_at, k.days, '0', '2', 0,
       r.submitted_at + k.span, r.submitted_at + k.span - interval '2 hours',
       CASE WHEN k.kind = 'accept' THEN r.accepted_at ELSE r.decided_at END, r.submitted_at
  FROM financing_requests r
 CROSS JOIN (VALUES ('accept', '1', interval '1 day'), ('decide', '5', interval '5 days')) AS k(kind, days, span)
 WHERE r.number LIKE 'RZB-%' AND r.submitted_at >= timestamptz '{month} 00:00:00+00'
   AND r.submitted_at < timestamptz '{month} 00:00:00+00' + interval '1 month';

INSERT INTO credit_lines (id, request_id, enterprise_id, bank_id, chain_id, program_id, limit_fen,
    outstanding_fen, used_fen, rate_e4, term_months, revolving, status, expires_on, approved_by,
    approved_at, updated_at)
SELECT gen_random_uuid(), r.id, r.enterprise_id, r.bank_id, r.chain_id, NULL, 100000000000, 0, 0,
       32000 + (row_number() OVER (ORDER BY r.id)) % 11000, 12, true, 'active', date '2099-12-31',
       r.submitted_by, r.decided_at, r.decided_at
  FROM financing_requests r
 WHERE r.number LIKE 'RZB-%' AND r.status = 'approved'
   AND r.submitted_at >= timestamptz '{month} 00:00:00+00'
   AND r.submitted_at < timestamptz '{month} 00:00:00+00' + interval '1 month';

WITH lines AS (
    SELECT id, row_number() OVER (ORDER BY id) AS n FROM credit_lines
     WHERE approved_at >= timestamptz '{month} 00:00:00+00'
       AND approved_at < timestamptz '{month} 00:00:00+00' + interval '1 month' + interval '2 days'
)
INSERT INTO credit_movements (id, line_id, kind, amount_fen, value_date, booked_at, booked_by)
SELECT gen_random_uuid(), l.id, CASE WHEN g % 3 = 0 THEN 'repayment' ELSE 'drawdown' END,
       10000 + g % 5000, date '{month}' + (g % 28), timestamptz '{month} 02:00:00+00' + (g % 28) * interval '1 day',
       'e0000000-0000-0000-0000-0000000000a1'
  FROM generate_series(1, {MOVEMENTS}) g
  JOIN lines l ON l.n = 1 + g % {LINES};

INSERT INTO credit_movements (id, line_id, kind, amount_fen, value_date, reverses_id, reason, booked_at, booked_by)
SELECT gen_random_uuid(), m.line_id, 'reversal', m.amount_fen, m.value_date, m.id, '基准冲正', m.booked_at, m.booked_by
  FROM credit_movements m
 WHERE m.kind = 'drawdown' AND m.value_date >= date '{month}' AND m.value_date < date '{month}' + interval '1 month'
   AND m.amount_fen % 100 = 7;
"#
    );
    db.execute_unprepared(&sql).await?;
    Ok(())
}

async fn seed(db: &DatabaseConnection) -> anyhow::Result<()> {
    let started = Instant::now();
    Migrator::up(db, None).await?;
    db.execute_unprepared(
        r#"
INSERT INTO organizations (id, kind, name, uscc, verified, created_at, updated_at) VALUES
 ('b0000000-0000-0000-0000-000000000001', 'bank', '基准主办行', NULL, true, now(), now()),
 ('e0000000-0000-0000-0000-000000000001', 'enterprise', '基准企业', NULL, true, now(), now()),
 ('d0000000-0000-0000-0000-000000000001', 'chain_office', '基准链办', NULL, true, now(), now());
INSERT INTO chains (id, code, name, office_organization_id, created_at, updated_at) VALUES
 ('c0000000-0000-0000-0000-000000000001', 'BENCH', '基准产业链', 'd0000000-0000-0000-0000-000000000001', now(), now());
INSERT INTO chain_banks (chain_id, organization_id, role, created_at) VALUES
 ('c0000000-0000-0000-0000-000000000001', 'b0000000-0000-0000-0000-000000000001', 'lead', now());
"#,
    )
    .await?;
    seed_month(db, "2026-09-01", 0).await?;
    seed_month(db, "2026-10-01", 1_000_000).await?;
    db.execute_unprepared("ANALYZE").await?;
    println!(
        "seed: 2 months of 10,000 requests and ~101,000 movements in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let server = Database::connect(&args.pg_url).await?;
    server
        .execute_unprepared(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            args.database
        ))
        .await?;
    server
        .execute_unprepared(&format!("CREATE DATABASE \"{}\"", args.database))
        .await?;
    let url = format!(
        "{}/{}",
        args.pg_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .context("--pg-url")?,
        args.database
    );
    let db = Database::connect(&url).await?;
    let outcome = async {
        seed(&db).await?;
        let period = Period::parse("2026-10").context("period")?;
        let bank = "b0000000-0000-0000-0000-000000000001".parse()?;
        let now = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).single().context("now")?;
        let mut times = Vec::new();
        let mut first = None;
        for run in 0..args.runs {
            let started = Instant::now();
            let reports = generate(&db, period, Shanghai, now, Some(bank), None).await?;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            let r = reports.first().context("no report")?;
            ensure!(r.requests_received as i64 == REQUESTS, "received {}", r.requests_received);
            // Every version has the same figures.
            let figures = (r.requests_received, r.approved_count, r.drawn_amount_fen, r.repaid_amount_fen, r.outstanding_end_fen, r.avg_rate.clone());
            match &first {
                None => {
                    println!(
                        "report: received {}, approved {}, rejected {}, drawn {} fen, repaid {} fen, outstanding {} fen, avg rate {:?}, avg decision {:?} h",
                        r.requests_received, r.approved_count, r.rejected_count, r.drawn_amount_fen,
                        r.repaid_amount_fen, r.outstanding_end_fen, r.avg_rate, r.avg_decision_working_hours
                    );
                    first = Some(figures);
                }
                Some(f) => ensure!(*f == figures, "version {} differs", r.version),
            }
            println!("run {}: {ms:.0} ms (version {})", run + 1, r.version);
            times.push(ms);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "median {:.0} ms (min {:.0}, max {:.0}) over {} runs; target ≤ 1000 ms",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1],
            times.len()
        );
        anyhow::Ok(())
    }
    .await;
    db.close().await.ok();
    if !args.keep {
        server
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                args.database
            ))
            .await?;
    }
    outcome
}
