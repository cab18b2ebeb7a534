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
    services::{
        clock_view::ClockView,
        numbering::{self, Series},
        organizations::name_of,
        timeline_read,
        validate::Checks,
    },
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
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// Longest accepted free text (purpose, messages, reasons), characters.
const TEXT_MAX: usize = 10_000;
/// Working hours before a bank's deadline when it is warned.
const WARN_BEFORE_HOURS: u32 = 2;

/// Approval terms: what a credit line is granted with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Terms {
    #[schema(value_type = String, example = "3000000.00")]
    pub limit: Money,
    #[schema(value_type = String, example = "3.45")]
    pub rate: Rate,
    pub term_months: i32,
    pub revolving: bool,
    pub expires_on: NaiveDate,
}

/// An approval above the four-eyes threshold waiting for a second bank user.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposalView {
    pub terms: Terms,
    pub proposed_by: Uuid,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub proposed_at: DateTime<Utc>,
}

/// A financing request as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FinancingRequestView {
    pub id: Uuid,
    pub number: String,
    pub enterprise_id: Uuid,
    pub chain_id: Uuid,
    pub program_id: Option<Uuid>,
    /// The bank it is routed (or referred) to.
    pub bank_id: Uuid,
    #[schema(value_type = String, example = "3000000.00")]
    pub amount: Money,
    pub term_months: i32,
    pub purpose: String,
    pub product: FinancingProduct,
    pub product_label: &'static str,
    pub status: FinancingStatus,
    pub status_label: &'static str,
    /// `accept` and `decide` (a referral starts a new `accept` round).
    pub clocks: Vec<ClockView>,
    /// The pending four-eyes proposal, if any.
    pub proposal: Option<ProposalView>,
    /// Files attached to the request (documents arrive with the documents issue).
    #[schema(value_type = Vec<Object>)]
    pub attachments: Vec<serde_json::Value>,
    /// The credit line an approval granted.
    pub credit_line_id: Option<Uuid>,
    pub reject_reason: Option<String>,
    pub refer_count: i32,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub submitted_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub accepted_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub decided_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub withdrawn_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
}

/// One line of a request's timeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FinancingEventView {
    pub id: Uuid,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub at: DateTime<Utc>,
    /// `None` for the monitor (and, for the enterprise, for officials).
    pub actor_id: Option<Uuid>,
    /// `submit`, `accept`, `refer`, … or the monitor's `breach`, `escalation`.
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: Option<String>,
    /// The bank holding the request when it happened.
    pub bank_id: Option<Uuid>,
    /// Where a referral sent it.
    pub to_bank_id: Option<Uuid>,
    pub visibility: EventVisibility,
}

/// `POST /financing-requests`. `amount` is a decimal string.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFinancingRequest {
    pub chain_id: Uuid,
    pub program_id: Option<Uuid>,
    #[serde(default)]
    #[schema(value_type = String, example = "3000000.00")]
    pub amount: serde_json::Value,
    #[schema(minimum = 1, maximum = 360)]
    pub term_months: i32,
    #[schema(min_length = 1, max_length = 10000)]
    pub purpose: String,
    pub product: FinancingProduct,
}

/// `GET /financing-requests` filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct FinancingFilter {
    pub status: Option<FinancingStatus>,
    pub chain_id: Option<Uuid>,
    pub bank_id: Option<Uuid>,
    pub enterprise_id: Option<Uuid>,
    pub program_id: Option<Uuid>,
}

/// `{message}`: request_info, supplement.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinancingMessage {
    #[schema(min_length = 1, max_length = 10000)]
    pub message: String,
}

/// `{reason}`: reject.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinancingReason {
    #[schema(min_length = 1, max_length = 10000)]
    pub reason: String,
}

/// `approve`: the terms of the credit line. Amounts and rates are decimal strings.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveInput {
    #[serde(default)]
    #[schema(value_type = String, example = "3000000.00")]
    pub limit: serde_json::Value,
    #[serde(default)]
    #[schema(value_type = String, example = "3.45")]
    pub rate: serde_json::Value,
    #[schema(minimum = 1, maximum = 360)]
    pub term_months: i32,
    pub revolving: bool,
    pub expires_on: NaiveDate,
}

