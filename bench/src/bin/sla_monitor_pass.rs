//! Times one SLA monitor pass (`jobs::sla_monitor::run_pass`) over a database seeded by
//! `seed_appeals` (1M appeals, 1,000 clocks due at `--now`), from the same state every time.
//!
//! ```sh
//! target/release/sla_monitor_pass --database-url postgres://postgres:postgres@127.0.0.1:5432/lt_bench_pg
//! target/release/sla_monitor_pass --database-url 'sqlite:///tmp/lt_bench/sqlite_1m.db' --iterations 5
//! ```
//!
//! By default it works on a copy (PostgreSQL: `CREATE DATABASE <name>_monitor TEMPLATE <name>`,
//! dropped at the end; SQLite: a copy of the file in a temp dir); `--in-place` uses the seeded
//! database itself and leaves it as it found it.
//!
//! Before the first pass it records what a pass can change: the clocks any of the monitor's
//! three steps may take at `--now` (their full rows) and the row count of every table. After
//! each pass, outside the timing, it deletes the rows the pass added (UUID v7 ids at or after
//! the pass's start, in `supervisions`, `appeal_events`, `mail_outbox` and `notifications`), writes the recorded
//! clock rows back, and checks that every table count and the number of due clocks are back to
//! what they were. One untimed pass comes first (warm-up); on PostgreSQL it runs with
//! `auto_explain` (ANALYZE, BUFFERS) reporting every plan to this client as a notice, and the
//! plans of the candidate queries are printed.

use anyhow::{Context, bail, ensure};
use bench::with_database;
use chrono::{DateTime, Utc};
use entity::{appeal_event, mail_outbox, notification, sla_clock, supervision};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectOptions, ConnectionTrait, Database,
    DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, Statement,
    TransactionTrait,
};
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tracing_subscriber::{Layer, filter::Targets, layer::SubscriberExt};
use uuid::Uuid;

const USAGE: &str = "usage: sla_monitor_pass --database-url <seeded db> \
[--now 2026-11-23T10:00:00+08:00] [--iterations 7] [--in-place] [--keep] [--no-explain] \
[--pg-option name=value]...";

struct Args {
    url: String,
    now: DateTime<Utc>,
    iterations: usize,
    in_place: bool,
    keep: bool,
    explain: bool,
    /// Session settings of the timed passes' connections (PostgreSQL), e.g.
    /// `synchronous_commit=off` to see what the commits cost.
    pg_options: Vec<(String, String)>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        url: std::env::var("DATABASE_URL").unwrap_or_default(),
        now: DateTime::parse_from_rfc3339("2026-11-23T10:00:00+08:00")?.with_timezone(&Utc),
        iterations: 7,
        in_place: false,
        keep: false,
        explain: true,
        pg_options: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--in-place" => a.in_place = true,
            "--keep" => a.keep = true,
            "--no-explain" => a.explain = false,
            _ => {
                let value = it
                    .next()
                    .with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
                match flag.as_str() {
                    "--database-url" => a.url = value,
                    "--now" => a.now = DateTime::parse_from_rfc3339(&value)?.with_timezone(&Utc),
                    "--iterations" => a.iterations = value.parse()?,
                    "--pg-option" => {
                        let (k, v) = value
                            .split_once('=')
                            .context("--pg-option takes name=value")?;
                        a.pg_options.push((k.to_string(), v.to_string()));
                    }
                    other => bail!("unknown argument {other}\n{USAGE}"),
                }
            }
        }
    }
    ensure!(!a.url.is_empty(), "--database-url is required\n{USAGE}");
    ensure!(a.iterations > 0, "--iterations must be at least 1");
    Ok(a)
}

/// Collects the messages of PostgreSQL notices (`auto_explain` output) that sqlx logs.
#[derive(Clone, Default)]
struct Notices(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> Layer<S> for Notices {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "message" {
                    self.0 = value.to_string();
                }
            }
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" && self.0.is_empty() {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut m = Message(String::new());
        event.record(&mut m);
        if let Ok(mut v) = self.0.lock() {
            v.push(m.0);
        }
    }
}

fn database_name(url: &str) -> anyhow::Result<String> {
    let (_, tail) = url
        .rsplit_once('/')
        .context("the URL has no database name")?;
    Ok(tail.split('?').next().unwrap_or_default().to_string())
}

