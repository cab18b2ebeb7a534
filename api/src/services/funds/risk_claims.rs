//! Risk-compensation claims (风险补偿): a bank of a chain in a risk-compensation program's
//! eligibility claims on a credit line it granted that defaulted. The payable amount —
//! min(loss × coverage, the program's maximum per claim) — is reserved from the budget at once;
//! the fund office approves or rejects on a review clock; payment is a disbursement to the bank;
//! a recovery the bank books later (also a repayment on the line's ledger) gives the covered
//! share back to the program, once per recovery.

use super::{
    applications::{DisbursementView, FundEventView},
    disbursements::{self, NewPayment, Payee, already_reversed, reversal_of},
};
use crate::{
    auth::{AuthUser, scope},
    error::{AppError, AppResult},
    pagination::{self, Page, PageQuery},
    services::{
        clock_view::ClockView,
        credit_lines::{self, NewMovement},
        timeline_read,
        validate::Checks,
    },
};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    calendar::Calendar,
    credit_line::{self, Column as L},
    disbursement,
    enums::{
        ClaimStatus, ClockKind, CreditLineStatus, EventVisibility, FundKind, MovementKind,
        NotificationKind as Kind, OrgKind, Role, SubjectType,
    },
    fund_program,
    money::{Money, Rate},
    recovery,
    risk_claim::{self, Column as C},
    sla_clock,
    working_days::WorkingDays,
};
use jobs::{
    credit_lines::{changed_notifications, give_back},
    engine::{
        Subject,
        clocks::{self, NewClock},
        timeline::{self, Entry},
    },
    funds::budget,
    mail::{Template, templates::local_minute},
    notify::{Audience, Mail, Notice, Object, name_of, notify, notify_many},
    numbering::{self, Series},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// Working hours before the review deadline when the fund office is warned.
const WARN_BEFORE_HOURS: u32 = 4;

/// A claim as the API shows it; the single-object answers add its payments, recoveries and
/// timeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RiskClaimView {
    pub id: Uuid,
    pub number: String,
    pub program_id: Uuid,
    pub program_name: String,
    pub credit_line_id: Uuid,
    pub bank_id: Uuid,
    pub chain_id: Uuid,
    pub enterprise_id: Uuid,
    #[schema(value_type = String, example = "1000000.00")]
    pub loss_amount: Money,
    /// min(loss × coverage, the program's maximum per claim).
    #[schema(value_type = String, example = "800000.00")]
    pub payable: Money,
    #[schema(value_type = String, example = "80")]
    pub coverage_percent: Rate,
    #[schema(value_type = String, example = "0.00")]
    pub paid: Money,
    #[schema(value_type = String, example = "0.00")]
    pub recovered: Money,
    /// The covered share of the recoveries, given back to the program.
    #[schema(value_type = String, example = "0.00")]
    pub returned: Money,
    pub status: ClaimStatus,
    pub status_label: &'static str,
    pub note: String,
    pub clocks: Vec<ClockView>,
    /// The documents the bank attached (loan contract, default evidence, collection records).
    pub attachments: Vec<crate::services::files::FileView>,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub submitted_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payments: Option<Vec<DisbursementView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recoveries: Option<Vec<RecoveryView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<FundEventView>>,
}

/// A recovery booked on a claimed line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecoveryView {
    pub id: Uuid,
    pub claim_id: Uuid,
    #[schema(value_type = String, example = "100000.00")]
    pub amount: Money,
    /// The covered share given back to the program.
    #[schema(value_type = String, example = "80000.00")]
    pub returned: Money,
    pub recovered_on: NaiveDate,
    /// The repayment booked on the credit line's ledger.
    pub movement_id: Uuid,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub booked_at: DateTime<Utc>,
    /// The claim after the recovery (in the answer to `POST …/recoveries`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub claim: Option<Box<RiskClaimView>>,
}

