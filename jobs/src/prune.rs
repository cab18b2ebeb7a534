//! Housekeeping: keeps the job history bounded (finished runs older than `keep_runs`) and drops
//! rows whose purpose has passed: expired idempotency keys, login failures older than a day
//! (the throttling window is minutes), refresh tokens a day past their expiry, change-feed rows
//! older than an hour (pollers read the last seconds).

use crate::runner::JobContext;
use chrono::{DateTime, TimeDelta, Utc};
use entity::{
    idempotency_key,
    job_run::{self, COLUMN as R},
    login_attempt, refresh_token,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// The prune job's name.
pub const JOB: &str = "prune_job_runs";

/// Deletes old finished runs and expired rows; returns how many rows went.
#[tracing::instrument(skip_all, fields(job = JOB))]
pub async fn run_once(ctx: &JobContext, now: DateTime<Utc>) -> anyhow::Result<u64> {
    let day_ago = now - TimeDelta::days(1);
    let runs = job_run::Entity::delete_many()
        .filter(R.finished_at.lt(now - ctx.config.keep_runs))
        .exec(&ctx.db)
        .await?;
    let keys = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::ExpiresAt.lte(now))
        .exec(&ctx.db)
        .await?;
    let attempts = login_attempt::Entity::delete_many()
        .filter(login_attempt::Column::At.lt(day_ago))
        .exec(&ctx.db)
        .await?;
    let tokens = refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::ExpiresAt.lt(day_ago))
        .exec(&ctx.db)
        .await?;
    let feed = crate::feed::prune(&ctx.db, std::time::Duration::from_secs(3600)).await?;
    Ok(runs.rows_affected
        + keys.rows_affected
        + attempts.rows_affected
        + tokens.rows_affected
        + feed)
}
