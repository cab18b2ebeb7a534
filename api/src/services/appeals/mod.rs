//! Appeals (诉求): submission with routing, every workflow action, the three SLA clocks and
//! their notifications. Each action is one transaction that changes the appeal, its clocks,
//! writes one timeline event and queues the mails it causes.

use super::{chains::org_of_kind, files, validate::Checks};
use crate::item_cache::AppealCache;
use crate::{
    auth::{AuthUser, scope},
    error::{AppError, AppResult},
    pagination::{self, PageQuery},
    rows,
};
use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::NotificationKind as Kind;
use entity::{
    appeal::{self, AppealAction},
    appeal_assignment,
    calendar::Calendar,
    enums::{
        AppealCategory, AppealStatus, ClockKind, EventVisibility, OrgKind, Role, SupervisionSource,
    },
    organization, routing_rule, sla_clock, sla_policy,
    working_days::WorkingDays,
};
use jobs::bulk::{Batch, Combiner};
use jobs::{
    calendar::CalendarLoader as CalendarCache,
    engine::{
        Subject,
        clocks::{self, NewClock, is_open},
        timeline::{self, Entry, Supervision},
    },
    notify::Known,
    numbering::{self, Series},
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait, Select, TryIntoModel,
    sea_query::{Alias, Asterisk, Expr, OnConflict, Order, Query},
};
use serde::{Deserialize, Serialize};
use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};
use uuid::Uuid;

mod list;
mod notify;
mod policy;
mod views;

pub use list::list_json;
pub use policy::Policy;
pub use views::*;
#[allow(unused_imports)]
use {list::*, notify::*, policy::*};

/// Longest accepted title, characters.
const TITLE_MAX: usize = 200;
/// Longest accepted free text (content, messages, reasons), characters.
const TEXT_MAX: usize = 10_000;

/// Windows the workflow enforces.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// A department may return an appeal only this long after its assignment.
    pub return_window: WorkingDays,
    /// A resolved appeal may be reopened this long after the resolution.
    pub reopen_window: WorkingDays,
}

/// A department an appeal is routed to, with its name (what the mail calls it) and its users
/// (whom the assignment notifies).
struct Routed {
    id: Uuid,
    name: String,
    users: Known,
}

/// What a submission reads before it writes, in one statement.
struct Context {
    /// Whether the enterprise is verified (false when it is not found).
    verified: bool,
    /// The category's SLA policy.
    policy: Policy,
    /// The department its routing rule names, with its name.
    routed: Option<Routed>,
    /// The stored calendar revision, read as `calendar::revision_for_write` reads it (locked
    /// in a transaction; unlocked for a combined write, which the calendar guard protects).
    revision: Option<i64>,
    /// On PostgreSQL, the appeal's number counter (`numbering::draw`; a refused submission
    /// leaves a gap, as a rolled-back one does).
    number: Option<i64>,
}

