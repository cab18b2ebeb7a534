//! Credit lines: reads, the ledger (drawdowns, repayments, reversals) and the status actions.
//!
//! Every balance change is one guarded `UPDATE` in the transaction that also inserts the
//! movement: the `WHERE` holds the rule (`used + a <= limit`, `outstanding >= a`, the status),
//! so concurrent postings can never overdraw a line whatever their interleaving. When the update
//! touches no row, the line is read only to say which rule refused it.

use crate::{
    auth::{AuthUser, scope},
    error::{AppError, AppResult},
    pagination::{self, Page, PageQuery},
    services::{audit::Change, validate::Checks},
};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    calendar::Calendar,
    credit_line::{self, Column as L},
    credit_movement::{self, Column as M},
    enums::{CreditLineStatus, MovementKind, Role},
    money::{Money, Rate},
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, SqlErr,
    sea_query::{Expr, ExprTrait, Func},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A credit line as the API shows it: money in yuan strings, the rate in percent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreditLineView {
    pub id: Uuid,
    pub request_id: Uuid,
    pub enterprise_id: Uuid,
    pub bank_id: Uuid,
    pub chain_id: Uuid,
    pub program_id: Option<Uuid>,
    #[schema(value_type = String, example = "1500000.00")]
    pub limit: Money,
    /// Drawn and not repaid.
    #[schema(value_type = String, example = "500000.00")]
    pub outstanding: Money,
    /// What may still be drawn: the limit less what counts against it (the outstanding balance
    /// of a revolving line; everything drawn, net of reversals, on a non-revolving one).
    #[schema(value_type = String, example = "1000000.00")]
    pub available: Money,
    /// Percent per year.
    #[schema(value_type = String, example = "3.45")]
    pub rate: Rate,
    pub revolving: bool,
    pub status: CreditLineStatus,
    pub expires_on: NaiveDate,
    pub term_months: i32,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub approved_at: DateTime<Utc>,
    pub approved_by: Uuid,
    pub confirmed_by: Option<Uuid>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub first_drawdown_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub closed_at: Option<DateTime<Utc>>,
}

impl From<&credit_line::Model> for CreditLineView {
    fn from(m: &credit_line::Model) -> Self {
        Self {
            id: m.id,
            request_id: m.request_id,
            enterprise_id: m.enterprise_id,
            bank_id: m.bank_id,
            chain_id: m.chain_id,
            program_id: m.program_id,
            limit: Money::from_fen(m.limit_fen),
            outstanding: Money::from_fen(m.outstanding_fen),
            available: Money::from_fen(m.limit_fen - m.used_fen),
            rate: Rate::from_e4(m.rate_e4),
            revolving: m.revolving,
            status: m.status,
            expires_on: m.expires_on,
            term_months: m.term_months,
            approved_at: m.approved_at,
            approved_by: m.approved_by,
            confirmed_by: m.confirmed_by,
            first_drawdown_at: m.first_drawdown_at,
            closed_at: m.closed_at,
        }
    }
}

/// One row of a line's ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MovementView {
    pub id: Uuid,
    pub line_id: Uuid,
    pub kind: MovementKind,
    #[schema(value_type = String, example = "100000.00")]
    pub amount: Money,
    pub value_date: NaiveDate,
    /// The movement a reversal reverses.
    pub reverses_id: Option<Uuid>,
    /// Why a reversal was booked.
    pub reason: Option<String>,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub booked_at: DateTime<Utc>,
    pub booked_by: Uuid,
}

impl From<&credit_movement::Model> for MovementView {
    fn from(m: &credit_movement::Model) -> Self {
        Self {
            id: m.id,
            line_id: m.line_id,
            kind: m.kind,
            amount: Money::from_fen(m.amount_fen),
            value_date: m.value_date,
            reverses_id: m.reverses_id,
            reason: m.reason.clone(),
            booked_at: m.booked_at,
            booked_by: m.booked_by,
        }
    }
}

/// A booked movement and the line after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Booked {
    #[serde(flatten)]
    pub movement: MovementView,
    pub line: CreditLineView,
}

