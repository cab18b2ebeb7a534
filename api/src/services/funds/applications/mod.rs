//! Fund applications (资金申报): submission by an eligible verified enterprise inside the
//! program's window, the chain office's initial review and the fund office's final review (each
//! a clock on the engine), resubmission after a return, withdrawal, and the views. Each action
//! is one transaction that changes the application, its clocks and the budget, writes one
//! timeline line and notifies.

mod views;

pub use views::*;

use super::{ensure_no_conflict, not_eligible, program, text};
use crate::{
    auth::{AuthUser, scope},
    error::{AppError, AppResult},
    pagination::{self, Page, PageQuery},
    services::{files, timeline_read, validate::Checks},
};
use chrono::{DateTime, Utc};
use entity::{
    calendar::Calendar,
    disbursement,
    enums::{
        ClockKind, FundKind, FundStatus, NotificationKind as Kind, ReviewDecision, ReviewStage,
        Role, SubjectType,
    },
    fund_application::{self, Column as F, FundAction as A, title_key},
    fund_program, fund_review,
    money::Money,
    objection, organization,
};
use jobs::{
    engine::{
        Subject,
        clocks::{self},
        timeline,
    },
    funds::{
        applications::{
            self as shared, NewApplication, Tell, entry, review_clock, tell_enterprise,
            tell_reviewers,
        },
        budget,
        eligibility::context_of,
    },
    mail::templates::local_minute,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Longest project title, characters.
const TITLE_MAX: usize = 200;

/// Checks an amount against the program's maximum (and, when given, a ceiling such as the
/// requested amount).
fn amount_within(
    c: &mut Checks,
    field: &str,
    amount: Option<Money>,
    program: &fund_program::Model,
    ceiling: Option<(i64, &str)>,
) {
    let Some(a) = amount else { return };
    if a.fen() > program.max_per_application_fen {
        c.add(
            field,
            format!(
                "must not exceed the program's maximum per application ({})",
                Money::from_fen(program.max_per_application_fen)
            ),
        );
    }
    if let Some((max, what)) = ceiling
        && a.fen() > max
    {
        c.add(
            field,
            format!("must not exceed {what} ({})", Money::from_fen(max)),
        );
    }
}

/// The calling enterprise's eligibility for `program` now: 409 with the reasons when it fails.
async fn ensure_eligible(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
    program: &fund_program::Model,
    enterprise: Uuid,
) -> AppResult<entity::eligibility::Verdict> {
    let (facts, names) = context_of(conn, enterprise).await?;
    let v = facts.decide(&program.rules(), cal.local_date(now), &names);
    if v.eligible {
        Ok(v)
    } else {
        Err(not_eligible(&v))
    }
}

/// Submits an application (a verified, eligible enterprise; the window open; one live
/// application per program).
pub async fn submit(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    actor: &AuthUser,
    now: DateTime<Utc>,
    input: NewFundApplication,
) -> AppResult<FundApplicationView> {
    actor.require(&[Role::Enterprise])?;
    let enterprise = actor
        .organization_id
        .ok_or_else(|| AppError::forbidden("the user belongs to no enterprise"))?;
    actor.ensure_may_create(conn).await?;
    let mut c = Checks::new();
    let amount = c.money("amount", &input.amount, true);
    let title = c.line("project_title", &input.project_title, TITLE_MAX);
    let description = c.text("description", &input.description, super::TEXT_MAX);
    let input_attachments = input.attachment_ids;
    let Some(p) = fund_program::Entity::find_by_id(input.program_id)
        .one(conn)
        .await?
    else {
        c.add("program_id", "no such fund program");
        c.finish()?;
        return Err(AppError::NotFound);
    };
    if p.kind == FundKind::RiskCompensation {
        c.add(
            "program_id",
            "a risk-compensation program takes banks' claims (POST /risk-claims), not applications",
        );
    }
    amount_within(&mut c, "amount", amount, &p, None);
    c.finish()?;
    let amount = amount.ok_or_else(|| AppError::invalid("amount", "is required"))?;
    if !p.is_open(now) {
        let tz = &cal.settings().time_zone;
        return Err(AppError::conflict(
            "window_closed",
            format!(
                "the program accepts applications from {} until before {}",
                p.opens_at.with_timezone(tz).format("%Y-%m-%d %H:%M:%S"),
                p.closes_at.with_timezone(tz).format("%Y-%m-%d %H:%M:%S")
            ),
        ));
    }
    let verdict = ensure_eligible(conn, cal, now, &p, enterprise).await?;
    ensure_no_live(conn, p.id, enterprise).await?;
    let inserted = shared::insert(
        conn,
        cal,
        now,
        &p,
        NewApplication {
            enterprise_id: enterprise,
            chain_id: verdict.chain_id,
            submitted_by: Some(actor.id),
            amount_fen: amount.fen(),
            project_title: title,
            description,
        },
        actor.organization_id,
    )
    .await;
    // Two submissions racing past the check: the unique index refuses the second.
    let (a, started) = match inserted {
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            return Err(AppError::conflict(
                "duplicate_application",
                "the enterprise already has a live application in this program",
            ));
        }
        other => other?,
    };
    files::attach(
        conn,
        actor,
        Subject::fund_application(a.id),
        &input_attachments,
        now,
    )
    .await?;
    tell_reviewers(
        conn,
        cal,
        now,
        &a,
        &p,
        &started,
        Tell::new(Kind::FundApplicationReceived, "收到新申报，待初审", None),
    )
    .await?;
    full_view(conn, actor, a).await
}