/// Reads the [`Context`] of a submission by `enterprise` in `category`; the calendar row is
/// locked when `locked` (a submission in a transaction).
async fn submission_context(
    conn: &impl ConnectionTrait,
    enterprise: Uuid,
    category: AppealCategory,
    locked: bool,
) -> AppResult<Context> {
    use sea_orm::sea_query::{ExprTrait, JoinType};
    use sla_policy::Column as P;
    let holder = Alias::new("holder");
    let mut q = Query::select()
        .column((organization::Entity, organization::Column::Verified))
        .column((routing_rule::Entity, routing_rule::Column::DepartmentId))
        .column((holder.clone(), organization::Column::Name))
        .columns(
            [
                P::ReplyWorkingDays,
                P::OpinionWorkingDays,
                P::CloseWorkingDays,
                P::WarnBeforeWorkingHours,
            ]
            .map(|c| (sla_policy::Entity, c)),
        )
        .from(organization::Entity)
        .join(
            JoinType::LeftJoin,
            sla_policy::Entity,
            P::Category.eq(category),
        )
        .join(
            JoinType::LeftJoin,
            routing_rule::Entity,
            routing_rule::Column::Category.eq(category),
        )
        .join_as(
            JoinType::LeftJoin,
            organization::Entity,
            holder.clone(),
            Expr::col((holder.clone(), organization::Column::Id))
                .equals((routing_rule::Entity, routing_rule::Column::DepartmentId)),
        )
        .and_where(Expr::col((organization::Entity, organization::Column::Id)).eq(enterprise))
        .to_owned();
    let backend = conn.get_database_backend();
    q.expr(jobs::calendar::revision_for_write(backend, locked));
    let draw = numbering::draw(backend, Series::Appeal);
    let drawn = draw.is_some();
    if let Some(expr) = draw {
        q.expr(expr);
    }
    q.column((holder, organization::Column::ContactEmail));
    let known_at = if drawn { 10 } else { 9 };
    // The department's users come with it, one row each: the context is a derived table, so
    // its number is drawn once whatever their count.
    let context = Alias::new("context");
    let mut q = Query::select()
        .column((context.clone(), Asterisk))
        .from_subquery(q, context.clone())
        .to_owned();
    Known::select(
        &mut q,
        Expr::col((context.clone(), routing_rule::Column::DepartmentId)),
        Expr::col((context, organization::Column::ContactEmail)),
        Kind::AppealAssigned,
    );
    let rows = conn.query_all(&q).await?;
    let Some(row) = rows.first() else {
        return Ok(Context {
            verified: false,
            policy: Policy::of(None),
            routed: None,
            revision: None,
            number: None,
        });
    };
    let days: [Option<String>; 4] = [
        rows::get(row, 3)?,
        rows::get(row, 4)?,
        rows::get(row, 5)?,
        rows::get(row, 6)?,
    ];
    let policy = match &days {
        [Some(reply), Some(opinion), Some(close), Some(warn)] => {
            Policy::of_days(Some([reply, opinion, close, warn]))
        }
        _ => Policy::of(None),
    };
    let department: Option<Uuid> = rows::get(row, 1)?;
    let name: Option<String> = rows::get(row, 2)?;
    let routed = match department {
        Some(id) => Some(Routed {
            id,
            name: name.unwrap_or_default(),
            users: Known::from_rows(&rows, known_at, id, Kind::AppealAssigned)?,
        }),
        None => None,
    };
    let number = if drawn {
        Some(rows::get(row, 8)?)
    } else {
        None
    };
    Ok(Context {
        verified: rows::get(row, 0)?,
        policy,
        routed,
        revision: Some(rows::get(row, 7)?),
        number,
    })
}

/// The timeline line of `action` by `actor` on `a`.
fn event_row(
    a: &appeal::Model,
    actor: &AuthUser,
    now: DateTime<Utc>,
    action: AppealAction,
    from: Option<AppealStatus>,
    to: AppealStatus,
    note: Option<String>,
) -> Entry {
    Entry {
        subject: Subject::appeal(a.id),
        at: now,
        actor_id: Some(actor.id),
        actor_organization_id: actor.organization_id,
        holder_id: a.department_id,
        action: action.code().to_string(),
        from_status: from.map(AppealStatus::code),
        to_status: to.code(),
        note,
        to_holder_id: None,
        visibility: action.visibility(),
    }
}

async fn assign_to(
    conn: &impl ConnectionTrait,
    appeal: Uuid,
    department: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut batch = Batch::default();
    assign_into(&mut batch, appeal, department, now);
    Ok(batch.run(conn).await?)
}

