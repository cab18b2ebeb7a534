//! Credit lines below the api: the exposure rule's give-back, the notice of a status change, and
//! the daily expiry job (`credit_line_expiry`).
//!
//! A line holds exposure against its program while `active` or `frozen`
//! ([`CreditLineStatus::holds_exposure`]). The status change that ends it (close, expiry) is a
//! guarded update from an exposure-holding status, so exactly one transaction wins it, and that
//! transaction gives the limit back to the program with [`give_back`].

use crate::{
    mail::Template,
    notify::{Audience, Mail, Notice, Notification, Object, notify_many},
    runner::JobContext,
};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use entity::{
    bank_setting,
    calendar::Calendar,
    credit_line::{self, Column as L},
    credit_program,
    enums::{CreditLineStatus, NotificationKind},
    money::Money,
    organization,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionSession, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

/// The expiry job's name.
pub const JOB: &str = "credit_line_expiry";

/// Days after approval within which a line must be drawn, for a bank without settings.
pub const DEFAULT_UNUSED_LINE_EXPIRY_DAYS: i32 = 90;

/// Lines expired per transaction.
const BATCH: u64 = 200;

/// The statuses that hold exposure against the program.
pub fn exposure_statuses() -> [CreditLineStatus; 2] {
    [CreditLineStatus::Active, CreditLineStatus::Frozen]
}

/// Gives a line's limit back to its program; call it in the transaction whose guarded update
/// took the line out of an exposure-holding status.
pub async fn give_back(
    conn: &impl ConnectionTrait,
    line: &credit_line::Model,
) -> Result<(), DbErr> {
    let Some(program) = line.program_id else {
        return Ok(());
    };
    use credit_program::Column as P;
    credit_program::Entity::update_many()
        .col_expr(P::GrantedFen, Expr::col(P::GrantedFen).sub(line.limit_fen))
        .filter(P::Id.eq(program))
        .exec(conn)
        .await?;
    Ok(())
}

/// The in-app notice and mail of a status change of `line` (now in its new status), to the
/// enterprise and, with `to_bank`, to the bank too (held to office hours).
pub async fn changed_notifications<'a>(
    conn: &impl ConnectionTrait,
    line: &credit_line::Model,
    action_label: &str,
    note: Option<String>,
    to_bank: bool,
    calendar: &'a Calendar,
) -> Result<Vec<Notification<'a>>, DbErr> {
    let names: Vec<(Uuid, String)> = organization::Entity::find()
        .select_only()
        .columns([organization::Column::Id, organization::Column::Name])
        .filter(organization::Column::Id.is_in([line.enterprise_id, line.bank_id]))
        .into_tuple()
        .all(conn)
        .await?;
    let name = |id: Uuid| {
        names
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    };
    let (enterprise, bank) = (name(line.enterprise_id), name(line.bank_id));
    let template = |recipient: &str| Template::CreditLineChanged {
        recipient_name: recipient.to_string(),
        enterprise_name: enterprise.clone(),
        bank_name: bank.clone(),
        action_label: action_label.to_string(),
        status_label: line.status.label_zh().to_string(),
        limit: Money::from_fen(line.limit_fen).to_string(),
        outstanding: Money::from_fen(line.outstanding_fen).to_string(),
        expires_on: line.expires_on.to_string(),
        note: note.clone(),
    };
    let notice = Notice::new(
        NotificationKind::CreditLineChanged,
        Some(Object::credit_line(line.id)),
        format!("授信额度{action_label}"),
        format!(
            "{enterprise} 在 {bank} 的授信额度（{} 元）{action_label}，当前状态：{}。",
            Money::from_fen(line.limit_fen),
            line.status.label_zh()
        ),
    );
    let mut out = vec![
        Notification::new(Audience::organization(line.enterprise_id), notice.clone())
            .mail(Mail::now(template(&enterprise))),
    ];
    if to_bank {
        out.push(
            Notification::new(Audience::organization(line.bank_id), notice)
                .mail(Mail::office_hours(template(&bank), calendar)),
        );
    }
    Ok(out)
}

/// Expires every due line; returns how many expired.
#[tracing::instrument(skip_all, fields(job = JOB))]
pub async fn run_once(ctx: &JobContext, now: DateTime<Utc>) -> anyhow::Result<u64> {
    let cal = ctx.calendar.current(&ctx.db).await?;
    let today = cal.local_date(now);
    Ok(expire_due(&ctx.db, &cal, now, today).await?)
}

/// Lines that should be expired at `now` (`today` local): past `expires_on`, or never drawn
/// within their bank's `unused_line_expiry_days` of approval.
async fn due_condition(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<Condition, DbErr> {
    let settings: Vec<(Uuid, i32)> = bank_setting::Entity::find()
        .select_only()
        .columns([
            bank_setting::Column::OrganizationId,
            bank_setting::Column::UnusedLineExpiryDays,
        ])
        .into_tuple()
        .all(conn)
        .await?;
    let before = |days: i32| now - TimeDelta::days(i64::from(days));
    let mut unused = Condition::any().add(
        Condition::all()
            .add(L::BankId.is_not_in(settings.iter().map(|(b, _)| *b)))
            .add(L::ApprovedAt.lte(before(DEFAULT_UNUSED_LINE_EXPIRY_DAYS))),
    );
    for (bank, days) in &settings {
        unused = unused.add(
            Condition::all()
                .add(L::BankId.eq(*bank))
                .add(L::ApprovedAt.lte(before(*days))),
        );
    }
    Ok(Condition::all()
        .add(L::Status.is_in(exposure_statuses()))
        .add(
            Condition::any().add(L::ExpiresOn.lt(today)).add(
                Condition::all()
                    .add(L::FirstDrawdownAt.is_null())
                    .add(unused),
            ),
        ))
}

/// Expires the due lines in batches, each batch one transaction with its give-backs and
/// notices; idempotent (an expired line is not due again).
pub async fn expire_due<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    calendar: &Calendar,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<u64, DbErr> {
    let due = due_condition(db, now, today).await?;
    let mut expired = 0;
    // Every pass takes each line of the batch out of the due set (expired by this pass or
    // changed meanwhile by someone else), so the loop ends.
    loop {
        let batch = credit_line::Entity::find()
            .filter(due.clone())
            .order_by_asc(L::Id)
            .limit(BATCH)
            .all(db)
            .await?;
        if batch.is_empty() {
            break;
        }
        let txn = db.begin().await?;
        let mut notices = vec![];
        for line in &batch {
            let res = credit_line::Entity::update_many()
                .col_expr(L::Status, Expr::val(CreditLineStatus::Expired))
                .col_expr(L::UpdatedAt, Expr::val(now))
                .filter(L::Id.eq(line.id))
                .filter(L::Status.is_in(exposure_statuses()))
                .exec(&txn)
                .await?;
            if res.rows_affected != 1 {
                continue;
            }
            give_back(&txn, line).await?;
            let mut after = line.clone();
            after.status = CreditLineStatus::Expired;
            let note = if line.expires_on < today {
                format!("授信已于 {} 到期", line.expires_on)
            } else {
                "批准后在规定期限内未提款".to_string()
            };
            notices.extend(
                changed_notifications(&txn, &after, "已失效", Some(note), true, calendar).await?,
            );
            expired += 1;
        }
        notify_many(&txn, now, &notices).await?;
        txn.commit().await?;
        if (batch.len() as u64) < BATCH {
            break;
        }
    }
    if expired > 0 {
        tracing::info!(expired, "credit lines expired");
    }
    Ok(expired)
}