/// `refer`: the partner bank and why.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferInput {
    pub bank_id: Uuid,
    #[schema(min_length = 1, max_length = 10000)]
    pub reason: String,
}

/// One action with its input.
#[derive(Debug)]
pub enum Act {
    Accept,
    RequestInfo(FinancingMessage),
    Supplement(FinancingMessage),
    Approve(ApproveInput),
    Reject(FinancingReason),
    Withdraw,
    Refer(ReferInput),
}

impl Act {
    fn action(&self) -> A {
        match self {
            Self::Accept => A::Accept,
            Self::RequestInfo(_) => A::RequestInfo,
            Self::Supplement(_) => A::Supplement,
            Self::Approve(_) => A::Approve,
            Self::Reject(_) => A::Reject,
            Self::Withdraw => A::Withdraw,
            Self::Refer(_) => A::Refer,
        }
    }

    fn roles(&self) -> &'static [Role] {
        match self {
            Self::Supplement(_) | Self::Withdraw => &[Role::Enterprise],
            _ => &[Role::Bank],
        }
    }
}

fn proposal_of(r: &financing_request::Model) -> Option<ProposalView> {
    Some(ProposalView {
        terms: Terms {
            limit: Money::from_fen(r.proposal_limit_fen?),
            rate: Rate::from_e4(r.proposal_rate_e4?),
            term_months: r.proposal_term_months?,
            revolving: r.proposal_revolving?,
            expires_on: r.proposal_expires_on?,
        },
        proposed_by: r.proposed_by?,
        proposed_at: r.proposed_at?,
    })
}

fn view(
    r: financing_request::Model,
    clocks: Vec<sla_clock::Model>,
    line: Option<Uuid>,
) -> FinancingRequestView {
    let proposal = proposal_of(&r);
    FinancingRequestView {
        id: r.id,
        number: r.number,
        enterprise_id: r.enterprise_id,
        chain_id: r.chain_id,
        program_id: r.program_id,
        bank_id: r.bank_id,
        amount: Money::from_fen(r.amount_fen),
        term_months: r.term_months,
        purpose: r.purpose,
        product: r.product,
        product_label: r.product.label_zh(),
        status: r.status,
        status_label: r.status.label_zh(),
        clocks: clocks.into_iter().map(ClockView::from).collect(),
        proposal,
        attachments: Vec::new(),
        credit_line_id: line,
        reject_reason: r.reject_reason,
        refer_count: r.refer_count,
        submitted_at: r.submitted_at,
        accepted_at: r.accepted_at,
        decided_at: r.decided_at,
        withdrawn_at: r.withdrawn_at,
        updated_at: r.updated_at,
    }
}

