//! Disbursements (拨付): payments of an approved application or of an approved risk claim, and
//! the reversal that voids one. Each payment checks the eligibility rules again (for an
//! application) and stays within the approved amount; the application's or claim's row is
//! locked first, so totals and the program's `disbursed` change exactly once.

use super::applications::{DisbursementView, ensure_allowed, load_for_update};
use crate::{
    auth::AuthUser,
    error::{AppError, AppResult},
    services::validate::Checks,
};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    calendar::Calendar,
    disbursement::{self, Column as D},
    enums::{DisbursementKind, FundStatus, NotificationKind as Kind, Role},
    fund_application::{self, FundAction as A},
    money::Money,
};
use jobs::{
    engine::timeline,
    funds::{
        applications::{Tell, entry, tell_enterprise},
        budget,
        eligibility::context_of,
    },
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// `POST /fund-applications/{id}/disbursements`, `POST /risk-claims/{id}/payments`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    #[serde(default)]
    #[schema(value_type = String, example = "200000.00")]
    pub amount: serde_json::Value,
    pub paid_on: NaiveDate,
    #[schema(max_length = 100)]
    pub reference: Option<String>,
}

/// `POST /disbursements/{id}/reverse`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReversePayment {
    #[schema(min_length = 1, max_length = 10000)]
    pub reason: String,
}

/// The views of a ledger's rows, each payment with the reversal that voided it.
pub fn views(rows: Vec<disbursement::Model>) -> Vec<DisbursementView> {
    let reversed: HashMap<Uuid, Uuid> = rows
        .iter()
        .filter_map(|r| r.reverses_id.map(|p| (p, r.id)))
        .collect();
    rows.into_iter()
        .map(|r| {
            let by = reversed.get(&r.id).copied();
            DisbursementView::of(r, by)
        })
        .collect()
}

/// What a payment is for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Payee {
    Application(Uuid),
    Claim(Uuid),
}

/// The validated amount, date and reference of a payment made on or after `not_before`.
pub(crate) fn payment_input(
    cal: &Calendar,
    now: DateTime<Utc>,
    input: &NewPayment,
    not_before: NaiveDate,
) -> AppResult<(Money, NaiveDate, Option<String>)> {
    let mut c = Checks::new();
    let amount = c.money("amount", &input.amount, true);
    c.date("paid_on", input.paid_on);
    let today = cal.local_date(now);
    if input.paid_on > today {
        c.add("paid_on", format!("must not be after today ({today})"));
    } else if input.paid_on < not_before {
        c.add(
            "paid_on",
            format!("must not be before the approval ({not_before})"),
        );
    }
    let reference = c.opt_line("reference", input.reference.as_deref(), 100);
    c.finish()?;
    let amount = amount.ok_or_else(|| AppError::invalid("amount", "is required"))?;
    Ok((amount, input.paid_on, reference))
}

/// Writes a payment row and books it on the program.
pub(crate) async fn book(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    program: Uuid,
    payee: Payee,
    (amount, paid_on, reference): (Money, NaiveDate, Option<String>),
) -> AppResult<disbursement::Model> {
    let (application_id, risk_claim_id) = match payee {
        Payee::Application(a) => (Some(a), None),
        Payee::Claim(c) => (None, Some(c)),
    };
    let row = disbursement::ActiveModel {
        id: Set(Uuid::now_v7()),
        program_id: Set(program),
        application_id: Set(application_id),
        risk_claim_id: Set(risk_claim_id),
        kind: Set(DisbursementKind::Payment),
        amount_fen: Set(amount.fen()),
        paid_on: Set(paid_on),
        reference: Set(reference),
        reverses_id: Set(None),
        reason: Set(None),
        recorded_by: Set(actor.id),
        recorded_at: Set(now),
    }
    .insert(conn)
    .await?;
    budget::paid(conn, program, amount.fen(), now).await?;
    Ok(row)
}