impl From<recovery::Model> for RecoveryView {
    fn from(r: recovery::Model) -> Self {
        Self {
            id: r.id,
            claim_id: r.claim_id,
            amount: Money::from_fen(r.amount_fen),
            returned: Money::from_fen(r.returned_fen),
            recovered_on: r.recovered_on,
            movement_id: r.movement_id,
            booked_at: r.booked_at,
            claim: None,
        }
    }
}

/// `POST /risk-claims`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRiskClaim {
    pub program_id: Uuid,
    pub credit_line_id: Uuid,
    #[serde(default)]
    #[schema(value_type = String, example = "1000000.00")]
    pub loss_amount: serde_json::Value,
    #[schema(min_length = 1, max_length = 10000)]
    pub note: String,
    /// Uploads of the caller's own (`POST /files`) not attached to anything yet.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub attachment_ids: Vec<Uuid>,
}

/// `GET /risk-claims` filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct RiskClaimFilter {
    pub program_id: Option<Uuid>,
    pub status: Option<ClaimStatus>,
    pub bank_id: Option<Uuid>,
    pub chain_id: Option<Uuid>,
}

/// `POST /risk-claims/{id}/decision`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimDecision {
    pub approve: bool,
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub note: String,
}

/// `POST /risk-claims/{id}/recoveries`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRecovery {
    #[serde(default)]
    #[schema(value_type = String, example = "100000.00")]
    pub amount: serde_json::Value,
    pub recovered_on: NaiveDate,
}

fn view(
    c: risk_claim::Model,
    program: &fund_program::Model,
    clocks: Vec<sla_clock::Model>,
    attachments: Vec<crate::services::files::FileView>,
) -> RiskClaimView {
    RiskClaimView {
        id: c.id,
        number: c.number,
        program_id: c.program_id,
        program_name: program.name.clone(),
        credit_line_id: c.credit_line_id,
        bank_id: c.bank_id,
        chain_id: c.chain_id,
        enterprise_id: c.enterprise_id,
        loss_amount: Money::from_fen(c.loss_amount_fen),
        payable: Money::from_fen(c.payable_fen),
        coverage_percent: Rate::from_e4(program.coverage_e4.unwrap_or(0)),
        paid: Money::from_fen(c.paid_fen),
        recovered: Money::from_fen(c.recovered_fen),
        returned: Money::from_fen(c.returned_fen),
        status: c.status,
        status_label: c.status.label_zh(),
        note: c.note,
        clocks: clocks.into_iter().map(ClockView::from).collect(),
        attachments,
        submitted_at: c.submitted_at,
        decided_at: c.decided_at,
        decision_note: c.decision_note,
        updated_at: c.updated_at,
        payments: None,
        recoveries: None,
        timeline: None,
    }
}

/// The whole claim as `actor` may read it.
async fn full_view(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    c: risk_claim::Model,
) -> AppResult<RiskClaimView> {
    let subject = Subject::risk_claim(c.id);
    let program = super::program(conn, c.program_id).await?;
    let clocks = clocks::of_subject(conn, subject).await?;
    let payments = disbursement::Entity::find()
        .filter(disbursement::Column::RiskClaimId.eq(c.id))
        .order_by_asc(disbursement::Column::Id)
        .all(conn)
        .await?;
    let recoveries = recovery::Entity::find()
        .filter(recovery::Column::ClaimId.eq(c.id))
        .order_by_asc(recovery::Column::Id)
        .all(conn)
        .await?;
    let lines = timeline_read::lines(conn, actor, subject).await?;
    let attachments = crate::services::files::of_subject(conn, subject).await?;
    let mut v = view(c, &program, clocks, attachments);
    v.payments = Some(disbursements::views(payments));
    v.recoveries = Some(recoveries.into_iter().map(RecoveryView::from).collect());
    v.timeline = Some(lines.into_iter().map(FundEventView::from).collect());
    Ok(v)
}

