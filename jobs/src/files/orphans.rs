//! The orphan job (`file_orphans`): an upload never attached within `orphan_after` (24 hours by
//! default) is removed — its row, its share of the organization's quota, and its bytes when no
//! other row has the same hash. Staged uploads an api process left behind go too.

use super::{FileStore, lock_existing_blob, refund};
use crate::runner::JobContext;
use chrono::{DateTime, Utc};
use entity::{file, file_blob};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

/// The orphan job's name.
pub const JOB: &str = "file_orphans";

/// Uploads looked at per statement.
const BATCH: u64 = 500;

/// Removes the unattached uploads older than the cutoff; returns how many went.
#[tracing::instrument(skip_all, fields(job = JOB))]
pub async fn run_once(ctx: &JobContext, now: DateTime<Utc>) -> anyhow::Result<u64> {
    let cutoff = now - ctx.config.files.orphan_after;
    let mut removed = 0;
    loop {
        let old = file::Entity::find()
            .filter(file::Column::SubjectType.is_null())
            .filter(file::Column::CreatedAt.lt(cutoff))
            .order_by_asc(file::Column::CreatedAt)
            .limit(BATCH)
            .all(&ctx.db)
            .await?;
        let n = old.len() as u64;
        for f in old {
            if remove(&ctx.db, &ctx.files, &f).await? {
                removed += 1;
            }
        }
        if n < BATCH {
            break;
        }
    }
    // Staged uploads are seconds old while an upload runs; an hour is far past any of them.
    let staged = ctx
        .files
        .sweep_staging(now.min(cutoff) - chrono::TimeDelta::hours(1))
        .await?;
    if removed + staged > 0 {
        tracing::info!(removed, staged, "removed unattached uploads");
    }
    Ok(removed + staged)
}

/// Removes one unattached upload in one transaction; `false` when it was attached (or removed)
/// meanwhile.
async fn remove(
    db: &DatabaseConnection,
    store: &FileStore,
    f: &file::Model,
) -> anyhow::Result<bool> {
    let txn = db.begin().await?;
    let gone = file::Entity::delete_many()
        .filter(file::Column::Id.eq(f.id))
        .filter(file::Column::SubjectType.is_null())
        .exec(&txn)
        .await?;
    if gone.rows_affected == 0 {
        return Ok(false);
    }
    if let Some(org) = f.organization_id {
        refund(&txn, org, f.size).await?;
    }
    if lock_existing_blob(&txn, &f.sha256).await? {
        let others = file::Entity::find()
            .filter(file::Column::Sha256.eq(f.sha256.as_str()))
            .count(&txn)
            .await?;
        if others == 0 {
            store.delete_blob(&f.sha256).await?;
            file_blob::Entity::delete_by_id(f.sha256.clone())
                .exec(&txn)
                .await?;
        }
    }
    txn.commit().await?;
    Ok(true)
}