/// `?enterprise_id=&bank_id=&chain_id=&program_id=&status=`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LineFilter {
    pub enterprise_id: Option<Uuid>,
    pub bank_id: Option<Uuid>,
    pub chain_id: Option<Uuid>,
    pub program_id: Option<Uuid>,
    pub status: Option<CreditLineStatus>,
}

/// A drawdown or a repayment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMovement {
    /// Yuan, a decimal string with at most two places, above 0.
    #[schema(value_type = String, pattern = r"^[0-9]{1,14}(\.[0-9]{1,2})?$", example = "100000.00")]
    pub amount: serde_json::Value,
    /// Not before the line's approval date, not after today (the calendar's time zone).
    pub value_date: NaiveDate,
}

/// A reversal.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseInput {
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$"
    )]
    pub reason: String,
    /// The reversal's value date: today by default; not before the reversed movement's.
    pub value_date: Option<NaiveDate>,
}

/// A status action on a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineAction {
    Freeze,
    Unfreeze,
    Close,
}

impl LineAction {
    fn statuses_before(self) -> &'static [CreditLineStatus] {
        match self {
            Self::Freeze => &[CreditLineStatus::Active],
            Self::Unfreeze => &[CreditLineStatus::Frozen],
            Self::Close => &[CreditLineStatus::Active, CreditLineStatus::Frozen],
        }
    }

    fn to_status(self) -> CreditLineStatus {
        match self {
            Self::Freeze => CreditLineStatus::Frozen,
            Self::Unfreeze => CreditLineStatus::Active,
            Self::Close => CreditLineStatus::Closed,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Self::Freeze => "freeze",
            Self::Unfreeze => "unfreeze",
            Self::Close => "close",
        }
    }

    /// As the enterprise reads it.
    fn label(self) -> &'static str {
        match self {
            Self::Freeze => "已冻结",
            Self::Unfreeze => "已解冻",
            Self::Close => "已关闭",
        }
    }
}

/// The lines the caller may see, filtered, oldest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    user: &AuthUser,
    f: &LineFilter,
    page: &PageQuery,
) -> AppResult<Page<CreditLineView>> {
    let mut q = credit_line::Entity::find().filter(scope::credit_lines(user));
    if let Some(v) = f.enterprise_id {
        q = q.filter(L::EnterpriseId.eq(v));
    }
    if let Some(v) = f.bank_id {
        q = q.filter(L::BankId.eq(v));
    }
    if let Some(v) = f.chain_id {
        q = q.filter(L::ChainId.eq(v));
    }
    if let Some(v) = f.program_id {
        q = q.filter(L::ProgramId.eq(v));
    }
    if let Some(v) = f.status {
        q = q.filter(L::Status.eq(v));
    }
    let page = pagination::fetch(conn, q, L::Id, page, |m: &credit_line::Model| m.id).await?;
    Ok(page.map(|m| CreditLineView::from(&m)))
}