async fn connect(url: &str, options: &[(&str, &str)]) -> anyhow::Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(30));
    if url.starts_with("postgres") {
        // As the jobs process would: a small pool.
        opts.max_connections(5).min_connections(1);
        let options: Vec<(String, String)> = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if !options.is_empty() {
            opts.map_sqlx_postgres_opts(move |o| o.options(options.clone()));
        }
    } else {
        // As the api and jobs run SQLite: one writer connection, WAL.
        opts.max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .map_sqlx_sqlite_opts(|o| {
                use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
            });
    }
    Ok(Database::connect(opts).await?)
}

/// The clocks a pass at `now` may take (the union of the three steps' conditions, as in
/// `jobs::sla_monitor`).
fn candidates(now: DateTime<Utc>) -> Condition {
    use sla_clock::Column as C;
    let open = || {
        Condition::all()
            .add(C::MetAt.is_null())
            .add(C::CancelledAt.is_null())
            .add(C::PausedAt.is_null())
    };
    Condition::any()
        .add(open().add(C::WarnedAt.is_null()).add(C::WarnAt.lte(now)))
        .add(open().add(C::BreachedAt.is_null()).add(C::DueAt.lte(now)))
        .add(
            open()
                .add(C::EscalatedAt.is_null())
                .add(C::EscalateAt.is_not_null())
                .add(C::EscalateAt.lte(now)),
        )
}

/// Row counts of every table but `change_feed`: the feed logs the pass's notifications and
/// the reset's deletions of them (housekeeping prunes it), it is not state a pass depends on.
async fn table_counts(db: &DatabaseConnection) -> anyhow::Result<Vec<(String, i64)>> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        }
        _ => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        }
    };
    let mut out = Vec::new();
    for row in db
        .query_all_raw(Statement::from_string(backend, sql.to_string()))
        .await?
    {
        let table: String = row.try_get_by_index(0)?;
        if table == "change_feed" {
            continue;
        }
        let n = db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT count(*) FROM \"{table}\""),
            ))
            .await?
            .context("count")?
            .try_get_by_index::<i64>(0)?;
        out.push((table, n));
    }
    Ok(out)
}

/// The smallest UUID v7 of an instant: every id made at or after it compares greater.
fn v7_floor(t: DateTime<Utc>) -> Uuid {
    uuid::Builder::from_unix_timestamp_millis(
        u64::try_from(t.timestamp_millis()).unwrap_or(0),
        &[0; 10],
    )
    .into_uuid()
}