/// The timeline line of `action` on claim `c` (in its new status).
fn entry(
    c: &risk_claim::Model,
    actor: &AuthUser,
    now: DateTime<Utc>,
    action: &str,
    from: Option<ClaimStatus>,
    note: Option<String>,
) -> Entry {
    Entry {
        subject: Subject::risk_claim(c.id),
        at: now,
        actor_id: Some(actor.id),
        actor_organization_id: actor.organization_id,
        holder_id: None,
        action: action.into(),
        from_status: from.map(ClaimStatus::code),
        to_status: c.status.code(),
        note,
        to_holder_id: None,
        visibility: EventVisibility::Public,
    }
}

/// Tells the bank (its bank users; mail held to working hours) or the fund offices.
#[allow(clippy::too_many_arguments)]
async fn tell(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
    c: &risk_claim::Model,
    program: &fund_program::Model,
    to_bank: bool,
    kind: Kind,
    label: &str,
    message: Option<String>,
) -> AppResult<()> {
    let (audience, recipient) = if to_bank {
        (
            Audience::organization_roles(c.bank_id, &[Role::Bank]),
            name_of(conn, c.bank_id).await?,
        )
    } else {
        (
            Audience::OrganizationsOfKind(OrgKind::FundOffice),
            "资金主管部门".to_string(),
        )
    };
    let body = match &message {
        Some(m) => format!("{label}：{m}"),
        None => format!("{label}。"),
    };
    notify(
        conn,
        now,
        audience,
        Notice::new(
            kind,
            Some(Object::risk_claim(c.id)),
            format!("{}：{} {}", kind.label_zh(), c.number, program.name),
            body,
        ),
        Some(Mail::office_hours(
            Template::FundUpdate {
                recipient_name: recipient,
                subject_label: "风险补偿".into(),
                number: c.number.clone(),
                program_name: program.name.clone(),
                title: format!("授信损失 {} 元", Money::from_fen(c.loss_amount_fen)),
                amount: Money::from_fen(c.payable_fen).to_string(),
                action_label: label.into(),
                due: None,
                message,
            },
            cal,
        )),
    )
    .await?;
    Ok(())
}

