//! A program's window opening (`fund_windows`): every eligible verified enterprise is told once
//! (政策直达), or, for an apply-free award (免申即享), gets its application. Enterprises are
//! taken in batches by id, each batch one transaction that also moves the program's
//! `push_cursor`, so an interrupted run resumes where it stopped and tells nobody twice; the
//! program is marked opened at the end.

use super::{
    applications::{self, NewApplication},
    eligibility::{chain_names, facts_in_range},
};
use crate::{
    JobContext,
    mail::{Template, templates::local_minute},
    notify::{Audience, Mail, Notice, Notification, Object, notify_many},
};
use chrono::{DateTime, Utc};
use entity::{
    calendar::Calendar,
    chain_member,
    eligibility::{Rules, Verdict},
    enums::{FundKind, FundStatus, MembershipStatus, NotificationKind as Kind, OrgKind, Role},
    fund_application,
    fund_program::{self, Column as P},
    money::Money,
    organization::{self, Column as O},
    qualification,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionSession, TransactionTrait,
    sea_query::{Expr, Query},
};
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// The job's name.
pub const JOB: &str = "fund_windows";

/// Enterprises per transaction.
pub const BATCH: u64 = 7_000;

/// Opens every program whose window has begun and that is not opened yet; returns how many
/// enterprises were told or awarded.
#[tracing::instrument(skip_all, fields(job = JOB))]
pub async fn run_once(ctx: &JobContext, now: DateTime<Utc>) -> anyhow::Result<u64> {
    let cal = ctx.calendar.current(&ctx.db).await?;
    let due = fund_program::Entity::find()
        .filter(P::OpenedAt.is_null())
        .filter(P::OpensAt.lte(now))
        .order_by_asc(P::OpensAt)
        .all(&ctx.db)
        .await?;
    let mut told = 0;
    for p in due {
        told += open(&ctx.db, &cal, now, &p).await?;
    }
    Ok(told)
}

/// The verified enterprises after `cursor` that may be eligible, by id: the rules' chains and
/// required qualifications narrow the scan in SQL, the pure rules decide.
async fn candidates(
    conn: &impl ConnectionTrait,
    rules: &Rules,
    cursor: Option<Uuid>,
) -> Result<Vec<Uuid>, DbErr> {
    let mut q = organization::Entity::find()
        .select_only()
        .column(O::Id)
        .filter(O::Kind.eq(OrgKind::Enterprise))
        .filter(O::Verified.eq(true));
    if let Some(c) = cursor {
        q = q.filter(O::Id.gt(c));
    }
    if !rules.chain_ids.is_empty() || !rules.member_roles.is_empty() {
        let mut members = Query::select()
            .column(chain_member::Column::OrganizationId)
            .from(chain_member::Entity)
            .and_where(chain_member::Column::Status.eq(MembershipStatus::Active))
            .to_owned();
        if !rules.chain_ids.is_empty() {
            members.and_where(chain_member::Column::ChainId.is_in(rules.chain_ids.clone()));
        }
        q = q.filter(O::Id.in_subquery(members));
    }
    for kind in &rules.qualifications_all {
        q = q.filter(
            O::Id.in_subquery(
                Query::select()
                    .column(qualification::Column::OrganizationId)
                    .from(qualification::Entity)
                    .and_where(qualification::Column::Kind.eq(*kind))
                    .to_owned(),
            ),
        );
    }
    q.order_by_asc(O::Id)
        .limit(BATCH)
        .into_tuple()
        .all(conn)
        .await
}