/// Pays an approved application (the fund office): the rules are checked again, the total
/// stays within the approved amount, and reaching it makes the application `disbursed`.
pub async fn pay_application(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    input: NewPayment,
) -> AppResult<DisbursementView> {
    actor.require(&[Role::FundOffice])?;
    let a = load_for_update(conn, actor, id).await?;
    if a.status == FundStatus::Disbursed {
        return Err(AppError::conflict(
            "fully_disbursed",
            "the approved amount has been paid in full",
        ));
    }
    ensure_allowed(A::Disburse, a.status)?;
    let approved_on = cal.local_date(a.approved_at.unwrap_or(a.updated_at));
    let payment = payment_input(cal, now, &input, approved_on)?;
    let amount = payment.0;
    let p = super::program(conn, a.program_id).await?;
    // A qualification that lapsed since the approval blocks the payment.
    let (facts, names) = context_of(conn, a.enterprise_id).await?;
    let v = facts.decide(&p.rules(), cal.local_date(now), &names);
    if !v.eligible {
        return Err(super::not_eligible(&v));
    }
    let approved = a.approved_amount_fen.unwrap_or(0);
    if a.disbursed_fen + amount.fen() > approved {
        return Err(AppError::conflict(
            "exceeds_approved",
            format!(
                "the payments would exceed the approved amount ({}; paid so far {})",
                Money::from_fen(approved),
                Money::from_fen(a.disbursed_fen)
            ),
        ));
    }
    let row = book(conn, actor, now, p.id, Payee::Application(a.id), payment).await?;
    let total = a.disbursed_fen + amount.fen();
    let mut am: fund_application::ActiveModel = a.clone().into();
    am.disbursed_fen = Set(total);
    if total == approved {
        am.status = Set(FundStatus::Disbursed);
    }
    am.updated_at = Set(now);
    let saved = am.update(conn).await?;
    let note = format!(
        "拨付 {amount} 元（累计 {} 元 / 批准 {} 元）{}",
        Money::from_fen(total),
        Money::from_fen(approved),
        row.reference
            .as_deref()
            .map(|r| format!("，凭证号 {r}"))
            .unwrap_or_default()
    );
    timeline::record(
        conn,
        vec![entry(
            &saved,
            Some(actor.id),
            actor.organization_id,
            now,
            A::Disburse,
            Some(a.status),
            Some(note.clone()),
        )],
    )
    .await?;
    let label = if saved.status == FundStatus::Disbursed {
        "资金已全部拨付"
    } else {
        "资金已部分拨付"
    };
    tell_enterprise(
        conn,
        now,
        &saved,
        &p,
        Tell::new(Kind::FundDisbursed, label, Some(note)),
    )
    .await?;
    Ok(DisbursementView::of(row, None))
}

/// Voids a payment with a reversal row (once: a second is 409), giving its amount back to the
/// application or claim and taking it off the program's `disbursed`.
pub async fn reverse(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    input: ReversePayment,
) -> AppResult<DisbursementView> {
    actor.require(&[Role::FundOffice])?;
    let reason = super::text("reason", &input.reason)?;
    let d = disbursement::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    if d.kind != DisbursementKind::Payment {
        return Err(AppError::conflict(
            "not_a_payment",
            "only a payment can be reversed",
        ));
    }
    // The payee's row first (locked), then the check: two reversals run one after the other.
    let program = match (d.application_id, d.risk_claim_id) {
        (Some(app), _) => {
            let a = load_for_update(conn, actor, app).await?;
            if reversal_of(conn, d.id).await?.is_some() {
                return Err(already_reversed());
            }
            let p = super::program(conn, a.program_id).await?;
            let total = a.disbursed_fen - d.amount_fen;
            let mut am: fund_application::ActiveModel = a.clone().into();
            am.disbursed_fen = Set(total);
            if a.status == FundStatus::Disbursed {
                am.status = Set(FundStatus::Approved);
            }
            am.updated_at = Set(now);
            let saved = am.update(conn).await?;
            let note = format!(
                "冲正拨付 {} 元（{}）：{reason}",
                Money::from_fen(d.amount_fen),
                d.paid_on
            );
            let mut line = entry(
                &saved,
                Some(actor.id),
                actor.organization_id,
                now,
                A::ReverseDisbursement,
                Some(a.status),
                Some(note.clone()),
            );
            if a.status != FundStatus::Disbursed {
                line.action = "reverse_payment".into();
            }
            timeline::record(conn, vec![line]).await?;
            tell_enterprise(
                conn,
                now,
                &saved,
                &p,
                Tell::new(Kind::FundDisbursed, "拨付已冲正", Some(note)),
            )
            .await?;
            a.program_id
        }
        (None, Some(claim)) => {
            super::risk_claims::payment_reversed(conn, actor, now, claim, &d, &reason).await?;
            d.program_id
        }
        (None, None) => return Err(AppError::NotFound),
    };
    let reversal = disbursement::ActiveModel {
        id: Set(Uuid::now_v7()),
        program_id: Set(program),
        application_id: Set(d.application_id),
        risk_claim_id: Set(d.risk_claim_id),
        kind: Set(DisbursementKind::Reversal),
        amount_fen: Set(d.amount_fen),
        paid_on: Set(cal.local_date(now)),
        reference: Set(d.reference.clone()),
        reverses_id: Set(Some(d.id)),
        reason: Set(Some(reason)),
        recorded_by: Set(actor.id),
        recorded_at: Set(now),
    }
    .insert(conn)
    .await?;
    budget::paid(conn, program, -d.amount_fen, now).await?;
    Ok(DisbursementView::of(d, Some(reversal.id)))
}

/// The reversal of payment `id`, if any.
pub(crate) async fn reversal_of(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<Uuid>> {
    Ok(disbursement::Entity::find()
        .filter(D::ReversesId.eq(id))
        .one(conn)
        .await?
        .map(|r| r.id))
}

/// 409: a payment is reversed once.
pub(crate) fn already_reversed() -> AppError {
    AppError::conflict("already_reversed", "this payment has already been reversed")
}