/// Submits a claim (the bank that granted the line, its chain eligible).
pub async fn submit(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    actor: &AuthUser,
    now: DateTime<Utc>,
    input: NewRiskClaim,
) -> AppResult<RiskClaimView> {
    actor.require(&[Role::Bank])?;
    let bank = actor
        .organization_id
        .ok_or_else(|| AppError::forbidden("the user belongs to no bank"))?;
    let mut c = Checks::new();
    let loss = c.money("loss_amount", &input.loss_amount, true);
    let note = c.text("note", &input.note, super::TEXT_MAX);
    let program = fund_program::Entity::find_by_id(input.program_id)
        .one(conn)
        .await?;
    match &program {
        None => c.add("program_id", "no such fund program"),
        Some(p) if p.kind != FundKind::RiskCompensation => {
            c.add("program_id", "must be a risk-compensation program")
        }
        _ => {}
    }
    // The line, locked: the claim and the default happen once.
    let mut lq = credit_line::Entity::find_by_id(input.credit_line_id).filter(L::BankId.eq(bank));
    if conn.get_database_backend() == DbBackend::Postgres {
        lq = lq.lock_exclusive();
    }
    let line = lq.one(conn).await?;
    if line.is_none() {
        c.add("credit_line_id", "must be a credit line the bank granted");
    }
    c.finish()?;
    let (Some(p), Some(line), Some(loss)) = (program, line, loss) else {
        return Err(AppError::invalid("loss_amount", "is required"));
    };
    if !p.is_open(now) {
        return Err(AppError::conflict(
            "window_closed",
            "the risk-compensation program does not take claims now",
        ));
    }
    let rules = p.rules();
    if !rules.chain_ids.is_empty() && !rules.chain_ids.contains(&line.chain_id) {
        let names = jobs::funds::eligibility::chain_names(conn).await?;
        let chain = names.get(&line.chain_id).cloned().unwrap_or_default();
        return Err(AppError::conflict(
            "not_eligible",
            format!(
                "不符合申报条件：{}产业链不在该风险补偿资金池范围内",
                chain.strip_suffix("产业链").unwrap_or(&chain)
            ),
        ));
    }
    if matches!(
        line.status,
        CreditLineStatus::Closed | CreditLineStatus::Expired
    ) {
        return Err(AppError::conflict(
            "line_not_claimable",
            format!("the line is {}", line.status.code()),
        ));
    }
    let live = risk_claim::Entity::find()
        .filter(C::CreditLineId.eq(line.id))
        .filter(C::Status.ne(ClaimStatus::Rejected))
        .one(conn)
        .await?;
    if let Some(l) = live {
        return Err(AppError::conflict(
            "duplicate_claim",
            format!("the line already has a live claim ({})", l.number),
        ));
    }
    if loss.fen() > line.outstanding_fen {
        return Err(AppError::conflict(
            "loss_exceeds_outstanding",
            format!(
                "the loss exceeds the line's outstanding balance ({})",
                Money::from_fen(line.outstanding_fen)
            ),
        ));
    }
    let coverage = Rate::from_e4(p.coverage_e4.unwrap_or(0));
    let payable = loss
        .percent(coverage)
        .fen()
        .min(p.max_per_claim_fen.unwrap_or(i64::MAX));
    if payable <= 0 {
        return Err(AppError::invalid(
            "loss_amount",
            "is too small to be compensated",
        ));
    }
    if !budget::reserve(conn, p.id, payable, now).await? {
        let fresh = super::program(conn, p.id).await?;
        return Err(AppError::conflict(
            "budget_exceeded",
            format!(
                "the program's remaining budget ({}) is less than the payable {}",
                Money::from_fen(fresh.budget_fen - fresh.committed_fen),
                Money::from_fen(payable)
            ),
        ));
    }
    // The line defaults: no more drawdowns, and its limit no longer counts against its credit
    // program's quota.
    let mut changed = None;
    if line.status != CreditLineStatus::Defaulted {
        let r = credit_line::Entity::update_many()
            .col_expr(L::Status, Expr::val(CreditLineStatus::Defaulted.code()))
            .col_expr(L::UpdatedAt, Expr::val(now))
            .filter(L::Id.eq(line.id))
            .filter(L::Status.is_in(jobs::credit_lines::exposure_statuses()))
            .exec(conn)
            .await?;
        if r.rows_affected == 1 {
            give_back(conn, &line).await?;
            let mut after = line.clone();
            after.status = CreditLineStatus::Defaulted;
            changed = Some(after);
        }
    }
    let id = Uuid::now_v7();
    let claim = risk_claim::ActiveModel {
        id: Set(id),
        number: Set(numbering::next(conn, cal, now, Series::Claim).await?),
        program_id: Set(p.id),
        credit_line_id: Set(line.id),
        bank_id: Set(bank),
        chain_id: Set(line.chain_id),
        enterprise_id: Set(line.enterprise_id),
        loss_amount_fen: Set(loss.fen()),
        payable_fen: Set(payable),
        reserved_fen: Set(payable),
        paid_fen: Set(0),
        recovered_fen: Set(0),
        returned_fen: Set(0),
        status: Set(ClaimStatus::Submitted),
        note: Set(note.clone()),
        submitted_by: Set(actor.id),
        submitted_at: Set(now),
        decided_by: Set(None),
        decided_at: Set(None),
        decision_note: Set(None),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    let subject = Subject::risk_claim(id);
    let started = clocks::start(
        conn,
        cal,
        subject,
        now,
        &[NewClock {
            kind: ClockKind::ClaimReview,
            round: 0,
            target: WorkingDays::from_int(p.review_working_days.max(1) as u32),
            warn_before_hours: WorkingDays::from_int(WARN_BEFORE_HOURS),
        }],
        now,
    )
    .await?;
    timeline::record(
        conn,
        vec![entry(
            &claim,
            actor,
            now,
            "submit",
            None,
            Some(format!(
                "损失 {loss} 元，可补偿 {} 元（{}% 且不超过单笔上限）",
                Money::from_fen(payable),
                coverage
            )),
        )],
    )
    .await?;
    crate::services::files::attach(conn, actor, subject, &input.attachment_ids, now).await?;
    let due = started
        .first()
        .map(|c| format!("{}前审核", local_minute(cal, c.due_at)));
    tell(
        conn,
        cal,
        now,
        &claim,
        &p,
        false,
        Kind::RiskClaimReceived,
        "收到风险补偿申请",
        Some(match due {
            Some(d) => format!("{note}（办理时限：{d}）"),
            None => note,
        }),
    )
    .await?;
    if let Some(after) = changed {
        let items = changed_notifications(
            conn,
            &after,
            "已违约",
            Some("主办行已申请风险补偿".into()),
            false,
            cal,
        )
        .await?;
        notify_many(conn, now, &items).await?;
    }
    full_view(conn, actor, claim).await
}

/// The claims the caller may see, oldest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    filter: &RiskClaimFilter,
    page: &PageQuery,
) -> AppResult<Page<RiskClaimView>> {
    actor.require(&[Role::Admin, Role::FundOffice, Role::Bank, Role::ChainOffice])?;
    let mut q = risk_claim::Entity::find().filter(scope::risk_claims(actor));
    if let Some(v) = filter.program_id {
        q = q.filter(C::ProgramId.eq(v));
    }
    if let Some(v) = filter.status {
        q = q.filter(C::Status.eq(v));
    }
    if let Some(v) = filter.bank_id {
        q = q.filter(C::BankId.eq(v));
    }
    if let Some(v) = filter.chain_id {
        q = q.filter(C::ChainId.eq(v));
    }
    let page = pagination::fetch(conn, q, C::Id, page, |c: &risk_claim::Model| c.id).await?;
    let programs: HashMap<Uuid, fund_program::Model> = if page.items.is_empty() {
        HashMap::new()
    } else {
        fund_program::Entity::find()
            .filter(fund_program::Column::Id.is_in(page.items.iter().map(|c| c.program_id)))
            .all(conn)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect()
    };
    let ids: Vec<Uuid> = page.items.iter().map(|c| c.id).collect();
    let mut clocks = clocks::of_subjects(conn, SubjectType::RiskClaim, &ids).await?;
    let mut attachments =
        crate::services::files::of_subjects(conn, SubjectType::RiskClaim, ids.iter().copied())
            .await?;
    let mut items = Vec::with_capacity(page.items.len());
    for c in page.items {
        let Some(p) = programs.get(&c.program_id) else {
            continue;
        };
        let k = clocks.remove(&c.id).unwrap_or_default();
        let files = attachments.remove(&c.id).unwrap_or_default();
        items.push(view(c, p, k, files));
    }
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

/// One claim the caller may see.
pub async fn get(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<RiskClaimView> {
    let c = risk_claim::Entity::find_by_id(id)
        .filter(scope::risk_claims(actor))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    full_view(conn, actor, c).await
}

/// Loads a claim the caller may see, locked for update on PostgreSQL.
async fn load_for_update(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<risk_claim::Model> {
    let mut q = risk_claim::Entity::find_by_id(id).filter(scope::risk_claims(actor));
    if conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(conn).await?.ok_or(AppError::NotFound)
}

fn wrong_status(c: &risk_claim::Model, what: &str) -> AppError {
    AppError::conflict(
        "invalid_transition",
        format!(
            "{what} is not allowed while the claim is {}",
            c.status.code()
        ),
    )
}

/// The fund office approves or rejects a submitted claim; a rejection releases the
/// reservation.
pub async fn decide(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    input: ClaimDecision,
) -> AppResult<RiskClaimView> {
    actor.require(&[Role::FundOffice])?;
    let note = if input.approve {
        input
            .note
            .trim()
            .chars()
            .take(super::TEXT_MAX)
            .collect::<String>()
    } else {
        super::text("note", &input.note)?
    };
    let c = load_for_update(conn, actor, id).await?;
    if c.status != ClaimStatus::Submitted {
        return Err(wrong_status(&c, "decision"));
    }
    let p = super::program(conn, c.program_id).await?;
    let subject = Subject::risk_claim(c.id);
    clocks::meet(conn, subject, &[ClockKind::ClaimReview], now).await?;
    let mut am: risk_claim::ActiveModel = c.clone().into();
    if input.approve {
        am.status = Set(ClaimStatus::Approved);
    } else {
        budget::release(conn, c.program_id, c.reserved_fen, now).await?;
        am.status = Set(ClaimStatus::Rejected);
        am.reserved_fen = Set(0);
    }
    am.decided_by = Set(Some(actor.id));
    am.decided_at = Set(Some(now));
    am.decision_note = Set((!note.is_empty()).then(|| note.clone()));
    am.updated_at = Set(now);
    let saved = am.update(conn).await?;
    let (action, label) = if input.approve {
        ("approve", "风险补偿申请已批准")
    } else {
        ("reject", "风险补偿申请未获批准")
    };
    let note = (!note.is_empty()).then_some(note);
    timeline::record(
        conn,
        vec![entry(
            &saved,
            actor,
            now,
            action,
            Some(c.status),
            note.clone(),
        )],
    )
    .await?;
    tell(
        conn,
        cal,
        now,
        &saved,
        &p,
        true,
        Kind::RiskClaimDecided,
        label,
        note,
    )
    .await?;
    full_view(conn, actor, saved).await
}

/// The fund office pays an approved claim to the bank; reaching the payable amount makes it
/// `paid`.
pub async fn pay(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    input: NewPayment,
) -> AppResult<DisbursementView> {
    actor.require(&[Role::FundOffice])?;
    let c = load_for_update(conn, actor, id).await?;
    if c.status != ClaimStatus::Approved {
        return Err(wrong_status(&c, "payment"));
    }
    let decided_on = cal.local_date(c.decided_at.unwrap_or(c.updated_at));
    let payment = disbursements::payment_input(cal, now, &input, decided_on)?;
    let amount = payment.0;
    if c.paid_fen + amount.fen() > c.payable_fen {
        return Err(AppError::conflict(
            "exceeds_approved",
            format!(
                "the payments would exceed the payable amount ({}; paid so far {})",
                Money::from_fen(c.payable_fen),
                Money::from_fen(c.paid_fen)
            ),
        ));
    }
    let p = super::program(conn, c.program_id).await?;
    let row = disbursements::book(conn, actor, now, p.id, Payee::Claim(c.id), payment).await?;
    let total = c.paid_fen + amount.fen();
    let mut am: risk_claim::ActiveModel = c.clone().into();
    am.paid_fen = Set(total);
    if total == c.payable_fen {
        am.status = Set(ClaimStatus::Paid);
    }
    am.updated_at = Set(now);
    let saved = am.update(conn).await?;
    let note = format!("拨付 {amount} 元（累计 {} 元）", Money::from_fen(total));
    timeline::record(
        conn,
        vec![entry(
            &saved,
            actor,
            now,
            "pay",
            Some(c.status),
            Some(note.clone()),
        )],
    )
    .await?;
    tell(
        conn,
        cal,
        now,
        &saved,
        &p,
        true,
        Kind::RiskClaimPaid,
        "风险补偿已拨付",
        Some(note),
    )
    .await?;
    Ok(DisbursementView::of(row, None))
}

/// A claim payment is being reversed: the claim's row is locked, checked and given the amount
/// back (`paid` → `approved`); the caller writes the reversal row and the program's side.
pub(crate) async fn payment_reversed(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    claim: Uuid,
    d: &disbursement::Model,
    reason: &str,
) -> AppResult<()> {
    let c = load_for_update(conn, actor, claim).await?;
    if reversal_of(conn, d.id).await?.is_some() {
        return Err(already_reversed());
    }
    if c.paid_fen - d.amount_fen < c.returned_fen {
        return Err(AppError::conflict(
            "recovered",
            "recoveries already gave back part of this payment; it can no longer be reversed",
        ));
    }
    let mut am: risk_claim::ActiveModel = c.clone().into();
    am.paid_fen = Set(c.paid_fen - d.amount_fen);
    if c.status == ClaimStatus::Paid {
        am.status = Set(ClaimStatus::Approved);
    }
    am.updated_at = Set(now);
    let saved = am.update(conn).await?;
    let note = format!("冲正拨付 {} 元：{reason}", Money::from_fen(d.amount_fen));
    timeline::record(
        conn,
        vec![entry(
            &saved,
            actor,
            now,
            "reverse_payment",
            Some(c.status),
            Some(note),
        )],
    )
    .await?;
    Ok(())
}

/// The bank books a recovery on a paid claim's line: a repayment on the line's ledger, and the
/// covered share (recovery × coverage, at most what was paid and not yet given back) goes back
/// to the program — once, with the recovery row.
pub async fn recover(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    input: NewRecovery,
) -> AppResult<RecoveryView> {
    actor.require(&[Role::Bank])?;
    let c = load_for_update(conn, actor, id).await?;
    let mut checks = Checks::new();
    let amount = checks.money("amount", &input.amount, true);
    checks.date("recovered_on", input.recovered_on);
    let today = cal.local_date(now);
    if input.recovered_on > today {
        checks.add("recovered_on", format!("must not be after today ({today})"));
    }
    checks.finish()?;
    let amount = amount.ok_or_else(|| AppError::invalid("amount", "is required"))?;
    if c.status != ClaimStatus::Paid {
        return Err(AppError::conflict(
            "not_paid",
            format!(
                "recoveries are booked on a paid claim; this one is {}",
                c.status.code()
            ),
        ));
    }
    if c.recovered_fen + amount.fen() > c.loss_amount_fen {
        return Err(AppError::conflict(
            "exceeds_loss",
            format!(
                "the recoveries would exceed the claimed loss ({}; recovered so far {})",
                Money::from_fen(c.loss_amount_fen),
                Money::from_fen(c.recovered_fen)
            ),
        ));
    }
    let p = super::program(conn, c.program_id).await?;
    let booked = credit_lines::book(
        conn,
        cal,
        actor,
        now,
        c.credit_line_id,
        MovementKind::Repayment,
        NewMovement {
            amount: serde_json::Value::String(amount.to_string()),
            value_date: input.recovered_on,
        },
    )
    .await?;
    let coverage = Rate::from_e4(p.coverage_e4.unwrap_or(0));
    let share = amount
        .percent(coverage)
        .fen()
        .min(c.paid_fen - c.returned_fen)
        .max(0);
    budget::recovered(conn, p.id, share, now).await?;
    let r = recovery::ActiveModel {
        id: Set(Uuid::now_v7()),
        claim_id: Set(c.id),
        amount_fen: Set(amount.fen()),
        returned_fen: Set(share),
        recovered_on: Set(input.recovered_on),
        movement_id: Set(booked.movement.id),
        booked_by: Set(actor.id),
        booked_at: Set(now),
    }
    .insert(conn)
    .await?;
    let mut am: risk_claim::ActiveModel = c.clone().into();
    am.recovered_fen = Set(c.recovered_fen + amount.fen());
    am.returned_fen = Set(c.returned_fen + share);
    am.updated_at = Set(now);
    let saved = am.update(conn).await?;
    let note = format!(
        "追回 {amount} 元，按 {coverage}% 返还资金池 {} 元",
        Money::from_fen(share)
    );
    timeline::record(
        conn,
        vec![entry(
            &saved,
            actor,
            now,
            "recovery",
            Some(c.status),
            Some(note.clone()),
        )],
    )
    .await?;
    tell(
        conn,
        cal,
        now,
        &saved,
        &p,
        false,
        Kind::RiskClaimDecided,
        "银行已登记追偿回款",
        Some(note),
    )
    .await?;
    let mut v = RecoveryView::from(r);
    v.claim = Some(Box::new(full_view(conn, actor, saved).await?));
    Ok(v)
}
