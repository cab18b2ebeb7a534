//! Financing requests (融资需求): submission with routing (the program's bank, else the chain's
//! lead bank), the two clocks on the engine (`accept`, `decide`), every action, four-eyes
//! approval, and the credit line an approval grants. Each action is one transaction that
//! changes the request and its clocks, writes one timeline event and notifies through the
//! engine.
//!
//! Quota invariants are kept by the database: a grant raises the program's `granted_fen` with
//! one guarded `UPDATE … WHERE granted_fen + limit <= quota_fen` (which also locks the program
//! row, so concurrent grants on one program run one after the other) and only then reads the
//! enterprise's limits under the program; a `CHECK` backs the quota.

use super::{settings, today};
use crate::{
    auth::{AuthUser, scope},
    error::{AppError, AppResult},
    pagination::{self, Page, PageQuery},
    services::{clock_view::ClockView, organizations::name_of, timeline_read, validate::Checks},
};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    calendar::Calendar,
    chain, chain_bank, credit_line, credit_program,
    enums::{
        BankRole, ClockKind, CreditLineStatus, EventVisibility, FinancingProduct, FinancingStatus,
        NotificationKind as Kind, Role,
    },
    financing_request::{self, FinancingAction as A},
    money::{Money, Rate},
    sla_clock,
    working_days::WorkingDays,
};
use jobs::{
    engine::{
        Subject,
        clocks::{self, NewClock, is_open},
        timeline::{self, Entry},
    },
    mail::{Template, templates::local_minute},
    notify::{Audience, Mail, Notice, Object, notify},
    numbering::{self, Series},
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// Longest accepted free text (purpose, messages, reasons), characters.
const TEXT_MAX: usize = 10_000;
/// Working hours before a bank's deadline when it is warned.
const WARN_BEFORE_HOURS: u32 = 2;

mod grant;
mod notify;
mod views;

pub use views::*;
#[allow(unused_imports)]
use {grant::*, notify::*};
/// The clocks a bank with `s` starts for a request in `round`.
fn clock(kind: ClockKind, round: i32, days: WorkingDays) -> NewClock {
    NewClock {
        kind,
        round,
        target: days,
        warn_before_hours: WorkingDays::from_int(WARN_BEFORE_HOURS),
    }
}

/// The chain's lead bank.
async fn lead_bank(conn: &impl ConnectionTrait, chain: Uuid) -> AppResult<Option<Uuid>> {
    Ok(chain_bank::Entity::find()
        .filter(chain_bank::Column::ChainId.eq(chain))
        .filter(chain_bank::Column::Role.eq(BankRole::Lead))
        .one(conn)
        .await?
        .map(|b| b.organization_id))
}

/// Submits a request (a verified enterprise, an active member of the chain).
pub async fn submit(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    actor: &AuthUser,
    now: DateTime<Utc>,
    input: NewFinancingRequest,
) -> AppResult<FinancingRequestView> {
    actor.require(&[Role::Enterprise])?;
    let enterprise = actor
        .organization_id
        .ok_or_else(|| AppError::forbidden("the user belongs to no enterprise"))?;
    actor.ensure_may_create(conn).await?;
    let mut c = Checks::new();
    let amount = c.money("amount", &input.amount, true);
    let purpose = c.text("purpose", &input.purpose, TEXT_MAX);
    if !(1..=360).contains(&input.term_months) {
        c.add("term_months", "must be between 1 and 360 months");
    }
    c.finish()?;
    let amount = amount.ok_or_else(|| AppError::invalid("amount", "is required"))?;
    if chain::Entity::find_by_id(input.chain_id)
        .one(conn)
        .await?
        .is_none()
    {
        return Err(AppError::invalid("chain_id", "no such chain"));
    }
    if !scope::is_active_member(conn, input.chain_id, enterprise).await? {
        return Err(AppError::invalid(
            "chain_id",
            "must be a chain the enterprise is an active member of",
        ));
    }
    let bank = match input.program_id {
        Some(pid) => {
            let Some(p) = credit_program::Entity::find_by_id(pid).one(conn).await? else {
                return Err(AppError::invalid("program_id", "no such credit program"));
            };
            if p.chain_id != input.chain_id {
                return Err(AppError::invalid(
                    "program_id",
                    "must be a credit program of the chain",
                ));
            }
            let day = today(cal, now);
            if day < p.valid_from || day > p.valid_until {
                return Err(AppError::conflict(
                    "program_not_valid",
                    format!(
                        "the program accepts requests from {} to {}",
                        p.valid_from, p.valid_until
                    ),
                ));
            }
            p.bank_id
        }
        None => lead_bank(conn, input.chain_id).await?.ok_or_else(|| {
            AppError::conflict("no_lead_bank", "the chain has no lead bank to route to")
        })?,
    };
    let s = settings::of_bank(conn, bank).await?;
    let id = Uuid::now_v7();
    let number = numbering::next(conn, cal, now, Series::Financing).await?;
    let r = financing_request::ActiveModel {
        id: Set(id),
        number: Set(number),
        enterprise_id: Set(enterprise),
        submitted_by: Set(actor.id),
        chain_id: Set(input.chain_id),
        program_id: Set(input.program_id),
        bank_id: Set(bank),
        amount_fen: Set(amount.fen()),
        term_months: Set(input.term_months),
        purpose: Set(purpose),
        product: Set(input.product),
        status: Set(FinancingStatus::Submitted),
        paused_from_status: Set(None),
        paused_at: Set(None),
        proposal_limit_fen: Set(None),
        proposal_rate_e4: Set(None),
        proposal_term_months: Set(None),
        proposal_revolving: Set(None),
        proposal_expires_on: Set(None),
        proposed_by: Set(None),
        proposed_at: Set(None),
        reject_reason: Set(None),
        refer_count: Set(0),
        submitted_at: Set(now),
        accepted_at: Set(None),
        decided_at: Set(None),
        decision_working_seconds: Set(None),
        withdrawn_at: Set(None),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    let subject = Subject::financing_request(id);
    let started = clocks::start(
        conn,
        cal,
        subject,
        now,
        &[
            clock(ClockKind::Accept, 0, s.accept_working_days),
            clock(ClockKind::Decide, 0, s.decide_working_days),
        ],
        now,
    )
    .await?;
    timeline::record(conn, vec![entry(&r, actor, now, A::Submit, None, None)]).await?;
    let attachments =
        crate::services::files::attach(conn, actor, subject, &input.attachment_ids, now).await?;
    tell_bank(
        conn,
        cal,
        now,
        &r,
        &started,
        bank,
        Kind::FinancingReceived,
        None,
    )
    .await?;
    Ok(view(r, started, None, attachments))
}

/// The timeline line of `action` by `actor` on `r`.
fn entry(
    r: &financing_request::Model,
    actor: &AuthUser,
    now: DateTime<Utc>,
    action: A,
    from: Option<FinancingStatus>,
    note: Option<String>,
) -> Entry {
    Entry {
        subject: Subject::financing_request(r.id),
        at: now,
        actor_id: Some(actor.id),
        actor_organization_id: actor.organization_id,
        holder_id: Some(r.bank_id),
        action: action.code().into(),
        from_status: from.map(FinancingStatus::code),
        to_status: r.status.code(),
        note,
        to_holder_id: None,
        visibility: action.visibility(),
    }
}

/// The requests the caller may see, oldest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    filter: &FinancingFilter,
    page: &PageQuery,
) -> AppResult<Page<FinancingRequestView>> {
    use financing_request::Column as F;
    actor.require(&[
        Role::Admin,
        Role::ServiceCenter,
        Role::ChainOffice,
        Role::Bank,
        Role::Enterprise,
    ])?;
    let mut q = financing_request::Entity::find().filter(scope::financing_requests(actor));
    if let Some(s) = filter.status {
        q = q.filter(F::Status.eq(s));
    }
    if let Some(v) = filter.chain_id {
        q = q.filter(F::ChainId.eq(v));
    }
    if let Some(v) = filter.bank_id {
        q = q.filter(F::BankId.eq(v));
    }
    if let Some(v) = filter.enterprise_id {
        q = q.filter(F::EnterpriseId.eq(v));
    }
    if let Some(v) = filter.program_id {
        q = q.filter(F::ProgramId.eq(v));
    }
    let page = pagination::fetch(conn, q, F::Id, page, |r: &financing_request::Model| r.id).await?;
    let ids: Vec<Uuid> = page.items.iter().map(|r| r.id).collect();
    let mut clocks =
        clocks::of_subjects(conn, entity::enums::SubjectType::FinancingRequest, &ids).await?;
    let mut attachments = crate::services::files::of_subjects(
        conn,
        entity::enums::SubjectType::FinancingRequest,
        ids.iter().copied(),
    )
    .await?;
    let mut lines: HashMap<Uuid, Uuid> = HashMap::new();
    if !ids.is_empty() {
        for l in credit_line::Entity::find()
            .filter(credit_line::Column::RequestId.is_in(ids))
            .all(conn)
            .await?
        {
            lines.insert(l.request_id, l.id);
        }
    }
    Ok(page.map(|r| {
        let (c, l) = (
            clocks.remove(&r.id).unwrap_or_default(),
            lines.get(&r.id).copied(),
        );
        let files = attachments.remove(&r.id).unwrap_or_default();
        view(r, c, l, files)
    }))
}

/// One request the caller may see.
pub async fn get(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<FinancingRequestView> {
    let r = financing_request::Entity::find_by_id(id)
        .filter(scope::financing_requests(actor))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    full_view(conn, r).await
}

/// The timeline of a request the caller may see, oldest first; the enterprise reads it without
/// the banks' internal steps and notes and without officials' user ids.
pub async fn events(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<Vec<FinancingEventView>> {
    get(conn, actor, id).await?;
    let rows = timeline_read::lines(conn, actor, Subject::financing_request(id)).await?;
    Ok(rows
        .into_iter()
        .map(|e| FinancingEventView {
            id: e.id,
            at: e.at,
            actor_id: e.actor_id,
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            note: e.note,
            bank_id: e.department_id,
            to_bank_id: e.to_department_id,
            visibility: e.visibility,
        })
        .collect())
}

/// Loads a request the caller may see (404 otherwise), locked for update on PostgreSQL.
async fn load_for_update(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<financing_request::Model> {
    let mut q = financing_request::Entity::find_by_id(id).filter(scope::financing_requests(actor));
    if conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(conn).await?.ok_or(AppError::NotFound)
}

fn text(field: &str, value: &str) -> AppResult<String> {
    let mut c = Checks::new();
    let v = c.text(field, value, TEXT_MAX);
    c.finish()?;
    Ok(v)
}

/// Who an action tells, once the request is saved.
enum Tell {
    Bank(Uuid, Kind, Option<String>),
    Enterprise(Kind, Option<String>),
}

/// Runs one action: checks role, visibility and status, changes the request and its clocks,
/// writes the timeline event and notifies, all in the caller's transaction.
pub async fn act(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    act: Act,
) -> AppResult<FinancingRequestView> {
    actor.require(act.roles())?;
    let r = load_for_update(conn, actor, id).await?;
    let subject = Subject::financing_request(r.id);
    let mut action = act.action();
    let from = r.status;
    if !action.allowed(from) {
        return Err(AppError::conflict(
            "invalid_transition",
            format!(
                "{} is not allowed while the request is {}",
                action.code(),
                from.code()
            ),
        ));
    }
    let mut am: financing_request::ActiveModel = r.clone().into();
    let mut note = None;
    let mut to_bank = None;
    let mut tell: Vec<Tell> = Vec::new();
    match act {
        Act::Accept => {
            clocks::meet(conn, subject, &[ClockKind::Accept], now).await?;
            am.accepted_at = Set(Some(now));
            tell.push(Tell::Enterprise(Kind::FinancingAccepted, None));
        }
        Act::RequestInfo(i) => {
            let msg = text("message", &i.message)?;
            clocks::pause(conn, subject, now).await?;
            am.paused_from_status = Set(Some(from));
            am.paused_at = Set(Some(now));
            tell.push(Tell::Enterprise(
                Kind::FinancingInfoRequested,
                Some(msg.clone()),
            ));
            note = Some(msg);
        }
        Act::Supplement(i) => {
            let msg = text("message", &i.message)?;
            crate::services::files::attach(conn, actor, subject, &i.attachment_ids, now).await?;
            clocks::resume(conn, cal, subject, now).await?;
            am.paused_from_status = Set(None);
            am.paused_at = Set(None);
            tell.push(Tell::Bank(
                r.bank_id,
                Kind::FinancingSupplemented,
                Some(msg.clone()),
            ));
            note = Some(msg);
        }
        Act::Approve(i) => {
            let terms = approval_terms(conn, cal, now, &r, i).await?;
            let threshold = settings::of_bank(conn, r.bank_id)
                .await?
                .four_eyes_threshold;
            // A proposal counts only while its proposer is an active user of the bank: once
            // deactivated, the next approval is a fresh proposal.
            let live = match r.proposed_by {
                Some(p) => entity::user::Entity::find_by_id(p)
                    .one(conn)
                    .await?
                    .is_some_and(|u| u.active && u.organization_id == Some(r.bank_id)),
                None => false,
            };
            if from == FinancingStatus::PendingConfirmation && live {
                let proposal = proposal_of(&r);
                if r.proposed_by == Some(actor.id) {
                    return Err(AppError::forbidden(
                        "the user who proposed this approval may not confirm it; a second user of the bank must",
                    ));
                }
                if proposal.as_ref().map(|p| &p.terms) != Some(&terms) {
                    return Err(AppError::conflict(
                        "proposal_mismatch",
                        "the terms differ from the pending proposal; confirm with the same terms or reject",
                    ));
                }
                let proposer = r.proposed_by.unwrap_or(actor.id);
                grant(conn, &r, &terms, proposer, Some(actor.id), now).await?;
                note = Some(format!("复核通过：{}", describe(&terms)));
                decided(conn, cal, &mut am, subject, &r, now).await?;
                tell.push(Tell::Enterprise(
                    Kind::FinancingApproved,
                    Some(describe(&terms)),
                ));
            } else if threshold.is_some_and(|t| terms.limit > t)
                || from == FinancingStatus::PendingConfirmation
            {
                // Above the threshold: a proposal, checked now and again at confirmation.
                precheck(conn, &r, &terms).await?;
                action = A::Propose;
                am.proposal_limit_fen = Set(Some(terms.limit.fen()));
                am.proposal_rate_e4 = Set(Some(terms.rate.e4()));
                am.proposal_term_months = Set(Some(terms.term_months));
                am.proposal_revolving = Set(Some(terms.revolving));
                am.proposal_expires_on = Set(Some(terms.expires_on));
                am.proposed_by = Set(Some(actor.id));
                am.proposed_at = Set(Some(now));
                tell.push(Tell::Bank(
                    r.bank_id,
                    Kind::FinancingProposed,
                    Some(describe(&terms)),
                ));
                note = Some(format!("提议批准（待复核）：{}", describe(&terms)));
            } else {
                grant(conn, &r, &terms, actor.id, None, now).await?;
                decided(conn, cal, &mut am, subject, &r, now).await?;
                tell.push(Tell::Enterprise(
                    Kind::FinancingApproved,
                    Some(describe(&terms)),
                ));
                note = Some(describe(&terms));
            }
        }
        Act::Reject(i) => {
            let reason = text("reason", &i.reason)?;
            decided(conn, cal, &mut am, subject, &r, now).await?;
            am.reject_reason = Set(Some(reason.clone()));
            tell.push(Tell::Enterprise(
                Kind::FinancingRejected,
                Some(reason.clone()),
            ));
            note = Some(reason);
        }
        Act::Withdraw => {
            let all = [ClockKind::Accept, ClockKind::Decide];
            clocks::cancel(conn, subject, &all, now).await?;
            clear_proposal(&mut am);
            am.withdrawn_at = Set(Some(now));
            am.paused_at = Set(None);
            am.paused_from_status = Set(None);
            tell.push(Tell::Bank(r.bank_id, Kind::FinancingWithdrawn, None));
        }
        Act::Refer(i) => {
            let reason = text("reason", &i.reason)?;
            let bank = actor.organization_id.unwrap_or_default();
            if scope::bank_role(conn, r.chain_id, bank).await? != Some(BankRole::Lead) {
                return Err(AppError::forbidden(
                    "only the chain's lead bank may refer a request",
                ));
            }
            if r.program_id.is_some() {
                return Err(AppError::conflict(
                    "has_program",
                    "a request under a credit program stays with the program's bank",
                ));
            }
            if i.bank_id == r.bank_id
                || scope::bank_role(conn, r.chain_id, i.bank_id).await? != Some(BankRole::Partner)
            {
                return Err(AppError::invalid(
                    "bank_id",
                    "must be a partner bank of the request's chain",
                ));
            }
            let round = r.refer_count + 1;
            clocks::cancel(conn, subject, &[ClockKind::Accept], now).await?;
            let s = settings::of_bank(conn, i.bank_id).await?;
            clocks::start(
                conn,
                cal,
                subject,
                now,
                &[clock(ClockKind::Accept, round, s.accept_working_days)],
                now,
            )
            .await?;
            am.bank_id = Set(i.bank_id);
            am.refer_count = Set(round);
            am.accepted_at = Set(None);
            to_bank = Some(i.bank_id);
            tell.push(Tell::Bank(
                i.bank_id,
                Kind::FinancingReceived,
                Some(format!("主办行转介：{reason}")),
            ));
            tell.push(Tell::Enterprise(Kind::FinancingReferred, None));
            note = Some(reason);
        }
    }
    let to = action.target(r.paused_from_status);
    if matches!(action, A::Reject) {
        clear_proposal(&mut am);
    }
    am.status = Set(to);
    am.updated_at = Set(now);
    let saved = am.update(conn).await?;
    let mut e = entry(&saved, actor, now, action, Some(from), note);
    e.holder_id = Some(r.bank_id);
    e.to_holder_id = to_bank;
    timeline::record(conn, vec![e]).await?;
    let current = clocks::of_subject(conn, subject).await?;
    for t in tell {
        match t {
            Tell::Bank(bank, kind, msg) => {
                tell_bank(conn, cal, now, &saved, &current, bank, kind, msg).await?
            }
            Tell::Enterprise(kind, msg) => tell_enterprise(conn, now, &saved, kind, msg).await?,
        }
    }
    full_view(conn, saved).await
}

fn clear_proposal(am: &mut financing_request::ActiveModel) {
    am.proposal_limit_fen = Set(None);
    am.proposal_rate_e4 = Set(None);
    am.proposal_term_months = Set(None);
    am.proposal_revolving = Set(None);
    am.proposal_expires_on = Set(None);
    am.proposed_by = Set(None);
    am.proposed_at = Set(None);
}

/// The bank decided (approved or rejected): both clocks are met and the working time the
/// decision took (pauses excluded) is kept for the report.
async fn decided(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    am: &mut financing_request::ActiveModel,
    subject: Subject,
    r: &financing_request::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let open = clocks::of_subject(conn, subject).await?;
    if let Some(decide) = open
        .iter()
        .filter(|c| c.kind == ClockKind::Decide && is_open(c))
        .max_by_key(|c| c.round)
    {
        am.decision_working_seconds = Set(Some(clocks::worked(cal, decide, now).num_seconds()));
    }
    if r.paused_at.is_some() {
        // Rejected while waiting for the enterprise: the clocks stop where they paused.
        clocks::resume(conn, cal, subject, now).await?;
    }
    clocks::meet(conn, subject, &[ClockKind::Accept, ClockKind::Decide], now).await?;
    clear_proposal(am);
    am.decided_at = Set(Some(now));
    am.paused_at = Set(None);
    am.paused_from_status = Set(None);
    Ok(())
}

/// "¥3000000.00，年利率 3.45%，12 个月，循环，到期 2027-03-01".
fn describe(t: &Terms) -> String {
    format!(
        "额度 {} 元，年利率 {}%，期限 {} 个月，{}，到期日 {}",
        t.limit,
        t.rate,
        t.term_months,
        if t.revolving {
            "可循环"
        } else {
            "不可循环"
        },
        t.expires_on
    )
}

/// Validates approval terms against the request's program (rate band, maximum term).
async fn approval_terms(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
    r: &financing_request::Model,
    i: ApproveInput,
) -> AppResult<Terms> {
    let mut c = Checks::new();
    let limit = c.money("limit", &i.limit, true);
    let rate = c.rate("rate", &i.rate);
    if !(1..=360).contains(&i.term_months) {
        c.add("term_months", "must be between 1 and 360 months");
    }
    c.date("expires_on", i.expires_on);
    if i.expires_on <= today(cal, now) {
        c.add("expires_on", "must be after today");
    }
    let program = match r.program_id {
        Some(p) => credit_program::Entity::find_by_id(p).one(conn).await?,
        None => None,
    };
    if let Some(p) = &program {
        if let Some(rate) = rate
            && (rate.e4() < p.rate_floor_e4 || rate.e4() > p.rate_ceiling_e4)
        {
            c.add(
                "rate",
                format!(
                    "must be within the program's band {}%–{}%",
                    Rate::from_e4(p.rate_floor_e4),
                    Rate::from_e4(p.rate_ceiling_e4)
                ),
            );
        }
        if i.term_months > p.max_term_months {
            c.add(
                "term_months",
                format!("must be at most the program's {} months", p.max_term_months),
            );
        }
    }
    c.finish()?;
    match (limit, rate) {
        (Some(limit), Some(rate)) => Ok(Terms {
            limit,
            rate,
            term_months: i.term_months,
            revolving: i.revolving,
            expires_on: i.expires_on,
        }),
        _ => Err(AppError::invalid("limit", "is required")),
    }
}
