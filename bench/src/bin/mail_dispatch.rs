//! Mail dispatch throughput: queues mails in a fresh database, then lets the dispatcher job
//! (`jobs::mail::dispatch::run_once`) send them all to an SMTP sink on loopback (the test suite's
//! `tests::smtp::SmtpSink`), and reports mails/s. Before sending it prints the plan of the claim
//! query with many already-sent rows in the table.
//!
//! ```sh
//! cargo run --release -p bench --bin mail_dispatch -- sqlite
//! cargo run --release -p bench --bin mail_dispatch -- postgres   # PG_URL, default postgres://postgres:postgres@127.0.0.1:5432/postgres
//! MAILS=5000 SENT=100000 CONCURRENCY=16 cargo run --release -p bench --bin mail_dispatch -- postgres
//! ```

use chrono::{TimeDelta, Utc};
use entity::{clock::SystemClock, mail_outbox};
use jobs::{JobContext, JobsConfig, mail::dispatch};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ActiveValue::Set, ConnectOptions, ConnectionTrait, Database, EntityTrait, Statement,
};
use std::{sync::Arc, time::Instant};
use uuid::Uuid;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let which = std::env::args().nth(1).unwrap_or_else(|| "sqlite".into());
    let mails = env_num("MAILS", 5000);
    let sent_rows = env_num("SENT", 100_000);
    let dir = tempfile::tempdir()?;
    let pg = std::env::var("PG_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into());
    let bench_db = "liantong_bench_mail";
    let url = match which.as_str() {
        "postgres" => {
            let admin = Database::connect(pg.as_str()).await?;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {bench_db} WITH (FORCE)"))
                .await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {bench_db}"))
                .await?;
            admin.close().await?;
            let (head, _) = pg
                .rsplit_once('/')
                .ok_or_else(|| anyhow::anyhow!("PG_URL needs a database"))?;
            format!("{head}/{bench_db}")
        }
        _ => format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()),
    };
    let is_pg = url.starts_with("postgres");
    let mut opts = ConnectOptions::new(url.clone());
    opts.sqlx_logging(false);
    if is_pg {
        opts.max_connections(5);
    } else {
        // As the api runs SQLite: one connection, WAL.
        opts.max_connections(1)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
            });
    }
    let db = Database::connect(opts).await?;
    Migrator::up(&db, None).await?;

    let now = Utc::now();
    let template = jobs::mail::Template::Welcome {
        organization_name: "苏州工业园区精密制造有限公司".into(),
        contact_name: Some("王经理".into()),
    };
    let data = template.data_json()?;
    let subject = template.subject()?;
    let row = |i: usize, sent: bool| {
        let id = Uuid::now_v7();
        mail_outbox::ActiveModel {
            id: Set(id),
            message_id: Set(format!("<{}@liantong.local>", id.simple())),
            template: Set("welcome".into()),
            data: Set(data.clone()),
            recipient: Set(format!("contact{i}@example.cn")),
            subject: Set(subject.clone()),
            status: Set(if sent {
                mail_outbox::MailStatus::Sent
            } else {
                mail_outbox::MailStatus::Pending
            }),
            attempts: Set(if sent { 1 } else { 0 }),
            next_attempt_at: Set(now - TimeDelta::days(1)),
            last_error: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            sent_at: Set(sent.then_some(now)),
            user_id: Set(None),
            kind: Set(None),
        }
    };
    let t = Instant::now();
    for chunk in (0..sent_rows).collect::<Vec<_>>().chunks(1000) {
        mail_outbox::Entity::insert_many(chunk.iter().map(|&i| row(i, true)))
            .exec(&db)
            .await?;
    }
    for chunk in (0..mails).collect::<Vec<_>>().chunks(1000) {
        mail_outbox::Entity::insert_many(chunk.iter().map(|&i| row(i, false)))
            .exec(&db)
            .await?;
    }
    if is_pg {
        db.execute_unprepared("ANALYZE mail_outbox").await?;
    } else {
        db.execute_unprepared("ANALYZE").await?;
    }
    println!(
        "seeded {sent_rows} sent + {mails} pending rows in {:.1}s",
        t.elapsed().as_secs_f64()
    );

    // The claim query as the dispatcher sends it.
    let ts = now.format("%Y-%m-%d %H:%M:%S%.6f+00:00");
    let (explain, claim) = if is_pg {
        (
            "EXPLAIN (ANALYZE, BUFFERS, COSTS)",
            format!(
                "SELECT * FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= '{ts}' ORDER BY next_attempt_at ASC LIMIT 100 FOR UPDATE SKIP LOCKED"
            ),
        )
    } else {
        (
            "EXPLAIN QUERY PLAN",
            format!(
                "SELECT * FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= '{ts}' ORDER BY next_attempt_at ASC LIMIT 100"
            ),
        )
    };
    println!("\n{explain} {claim};");
    let backend = db.get_database_backend();
    for r in db
        .query_all_raw(Statement::from_string(
            backend,
            format!("{explain} {claim}"),
        ))
        .await?
    {
        let line: String = if is_pg {
            r.try_get_by_index(0)?
        } else {
            r.try_get::<String>("", "detail")?
        };
        println!("  {line}");
    }

    let sink = tests::smtp::SmtpSink::start().await;
    let mut config = JobsConfig::default();
    config.mail.smtp_url = Some(sink.url());
    config.mail.mail_dir = dir.path().join("mail");
    config.mail.concurrency = env_num("CONCURRENCY", config.mail.concurrency);
    let ctx = JobContext::new(db.clone(), Arc::new(SystemClock), config)?;

    let t = Instant::now();
    let mut sent = 0;
    while sent < mails as u64 {
        let n = dispatch::run_once(&ctx, Utc::now()).await?;
        if n == 0 {
            break;
        }
        sent += n;
    }
    let secs = t.elapsed().as_secs_f64();
    let received = sink.messages().len();
    println!(
        "\n{which}: sent {sent} mails ({received} received by the sink) in {secs:.2}s = {:.0} mails/s (batch {}, concurrency {})",
        sent as f64 / secs,
        ctx.config.mail.batch_size,
        ctx.config.mail.concurrency
    );
    anyhow::ensure!(received == mails, "the sink got {received} of {mails}");
    db.close().await?;
    if is_pg {
        let admin = Database::connect(pg.as_str()).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {bench_db} WITH (FORCE)"))
            .await?;
    }
    Ok(())
}
