//! Times the recompute a calendar change causes (`jobs::engine::clocks::recompute`) over many
//! unmet clocks, and how long a submission waits for it.
//!
//! ```sh
//! target/release/seed_appeals --database-url postgres://postgres:postgres@127.0.0.1:5432/lt_recompute --appeals 40000
//! target/release/clock_recompute --database-url postgres://postgres:postgres@127.0.0.1:5432/lt_recompute --clocks 100000
//! ```
//!
//! It first makes `--clocks` clocks of the seeded database unmet, unbreached and started at
//! `--now` (so a holiday on the next working day moves every one of them), and recomputes them
//! once untimed. Each iteration then changes the calendar as `PUT /calendar/days/{date}` does:
//! one transaction declares the day a holiday (or, every other iteration, removes it again) and
//! raises the calendar's revision; after its commit every unmet clock is recomputed in batches
//! (`jobs::engine::clocks::recompute`). Meanwhile, 20 ms after the change began, a second
//! connection takes the calendar row `FOR SHARE` as a submission does (PostgreSQL) and reports
//! how long it waited.

use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, Duration as Days, Utc};
use entity::{calendar_day, calendar_setting, enums::ExceptionKind};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, Database, DbBackend, EntityTrait, ExprTrait,
    QueryFilter, Statement, TransactionTrait, sea_query::Expr,
};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: clock_recompute --database-url <db seeded by seed_appeals> \
[--clocks 100000] [--iterations 7] [--now 2026-11-23T10:00:00+08:00]";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut url = std::env::var("DATABASE_URL").unwrap_or_default();
    let (mut clocks, mut iterations) = (100_000u64, 7usize);
    let mut now: DateTime<Utc> =
        DateTime::parse_from_rfc3339("2026-11-23T10:00:00+08:00")?.with_timezone(&Utc);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().context(USAGE);
        match a.as_str() {
            "--database-url" => url = value()?,
            "--clocks" => clocks = value()?.parse()?,
            "--iterations" => iterations = value()?.parse()?,
            "--now" => now = DateTime::parse_from_rfc3339(&value()?)?.with_timezone(&Utc),
            _ => bail!("{USAGE}"),
        }
    }
    if url.is_empty() {
        bail!("{USAGE}");
    }
    let db = Database::connect(url.as_str()).await?;
    let backend = db.get_database_backend();
    let sql = |s: &str| Statement::from_string(backend, s.to_string());

    // The clocks under test: unmet, never warned or breached, started at `now`.
    let taken = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "UPDATE sla_clocks SET met_at = NULL, cancelled_at = NULL, warned_at = NULL, \
             breached_at = NULL, escalate_at = NULL, escalated_at = NULL, paused_at = NULL, \
             paused_working_seconds = 0, start_at = $1 \
             WHERE id IN (SELECT id FROM sla_clocks ORDER BY id LIMIT $2)",
            [now.into(), (clocks as i64).into()],
        ))
        .await?
        .rows_affected();
    if taken < clocks {
        bail!("the database has only {taken} clocks; seed more appeals");
    }
    let open: i64 = db
        .query_one_raw(sql(
            "SELECT count(*) AS n FROM sla_clocks WHERE met_at IS NULL AND cancelled_at IS NULL",
        ))
        .await?
        .context("count")?
        .try_get("", "n")?;
    let loader = jobs::calendar::CalendarLoader::default();
    let cal = loader.current(&db).await?;
    jobs::engine::clocks::recompute(&db, &loader, now).await?;
    if backend == DbBackend::Postgres {
        db.execute_raw(sql("VACUUM ANALYZE sla_clocks")).await?;
    }

    // The next working day after `now` (local), the day the change moves.
    let tz = cal.settings().time_zone;
    let mut day = now.with_timezone(&tz).date_naive() + Days::days(1);
    while !cal.is_working_day(day) {
        day += Days::days(1);
    }
    println!(
        "{} unmet clocks ({clocks} started at {now}); the change toggles a holiday on {day} ({:?})",
        open,
        day.weekday()
    );
    let mut changes = Vec::new();
    let mut waits = Vec::new();
    for i in 0..iterations {
        let declare = i % 2 == 0;
        let waiter = {
            let db = db.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let started = Instant::now();
                let txn = db.begin().await?;
                jobs::calendar::settings_row(&txn, true).await?;
                txn.commit().await?;
                anyhow::Ok(started.elapsed())
            })
        };
        let started = Instant::now();
        let txn = db.begin().await?;
        calendar_setting::Entity::update_many()
            .col_expr(
                calendar_setting::Column::Revision,
                Expr::col(calendar_setting::Column::Revision).add(Expr::val(1)),
            )
            .filter(calendar_setting::Column::Id.eq(1))
            .exec(&txn)
            .await?;
        if declare {
            calendar_day::Entity::insert(calendar_day::ActiveModel {
                date: Set(day),
                kind: Set(ExceptionKind::Holiday),
                name: Set(Some("临时休假".into())),
                name_en: Set(Some("Declared holiday".into())),
                updated_at: Set(now),
            })
            .exec_without_returning(&txn)
            .await?;
        } else {
            calendar_day::Entity::delete_by_id(day).exec(&txn).await?;
        }
        txn.commit().await?;
        let changed = jobs::engine::clocks::recompute(&db, &loader, now).await?;
        let took = started.elapsed();
        let waited = waiter.await??;
        println!(
            "{} holiday: {changed} clocks moved in {:.0} ms; a submission waited {:.0} ms",
            if declare { "declare" } else { "remove" },
            took.as_secs_f64() * 1e3,
            waited.as_secs_f64() * 1e3
        );
        changes.push(took);
        waits.push(waited);
    }
    let summary = |mut v: Vec<Duration>| {
        v.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        format!(
            "median {:.0} ms (min {:.0}, max {:.0})",
            ms(v[v.len() / 2]),
            ms(v[0]),
            ms(v[v.len() - 1])
        )
    };
    println!("calendar change with recompute: {}", summary(changes));
    println!("submission blocked: {}", summary(waits));
    Ok(())
}