/// Undoes a pass started at `started`: deletes the rows it added and writes the recorded clocks
/// back.
async fn reset(
    db: &DatabaseConnection,
    started: DateTime<Utc>,
    clocks: &[sla_clock::Model],
) -> anyhow::Result<()> {
    let floor = v7_floor(started);
    let txn = db.begin().await?;
    appeal_event::Entity::delete_many()
        .filter(appeal_event::Column::Id.gte(floor))
        .exec(&txn)
        .await?;
    supervision::Entity::delete_many()
        .filter(supervision::Column::Id.gte(floor))
        .exec(&txn)
        .await?;
    mail_outbox::Entity::delete_many()
        .filter(mail_outbox::Column::Id.gte(floor))
        .exec(&txn)
        .await?;
    notification::Entity::delete_many()
        .filter(notification::Column::Id.gte(floor))
        .exec(&txn)
        .await?;
    for c in clocks {
        let am: sla_clock::ActiveModel = c.clone().into();
        am.reset_all().update(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Prints the plans `auto_explain` reported for the monitor's candidate queries.
fn print_plans(notices: &[String]) {
    let mut shown = Vec::new();
    for n in notices {
        let Some(text_at) = n.find("Query Text:") else {
            continue;
        };
        let query_line = n[text_at..].lines().next().unwrap_or_default();
        let is_candidate = query_line.contains("FROM \"sla_clocks\"")
            && query_line
                .trim_start_matches("Query Text:")
                .trim_start()
                .starts_with("SELECT")
            && query_line.contains("LIMIT");
        if !is_candidate {
            continue;
        }
        // One plan per step: the step is told by the ORDER BY column.
        let key = ["\"warn_at\" ASC", "\"due_at\" ASC", "\"escalate_at\" ASC"]
            .iter()
            .find(|k| query_line.contains(*k))
            .copied()
            .unwrap_or("other");
        if shown.contains(&key) {
            continue;
        }
        shown.push(key);
        println!("\n{n}");
    }
    let mut by_kind: Vec<(String, usize, f64)> = Vec::new();
    for n in notices {
        let Some(ms) = n
            .strip_prefix("duration: ")
            .and_then(|r| r.split_once(" ms"))
            .and_then(|(v, _)| v.trim().parse::<f64>().ok())
        else {
            continue;
        };
        let Some(text_at) = n.find("Query Text:") else {
            continue;
        };
        let q = n[text_at + "Query Text:".len()..]
            .lines()
            .next()
            .unwrap_or_default()
            .trim();
        let words: Vec<&str> = q.split_whitespace().take(4).collect();
        let kind = if q.starts_with("SELECT") {
            let from = q
                .split(" FROM ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .unwrap_or("?");
            format!("SELECT FROM {from}")
        } else {
            words.join(" ")
        };
        match by_kind.iter_mut().find(|(k, _, _)| *k == kind) {
            Some(e) => {
                e.1 += 1;
                e.2 += ms;
            }
            None => by_kind.push((kind, 1, ms)),
        }
    }
    println!("\nstatements of the pass (auto_explain, warm-up pass): count, total execution ms");
    for (k, n, ms) in by_kind {
        println!("  {n:>6}  {ms:>9.1} ms  {k}");
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let is_pg = args.url.starts_with("postgres");
    let notices = Notices::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(
        notices.clone().with_filter(
            Targets::new().with_target("sqlx::postgres::notice", tracing::Level::TRACE),
        ),
    ))?;

    // The database to work on.
    let mut copy: Option<(String, String)> = None;
    let mut _tmp = None;
    let url = if args.in_place {
        args.url.clone()
    } else if is_pg {
        let source = database_name(&args.url)?;
        let target = format!("{source}_monitor");
        let admin = connect(&with_database(&args.url, "postgres")?, &[]).await?;
        let t = Instant::now();
        admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{target}\" WITH (FORCE)"
            ))
            .await?;
        admin
            .execute_unprepared(&format!(
                "CREATE DATABASE \"{target}\" TEMPLATE \"{source}\" STRATEGY FILE_COPY"
            ))
            .await
            .with_context(|| format!("copying {source} (is someone connected to it?)"))?;
        println!(
            "copied {source} to {target} in {:.1}s",
            t.elapsed().as_secs_f64()
        );
        let url = with_database(&args.url, &target)?;
        copy = Some((with_database(&args.url, "postgres")?, target));
        admin.close().await?;
        url
    } else {
        let path = args
            .url
            .strip_prefix("sqlite://")
            .or_else(|| args.url.strip_prefix("sqlite:"))
            .context("not a sqlite URL")?
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("monitor.db");
        let t = Instant::now();
        std::fs::copy(&path, &target).with_context(|| format!("copying {path}"))?;
        println!("copied {path} in {:.1}s", t.elapsed().as_secs_f64());
        _tmp = Some(dir);
        format!("sqlite://{}", target.display())
    };

    let result = bench(&args, &url, &notices).await;
    if let Some((admin_url, target)) = copy
        && !args.keep
    {
        let admin = connect(&admin_url, &[]).await?;
        admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{target}\" WITH (FORCE)"
            ))
            .await?;
        admin.close().await?;
    }
    result
}

