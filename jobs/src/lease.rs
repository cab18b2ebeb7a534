//! Job leases. A process runs a job only while its row in `job_leases` names it as owner and has
//! not expired; the holder renews it while the step runs and releases it after. A holder that
//! dies stops renewing, and the lease is free for any other process once it expires.
//!
//! Every change is one conditional `UPDATE`, atomic on both databases, so two processes can never
//! both win the same free lease.

use chrono::{DateTime, TimeDelta, Utc};
use entity::job_lease::{self, COLUMN as L};
use sea_orm::{
    ActiveValue::Set, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, sea_query::Expr,
};

/// Takes the lease of `job` for `owner` until `now + ttl` if it is free, expired, or already
/// `owner`'s. True when `owner` holds it afterwards.
pub async fn acquire(
    conn: &impl ConnectionTrait,
    job: &str,
    owner: &str,
    now: DateTime<Utc>,
    ttl: TimeDelta,
) -> Result<bool, DbErr> {
    ensure_row(conn, job, now).await?;
    let res = job_lease::Entity::update_many()
        .col_expr(job_lease::Column::Owner, Expr::val(owner))
        .col_expr(job_lease::Column::ExpiresAt, Expr::val(now + ttl))
        .col_expr(job_lease::Column::UpdatedAt, Expr::val(now))
        .filter(L.name.eq(job))
        .filter(
            Condition::any()
                .add(L.owner.is_null())
                .add(L.owner.eq(owner))
                .add(L.expires_at.lte(now)),
        )
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Extends `owner`'s lease to `now + ttl`; false when it was lost (taken after expiry).
pub async fn renew(
    conn: &impl ConnectionTrait,
    job: &str,
    owner: &str,
    now: DateTime<Utc>,
    ttl: TimeDelta,
) -> Result<bool, DbErr> {
    let res = job_lease::Entity::update_many()
        .col_expr(job_lease::Column::ExpiresAt, Expr::val(now + ttl))
        .col_expr(job_lease::Column::UpdatedAt, Expr::val(now))
        .filter(L.name.eq(job))
        .filter(L.owner.eq(owner))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Gives the lease of `job` back, if `owner` still holds it.
pub async fn release(
    conn: &impl ConnectionTrait,
    job: &str,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    job_lease::Entity::update_many()
        .col_expr(job_lease::Column::Owner, Expr::val(Option::<String>::None))
        .col_expr(job_lease::Column::ExpiresAt, Expr::val(now))
        .col_expr(job_lease::Column::UpdatedAt, Expr::val(now))
        .filter(L.name.eq(job))
        .filter(L.owner.eq(owner))
        .exec(conn)
        .await?;
    Ok(())
}

/// Gives back every lease `owner` holds (at shutdown).
pub async fn release_all(
    conn: &impl ConnectionTrait,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let res = job_lease::Entity::update_many()
        .col_expr(job_lease::Column::Owner, Expr::val(Option::<String>::None))
        .col_expr(job_lease::Column::ExpiresAt, Expr::val(now))
        .col_expr(job_lease::Column::UpdatedAt, Expr::val(now))
        .filter(L.owner.eq(owner))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// The lease row of `job`, created free on first use.
async fn ensure_row(
    conn: &impl ConnectionTrait,
    job: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if job_lease::Entity::find_by_id(job.to_string())
        .one(conn)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let row = job_lease::ActiveModel {
        name: Set(job.to_string()),
        owner: Set(None),
        expires_at: Set(now),
        updated_at: Set(now),
    };
    match job_lease::Entity::insert(row)
        .exec_without_returning(conn)
        .await
    {
        Ok(_) => Ok(()),
        // Another process created it first: fine.
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(e),
    }
}