/// Opens program `p`: every batch of enterprises in its own transaction, then the mark.
pub async fn open<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cal: &Calendar,
    now: DateTime<Utc>,
    p: &fund_program::Model,
) -> Result<u64, DbErr> {
    let rules = p.rules();
    let today = cal.local_date(now);
    let names = chain_names(db).await?;
    let mut cursor = p.push_cursor;
    let mut told = 0;
    // A window that closed before the job saw it tells nobody; a risk-compensation pool takes
    // banks' claims and tells no enterprise.
    let mut more = now < p.closes_at && p.kind != FundKind::RiskCompensation;
    while more {
        let txn = db.begin().await?;
        let ids = candidates(&txn, &rules, cursor).await?;
        let Some(last) = ids.last().copied() else {
            txn.commit().await?;
            break;
        };
        let facts = facts_in_range(&txn, cursor, last).await?;
        let eligible: Vec<(Uuid, Verdict)> = ids
            .iter()
            .filter_map(|id| {
                let v = facts.get(id)?.decide(&rules, today, &names);
                v.eligible.then_some((*id, v))
            })
            .collect();
        told += if p.apply_free {
            award(&txn, cal, now, p, eligible).await?
        } else {
            push(&txn, cal, now, p, eligible).await?
        };
        fund_program::Entity::update_many()
            .col_expr(P::PushCursor, Expr::val(last))
            .filter(P::Id.eq(p.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        cursor = Some(last);
        more = ids.len() as u64 == BATCH;
    }
    fund_program::Entity::update_many()
        .col_expr(P::OpenedAt, Expr::val(now))
        .filter(P::Id.eq(p.id))
        .exec(db)
        .await?;
    tracing::info!(program = %p.id, told, "fund program opened");
    Ok(told)
}

/// The window-opening mail of `p`.
fn policy_mail(
    cal: &Calendar,
    p: &fund_program::Model,
    enterprise_name: String,
    basis: Vec<String>,
    award_number: Option<String>,
) -> Template {
    Template::PolicyMatch {
        enterprise_name,
        program_name: p.name.clone(),
        kind_label: p.kind.label_zh().into(),
        max_amount: Money::from_fen(p.fixed_amount_fen.unwrap_or(p.max_per_application_fen))
            .to_string(),
        closes_at: local_minute(cal, p.closes_at),
        basis,
        award_number,
    }
}

/// 政策直达: one notice per eligible enterprise (its enterprise users), grouped by what made
/// them eligible so a few notices cover many enterprises.
async fn push(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
    p: &fund_program::Model,
    eligible: Vec<(Uuid, Verdict)>,
) -> Result<u64, DbErr> {
    let n = eligible.len() as u64;
    let mut by_basis: BTreeMap<Vec<String>, Vec<Uuid>> = BTreeMap::new();
    for (id, v) in eligible {
        by_basis.entry(v.basis).or_default().push(id);
    }
    let items: Vec<Notification> = by_basis
        .into_iter()
        .map(|(basis, ids)| {
            let body = format!(
                "您的企业符合「{}」的申报条件（{}），截止 {}。",
                p.name,
                basis.join("；"),
                local_minute(cal, p.closes_at)
            );
            Notification::new(
                Audience::Organizations {
                    ids,
                    roles: vec![Role::Enterprise],
                },
                Notice::new(
                    Kind::PolicyMatch,
                    Some(Object::fund_program(p.id)),
                    format!("政策直达：{}开始申报", p.name),
                    body,
                ),
            )
            .mail(Mail::now(policy_mail(
                cal,
                p,
                "企业用户".into(),
                basis,
                None,
            )))
        })
        .collect();
    notify_many(conn, now, &items).await?;
    Ok(n)
}

/// 免申即享: one application per eligible enterprise that has no live one in the program, at
/// the fixed amount and already past the initial review, and a notice to the enterprise.
async fn award(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
    p: &fund_program::Model,
    eligible: Vec<(Uuid, Verdict)>,
) -> Result<u64, DbErr> {
    let Some(amount) = p.fixed_amount_fen else {
        return Ok(0);
    };
    let ids: Vec<Uuid> = eligible.iter().map(|(id, _)| *id).collect();
    let mut live: HashSet<Uuid> = HashSet::new();
    for chunk in ids.chunks(2_000) {
        let rows: Vec<Uuid> = fund_application::Entity::find()
            .select_only()
            .column(fund_application::Column::EnterpriseId)
            .filter(fund_application::Column::ProgramId.eq(p.id))
            .filter(fund_application::Column::EnterpriseId.is_in(chunk.iter().copied()))
            .filter(
                fund_application::Column::Status
                    .is_not_in([FundStatus::Rejected, FundStatus::Withdrawn]),
            )
            .into_tuple()
            .all(conn)
            .await?;
        live.extend(rows);
    }
    let names: HashMap<Uuid, String> = organization::Entity::find()
        .select_only()
        .columns([O::Id, O::Name])
        .filter(Condition::all().add(O::Id.is_in(ids.clone())))
        .into_tuple::<(Uuid, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let mut items = Vec::new();
    let mut made = 0;
    for (id, verdict) in eligible {
        if live.contains(&id) {
            continue;
        }
        let (a, _) = applications::insert(
            conn,
            cal,
            now,
            p,
            NewApplication {
                enterprise_id: id,
                chain_id: verdict.chain_id,
                submitted_by: None,
                amount_fen: amount,
                project_title: p.name.clone(),
                description: format!("免申即享：{}", verdict.basis.join("；")),
            },
            None,
        )
        .await?;
        made += 1;
        let name = names.get(&id).cloned().unwrap_or_default();
        items.push(
            Notification::new(
                Audience::organization_roles(id, &[Role::Enterprise]),
                Notice::new(
                    Kind::FundAwardGranted,
                    Some(Object::fund_application(a.id)),
                    format!("免申即享：{} {}", a.number, p.name),
                    format!(
                        "您的企业符合「{}」的条件，已免申请生成申报，金额 {} 元；如不需要可撤回。",
                        p.name,
                        Money::from_fen(amount)
                    ),
                ),
            )
            .mail(Mail::now(policy_mail(
                cal,
                p,
                name,
                verdict.basis,
                Some(a.number.clone()),
            ))),
        );
    }
    notify_many(conn, now, &items).await?;
    Ok(made)
}
