//! Documents below the api: the object store of their bytes ([`FileStore`]), the database steps
//! that keep bytes, blob rows and quotas consistent (used by the upload and by the orphan job
//! alike), and the orphan job ([`orphans`]).
//!
//! Consistency of the bytes: an upload and the orphan job both take the `file_blobs` row lock
//! of a hash before they write or delete its object, and hold it until their transaction ends,
//! so bytes are never deleted under a file row that names them.

pub mod orphans;
mod store;

pub use store::{FileStore, Staged};

use chrono::{DateTime, Utc};
use entity::{file_blob, storage_usage};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use uuid::Uuid;

/// Creates the blob row of `sha256` if it is missing and locks it until the transaction ends
/// (PostgreSQL: the upsert takes the row lock, and waits for a deleting orphan job to finish;
/// SQLite: the transaction already holds the database's write lock).
pub async fn lock_blob(
    txn: &impl ConnectionTrait,
    sha256: &str,
    size: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    use file_blob::Column as B;
    file_blob::Entity::insert(file_blob::ActiveModel {
        sha256: sea_orm::Set(sha256.to_string()),
        size: sea_orm::Set(size),
        created_at: sea_orm::Set(now),
    })
    .on_conflict(
        OnConflict::column(B::Sha256)
            .update_column(B::Size)
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Locks the existing blob row of `sha256` (the orphan job, before it may delete the bytes);
/// `false` if there is none.
async fn lock_existing_blob(txn: &impl ConnectionTrait, sha256: &str) -> Result<bool, DbErr> {
    let mut q = file_blob::Entity::find_by_id(sha256.to_string());
    if txn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    Ok(q.one(txn).await?.is_some())
}

/// Adds `bytes` to what organization `org` stores, unless that passes `quota`: `false` then,
/// and nothing changes. A guarded update, so concurrent uploads cannot pass the quota together.
pub async fn charge(
    txn: &impl ConnectionTrait,
    org: Uuid,
    bytes: i64,
    quota: i64,
) -> Result<bool, DbErr> {
    use storage_usage::Column as U;
    storage_usage::Entity::insert(storage_usage::ActiveModel {
        organization_id: sea_orm::Set(org),
        bytes: sea_orm::Set(0),
    })
    .on_conflict(
        OnConflict::column(U::OrganizationId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    let done = storage_usage::Entity::update_many()
        .col_expr(U::Bytes, Expr::col(U::Bytes).add(bytes))
        .filter(U::OrganizationId.eq(org))
        .filter(Expr::col(U::Bytes).add(bytes).lte(quota))
        .exec(txn)
        .await?;
    Ok(done.rows_affected == 1)
}

/// What organization `org` stores now, bytes.
pub async fn usage(conn: &impl ConnectionTrait, org: Uuid) -> Result<i64, DbErr> {
    Ok(storage_usage::Entity::find_by_id(org)
        .one(conn)
        .await?
        .map_or(0, |u| u.bytes))
}

/// Gives `bytes` back to organization `org` (a removed upload).
async fn refund(txn: &impl ConnectionTrait, org: Uuid, bytes: i64) -> Result<(), DbErr> {
    use storage_usage::Column as U;
    storage_usage::Entity::update_many()
        .col_expr(U::Bytes, Expr::col(U::Bytes).sub(bytes))
        .filter(U::OrganizationId.eq(org))
        .exec(txn)
        .await?;
    Ok(())
}