async fn bench(args: &Args, url: &str, notices: &Notices) -> anyhow::Result<()> {
    let options: Vec<(&str, &str)> = args
        .pg_options
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if !options.is_empty() {
        println!("session settings of the passes: {options:?}");
    }
    let db = connect(url, &options).await?;
    // A database seeded before the latest migrations gets them, so the passes run against the
    // schema (indexes, row-version triggers) the api would use.
    {
        use migration::{Migrator, MigratorTrait};
        Migrator::up(&db, None).await?;
    }
    let cal = jobs::calendar::CalendarLoader::default()
        .current(&db)
        .await?;
    let now = args.now;

    let t = Instant::now();
    let clocks = sla_clock::Entity::find()
        .filter(candidates(now))
        .all(&db)
        .await?;
    let counts = table_counts(&db).await?;
    let appeals = counts
        .iter()
        .find(|(t, _)| t == "appeals")
        .map_or(0, |(_, n)| *n);
    let count_of = |name: &str| {
        counts
            .iter()
            .find(|(t, _)| t == name)
            .map_or(0, |(_, n)| *n)
    };
    println!(
        "{} appeals, {} clocks; {} clocks a pass at {} may take (warn, breach or escalate); snapshot in {:.1}s",
        appeals,
        count_of("sla_clocks"),
        clocks.len(),
        now.to_rfc3339(),
        t.elapsed().as_secs_f64()
    );
    // Ids the pass writes are UUID v7 of the real time: they must sort after every seeded row.
    let started = Utc::now();
    for (table, newest) in [
        (
            "appeal_events",
            appeal_event::Entity::find()
                .filter(appeal_event::Column::Id.gte(v7_floor(started)))
                .one(&db)
                .await?
                .map(|r| r.id),
        ),
        (
            "supervisions",
            supervision::Entity::find()
                .filter(supervision::Column::Id.gte(v7_floor(started)))
                .one(&db)
                .await?
                .map(|r| r.id),
        ),
    ] {
        ensure!(
            newest.is_none(),
            "{table} has ids from the future ({newest:?}): the reset would delete them"
        );
    }

    let mut warm = None;
    // Warm-up pass, untimed; on PostgreSQL with every statement's plan reported.
    if args.explain && db.get_database_backend() == DbBackend::Postgres {
        let explain = connect(
            url,
            &[
                ("session_preload_libraries", "auto_explain"),
                ("auto_explain.log_min_duration", "0"),
                ("auto_explain.log_analyze", "on"),
                ("auto_explain.log_buffers", "on"),
                ("auto_explain.log_timing", "on"),
                ("auto_explain.log_level", "notice"),
                ("client_min_messages", "notice"),
            ],
        )
        .await?;
        let started = Utc::now();
        let report = jobs::sla_monitor::run_pass(&explain, &cal, now).await?;
        explain.close().await?;
        reset(&db, started, &clocks).await?;
        warm = Some(report);
        let plans = notices.0.lock().map(|v| v.clone()).unwrap_or_default();
        println!(
            "warm-up pass with auto_explain: {report:?}, {} statements",
            plans.len()
        );
        print_plans(&plans);
    } else {
        let started = Utc::now();
        let report = jobs::sla_monitor::run_pass(&db, &cal, now).await?;
        reset(&db, started, &clocks).await?;
        warm = warm.or(Some(report));
        println!("warm-up pass: {report:?}");
    }
    ensure!(
        table_counts(&db).await? == counts,
        "the reset after the warm-up pass did not restore every table"
    );

    let mut times = Vec::new();
    for i in 1..=args.iterations {
        let started = Utc::now();
        let t = Instant::now();
        let report = jobs::sla_monitor::run_pass(&db, &cal, now).await?;
        let secs = t.elapsed().as_secs_f64();
        if Some(report) != warm {
            bail!("pass {i} did other work than the warm-up: {report:?} vs {warm:?}");
        }
        reset(&db, started, &clocks).await?;
        let after = table_counts(&db).await?;
        ensure!(
            after == counts,
            "pass {i}: the reset did not restore every table"
        );
        let due = sla_clock::Entity::find()
            .filter(candidates(now))
            .count(&db)
            .await?;
        ensure!(
            due == clocks.len() as u64,
            "pass {i}: {due} clocks due after the reset, {} before",
            clocks.len()
        );
        println!("pass {i}: {:>8.1} ms  {report:?}", secs * 1000.0);
        times.push(secs);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "\nSLA monitor pass, {} appeals, {:?}: median {:.1} ms, min {:.1} ms, max {:.1} ms over {} passes ({})",
        appeals,
        warm.unwrap_or_default(),
        median * 1000.0,
        times[0] * 1000.0,
        times[times.len() - 1] * 1000.0,
        times.len(),
        if db.get_database_backend() == DbBackend::Postgres {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    db.close().await?;
    Ok(())
}