/// As [`assign_to`], written with the batch.
fn assign_into(batch: &mut Batch, appeal: Uuid, department: Uuid, now: DateTime<Utc>) {
    use appeal_assignment::Column as A;
    batch.push(
        appeal_assignment::Entity::insert(appeal_assignment::ActiveModel {
            appeal_id: Set(appeal),
            department_id: Set(department),
            assigned_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([A::AppealId, A::DepartmentId])
                .do_nothing()
                .to_owned(),
        ),
    );
}

/// How many times a combined submission is computed again after the calendar changed under it
/// before it answers 503.
const CALENDAR_RETRIES: usize = 3;

/// [`submit`] outside a transaction, its write combined with those of concurrent submissions
/// (PostgreSQL; a submission without attachments or idempotency key, which need a
/// transaction): `db` is the pool. Its reads lock nothing; its write carries the calendar guard
/// and, when a calendar change committed between the two, is computed again with the new
/// calendar (the drawn number is then skipped, as a rolled-back submission skips it).
pub async fn submit_combined(
    db: &impl ConnectionTrait,
    calendars: &CalendarCache,
    combiner: &Combiner,
    actor: &AuthUser,
    now: DateTime<Utc>,
    input: NewAppeal,
) -> AppResult<AppealView> {
    let mut tries = 0;
    loop {
        match submit(db, calendars, Some(combiner), actor, now, input.clone()).await {
            Err(AppError::Busy { .. }) if tries < CALENDAR_RETRIES => tries += 1,
            answer => return answer,
        }
    }
}

/// Submits an appeal (a verified enterprise); a routing rule assigns it at once. In the
/// caller's transaction, or, with a `combiner`, as [`submit_combined`] describes (503 `Busy`
/// when the calendar changed under it).
pub async fn submit(
    conn: &impl ConnectionTrait,
    calendars: &CalendarCache,
    combiner: Option<&Combiner>,
    actor: &AuthUser,
    now: DateTime<Utc>,
    input: NewAppeal,
) -> AppResult<AppealView> {
    actor.require(&[Role::Enterprise])?;
    let enterprise = actor
        .organization_id
        .ok_or_else(|| AppError::forbidden("the user belongs to no enterprise"))?;
    let Context {
        verified,
        policy,
        routed,
        revision,
        number: drawn,
    } = submission_context(conn, enterprise, input.category, combiner.is_none()).await?;
    let department = routed.as_ref().map(|d| d.id);
    let (true, Some(revision)) = (verified, revision) else {
        return Err(AuthUser::not_verified());
    };
    let cal = &*calendars.for_write_at(conn, revision).await?;
    let mut c = Checks::new();
    let title = c.text("title", &input.title, TITLE_MAX);
    let content = c.text("content", &input.content, TEXT_MAX);
    c.finish()?;
    // An appeal filed into a chain shows in that office's lists and dashboard: only a chain the
    // enterprise is an active member of (an invitation does not count).
    if let Some(chain_id) = input.chain_id
        && !scope::is_active_member(conn, chain_id, enterprise).await?
    {
        return Err(AppError::invalid(
            "chain_id",
            "must be a chain the enterprise is an active member of",
        ));
    }
    let id = Uuid::now_v7();
    let number = match drawn {
        Some(n) => numbering::format(Series::Appeal, cal, now, n),
        None => numbering::next(conn, cal, now, Series::Appeal).await?,
    };
    let status = if department.is_some() {
        AppealStatus::Assigned
    } else {
        AppealStatus::Submitted
    };
    let row = appeal::ActiveModel {
        id: Set(id),
        number: Set(number),
        enterprise_id: Set(enterprise),
        submitted_by: Set(actor.id),
        chain_id: Set(input.chain_id),
        category: Set(input.category),
        title: Set(title),
        content: Set(content),
        status: Set(status),
        department_id: Set(department),
        assigned_at: Set(department.map(|_| now)),
        paused_from_status: Set(None),
        paused_at: Set(None),
        extension_working_days: Set("0".into()),
        pending_extension_days: Set(None),
        pending_extension_reason: Set(None),
        satisfaction: Set(None),
        satisfaction_comment: Set(None),
        reopen_count: Set(0),
        submitted_at: Set(now),
        resolved_at: Set(None),
        closed_at: Set(None),
        withdrawn_at: Set(None),
        close_working_seconds: Set(None),
        updated_at: Set(now),
    };
    // Every column is set, so the row is the stored appeal; it is written with its clocks,
    // timeline and notifications in one batch (one statement on PostgreSQL).
    let a = row.clone().try_into_model()?;
    let mut batch = Batch::default();
    batch.push(appeal::Entity::insert(row));
    let kinds = [ClockKind::Reply, ClockKind::Opinion, ClockKind::Close];
    let starts: Vec<NewClock> = kinds.into_iter().map(|k| policy.clock(k, 0)).collect();
    let clocks = clocks::start_into(&mut batch, cal, Subject::appeal(id), now, &starts, now)?;
    // The timeline's first line has no department yet; routing is its own line.
    let mut unrouted = a.clone();
    unrouted.department_id = None;
    let mut events = vec![event_row(
        &unrouted,
        actor,
        now,
        AppealAction::Submit,
        None,
        AppealStatus::Submitted,
        None,
    )];
    if department.is_some() {
        events.push(Entry {
            actor_id: None,
            actor_organization_id: None,
            holder_id: None,
            action: AppealAction::Assign.code().into(),
            from_status: Some(AppealStatus::Submitted.code()),
            to_status: AppealStatus::Assigned.code(),
            note: Some("按分派规则自动分派".into()),
            visibility: AppealAction::Assign.visibility(),
            to_holder_id: department,
            ..event_row(&a, actor, now, AppealAction::Assign, None, status, None)
        });
    }
    timeline::record_into(&mut batch, events);
    if let Some(dep) = routed {
        assign_into(&mut batch, id, dep.id, now);
        notify_department(
            conn,
            &mut batch,
            cal,
            now,
            &a,
            &clocks,
            (dep.id, Some((dep.name, dep.users))),
            Kind::AppealAssigned,
            None,
        )
        .await?;
    }
    let Some(combiner) = combiner else {
        batch.run(conn).await?;
        // Attached once the appeal exists (the files name it).
        let attachments =
            files::attach(conn, actor, Subject::appeal(id), &input.attachment_ids, now).await?;
        return Ok(view(a, clocks, attachments));
    };
    if !input.attachment_ids.is_empty() {
        return Err(AppError::Internal(anyhow::anyhow!(
            "a submission with attachments is written in a transaction"
        )));
    }
    match combiner
        .write(batch, Some(jobs::calendar::guard(revision)))
        .await
    {
        Err(e) if jobs::calendar::changed(&e) => Err(AppError::Busy {
            retry_after_secs: 1,
        }),
        written => {
            written?;
            Ok(view(a, clocks, Vec::new()))
        }
    }
}

/// Loads an appeal the caller may see (404 otherwise), locked for update on PostgreSQL.
async fn load_for_update(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<appeal::Model> {
    let mut q = appeal::Entity::find_by_id(id).filter(scope::appeals(actor));
    if conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(conn).await?.ok_or(AppError::NotFound)
}

/// One appeal the caller may see.
pub async fn get(conn: &impl ConnectionTrait, actor: &AuthUser, id: Uuid) -> AppResult<AppealView> {
    actor.require(&[
        Role::Admin,
        Role::ServiceCenter,
        Role::Department,
        Role::ChainOffice,
        Role::Enterprise,
    ])?;
    let a = rows::all::<appeal::Model>(
        conn,
        appeal::Entity::find_by_id(id).filter(scope::appeals(actor)),
    )
    .await?
    .pop()
    .ok_or(AppError::NotFound)?;
    let clocks = rows::all::<ListedClock>(
        conn,
        sla_clock::Entity::find().filter(sla_clock::of_subject(Subject::appeal(a.id))),
    )
    .await?;
    let attachments = files::of_subject(conn, Subject::appeal(a.id)).await?;
    Ok(view_of(
        a,
        clocks.into_iter().map(|c| c.view).collect(),
        attachments,
    ))
}

/// The timeline of an appeal the caller may see, oldest first.
pub async fn events(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<Vec<EventView>> {
    get(conn, actor, id).await?;
    let rows = super::timeline_read::lines(conn, actor, Subject::appeal(id)).await?;
    let departments: HashMap<Uuid, String> = organization::Entity::find()
        .filter(
            organization::Column::Id.is_in(
                rows.iter()
                    .flat_map(|e| [e.department_id, e.to_department_id])
                    .flatten()
                    .collect::<HashSet<_>>(),
            ),
        )
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let name = |d: Option<Uuid>| d.and_then(|d| departments.get(&d).cloned());
    Ok(rows
        .into_iter()
        .map(|e| EventView {
            id: e.id,
            at: e.at,
            actor_id: e.actor_id,
            action: e.action,
            from_status: e.from_status.as_deref().and_then(AppealStatus::from_code),
            to_status: AppealStatus::from_code(&e.to_status).unwrap_or(AppealStatus::Submitted),
            note: e.note,
            department_name: name(e.department_id),
            department_id: e.department_id,
            to_department_name: name(e.to_department_id),
            to_department_id: e.to_department_id,
            visibility: e.visibility,
        })
        .collect())
}

fn conflict(action: AppealAction, status: AppealStatus) -> AppError {
    AppError::conflict(
        "invalid_transition",
        format!(
            "{} is not allowed while the appeal is {}",
            action.code(),
            status.code()
        ),
    )
}

/// 403 unless the caller's department holds the appeal now.
fn ensure_holder(actor: &AuthUser, a: &appeal::Model) -> AppResult<()> {
    match a.department_id {
        Some(d) if actor.belongs_to(d) => Ok(()),
        _ => Err(AppError::forbidden(
            "only the department the appeal is assigned to may do this",
        )),
    }
}

fn text(field: &str, value: &str) -> AppResult<String> {
    let mut c = Checks::new();
    let v = c.text(field, value, TEXT_MAX);
    c.finish()?;
    Ok(v)
}

fn opt_text(field: &str, value: Option<&str>) -> AppResult<Option<String>> {
    let mut c = Checks::new();
    let v = c.opt_text(field, value, TEXT_MAX);
    c.finish()?;
    Ok(v)
}

/// Runs one action on an appeal: checks role, visibility and status, changes the appeal and
/// its clocks, writes the timeline event and queues the mails, all in the caller's transaction.
pub async fn act(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    rules: &Rules,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    act: Act,
) -> AppResult<AppealView> {
    actor.require(act.roles())?;
    let a = load_for_update(conn, actor, id).await?;
    let subject = Subject::appeal(a.id);
    let action = act.action();
    let from = a.status;
    let Some(mut to) = action.next(from) else {
        return Err(conflict(action, from));
    };
    if matches!(
        act,
        Act::Transfer(_)
            | Act::Return(_)
            | Act::Reply(_)
            | Act::Opinion(_)
            | Act::Resolve(_)
            | Act::RequestInfo(_)
            | Act::Extension(_)
    ) && actor.role == Role::Department
    {
        ensure_holder(actor, &a)?;
    }
    let mut am: appeal::ActiveModel = a.clone().into();
    let note: Option<String>;
    let mut to_department = None;
    let mut visibility = action.visibility();
    // Notifications are written after the appeal row is saved, so they read the new state.
    let mut after: Vec<Followup> = Vec::new();
    match act {
        Act::Assign(i) => {
            org_of_kind(conn, i.department_id, OrgKind::Department, "department_id").await?;
            note = opt_text("note", i.note.as_deref())?;
            am.department_id = Set(Some(i.department_id));
            am.assigned_at = Set(Some(now));
            assign_to(conn, a.id, i.department_id, now).await?;
            to_department = Some(i.department_id);
            after.push(Followup::Department(
                i.department_id,
                Kind::AppealAssigned,
                note.clone(),
            ));
        }
        Act::Transfer(i) => {
            let reason = text("reason", &i.reason)?;
            org_of_kind(conn, i.department_id, OrgKind::Department, "department_id").await?;
            if a.department_id == Some(i.department_id) {
                return Err(AppError::invalid(
                    "department_id",
                    "the appeal is already with this department",
                ));
            }
            am.department_id = Set(Some(i.department_id));
            am.assigned_at = Set(Some(now));
            assign_to(conn, a.id, i.department_id, now).await?;
            to_department = Some(i.department_id);
            after.push(Followup::Department(
                i.department_id,
                Kind::AppealTransferred,
                Some(reason.clone()),
            ));
            note = Some(reason);
        }
        Act::Return(i) => {
            let reason = text("reason", &i.reason)?;
            let since = a.assigned_at.unwrap_or(a.submitted_at);
            let window = rules.return_window.to_duration(cal.day_length());
            if cal.working_time_between(since, now) > window {
                return Err(AppError::conflict(
                    "return_window_passed",
                    format!(
                        "an appeal may be returned only within {} working days of its assignment",
                        rules.return_window
                    ),
                ));
            }
            am.department_id = Set(None);
            am.assigned_at = Set(None);
            note = Some(reason);
        }
        Act::Reply(i) => {
            let msg = text("message", &i.message)?;
            clocks::meet(conn, subject, &[ClockKind::Reply], now).await?;
            after.push(Followup::Enterprise(Kind::AppealReplied, msg.clone()));
            note = Some(msg);
        }
        Act::Opinion(i) => {
            let msg = text("message", &i.message)?;
            clocks::meet(conn, subject, &[ClockKind::Reply, ClockKind::Opinion], now).await?;
            after.push(Followup::Enterprise(Kind::AppealOpinion, msg.clone()));
            note = Some(msg);
        }
        Act::Resolve(i) => {
            let msg = text("message", &i.message)?;
            let open = clocks::of_subject(conn, subject).await?;
            if let Some(close) = open
                .iter()
                .filter(|c| c.kind == ClockKind::Close && is_open(c))
                .max_by_key(|c| c.round)
            {
                let worked = clocks::worked(cal, close, now);
                am.close_working_seconds = Set(Some(worked.num_seconds()));
            }
            let all = [ClockKind::Reply, ClockKind::Opinion, ClockKind::Close];
            clocks::meet(conn, subject, &all, now).await?;
            am.resolved_at = Set(Some(now));
            am.pending_extension_days = Set(None);
            am.pending_extension_reason = Set(None);
            after.push(Followup::Enterprise(Kind::AppealResolved, msg.clone()));
            note = Some(msg);
        }
        Act::RequestInfo(i) => {
            let msg = text("message", &i.message)?;
            clocks::pause(conn, subject, now).await?;
            am.paused_from_status = Set(Some(from));
            am.paused_at = Set(Some(now));
            after.push(Followup::Enterprise(Kind::AppealInfoRequested, msg.clone()));
            note = Some(msg);
        }
        Act::Supplement(i) => {
            let msg = text("message", &i.message)?;
            files::attach(conn, actor, subject, &i.attachment_ids, now).await?;
            clocks::resume(conn, cal, subject, now).await?;
            to = a.paused_from_status.unwrap_or(AppealStatus::Assigned);
            am.paused_from_status = Set(None);
            am.paused_at = Set(None);
            if let Some(dep) = a.department_id {
                after.push(Followup::Department(
                    dep,
                    Kind::AppealSupplemented,
                    Some(msg.clone()),
                ));
            }
            note = Some(msg);
        }
        Act::Extension(i) => {
            let reason = text("reason", &i.reason)?;
            if i.working_days == WorkingDays::ZERO {
                return Err(AppError::invalid("working_days", "must be more than 0"));
            }
            if a.pending_extension_days.is_some() {
                return Err(AppError::conflict(
                    "extension_pending",
                    "an extension request is already waiting for a decision",
                ));
            }
            am.pending_extension_days = Set(Some(i.working_days.to_string()));
            am.pending_extension_reason = Set(Some(reason.clone()));
            note = Some(format!("申请延期 {} 个工作日：{reason}", i.working_days));
        }
        Act::ExtensionDecision(i) => {
            let extra_note = opt_text("note", i.note.as_deref())?;
            let Some(days) = a.pending_extension_days.as_deref().map(days_of) else {
                return Err(AppError::conflict(
                    "no_extension_pending",
                    "there is no extension request to decide",
                ));
            };
            if i.approve {
                let close = clocks::of_subject(conn, subject)
                    .await?
                    .into_iter()
                    .filter(|c| c.kind == ClockKind::Close && is_open(c))
                    .max_by_key(|c| c.round);
                let Some(close) = close else {
                    return Err(AppError::conflict(
                        "no_open_close_clock",
                        "the close clock is already met",
                    ));
                };
                clocks::extend(conn, cal, close, days, now).await?;
                am.extension_working_days =
                    Set(
                        entity::sla::add_days(days_of(&a.extension_working_days), days).to_string(),
                    );
                // The enterprise sees that an extension was granted, not the officials' note.
                visibility = EventVisibility::Event;
            }
            am.pending_extension_days = Set(None);
            am.pending_extension_reason = Set(None);
            let verdict = if i.approve { "同意" } else { "不同意" };
            note = Some(match extra_note {
                Some(n) => format!("{verdict}延期 {days} 个工作日：{n}"),
                None => format!("{verdict}延期 {days} 个工作日"),
            });
        }
        Act::Rate(i) => {
            if !(1..=5).contains(&i.score) {
                return Err(AppError::invalid("score", "must be between 1 and 5"));
            }
            let comment = opt_text("comment", i.comment.as_deref())?;
            am.satisfaction = Set(Some(i.score));
            am.satisfaction_comment = Set(comment.clone());
            am.closed_at = Set(Some(now));
            note = Some(match comment {
                Some(c) => format!("评分 {}：{c}", i.score),
                None => format!("评分 {}", i.score),
            });
        }
        Act::Reopen(i) => {
            let reason = text("reason", &i.reason)?;
            let allowed = match from {
                AppealStatus::Resolved => {
                    let since = a.resolved_at.unwrap_or(a.updated_at);
                    cal.working_time_between(since, now)
                        <= rules.reopen_window.to_duration(cal.day_length())
                }
                _ => a.satisfaction.is_some_and(|s| s <= 2),
            };
            if !allowed {
                return Err(AppError::conflict(
                    "reopen_not_allowed",
                    format!(
                        "an appeal may be reopened within {} working days of its resolution, or after a rating of 2 or less",
                        rules.reopen_window
                    ),
                ));
            }
            let policy = policy(conn, a.category).await?;
            let round = a.reopen_count + 1;
            clocks::start(
                conn,
                cal,
                subject,
                now,
                &[policy.clock(ClockKind::Close, round)],
                now,
            )
            .await?;
            am.reopen_count = Set(round);
            am.resolved_at = Set(None);
            am.closed_at = Set(None);
            am.close_working_seconds = Set(None);
            am.assigned_at = Set(Some(now));
            if let Some(dep) = a.department_id {
                after.push(Followup::Department(
                    dep,
                    Kind::AppealReopened,
                    Some(reason.clone()),
                ));
            }
            note = Some(reason);
        }
        Act::Withdraw(i) => {
            note = opt_text("reason", i.reason.as_deref())?;
            let all = [ClockKind::Reply, ClockKind::Opinion, ClockKind::Close];
            clocks::cancel(conn, subject, &all, now).await?;
            am.withdrawn_at = Set(Some(now));
            am.paused_at = Set(None);
            am.paused_from_status = Set(None);
            am.pending_extension_days = Set(None);
            am.pending_extension_reason = Set(None);
        }
        Act::Supervise(i) => {
            let n = text("note", &i.note)?;
            let Some(dep) = a.department_id else {
                return Err(AppError::conflict(
                    "not_assigned",
                    "the appeal has no department to supervise yet",
                ));
            };
            let by_hand = Supervision {
                subject,
                clock_id: None,
                level: 1,
                source: SupervisionSource::Manual,
                holder_id: Some(dep),
                note: Some(n.clone()),
                created_by: Some(actor.id),
                at: now,
            };
            timeline::supervise(conn, vec![by_hand]).await?;
            after.push(Followup::Supervised(dep, n.clone()));
            note = Some(n);
        }
    }
    am.status = Set(to);
    am.updated_at = Set(now);
    let saved = am.update(conn).await?;
    let mut event = event_row(&a, actor, now, action, Some(from), to, note);
    event.visibility = visibility;
    event.to_holder_id = to_department;
    timeline::record(conn, vec![event]).await?;
    let clocks = clocks::of_subject(conn, subject).await?;
    send(conn, cal, now, &saved, &clocks, after).await?;
    let attachments = files::of_subject(conn, subject).await?;
    Ok(view(saved, clocks, attachments))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_may_be_spelled_with_a_zero_fraction() {
        let rate = |body: &str| serde_json::from_str::<RateInput>(body).map(|r| r.score);
        assert_eq!(rate(r#"{"score": 3}"#).ok(), Some(3));
        assert_eq!(rate(r#"{"score": 3.0}"#).ok(), Some(3));
        assert!(rate(r#"{"score": 3.5}"#).is_err());
        assert!(rate(r#"{"score": 1e300}"#).is_err());
        assert!(rate(r#"{"score": "3"}"#).is_err());
    }
}