/// The request's clocks and the line it granted, then its view.
async fn full_view(
    conn: &impl ConnectionTrait,
    r: financing_request::Model,
) -> AppResult<FinancingRequestView> {
    let clocks = clocks::of_subject(conn, Subject::financing_request(r.id)).await?;
    let line = credit_line::Entity::find()
        .filter(credit_line::Column::RequestId.eq(r.id))
        .one(conn)
        .await?
        .map(|l| l.id);
    Ok(view(r, clocks, line))
}

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
    Ok(view(r, started, None))
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
    let mut clocks: HashMap<Uuid, Vec<sla_clock::Model>> = HashMap::new();
    let mut lines: HashMap<Uuid, Uuid> = HashMap::new();
    if !ids.is_empty() {
        for c in sla_clock::Entity::find()
            .filter(sla_clock::Column::FinancingRequestId.is_in(ids.clone()))
            .order_by_asc(sla_clock::Column::Round)
            .order_by_asc(sla_clock::Column::Kind)
            .all(conn)
            .await?
        {
            if let Some(r) = c.financing_request_id {
                clocks.entry(r).or_default().push(c);
            }
        }
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
        view(r, c, l)
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

fn quota_exceeded(p: &credit_program::Model, limit: Money) -> AppError {
    AppError::conflict(
        "quota_exceeded",
        format!(
            "a limit of {limit} exceeds the program's remaining quota of {}",
            Money::from_fen(p.quota_fen - p.granted_fen)
        ),
    )
}

fn enterprise_limit_exceeded(p: &credit_program::Model, held: i64, limit: Money) -> AppError {
    AppError::conflict(
        "enterprise_limit_exceeded",
        format!(
            "a limit of {limit} on top of the enterprise's {} exceeds the program's maximum of {} per enterprise",
            Money::from_fen(held),
            Money::from_fen(p.max_per_enterprise_fen)
        ),
    )
}

/// The limits the enterprise of `r` holds under program `p` (active and frozen lines).
async fn held_by_enterprise(
    conn: &impl ConnectionTrait,
    program: Uuid,
    enterprise: Uuid,
) -> AppResult<i64> {
    use credit_line::Column as L;
    let held: Option<i64> = credit_line::Entity::find()
        .select_only()
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(limit_fen), 0) AS BIGINT)"),
            "held",
        )
        .filter(L::ProgramId.eq(program))
        .filter(L::EnterpriseId.eq(enterprise))
        .filter(
            L::Status.is_in(
                [CreditLineStatus::Active, CreditLineStatus::Frozen]
                    .into_iter()
                    .filter(|s| s.holds_exposure()),
            ),
        )
        .into_tuple()
        .one(conn)
        .await?;
    Ok(held.unwrap_or(0))
}

/// A proposal's early check of the quotas (no booking: the grant at confirmation is the guard).
async fn precheck(
    conn: &impl ConnectionTrait,
    r: &financing_request::Model,
    terms: &Terms,
) -> AppResult<()> {
    let Some(pid) = r.program_id else {
        return Ok(());
    };
    let Some(p) = credit_program::Entity::find_by_id(pid).one(conn).await? else {
        return Ok(());
    };
    if p.granted_fen + terms.limit.fen() > p.quota_fen {
        return Err(quota_exceeded(&p, terms.limit));
    }
    let held = held_by_enterprise(conn, pid, r.enterprise_id).await?;
    if held + terms.limit.fen() > p.max_per_enterprise_fen {
        return Err(enterprise_limit_exceeded(&p, held, terms.limit));
    }
    Ok(())
}

