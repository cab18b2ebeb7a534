//! The public notice's end (公示期满): an application whose notice ended with no upheld
//! objection, and none still undecided, is approved and the enterprise told. The job
//! (`fund_notices`) looks every minute; deciding the last pending objection after the end
//! approves at once through the same function.

use super::applications::{Tell, entry, tell_enterprise};
use crate::{JobContext, engine::timeline};
use chrono::{DateTime, Utc};
use entity::{
    enums::{FundStatus, NotificationKind as Kind, ObjectionStatus},
    fund_application::{self, Column as F, FundAction},
    fund_program, objection,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionSession, TransactionTrait,
    sea_query::{Expr, Query},
};
use uuid::Uuid;

/// The job's name.
pub const JOB: &str = "fund_notices";

/// Applications approved per transaction.
const BATCH: u64 = 200;

/// Ready to approve at `now`: in notice, the notice over, no objection pending.
fn ready(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(F::Status.eq(FundStatus::InNotice))
        .add(F::NoticeEndsAt.lte(now))
        .add(
            F::Id.not_in_subquery(
                Query::select()
                    .column(objection::Column::ApplicationId)
                    .from(objection::Entity)
                    .and_where(objection::Column::Status.eq(ObjectionStatus::Pending))
                    .to_owned(),
            ),
        )
}

/// Approves every application whose notice ended; returns how many.
#[tracing::instrument(skip_all, fields(job = JOB))]
pub async fn run_once(ctx: &JobContext, now: DateTime<Utc>) -> anyhow::Result<u64> {
    Ok(approve_ended(&ctx.db, now).await?)
}

/// Approves every application whose notice ended by `now`, in batches of one transaction each.
pub async fn approve_ended<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut approved = 0;
    loop {
        let txn = db.begin().await?;
        let ids: Vec<Uuid> = fund_application::Entity::find()
            .select_only()
            .column(F::Id)
            .filter(ready(now))
            .order_by_asc(F::NoticeEndsAt)
            .limit(BATCH)
            .into_tuple()
            .all(&txn)
            .await?;
        let n = ids.len() as u64;
        for id in ids {
            if approve_if_ended(&txn, now, id).await? {
                approved += 1;
            }
        }
        txn.commit().await?;
        if n < BATCH {
            return Ok(approved);
        }
    }
}

/// Approves application `id` if its notice is over with no objection pending (a guarded
/// update: whoever comes second finds it approved and does nothing); `true` when it did.
pub async fn approve_if_ended(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    id: Uuid,
) -> Result<bool, DbErr> {
    let r = fund_application::Entity::update_many()
        .col_expr(F::Status, Expr::val(FundStatus::Approved.code()))
        .col_expr(F::ApprovedAt, Expr::val(now))
        .col_expr(F::UpdatedAt, Expr::val(now))
        .filter(F::Id.eq(id))
        .filter(ready(now))
        .exec(conn)
        .await?;
    if r.rows_affected == 0 {
        return Ok(false);
    }
    let Some(a) = fund_application::Entity::find_by_id(id).one(conn).await? else {
        return Ok(false);
    };
    let Some(program) = fund_program::Entity::find_by_id(a.program_id)
        .one(conn)
        .await?
    else {
        return Ok(false);
    };
    timeline::record(
        conn,
        vec![entry(
            &a,
            None,
            None,
            now,
            FundAction::NoticeEnded,
            Some(FundStatus::InNotice),
            Some("公示期满，无成立的异议".into()),
        )],
    )
    .await?;
    tell_enterprise(
        conn,
        now,
        &a,
        &program,
        Tell::new(
            Kind::FundApproved,
            "公示期满，已批准",
            Some(format!(
                "批准金额 {} 元，等待拨付",
                super::applications::current_amount(&a)
            )),
        ),
    )
    .await?;
    Ok(true)
}