/// 409 when the enterprise already has a live application in the program (the unique index
/// backs it under concurrency).
async fn ensure_no_live(
    conn: &impl ConnectionTrait,
    program: Uuid,
    enterprise: Uuid,
) -> AppResult<()> {
    let live = fund_application::Entity::find()
        .select_only()
        .column(F::Number)
        .filter(F::ProgramId.eq(program))
        .filter(F::EnterpriseId.eq(enterprise))
        .filter(F::Status.is_not_in([FundStatus::Rejected, FundStatus::Withdrawn]))
        .into_tuple::<String>()
        .one(conn)
        .await?;
    match live {
        Some(n) => Err(AppError::conflict(
            "duplicate_application",
            format!("the enterprise already has a live application in this program ({n})"),
        )),
        None => Ok(()),
    }
}

/// Program and enterprise names of `rows`.
async fn names(
    conn: &impl ConnectionTrait,
    rows: &[fund_application::Model],
) -> AppResult<(HashMap<Uuid, String>, HashMap<Uuid, String>)> {
    if rows.is_empty() {
        return Ok((HashMap::new(), HashMap::new()));
    }
    let programs: HashMap<Uuid, String> = fund_program::Entity::find()
        .select_only()
        .columns([fund_program::Column::Id, fund_program::Column::Name])
        .filter(fund_program::Column::Id.is_in(rows.iter().map(|a| a.program_id)))
        .into_tuple::<(Uuid, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let orgs: HashMap<Uuid, String> = organization::Entity::find()
        .select_only()
        .columns([organization::Column::Id, organization::Column::Name])
        .filter(organization::Column::Id.is_in(rows.iter().map(|a| a.enterprise_id)))
        .into_tuple::<(Uuid, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    Ok((programs, orgs))
}

/// The applications the caller may see, oldest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    filter: &FundApplicationFilter,
    page: &PageQuery,
) -> AppResult<Page<FundApplicationView>> {
    actor.require(&[
        Role::Admin,
        Role::FundOffice,
        Role::ChainOffice,
        Role::Enterprise,
    ])?;
    let mut q = fund_application::Entity::find().filter(scope::fund_applications(actor));
    if let Some(v) = filter.program_id {
        q = q.filter(F::ProgramId.eq(v));
    }
    if let Some(v) = filter.status {
        q = q.filter(F::Status.eq(v));
    }
    if let Some(v) = filter.enterprise_id {
        q = q.filter(F::EnterpriseId.eq(v));
    }
    if let Some(v) = filter.chain_id {
        q = q.filter(F::ChainId.eq(v));
    }
    if let Some(v) = filter.duplicate_funding_flag {
        q = q.filter(F::DuplicateFundingFlag.eq(v));
    }
    let page = pagination::fetch(conn, q, F::Id, page, |a: &fund_application::Model| a.id).await?;
    let (programs, orgs) = names(conn, &page.items).await?;
    let ids: Vec<Uuid> = page.items.iter().map(|a| a.id).collect();
    let mut clocks = clocks::of_subjects(conn, SubjectType::FundApplication, &ids).await?;
    let mut attachments =
        files::of_subjects(conn, SubjectType::FundApplication, ids.iter().copied()).await?;
    Ok(page.map(|a| {
        let (p, e) = (
            programs.get(&a.program_id).cloned().unwrap_or_default(),
            orgs.get(&a.enterprise_id).cloned().unwrap_or_default(),
        );
        let c = clocks.remove(&a.id).unwrap_or_default();
        let files = attachments.remove(&a.id).unwrap_or_default();
        FundApplicationView::of(a, p, e, c, files)
    }))
}

/// One application the caller may see, with its reviews, objections, disbursements and
/// timeline.
pub async fn get(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<FundApplicationView> {
    let a = fund_application::Entity::find_by_id(id)
        .filter(scope::fund_applications(actor))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    full_view(conn, actor, a).await
}

/// Whether `actor` sees who reviewed and who objected (officials, not the enterprise).
fn official(actor: &AuthUser) -> bool {
    matches!(
        actor.role,
        Role::Admin | Role::FundOffice | Role::ChainOffice
    )
}

/// The whole application as `actor` may read it.
pub async fn full_view(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    a: fund_application::Model,
) -> AppResult<FundApplicationView> {
    let (programs, orgs) = names(conn, std::slice::from_ref(&a)).await?;
    let subject = Subject::fund_application(a.id);
    let clocks = clocks::of_subject(conn, subject).await?;
    let reviews = fund_review::Entity::find()
        .filter(fund_review::Column::ApplicationId.eq(a.id))
        .order_by_asc(fund_review::Column::Id)
        .all(conn)
        .await?;
    let objections = objection::Entity::find()
        .filter(objection::Column::ApplicationId.eq(a.id))
        .order_by_asc(objection::Column::Id)
        .all(conn)
        .await?;
    let payments = disbursement::Entity::find()
        .filter(disbursement::Column::ApplicationId.eq(a.id))
        .order_by_asc(disbursement::Column::Id)
        .all(conn)
        .await?;
    let lines = timeline_read::lines(conn, actor, subject).await?;
    let attachments = files::of_subject(conn, subject).await?;
    let shows = official(actor);
    let status = a.status;
    let mut v = FundApplicationView::of(
        a.clone(),
        programs.get(&a.program_id).cloned().unwrap_or_default(),
        orgs.get(&a.enterprise_id).cloned().unwrap_or_default(),
        clocks,
        attachments,
    );
    v.reviews = Some(
        reviews
            .into_iter()
            .map(|r| ReviewView::of(r, shows))
            .collect(),
    );
    v.objections = Some(
        objections
            .into_iter()
            .map(|o| {
                let own = o.raised_by == actor.id;
                let author = actor.role == Role::FundOffice || actor.role == Role::Admin || own;
                let content = actor.role != Role::Enterprise || own;
                ObjectionView::of(o, status, author, content)
            })
            .collect(),
    );
    v.disbursements = Some(super::disbursements::views(payments));
    v.timeline = Some(lines.into_iter().map(FundEventView::from).collect());
    Ok(v)
}

/// Loads an application the caller may see (404 otherwise), locked for update on PostgreSQL.
pub(crate) async fn load_for_update(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<fund_application::Model> {
    let mut q = fund_application::Entity::find_by_id(id).filter(scope::fund_applications(actor));
    if conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(conn).await?.ok_or(AppError::NotFound)
}

/// 409 when `action` may not run in the application's status.
pub(crate) fn ensure_allowed(action: A, from: FundStatus) -> AppResult<()> {
    if action.allowed(from) {
        Ok(())
    } else {
        Err(AppError::conflict(
            "invalid_transition",
            format!(
                "{} is not allowed while the application is {}",
                action.code(),
                from.code()
            ),
        ))
    }
}

/// The first review belongs to the office of the chain the enterprise applied through (the
/// fund office's when it applied through none): 403 for anyone else.
async fn ensure_first_reviewer(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    a: &fund_application::Model,
) -> AppResult<()> {
    let office = match a.chain_id {
        Some(c) => entity::chain::Entity::find_by_id(c)
            .one(conn)
            .await?
            .map(|c| c.office_organization_id),
        None => None,
    };
    let allowed = match (actor.role, office) {
        (Role::ChainOffice, Some(o)) => actor.organization_id == Some(o),
        (Role::FundOffice, None) => true,
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "the office of the chain the enterprise applied through reviews first (the fund office when it came through no chain)",
        ))
    }
}

/// Records a review decision.
#[allow(clippy::too_many_arguments)]
async fn record_review(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    a: &fund_application::Model,
    stage: ReviewStage,
    decision: ReviewDecision,
    comment: &str,
    amount: Option<Money>,
) -> AppResult<()> {
    fund_review::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(a.id),
        stage: Set(stage),
        decision: Set(decision),
        comment: Set(comment.to_string()),
        amount_fen: Set(amount.map(Money::fen)),
        reviewer_id: Set(actor.id),
        reviewer_organization_id: Set(actor.organization_id),
        at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// A comment, required (non-blank) when `required`.
fn comment(value: &str, required: bool) -> AppResult<String> {
    if required {
        return text("comment", value);
    }
    let mut c = Checks::new();
    let v = c.opt_text(
        "comment",
        Some(value).filter(|v| !v.trim().is_empty()),
        super::TEXT_MAX,
    );
    c.finish()?;
    Ok(v.unwrap_or_default())
}

/// Runs one action: checks role, visibility, status and conflicts of interest, changes the
/// application, its clocks and the budget, writes the timeline line and notifies, all in the
/// caller's transaction.
pub async fn act(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    act: Act,
) -> AppResult<FundApplicationView> {
    let roles: &[Role] = match &act {
        Act::InitialReview(_) => &[Role::ChainOffice, Role::FundOffice],
        Act::FinalReview(_) => &[Role::FundOffice],
        Act::Resubmit(_) | Act::Withdraw => &[Role::Enterprise],
    };
    actor.require(roles)?;
    let a = load_for_update(conn, actor, id).await?;
    let from = a.status;
    let subject = Subject::fund_application(a.id);
    let p = program(conn, a.program_id).await?;
    let mut am: fund_application::ActiveModel = a.clone().into();
    let mut to_enterprise: Option<Tell> = None;
    let mut to_reviewers: Option<Tell> = None;
    let (action, note) = match act {
        Act::InitialReview(i) => {
            ensure_first_reviewer(conn, actor, &a).await?;
            let action = match i.decision {
                InitialDecision::Pass => A::InitialPass,
                InitialDecision::Return => A::InitialReturn,
                InitialDecision::Reject => A::InitialReject,
            };
            ensure_allowed(action, from)?;
            ensure_no_conflict(conn, actor, a.enterprise_id).await?;
            let note = comment(&i.comment, i.decision != InitialDecision::Pass)?;
            let mut c = Checks::new();
            let recommended = c
                .opt_money("recommended_amount", &i.recommended_amount)
                .flatten();
            if recommended.is_some() && i.decision != InitialDecision::Pass {
                c.add("recommended_amount", "is given only with a pass");
            }
            amount_within(
                &mut c,
                "recommended_amount",
                recommended,
                &p,
                Some((a.amount_fen, "the requested amount")),
            );
            c.finish()?;
            clocks::meet(conn, subject, &[ClockKind::InitialReview], now).await?;
            am.initial_reviewed_at = Set(Some(now));
            let decision = match i.decision {
                InitialDecision::Pass => {
                    am.recommended_amount_fen = Set(recommended.map(Money::fen));
                    clocks::start(
                        conn,
                        cal,
                        subject,
                        now,
                        &[review_clock(&p, ClockKind::FinalReview, a.round)],
                        now,
                    )
                    .await?;
                    to_enterprise = Some(Tell::new(
                        Kind::FundReviewResult,
                        "初审通过",
                        none_if_empty(&note),
                    ));
                    to_reviewers = Some(Tell::new(
                        Kind::FundApplicationReceived,
                        "初审已通过，待终审",
                        recommended.map(|r| format!("初审推荐金额 {r} 元")),
                    ));
                    ReviewDecision::Pass
                }
                InitialDecision::Return => {
                    to_enterprise = Some(Tell::new(
                        Kind::FundReviewResult,
                        "退回修改",
                        Some(note.clone()),
                    ));
                    ReviewDecision::Return
                }
                InitialDecision::Reject => {
                    to_enterprise = Some(Tell::new(
                        Kind::FundReviewResult,
                        "初审未通过",
                        Some(note.clone()),
                    ));
                    ReviewDecision::Reject
                }
            };
            record_review(
                conn,
                actor,
                now,
                &a,
                ReviewStage::Initial,
                decision,
                &note,
                recommended,
            )
            .await?;
            (action, none_if_empty(&note))
        }
        Act::Resubmit(i) => {
            ensure_allowed(A::Resubmit, from)?;
            files::attach(conn, actor, subject, &i.attachment_ids, now).await?;
            let mut c = Checks::new();
            let amount = c.opt_money("amount", &i.amount).flatten();
            let title = i
                .project_title
                .as_deref()
                .map(|t| c.line("project_title", t, TITLE_MAX));
            let description = i
                .description
                .as_deref()
                .map(|d| c.text("description", d, super::TEXT_MAX));
            let note = c.opt_text(
                "comment",
                i.comment.as_deref().filter(|v| !v.trim().is_empty()),
                super::TEXT_MAX,
            );
            amount_within(&mut c, "amount", amount, &p, None);
            c.finish()?;
            if let Some(m) = amount {
                am.amount_fen = Set(m.fen());
            }
            if let Some(t) = title {
                am.title_key = Set(title_key(&t));
                am.project_title = Set(t);
            }
            if let Some(d) = description {
                am.description = Set(d);
            }
            let round = a.round + 1;
            am.round = Set(round);
            am.recommended_amount_fen = Set(None);
            clocks::start(
                conn,
                cal,
                subject,
                now,
                &[review_clock(&p, ClockKind::InitialReview, round)],
                now,
            )
            .await?;
            to_reviewers = Some(Tell::new(
                Kind::FundApplicationReceived,
                "企业已修改后重新提交，待初审",
                note.clone(),
            ));
            (A::Resubmit, note)
        }
        Act::FinalReview(i) => {
            let action = match i.decision {
                FinalDecision::Approve => A::FinalApprove,
                FinalDecision::Reject => A::FinalReject,
            };
            ensure_allowed(action, from)?;
            ensure_no_conflict(conn, actor, a.enterprise_id).await?;
            let note = comment(&i.comment, i.decision == FinalDecision::Reject)?;
            let mut c = Checks::new();
            let approved = c.opt_money("approved_amount", &i.approved_amount).flatten();
            if approved.is_some() && i.decision == FinalDecision::Reject {
                c.add("approved_amount", "is given only with an approval");
            }
            amount_within(
                &mut c,
                "approved_amount",
                approved,
                &p,
                Some((a.amount_fen, "the requested amount")),
            );
            c.finish()?;
            clocks::meet(conn, subject, &[ClockKind::FinalReview], now).await?;
            am.final_reviewed_at = Set(Some(now));
            match i.decision {
                FinalDecision::Approve => {
                    let amount = approved.unwrap_or_else(|| {
                        Money::from_fen(
                            a.recommended_amount_fen
                                .unwrap_or(a.amount_fen)
                                .min(p.max_per_application_fen),
                        )
                    });
                    // The rules again: a qualification may have lapsed since the application.
                    ensure_eligible(conn, cal, now, &p, a.enterprise_id).await?;
                    // The program row is locked by the guarded update until the commit, so
                    // concurrent approvals of one program run one after the other.
                    if !budget::reserve(conn, p.id, amount.fen(), now).await? {
                        let fresh = program(conn, p.id).await?;
                        return Err(AppError::conflict(
                            "budget_exceeded",
                            format!(
                                "the program's remaining budget ({}) is less than {}",
                                Money::from_fen(fresh.budget_fen - fresh.committed_fen),
                                amount
                            ),
                        ));
                    }
                    am.approved_amount_fen = Set(Some(amount.fen()));
                    am.reserved_fen = Set(amount.fen());
                    let dup = shared::duplicate_of(conn, &a).await?;
                    am.duplicate_of = Set(dup);
                    am.duplicate_funding_flag = Set(dup.is_some());
                    record_review(
                        conn,
                        actor,
                        now,
                        &a,
                        ReviewStage::Final,
                        ReviewDecision::Approve,
                        &note,
                        Some(amount),
                    )
                    .await?;
                    if p.notice_working_days > 0 {
                        let ends = cal.add_working_days(
                            now,
                            entity::working_days::WorkingDays::from_int(
                                p.notice_working_days as u32,
                            ),
                        );
                        am.notice_ends_at = Set(Some(ends));
                        to_enterprise = Some(Tell::new(
                            Kind::FundReviewResult,
                            "终审通过，进入公示",
                            Some(format!(
                                "批准金额 {amount} 元；公示期至 {}",
                                local_minute(cal, ends)
                            )),
                        ));
                        (
                            A::FinalApprove,
                            Some(
                                format!("批准金额 {amount} 元；{note}")
                                    .trim_end_matches('；')
                                    .to_string(),
                            ),
                        )
                    } else {
                        // No notice: approved at once.
                        am.approved_at = Set(Some(now));
                        am.status = Set(FundStatus::Approved);
                        to_enterprise = Some(Tell::new(
                            Kind::FundApproved,
                            "终审通过，已批准",
                            Some(format!("批准金额 {amount} 元，等待拨付")),
                        ));
                        (
                            A::FinalApprove,
                            Some(format!("批准金额 {amount} 元（无公示期）")),
                        )
                    }
                }
                FinalDecision::Reject => {
                    record_review(
                        conn,
                        actor,
                        now,
                        &a,
                        ReviewStage::Final,
                        ReviewDecision::Reject,
                        &note,
                        None,
                    )
                    .await?;
                    to_enterprise = Some(Tell::new(
                        Kind::FundReviewResult,
                        "终审未通过",
                        Some(note.clone()),
                    ));
                    (A::FinalReject, Some(note))
                }
            }
        }
        Act::Withdraw => {
            ensure_allowed(A::Withdraw, from)?;
            if a.disbursed_fen > 0 {
                return Err(AppError::conflict(
                    "already_disbursed",
                    "money has been paid on this application; it can no longer be withdrawn",
                ));
            }
            clocks::cancel(
                conn,
                subject,
                &[ClockKind::InitialReview, ClockKind::FinalReview],
                now,
            )
            .await?;
            // The reservation, if any, goes back exactly once: the row is locked and its
            // reserved amount zeroed with the status change.
            budget::release(conn, p.id, a.reserved_fen, now).await?;
            am.reserved_fen = Set(0);
            am.withdrawn_at = Set(Some(now));
            if from != FundStatus::Submitted && from != FundStatus::Returned {
                to_reviewers = Some(Tell::new(Kind::FundWithdrawn, "企业已撤回申报", None));
            }
            (A::Withdraw, None)
        }
    };
    if !(action == A::FinalApprove && p.notice_working_days == 0) {
        am.status = Set(action.target());
    }
    am.updated_at = Set(now);
    let saved = am.update(conn).await?;
    timeline::record(
        conn,
        vec![entry(
            &saved,
            Some(actor.id),
            actor.organization_id,
            now,
            action,
            Some(from),
            note,
        )],
    )
    .await?;
    let open = clocks::of_subject(conn, subject).await?;
    if let Some(t) = to_enterprise {
        tell_enterprise(conn, now, &saved, &p, t).await?;
    }
    if let Some(t) = to_reviewers {
        tell_reviewers(conn, cal, now, &saved, &p, &open, t).await?;
    }
    full_view(conn, actor, saved).await
}

fn none_if_empty(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.to_string())
}