/// A line the caller may see (404 otherwise).
async fn visible(
    conn: &impl ConnectionTrait,
    user: &AuthUser,
    id: Uuid,
) -> AppResult<credit_line::Model> {
    credit_line::Entity::find_by_id(id)
        .filter(scope::credit_lines(user))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// A line the calling bank granted: 403 for other roles, 404 for a line of another bank.
async fn of_calling_bank(
    conn: &impl ConnectionTrait,
    user: &AuthUser,
    id: Uuid,
) -> AppResult<credit_line::Model> {
    user.require(&[Role::Bank])?;
    visible(conn, user, id).await
}

async fn reread(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<credit_line::Model> {
    credit_line::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// One line.
pub async fn get(
    conn: &impl ConnectionTrait,
    user: &AuthUser,
    id: Uuid,
) -> AppResult<CreditLineView> {
    Ok(CreditLineView::from(&visible(conn, user, id).await?))
}

/// A line's ledger, oldest first.
pub async fn movements(
    conn: &impl ConnectionTrait,
    user: &AuthUser,
    id: Uuid,
    page: &PageQuery,
) -> AppResult<Page<MovementView>> {
    visible(conn, user, id).await?;
    let q = credit_movement::Entity::find().filter(M::LineId.eq(id));
    let page = pagination::fetch(conn, q, M::Id, page, |m: &credit_movement::Model| m.id).await?;
    Ok(page.map(|m| MovementView::from(&m)))
}

/// A value date within `not_before ..= today`, else 422 on `value_date`.
fn check_value_date(
    checks: &mut Checks,
    d: NaiveDate,
    not_before: NaiveDate,
    today: NaiveDate,
    what: &str,
) {
    if d > today {
        checks.add("value_date", format!("must not be after today ({today})"));
    } else if d < not_before {
        checks.add(
            "value_date",
            format!("must not be before {what} ({not_before})"),
        );
    }
}

async fn insert_movement(
    conn: &impl ConnectionTrait,
    m: &credit_movement::Model,
) -> Result<(), sea_orm::DbErr> {
    credit_movement::Entity::insert(credit_movement::ActiveModel {
        id: Set(m.id),
        line_id: Set(m.line_id),
        kind: Set(m.kind),
        amount_fen: Set(m.amount_fen),
        value_date: Set(m.value_date),
        reverses_id: Set(m.reverses_id),
        reason: Set(m.reason.clone()),
        booked_at: Set(m.booked_at),
        booked_by: Set(m.booked_by),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Books a drawdown or a repayment on the calling bank's line.
#[tracing::instrument(skip_all, fields(line = %id, kind = ?kind))]
pub async fn book(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    user: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    kind: MovementKind,
    input: NewMovement,
) -> AppResult<Booked> {
    let mut checks = Checks::new();
    let amount = checks.money("amount", &input.amount, true);
    let line = of_calling_bank(conn, user, id).await?;
    let approved_on = cal.local_date(line.approved_at);
    check_value_date(
        &mut checks,
        input.value_date,
        approved_on,
        cal.local_date(now),
        "the line's approval date",
    );
    checks.finish()?;
    let a = amount.map(Money::fen).unwrap_or_default();
    // The ledger row first: it takes no lock on the line (its foreign key's share lock does not
    // conflict with the update's), so the line's row lock, taken by the guarded update below,
    // is held only for that update and the commit. A refusal rolls the row back.
    let m = credit_movement::Model {
        id: Uuid::now_v7(),
        line_id: id,
        kind,
        amount_fen: a,
        value_date: input.value_date,
        reverses_id: None,
        reason: None,
        booked_at: now,
        booked_by: user.id,
    };
    insert_movement(conn, &m).await?;
    let update = match kind {
        MovementKind::Drawdown => credit_line::Entity::update_many()
            .col_expr(L::OutstandingFen, Expr::col(L::OutstandingFen).add(a))
            .col_expr(L::UsedFen, Expr::col(L::UsedFen).add(a))
            .col_expr(
                L::FirstDrawdownAt,
                Func::coalesce([Expr::col(L::FirstDrawdownAt), Expr::val(now)]).into(),
            )
            .col_expr(L::UpdatedAt, Expr::val(now))
            .filter(L::Id.eq(id))
            .filter(L::Status.eq(CreditLineStatus::Active))
            .filter(Expr::col(L::UsedFen).add(a).lte(Expr::col(L::LimitFen))),
        MovementKind::Repayment => {
            // A revolving line's room comes back with the repayment; a non-revolving one's
            // does not (`revolving` never changes, so reading it first decides nothing racy).
            let mut q = credit_line::Entity::update_many()
                .col_expr(L::OutstandingFen, Expr::col(L::OutstandingFen).sub(a));
            if line.revolving {
                q = q.col_expr(L::UsedFen, Expr::col(L::UsedFen).sub(a));
            }
            q.col_expr(L::UpdatedAt, Expr::val(now))
                .filter(L::Id.eq(id))
                .filter(L::Status.ne(CreditLineStatus::Closed))
                .filter(L::OutstandingFen.gte(a))
        }
        MovementKind::Reversal => {
            return Err(AppError::invalid("kind", "a reversal is booked by reverse"));
        }
    };
    let Some(after) = guarded(conn, update, id).await? else {
        let now_line = reread(conn, id).await?;
        return Err(match kind {
            MovementKind::Drawdown if now_line.status != CreditLineStatus::Active => {
                AppError::conflict(
                    "line_not_active",
                    format!(
                        "the line is {}; only an active line may be drawn",
                        now_line.status.code()
                    ),
                )
            }
            MovementKind::Drawdown => AppError::conflict(
                "exceeds_available",
                format!(
                    "the amount exceeds what is available ({})",
                    Money::from_fen(now_line.limit_fen - now_line.used_fen)
                ),
            ),
            _ if now_line.status == CreditLineStatus::Closed => {
                AppError::conflict("line_closed", "the line is closed")
            }
            _ => AppError::conflict(
                "exceeds_outstanding",
                format!(
                    "the amount exceeds the outstanding balance ({})",
                    Money::from_fen(now_line.outstanding_fen)
                ),
            ),
        });
    };
    Ok(Booked {
        movement: MovementView::from(&m),
        line: CreditLineView::from(&after),
    })
}

/// Runs the guarded update of one line and answers the line after it, `None` when its guard
/// matched nothing: `UPDATE … RETURNING` where the database has it (PostgreSQL), else the line
/// read back in the same transaction (SQLite, one writer at a time).
async fn guarded(
    conn: &impl ConnectionTrait,
    update: sea_orm::UpdateMany<credit_line::Entity>,
    id: Uuid,
) -> AppResult<Option<credit_line::Model>> {
    if conn.support_returning() {
        return Ok(update.exec_with_returning(conn).await?.pop());
    }
    if update.exec(conn).await?.rows_affected == 1 {
        Ok(Some(reread(conn, id).await?))
    } else {
        Ok(None)
    }
}

fn already_reversed() -> AppError {
    AppError::conflict(
        "already_reversed",
        "this movement has already been reversed",
    )
}

/// Reverses a drawdown or a repayment of the calling bank's line, once.
#[tracing::instrument(skip_all, fields(line = %id, movement = %movement_id))]
pub async fn reverse(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    user: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    movement_id: Uuid,
    input: ReverseInput,
) -> AppResult<Booked> {
    let mut checks = Checks::new();
    let reason = checks.text("reason", &input.reason, 2000);
    let line = of_calling_bank(conn, user, id).await?;
    let original = credit_movement::Entity::find_by_id(movement_id)
        .filter(M::LineId.eq(id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let today = cal.local_date(now);
    let value_date = input.value_date.unwrap_or(today);
    check_value_date(
        &mut checks,
        value_date,
        original.value_date,
        today,
        "the reversed movement's value date",
    );
    checks.finish()?;
    if original.kind == MovementKind::Reversal {
        return Err(AppError::conflict(
            "cannot_reverse_reversal",
            "a reversal cannot be reversed; book a new movement instead",
        ));
    }
    let a = original.amount_fen;
    let m = credit_movement::Model {
        id: Uuid::now_v7(),
        line_id: id,
        kind: MovementKind::Reversal,
        amount_fen: a,
        value_date,
        reverses_id: Some(movement_id),
        reason: Some(reason),
        booked_at: now,
        booked_by: user.id,
    };
    // The unique index on `reverses_id` decides a race between two reversals: the second
    // waits for the first and then fails here.
    if let Err(e) = insert_movement(conn, &m).await {
        return Err(match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => already_reversed(),
            _ => e.into(),
        });
    }
    let q = credit_line::Entity::update_many()
        .col_expr(L::UpdatedAt, Expr::val(now))
        .filter(L::Id.eq(id))
        .filter(L::Status.ne(CreditLineStatus::Closed));
    let res = match original.kind {
        // Undoing a drawdown lowers both balances.
        MovementKind::Drawdown => {
            q.col_expr(L::OutstandingFen, Expr::col(L::OutstandingFen).sub(a))
                .col_expr(L::UsedFen, Expr::col(L::UsedFen).sub(a))
                .filter(L::OutstandingFen.gte(a))
                .filter(L::UsedFen.gte(a))
                .exec(conn)
                .await?
        }
        // Undoing a repayment raises the balance (and, on a revolving line, what is used).
        _ => {
            let mut q = q
                .col_expr(L::OutstandingFen, Expr::col(L::OutstandingFen).add(a))
                .filter(
                    Expr::col(L::OutstandingFen)
                        .add(a)
                        .lte(Expr::col(L::LimitFen)),
                );
            if line.revolving {
                q = q
                    .col_expr(L::UsedFen, Expr::col(L::UsedFen).add(a))
                    .filter(Expr::col(L::UsedFen).add(a).lte(Expr::col(L::LimitFen)));
            }
            q.exec(conn).await?
        }
    };
    if res.rows_affected != 1 {
        let now_line = reread(conn, id).await?;
        return Err(if now_line.status == CreditLineStatus::Closed {
            AppError::conflict("line_closed", "the line is closed")
        } else if original.kind == MovementKind::Drawdown {
            AppError::conflict(
                "reversal_below_zero",
                "reversing this drawdown would take the outstanding balance below zero; reverse the repayments after it first",
            )
        } else {
            AppError::conflict(
                "reversal_exceeds_limit",
                "reversing this repayment would take the line past its limit",
            )
        });
    }
    Ok(Booked {
        movement: MovementView::from(&m),
        line: CreditLineView::from(&reread(conn, id).await?),
    })
}

/// Freezes, unfreezes or closes the calling bank's line; closing gives the limit back to the
/// program. Notifies the enterprise and writes an audit row.
#[tracing::instrument(skip_all, fields(line = %id, action = action.code()))]
pub async fn act(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    user: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    action: LineAction,
) -> AppResult<CreditLineView> {
    let before = of_calling_bank(conn, user, id).await?;
    let mut q = credit_line::Entity::update_many()
        .col_expr(L::Status, Expr::val(action.to_status()))
        .col_expr(L::UpdatedAt, Expr::val(now))
        .filter(L::Id.eq(id))
        .filter(L::Status.is_in(action.statuses_before().iter().copied()));
    if action == LineAction::Close {
        q = q
            .col_expr(L::ClosedAt, Expr::val(now))
            .filter(L::OutstandingFen.eq(0));
    }
    let res = q.exec(conn).await?;
    let after = reread(conn, id).await?;
    if res.rows_affected != 1 {
        return Err(if !action.statuses_before().contains(&after.status) {
            AppError::conflict(
                match action {
                    LineAction::Freeze => "line_not_active",
                    LineAction::Unfreeze => "line_not_frozen",
                    LineAction::Close => "line_not_open",
                },
                format!(
                    "the line is {}; it cannot be {}d",
                    after.status.code(),
                    action.code()
                ),
            )
        } else {
            AppError::conflict(
                "outstanding_not_zero",
                format!(
                    "the line still has {} outstanding; it is closed once repaid",
                    Money::from_fen(after.outstanding_fen)
                ),
            )
        });
    }
    if action == LineAction::Close {
        // The guarded update above took the line out of an exposure-holding status: this
        // transaction alone gives its limit back.
        jobs::credit_lines::give_back(conn, &before).await?;
    }
    let (before_view, after_view) = (CreditLineView::from(&before), CreditLineView::from(&after));
    Change {
        at: now,
        actor: Some(user.id),
        action: match action {
            LineAction::Freeze => "credit_line.freeze",
            LineAction::Unfreeze => "credit_line.unfreeze",
            LineAction::Close => "credit_line.close",
        },
        object_type: "credit_line",
        object_id: id.to_string(),
    }
    .record(conn, Some(&before_view), Some(&after_view))
    .await?;
    let notices =
        jobs::credit_lines::changed_notifications(conn, &after, action.label(), None, false, cal)
            .await?;
    jobs::notify::notify_many(conn, now, &notices).await?;
    Ok(after_view)
}
