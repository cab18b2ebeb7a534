//! Keeps the job history bounded: deletes finished runs older than `keep_runs`.

use crate::runner::JobContext;
use chrono::{DateTime, Utc};
use entity::job_run::{self, COLUMN as R};
use sea_orm::{EntityTrait, QueryFilter};

/// The prune job's name.
pub const JOB: &str = "prune_job_runs";

/// Deletes old finished runs; returns how many.
#[tracing::instrument(skip_all, fields(job = JOB))]
pub async fn run_once(ctx: &JobContext, now: DateTime<Utc>) -> anyhow::Result<u64> {
    let res = job_run::Entity::delete_many()
        .filter(R.finished_at.lt(now - ctx.config.keep_runs))
        .exec(&ctx.db)
        .await?;
    Ok(res.rows_affected)
}
