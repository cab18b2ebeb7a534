//! A fund program's budget, kept by the database: every change is one guarded `UPDATE` of the
//! program row (which also serializes concurrent changes of one program on PostgreSQL), and
//! `CHECK`s back the invariants (`committed <= budget`, `disbursed <= committed`). Callers run
//! these in the transaction that changes the application or claim the amount belongs to, after
//! locking that row, so a release or a payment happens exactly once.

use chrono::{DateTime, Utc};
use entity::fund_program::{self, Column as P};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

/// Reserves `fen` of the budget; `false` (and nothing changed) when it would exceed it.
pub async fn reserve(
    conn: &impl ConnectionTrait,
    program: Uuid,
    fen: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let r = fund_program::Entity::update_many()
        .col_expr(P::CommittedFen, Expr::col(P::CommittedFen).add(fen))
        .col_expr(P::UpdatedAt, Expr::val(now))
        .filter(P::Id.eq(program))
        .filter(
            Expr::col(P::CommittedFen)
                .add(fen)
                .lte(Expr::col(P::BudgetFen)),
        )
        .exec(conn)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Gives `fen` of a reservation back.
pub async fn release(
    conn: &impl ConnectionTrait,
    program: Uuid,
    fen: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if fen == 0 {
        return Ok(());
    }
    let r = fund_program::Entity::update_many()
        .col_expr(P::CommittedFen, Expr::col(P::CommittedFen).sub(fen))
        .col_expr(P::UpdatedAt, Expr::val(now))
        .filter(P::Id.eq(program))
        .filter(P::CommittedFen.gte(fen))
        .exec(conn)
        .await?;
    expect_one(r.rows_affected, "release")
}

/// Books a payment (`fen > 0`) or its reversal (`fen < 0`) as disbursed.
pub async fn paid(
    conn: &impl ConnectionTrait,
    program: Uuid,
    fen: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let r = fund_program::Entity::update_many()
        .col_expr(P::DisbursedFen, Expr::col(P::DisbursedFen).add(fen))
        .col_expr(P::UpdatedAt, Expr::val(now))
        .filter(P::Id.eq(program))
        .filter(Expr::col(P::DisbursedFen).add(fen).gte(0))
        .filter(
            Expr::col(P::DisbursedFen)
                .add(fen)
                .lte(Expr::col(P::CommittedFen)),
        )
        .exec(conn)
        .await?;
    expect_one(r.rows_affected, "payment")
}

/// A recovery's covered share comes back: less committed, less disbursed, more recovered.
pub async fn recovered(
    conn: &impl ConnectionTrait,
    program: Uuid,
    share: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if share == 0 {
        return Ok(());
    }
    let r = fund_program::Entity::update_many()
        .col_expr(P::CommittedFen, Expr::col(P::CommittedFen).sub(share))
        .col_expr(P::DisbursedFen, Expr::col(P::DisbursedFen).sub(share))
        .col_expr(P::RecoveredFen, Expr::col(P::RecoveredFen).add(share))
        .col_expr(P::UpdatedAt, Expr::val(now))
        .filter(P::Id.eq(program))
        .filter(P::DisbursedFen.gte(share))
        .exec(conn)
        .await?;
    expect_one(r.rows_affected, "recovery")
}

/// The callers' own rows guarantee these updates match; a miss is a broken invariant, and the
/// transaction must not commit.
fn expect_one(rows: u64, what: &str) -> Result<(), DbErr> {
    if rows == 1 {
        Ok(())
    } else {
        Err(DbErr::Custom(format!(
            "fund budget {what}: the program's amounts do not allow it"
        )))
    }
}
