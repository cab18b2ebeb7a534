//! The `jobs` binary: runs the background jobs without the HTTP API, against the database the api
//! migrated (`DATABASE_URL`, default the embedded SQLite file). SIGTERM or Ctrl-C: every job
//! finishes its current step, the leases are released, and the process exits 0.

use entity::clock::SystemClock;
use jobs::{JobContext, Runner, runner::default_jobs, settings::Settings};
use sea_orm::{ConnectOptions, Database, EntityTrait};
use std::{sync::Arc, time::Duration};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    // The same layered settings as the api: defaults, `liantong.toml`, `LIANTONG__*`, and the
    // common variables (`DATABASE_URL`, `DATA_DIR`, `SMTP_URL`, ...).
    let settings = Settings::load()?;
    let url = settings.database_url();
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .and_then(|rest| rest.split('?').next())
        .and_then(|p| std::path::Path::new(p).parent())
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(path)?;
    }
    let mut opts = ConnectOptions::new(url.clone());
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(30));
    if url.starts_with("sqlite:") {
        opts.max_connections(1).min_connections(1);
    } else {
        opts.max_connections(5).min_connections(1);
    }
    let db = Database::connect(opts).await?;
    // The api owns the schema; this process only checks it is there.
    if let Err(e) = entity::job_lease::Entity::find().one(&db).await {
        anyhow::bail!(
            "the database is not migrated ({e}); start the api once or run `cargo run -p migration -- up`"
        );
    }
    let config = settings.jobs_config();
    tracing::info!(process = jobs::PROCESS_NAME, owner = %config.owner, "starting");
    let jobs = default_jobs(&config);
    let ctx = JobContext::new(db.clone(), Arc::new(SystemClock), config)?;
    let runner = Runner::new(ctx, jobs);
    let cancel = CancellationToken::new();
    let handle = tokio::spawn(runner.run(cancel.clone()));
    jobs::shutdown_signal().await;
    tracing::info!("stopping: finishing current steps");
    cancel.cancel();
    handle.await?;
    db.close().await?;
    Ok(())
}