/// Grants the credit line of an approval: under a program, first one guarded `UPDATE` raises
/// the program's granted amount only if it stays within the quota (and locks the program row,
/// so grants on one program run one at a time), then the enterprise's limits under the program
/// are read under that lock and checked against the per-enterprise maximum; then the line.
async fn grant(
    conn: &impl ConnectionTrait,
    r: &financing_request::Model,
    terms: &Terms,
    approved_by: Uuid,
    confirmed_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<credit_line::Model> {
    let limit = terms.limit.fen();
    if let Some(pid) = r.program_id {
        use credit_program::Column as P;
        let booked = credit_program::Entity::update_many()
            .col_expr(P::GrantedFen, Expr::col(P::GrantedFen).add(limit))
            .filter(P::Id.eq(pid))
            .filter(
                Expr::col(P::GrantedFen)
                    .add(limit)
                    .lte(Expr::col(P::QuotaFen)),
            )
            .exec(conn)
            .await?
            .rows_affected;
        let p = credit_program::Entity::find_by_id(pid)
            .one(conn)
            .await?
            .ok_or(AppError::NotFound)?;
        if booked == 0 {
            return Err(quota_exceeded(&p, terms.limit));
        }
        let held = held_by_enterprise(conn, pid, r.enterprise_id).await?;
        if held + limit > p.max_per_enterprise_fen {
            // The transaction rolls back, the program's raise with it.
            return Err(enterprise_limit_exceeded(&p, held, terms.limit));
        }
    }
    Ok(credit_line::ActiveModel {
        id: Set(Uuid::now_v7()),
        request_id: Set(r.id),
        enterprise_id: Set(r.enterprise_id),
        bank_id: Set(r.bank_id),
        chain_id: Set(r.chain_id),
        program_id: Set(r.program_id),
        limit_fen: Set(limit),
        outstanding_fen: Set(0),
        used_fen: Set(0),
        rate_e4: Set(terms.rate.e4()),
        term_months: Set(terms.term_months),
        revolving: Set(terms.revolving),
        status: Set(CreditLineStatus::Active),
        expires_on: Set(terms.expires_on),
        approved_by: Set(approved_by),
        confirmed_by: Set(confirmed_by),
        approved_at: Set(now),
        first_drawdown_at: Set(None),
        closed_at: Set(None),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?)
}

/// What the mail says happened (`action_label`).
fn action_label(kind: Kind) -> &'static str {
    match kind {
        Kind::FinancingReceived => "收到新需求",
        Kind::FinancingAccepted => "已受理",
        Kind::FinancingInfoRequested => "需补充材料",
        Kind::FinancingSupplemented => "企业已补充材料",
        Kind::FinancingProposed => "授信方案待复核",
        Kind::FinancingApproved => "已批准",
        Kind::FinancingRejected => "未获批准",
        Kind::FinancingWithdrawn => "企业已撤回",
        Kind::FinancingReferred => "已由主办行转介至合作银行",
        other => other.label_zh(),
    }
}

fn title(kind: Kind, r: &financing_request::Model) -> String {
    format!(
        "{}：{} {} {} 元",
        kind.label_zh(),
        r.number,
        r.product.label_zh(),
        Money::from_fen(r.amount_fen)
    )
}

/// Tells a bank (all its active users; mail held to working hours), with its next deadline.
#[allow(clippy::too_many_arguments)]
async fn tell_bank(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
    r: &financing_request::Model,
    clocks: &[sla_clock::Model],
    bank: Uuid,
    kind: Kind,
    message: Option<String>,
) -> AppResult<()> {
    let due = clocks
        .iter()
        .filter(|c| is_open(c))
        .min_by_key(|c| c.due_at)
        .map(|c| format!("{}前{}", local_minute(cal, c.due_at), c.kind.label_zh()));
    let label = action_label(kind);
    let mut body = format!("{label}。");
    if let Some(d) = &due {
        body.push_str(&format!("办理时限：{d}。"));
    }
    if let Some(m) = &message {
        body.push_str(&format!("\n说明：{m}"));
    }
    let template = Template::FinancingUpdate {
        recipient_name: name_of(conn, bank).await?,
        number: r.number.clone(),
        enterprise_name: name_of(conn, r.enterprise_id).await?,
        product_label: r.product.label_zh().into(),
        amount: Money::from_fen(r.amount_fen).to_string(),
        action_label: label.into(),
        due,
        message,
    };
    notify(
        conn,
        now,
        Audience::organization_roles(bank, &[Role::Bank]),
        Notice::new(
            kind,
            Some(Object::financing_request(r.id)),
            title(kind, r),
            body,
        ),
        Some(Mail::office_hours(template, cal)),
    )
    .await?;
    Ok(())
}

/// Tells the enterprise (the user who submitted, or its users once that user is gone; mail at
/// once).
async fn tell_enterprise(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    r: &financing_request::Model,
    kind: Kind,
    message: Option<String>,
) -> AppResult<()> {
    let label = action_label(kind);
    let enterprise_name = name_of(conn, r.enterprise_id).await?;
    let body = match &message {
        Some(m) => format!("{label}：{m}"),
        None => format!("{label}。"),
    };
    let template = Template::FinancingUpdate {
        recipient_name: enterprise_name.clone(),
        number: r.number.clone(),
        enterprise_name,
        product_label: r.product.label_zh().into(),
        amount: Money::from_fen(r.amount_fen).to_string(),
        action_label: label.into(),
        due: None,
        message,
    };
    notify(
        conn,
        now,
        Audience::User(r.submitted_by),
        Notice::new(
            kind,
            Some(Object::financing_request(r.id)),
            title(kind, r),
            body,
        ),
        Some(Mail::now(template)),
    )
    .await?;
    Ok(())
}
