//! Appeals (诉求): submission with routing, every workflow action, the three SLA clocks and
//! their notifications. Each action is one transaction that changes the appeal, its clocks,
//! writes one timeline event and queues the mails it causes.

use super::{appeal_cache::AppealCache, chains::org_of_kind, validate::Checks};
use crate::{
    auth::{AuthUser, scope},
    error::{AppError, AppResult},
    pagination::{self, PageQuery},
    rows,
};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use entity::{
    appeal, appeal_assignment, appeal_event,
    calendar::Calendar,
    enums::{
        AppealCategory, AppealStatus, ClockKind, EventVisibility, OrgKind, Role, SupervisionSource,
    },
    organization, routing_rule,
    sla::{AppealAction, ClockSpec},
    sla_clock, sla_policy, supervision, user,
    working_days::WorkingDays,
};
use jobs::{
    calendar::CalendarLoader as CalendarCache,
    mail::{self, Template, recipients},
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select, Statement, TryIntoModel,
    sea_query::{Alias, Expr, Order, Query},
};
use serde::{Deserialize, Serialize};
use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};
use uuid::Uuid;

/// Longest accepted title, characters.
const TITLE_MAX: usize = 200;
/// Longest accepted free text (content, messages, reasons), characters.
const TEXT_MAX: usize = 10_000;
/// Clocks recomputed per statement batch after a calendar change.
const RECOMPUTE_BATCH: u64 = 1_000;

/// One SLA clock as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClockView {
    pub kind: ClockKind,
    pub kind_label: &'static str,
    /// 0 for the submission's clocks; a reopen adds a close clock of the next round.
    pub round: i32,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub started_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub due_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub met_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub breached_at: Option<DateTime<Utc>>,
    /// Waiting for the enterprise: the clock stands still.
    pub paused: bool,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub warned_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub escalated_at: Option<DateTime<Utc>>,
    /// Withdrawn before it was met.
    pub cancelled: bool,
    /// Met after its due time, or breached.
    pub late: bool,
}

impl ClockView {
    /// Met after its due time, or breached.
    pub(crate) fn is_late(
        due_at: DateTime<Utc>,
        met_at: Option<DateTime<Utc>>,
        breached_at: Option<DateTime<Utc>>,
    ) -> bool {
        breached_at.is_some() || met_at.is_some_and(|m| m > due_at)
    }
}

impl From<sla_clock::Model> for ClockView {
    fn from(c: sla_clock::Model) -> Self {
        let late = Self::is_late(c.due_at, c.met_at, c.breached_at);
        Self {
            kind: c.kind,
            kind_label: c.kind.label_zh(),
            round: c.round,
            started_at: c.start_at,
            due_at: c.due_at,
            met_at: c.met_at,
            breached_at: c.breached_at,
            paused: c.paused_at.is_some(),
            warned_at: c.warned_at,
            escalated_at: c.escalated_at,
            cancelled: c.cancelled_at.is_some(),
            late,
        }
    }
}

/// An extension asked by the department, waiting for the service centre.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PendingExtension {
    #[schema(value_type = String, example = "2")]
    pub working_days: WorkingDays,
    pub reason: Option<String>,
}

/// An appeal as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppealView {
    pub id: Uuid,
    /// Readable and unique, e.g. `SQ20261123-000123`.
    pub number: String,
    pub enterprise_id: Uuid,
    pub chain_id: Option<Uuid>,
    pub category: AppealCategory,
    pub category_label: &'static str,
    pub title: String,
    pub content: String,
    pub status: AppealStatus,
    pub status_label: &'static str,
    pub department_id: Option<Uuid>,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub submitted_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub assigned_at: Option<DateTime<Utc>>,
    pub clocks: Vec<ClockView>,
    /// Approved extensions of the close clock, working days.
    #[schema(value_type = String, example = "0")]
    pub extension_working_days: WorkingDays,
    pub pending_extension: Option<PendingExtension>,
    pub satisfaction: Option<i32>,
    pub satisfaction_comment: Option<String>,
    pub reopen_count: i32,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub resolved_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::option_utc")]
    pub withdrawn_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
}

/// A stored working-day amount (a normalized decimal string written by this code).
pub(crate) fn days_of(s: &str) -> WorkingDays {
    s.parse().unwrap_or(WorkingDays::ZERO)
}

fn view(a: appeal::Model, clocks: Vec<sla_clock::Model>) -> AppealView {
    view_of(a, clocks.into_iter().map(ClockView::from).collect())
}

fn view_of(a: appeal::Model, mut clocks: Vec<ClockView>) -> AppealView {
    clocks.sort_by_key(|c| (c.round, c.kind));
    AppealView {
        id: a.id,
        number: a.number,
        enterprise_id: a.enterprise_id,
        chain_id: a.chain_id,
        category: a.category,
        category_label: a.category.label_zh(),
        title: a.title,
        content: a.content,
        status: a.status,
        status_label: a.status.label_zh(),
        department_id: a.department_id,
        submitted_at: a.submitted_at,
        assigned_at: a.assigned_at,
        clocks,
        extension_working_days: days_of(&a.extension_working_days),
        pending_extension: a
            .pending_extension_days
            .as_deref()
            .map(|d| PendingExtension {
                working_days: days_of(d),
                reason: a.pending_extension_reason.clone(),
            }),
        satisfaction: a.satisfaction,
        satisfaction_comment: a.satisfaction_comment,
        reopen_count: a.reopen_count,
        resolved_at: a.resolved_at,
        closed_at: a.closed_at,
        withdrawn_at: a.withdrawn_at,
        updated_at: a.updated_at,
    }
}

/// One line of the timeline. An enterprise reads its own case without the officials' internal
/// lines (supervision, breaches, escalations, extension requests), without the notes of
/// assignments, transfers and returns, and without officials' user ids.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The user who acted; `None` for the SLA monitor, and for an enterprise reading an
    /// official's action.
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub from_status: Option<AppealStatus>,
    pub to_status: AppealStatus,
    pub note: Option<String>,
    /// The department holding the appeal when it happened.
    pub department_id: Option<Uuid>,
    pub department_name: Option<String>,
    /// Where an `assign` or `transfer` sent the appeal.
    pub to_department_id: Option<Uuid>,
    pub to_department_name: Option<String>,
    /// `public`, `event` (shown without its note to the enterprise) or `internal`
    /// (officials only).
    pub visibility: EventVisibility,
}

/// `POST /appeals`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAppeal {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$"
    )]
    pub title: String,
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$"
    )]
    pub content: String,
    pub category: AppealCategory,
    /// A chain the enterprise is a member of.
    pub chain_id: Option<Uuid>,
}

/// `GET /appeals` filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct AppealFilter {
    pub status: Option<AppealStatus>,
    pub category: Option<AppealCategory>,
    pub chain_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub enterprise_id: Option<Uuid>,
    /// `true`: only appeals with a breached clock; `false`: only those without.
    pub breached: Option<bool>,
    /// Only appeals with an unmet clock due before this instant (RFC 3339) or date (midnight
    /// in the calendar's time zone), from 1900-01-01 to 9999-12-31.
    #[param(schema_with = crate::openapi::instant_or_date)]
    pub due_before: Option<String>,
}

/// `assign`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// An organization of kind `department`.
    pub department_id: Uuid,
    #[schema(
        max_length = 10000,
        pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$"
    )]
    pub note: Option<String>,
}

/// `transfer`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferInput {
    /// An organization of kind `department`, not the one holding the appeal.
    pub department_id: Uuid,
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$"
    )]
    pub reason: String,
}

/// `return`, `reopen`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$"
    )]
    pub reason: String,
}

/// `withdraw`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionalReasonInput {
    #[schema(
        max_length = 10000,
        pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$"
    )]
    pub reason: Option<String>,
}

/// `reply`, `opinion`, `resolve`, `request_info`, `supplement`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageInput {
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$"
    )]
    pub message: String,
}

/// `extension`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionInput {
    #[schema(schema_with = crate::openapi::positive_working_days)]
    pub working_days: WorkingDays,
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$"
    )]
    pub reason: String,
}

/// `extension_decision`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionDecisionInput {
    pub approve: bool,
    #[schema(
        max_length = 10000,
        pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$"
    )]
    pub note: Option<String>,
}

/// `rate`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateInput {
    #[schema(minimum = 1, maximum = 5)]
    #[serde(deserialize_with = "integral")]
    pub score: i32,
    #[schema(
        max_length = 10000,
        pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$"
    )]
    pub comment: Option<String>,
}

/// An integer, also when JSON spells it with a zero fraction (`3.0`), as JSON Schema's
/// `integer` admits.
fn integral<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    use serde::de::Error;
    let n = serde_json::Number::deserialize(d)?;
    n.as_i64()
        .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
        .and_then(|i| i32::try_from(i).ok())
        .ok_or_else(|| D::Error::custom(format!("invalid value: {n}, expected an integer")))
}

/// `supervise`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuperviseInput {
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$"
    )]
    pub note: String,
}

/// An action with its parsed body.
#[derive(Debug)]
pub enum Act {
    Assign(AssignInput),
    Transfer(TransferInput),
    Return(ReasonInput),
    Reply(MessageInput),
    Opinion(MessageInput),
    Resolve(MessageInput),
    RequestInfo(MessageInput),
    Supplement(MessageInput),
    Extension(ExtensionInput),
    ExtensionDecision(ExtensionDecisionInput),
    Rate(RateInput),
    Reopen(ReasonInput),
    Withdraw(OptionalReasonInput),
    Supervise(SuperviseInput),
}

impl Act {
    fn action(&self) -> AppealAction {
        match self {
            Self::Assign(_) => AppealAction::Assign,
            Self::Transfer(_) => AppealAction::Transfer,
            Self::Return(_) => AppealAction::Return,
            Self::Reply(_) => AppealAction::Reply,
            Self::Opinion(_) => AppealAction::Opinion,
            Self::Resolve(_) => AppealAction::Resolve,
            Self::RequestInfo(_) => AppealAction::RequestInfo,
            Self::Supplement(_) => AppealAction::Supplement,
            Self::Extension(_) => AppealAction::Extension,
            Self::ExtensionDecision(_) => AppealAction::ExtensionDecision,
            Self::Rate(_) => AppealAction::Rate,
            Self::Reopen(_) => AppealAction::Reopen,
            Self::Withdraw(_) => AppealAction::Withdraw,
            Self::Supervise(_) => AppealAction::Supervise,
        }
    }

    /// Who may take the action (before looking at the appeal).
    fn roles(&self) -> &'static [Role] {
        match self {
            Self::Assign(_) | Self::ExtensionDecision(_) | Self::Supervise(_) => {
                &[Role::ServiceCenter]
            }
            Self::Transfer(_) => &[Role::Department, Role::ServiceCenter],
            Self::Return(_)
            | Self::Reply(_)
            | Self::Opinion(_)
            | Self::Resolve(_)
            | Self::RequestInfo(_)
            | Self::Extension(_) => &[Role::Department],
            Self::Supplement(_) | Self::Rate(_) | Self::Reopen(_) | Self::Withdraw(_) => {
                &[Role::Enterprise]
            }
        }
    }
}

/// Windows the workflow enforces.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// A department may return an appeal only this long after its assignment.
    pub return_window: WorkingDays,
    /// A resolved appeal may be reopened this long after the resolution.
    pub reopen_window: WorkingDays,
}

/// The current SLA policy of a category (defaults when the row is missing).
pub struct Policy {
    pub reply: WorkingDays,
    pub opinion: WorkingDays,
    pub close: WorkingDays,
    pub warn_before_hours: WorkingDays,
}

impl Policy {
    fn of(row: Option<&sla_policy::Model>) -> Self {
        Self::of_days(row.map(|p| {
            [
                p.reply_working_days.as_str(),
                p.opinion_working_days.as_str(),
                p.close_working_days.as_str(),
                p.warn_before_working_hours.as_str(),
            ]
        }))
    }

    /// From a policy row's reply, opinion, close and warning amounts; `None`: no row, the
    /// defaults 1/3/5 days and 2 hours.
    fn of_days(days: Option<[&str; 4]>) -> Self {
        match days {
            Some([reply, opinion, close, warn]) => Self {
                reply: days_of(reply),
                opinion: days_of(opinion),
                close: days_of(close),
                warn_before_hours: days_of(warn),
            },
            None => Self {
                reply: WorkingDays::from_int(1),
                opinion: WorkingDays::from_int(3),
                close: WorkingDays::from_int(5),
                warn_before_hours: WorkingDays::from_int(2),
            },
        }
    }

    fn target(&self, kind: ClockKind) -> WorkingDays {
        match kind {
            ClockKind::Reply => self.reply,
            ClockKind::Opinion => self.opinion,
            ClockKind::Close => self.close,
        }
    }
}

async fn policy(conn: &impl ConnectionTrait, category: AppealCategory) -> AppResult<Policy> {
    let row = sla_policy::Entity::find_by_id(category).one(conn).await?;
    Ok(Policy::of(row.as_ref()))
}

/// What a submission reads before it writes, in one statement: whether the enterprise is
/// verified, the category's SLA policy and the department its routing rule names.
async fn submission_context(
    conn: &impl ConnectionTrait,
    enterprise: Uuid,
    category: AppealCategory,
) -> AppResult<(bool, Policy, Option<Uuid>)> {
    use sea_orm::sea_query::JoinType;
    use sla_policy::Column as P;
    let q = Query::select()
        .column((organization::Entity, organization::Column::Verified))
        .column((routing_rule::Entity, routing_rule::Column::DepartmentId))
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
        .and_where(organization::Column::Id.eq(enterprise))
        .to_owned();
    let Some(row) = conn.query_one(&q).await? else {
        return Ok((false, Policy::of(None), None));
    };
    let days: [Option<String>; 4] = [
        rows::get(&row, 2)?,
        rows::get(&row, 3)?,
        rows::get(&row, 4)?,
        rows::get(&row, 5)?,
    ];
    let policy = match &days {
        [Some(reply), Some(opinion), Some(close), Some(warn)] => {
            Policy::of_days(Some([reply, opinion, close, warn]))
        }
        _ => Policy::of(None),
    };
    Ok((rows::get(&row, 0)?, policy, rows::get(&row, 1)?))
}

/// The next appeal number for a submission at `now` (local date of `cal`).
async fn next_number(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let backend = conn.get_database_backend();
    let n: i64 = match backend {
        DbBackend::Postgres => {
            let row = conn
                .query_one_raw(Statement::from_string(
                    backend,
                    "SELECT nextval('appeal_number_seq') AS n",
                ))
                .await?
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("nextval returned nothing")))?;
            row.try_get("", "n")?
        }
        _ => {
            let row = conn
                .query_one_raw(Statement::from_string(
                    backend,
                    "UPDATE appeal_number_seq SET value = value + 1 WHERE id = 1 RETURNING value",
                ))
                .await?
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("appeal counter missing")))?;
            row.try_get("", "value")?
        }
    };
    let date: NaiveDate = now.with_timezone(&cal.settings().time_zone).date_naive();
    Ok(format!("SQ{}-{n:06}", date.format("%Y%m%d")))
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
) -> appeal_event::ActiveModel {
    appeal_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        appeal_id: Set(a.id),
        at: Set(now),
        actor_id: Set(Some(actor.id)),
        actor_organization_id: Set(actor.organization_id),
        department_id: Set(a.department_id),
        action: Set(action.code().to_string()),
        from_status: Set(from),
        to_status: Set(to),
        note: Set(note),
        visibility: Set(action.visibility()),
        to_department_id: Set(None),
    }
}

fn clock_row(
    cal: &Calendar,
    appeal_id: Uuid,
    kind: ClockKind,
    round: i32,
    start: DateTime<Utc>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> sla_clock::ActiveModel {
    let spec = ClockSpec {
        start,
        target: policy.target(kind),
        extension: WorkingDays::ZERO,
        paused: TimeDelta::zero(),
        warn_before_hours: policy.warn_before_hours,
    };
    let times = spec.times(cal);
    sla_clock::ActiveModel {
        id: Set(Uuid::now_v7()),
        appeal_id: Set(appeal_id),
        kind: Set(kind),
        round: Set(round),
        start_at: Set(start),
        target_working_days: Set(spec.target.to_string()),
        extension_working_days: Set("0".into()),
        warn_before_working_hours: Set(spec.warn_before_hours.to_string()),
        paused_working_seconds: Set(0),
        paused_at: Set(None),
        due_at: Set(times.due_at),
        warn_at: Set(times.warn_at),
        met_at: Set(None),
        warned_at: Set(None),
        breached_at: Set(None),
        escalate_at: Set(None),
        escalated_at: Set(None),
        cancelled_at: Set(None),
        updated_at: Set(now),
    }
}

/// The stored inputs of a clock.
fn spec_of(c: &sla_clock::Model) -> ClockSpec {
    ClockSpec {
        start: c.start_at,
        target: days_of(&c.target_working_days),
        extension: days_of(&c.extension_working_days),
        paused: TimeDelta::seconds(c.paused_working_seconds),
        warn_before_hours: days_of(&c.warn_before_working_hours),
    }
}

async fn clocks_of(conn: &impl ConnectionTrait, appeal: Uuid) -> AppResult<Vec<sla_clock::Model>> {
    Ok(rows::all(
        conn,
        sla_clock::Entity::find()
            .filter(sla_clock::Column::AppealId.eq(appeal))
            .order_by_asc(sla_clock::Column::Round)
            .order_by_asc(sla_clock::Column::Kind),
    )
    .await?)
}

fn is_open(c: &sla_clock::Model) -> bool {
    c.met_at.is_none() && c.cancelled_at.is_none()
}

/// Saves a clock with new inputs and the due/warning times they give.
async fn reschedule(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    c: sla_clock::Model,
    spec: ClockSpec,
    paused_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let times = spec.times(cal);
    // A breach stays a fact; its pending escalation follows the clock.
    let escalate_at = (c.breached_at.is_some() && c.escalated_at.is_none())
        .then_some(times.escalate_at)
        .or(c.escalate_at);
    let mut am: sla_clock::ActiveModel = c.into();
    am.extension_working_days = Set(spec.extension.to_string());
    am.paused_working_seconds = Set(spec.paused.num_seconds());
    am.paused_at = Set(paused_at);
    am.due_at = Set(times.due_at);
    am.warn_at = Set(times.warn_at);
    am.escalate_at = Set(escalate_at);
    am.updated_at = Set(now);
    am.update(conn).await?;
    Ok(())
}

/// Local "YYYY-MM-DD HH:MM" of an instant, for mails.
fn local(cal: &Calendar, t: DateTime<Utc>) -> String {
    t.with_timezone(&cal.settings().time_zone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Mails a department (held until working hours).
async fn mail_department(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
    department: Uuid,
    template: impl FnOnce(String) -> Template,
) -> AppResult<()> {
    let Some(org) = organization::Entity::find_by_id(department)
        .one(conn)
        .await?
    else {
        return Ok(());
    };
    let to = recipients::addresses(conn, &org).await?;
    let t = template(org.name);
    for addr in to {
        mail::enqueue_for_office(conn, cal, now, &addr, &t).await?;
    }
    Ok(())
}

/// Tells the enterprise what happened (sent at once): to the submitting user's e-mail, or the
/// enterprise's contacts.
async fn mail_enterprise(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    a: &appeal::Model,
    action_label: &str,
    message: &str,
) -> AppResult<()> {
    let enterprise = organization::Entity::find_by_id(a.enterprise_id)
        .one(conn)
        .await?;
    let submitter = user::Entity::find_by_id(a.submitted_by).one(conn).await?;
    let to = match submitter
        .and_then(|u| u.email)
        .filter(|e| !e.trim().is_empty())
    {
        Some(e) => vec![e],
        None => recipients::of_organization(conn, a.enterprise_id).await?,
    };
    let t = Template::AppealUpdate {
        enterprise_name: enterprise.map(|o| o.name).unwrap_or_default(),
        number: a.number.clone(),
        title: a.title.clone(),
        action_label: action_label.to_string(),
        message: message.to_string(),
    };
    for addr in to {
        mail::enqueue(conn, now, &addr, &t).await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn mail_assigned(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
    a: &appeal::Model,
    clocks: &[sla_clock::Model],
    department: Uuid,
    action_label: &str,
    note: Option<String>,
) -> AppResult<()> {
    let due = |k: ClockKind| {
        clocks
            .iter()
            .filter(|c| c.kind == k && is_open(c))
            .max_by_key(|c| c.round)
            .map(|c| local(cal, c.due_at))
            .unwrap_or_else(|| "—".into())
    };
    let (reply_due, close_due) = (due(ClockKind::Reply), due(ClockKind::Close));
    let (number, title) = (a.number.clone(), a.title.clone());
    let category_label = a.category.label_zh().to_string();
    let action_label = action_label.to_string();
    mail_department(conn, cal, now, department, move |department_name| {
        Template::AppealAssigned {
            department_name,
            number,
            title,
            category_label,
            action_label,
            reply_due,
            close_due,
            note,
        }
    })
    .await
}

async fn assign_to(
    conn: &impl ConnectionTrait,
    appeal: Uuid,
    department: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    appeal_assignment::Entity::insert(appeal_assignment::ActiveModel {
        appeal_id: Set(appeal),
        department_id: Set(department),
        assigned_at: Set(now),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Submits an appeal (a verified enterprise); a routing rule assigns it at once.
pub async fn submit(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    actor: &AuthUser,
    now: DateTime<Utc>,
    input: NewAppeal,
) -> AppResult<AppealView> {
    actor.require(&[Role::Enterprise])?;
    let enterprise = actor
        .organization_id
        .ok_or_else(|| AppError::forbidden("the user belongs to no enterprise"))?;
    let (verified, policy, department) =
        submission_context(conn, enterprise, input.category).await?;
    if !verified {
        return Err(AuthUser::not_verified());
    }
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
    let number = next_number(conn, cal, now).await?;
    let status = if department.is_some() {
        AppealStatus::Assigned
    } else {
        AppealStatus::Submitted
    };
    let a = appeal::ActiveModel {
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
    }
    .insert(conn)
    .await?;
    let rows: Vec<sla_clock::ActiveModel> =
        [ClockKind::Reply, ClockKind::Opinion, ClockKind::Close]
            .into_iter()
            .map(|k| clock_row(cal, id, k, 0, now, &policy, now))
            .collect();
    // Every column is set, so the rows are the stored clocks: no read back.
    let clocks = rows
        .iter()
        .cloned()
        .map(TryIntoModel::try_into_model)
        .collect::<Result<Vec<sla_clock::Model>, _>>()?;
    sla_clock::Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await?;
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
        events.push(appeal_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            appeal_id: Set(id),
            at: Set(now),
            actor_id: Set(None),
            actor_organization_id: Set(None),
            department_id: Set(None),
            action: Set(AppealAction::Assign.code().into()),
            from_status: Set(Some(AppealStatus::Submitted)),
            to_status: Set(AppealStatus::Assigned),
            note: Set(Some("按分派规则自动分派".into())),
            visibility: Set(AppealAction::Assign.visibility()),
            to_department_id: Set(department),
        });
    }
    appeal_event::Entity::insert_many(events)
        .exec_without_returning(conn)
        .await?;
    if let Some(dep) = department {
        assign_to(conn, id, dep, now).await?;
        mail_assigned(conn, cal, now, &a, &clocks, dep, "分派", None).await?;
    }
    Ok(view(a, clocks))
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
    let clocks = rows::all::<rows::ListedClock>(
        conn,
        sla_clock::Entity::find().filter(sla_clock::Column::AppealId.eq(a.id)),
    )
    .await?;
    Ok(view_of(a, clocks.into_iter().map(|c| c.view).collect()))
}

fn parse_due_before(s: &str, cal: &Calendar) -> AppResult<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return super::validate::instant_in_range("due_before", t.with_timezone(&Utc));
    }
    let bad = || AppError::BadRequest("due_before must be an RFC 3339 instant or a date".into());
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?;
    // The date is in range, not its midnight in UTC: 1900-01-01 in Shanghai is 1899 in UTC.
    super::validate::date_in_range("due_before", d)?
        .and_hms_opt(0, 0, 0)
        .and_then(|t| {
            t.and_local_timezone(cal.settings().time_zone)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        })
        .ok_or_else(bad)
}

/// The appeals the caller may see, filtered.
async fn filtered(
    conn: &impl ConnectionTrait,
    calendar: &CalendarCache,
    now: DateTime<Utc>,
    actor: &AuthUser,
    f: &AppealFilter,
) -> AppResult<Select<appeal::Entity>> {
    actor.require(&[
        Role::Admin,
        Role::ServiceCenter,
        Role::Department,
        Role::ChainOffice,
        Role::Enterprise,
    ])?;
    let mut q = appeal::Entity::find().filter(scope::appeals(actor));
    if let Some(s) = f.status {
        q = q.filter(appeal::Column::Status.eq(s));
    }
    if let Some(c) = f.category {
        q = q.filter(appeal::Column::Category.eq(c));
    }
    if let Some(c) = f.chain_id {
        q = q.filter(appeal::Column::ChainId.eq(c));
    }
    if let Some(d) = f.department_id {
        q = q.filter(appeal::Column::DepartmentId.eq(d));
    }
    if let Some(e) = f.enterprise_id {
        q = q.filter(appeal::Column::EnterpriseId.eq(e));
    }
    if let Some(b) = f.breached {
        // Late even before the monitor's next pass records the breach: met after the due
        // time, or still running past it.
        use sea_orm::sea_query::ExprTrait;
        let running_late = Condition::all()
            .add(sla_clock::Column::MetAt.is_null())
            .add(sla_clock::Column::CancelledAt.is_null())
            .add(sla_clock::Column::PausedAt.is_null())
            .add(sla_clock::Column::DueAt.lt(now));
        let breached = Query::select()
            .column(sla_clock::Column::AppealId)
            .from(sla_clock::Entity)
            .cond_where(
                Condition::any()
                    .add(sla_clock::Column::BreachedAt.is_not_null())
                    .add(
                        Expr::col(sla_clock::Column::MetAt).gt(Expr::col(sla_clock::Column::DueAt)),
                    )
                    .add(running_late),
            )
            .to_owned();
        q = if b {
            q.filter(appeal::Column::Id.in_subquery(breached))
        } else {
            q.filter(appeal::Column::Id.not_in_subquery(breached))
        };
    }
    if let Some(s) = f.due_before.as_deref() {
        // The calendar (one more query) only matters for a date in its time zone.
        let cal = calendar.current(conn).await?;
        let before = parse_due_before(s, &cal)?;
        q = q.filter(
            appeal::Column::Id.in_subquery(
                Query::select()
                    .column(sla_clock::Column::AppealId)
                    .from(sla_clock::Entity)
                    .and_where(sla_clock::Column::MetAt.is_null())
                    .and_where(sla_clock::Column::CancelledAt.is_null())
                    .and_where(sla_clock::Column::DueAt.lt(before))
                    .to_owned(),
            ),
        );
    }
    Ok(q)
}

/// An appeal's validator (see [`super::appeal_cache`]): its row version plus its clocks', for
/// the appeal `p.id` of the page.
const VALIDATOR: &str = "CAST(p.version + COALESCE((SELECT SUM(c.version) FROM sla_clocks c \
     WHERE c.appeal_id = p.id), 0) AS BIGINT)";

/// The page of appeals the caller may see, filtered, oldest first, as the JSON of a
/// `Page<AppealView>`. One statement reads the page's ids and validators; the items still
/// current in `cache` are reused as they are, the others rendered from their rows and kept.
pub async fn list_json(
    conn: &impl ConnectionTrait,
    calendar: &CalendarCache,
    cache: &AppealCache,
    now: DateTime<Utc>,
    actor: &AuthUser,
    f: &AppealFilter,
    page: &PageQuery,
) -> AppResult<Vec<u8>> {
    let q = filtered(conn, calendar, now, actor, f).await?;
    let (page_select, limit) = pagination::page_of(q, appeal::Column::Id, page)?;
    // The validators are computed over the page only, outside the filtered and limited select,
    // so no plan can compute them for rows the page does not keep.
    let ids = page_select
        .select_only()
        .column(appeal::Column::Id)
        .expr(Expr::col((appeal::Entity, Alias::new("version"))))
        .into_query();
    let p = Alias::new("p");
    let keyed = Query::select()
        .column((p.clone(), Alias::new("id")))
        .expr(Expr::cust(VALIDATOR))
        .from_subquery(ids, p.clone())
        .order_by((p, Alias::new("id")), Order::Asc)
        .to_owned();
    let mut keys = Vec::new();
    for row in conn.query_all(&keyed).await? {
        keys.push((rows::get::<Uuid>(&row, 0)?, rows::get::<i64>(&row, 1)?));
    }
    let page = pagination::finish(keys, limit, |k| k.0);
    let mut items: Vec<Option<Arc<[u8]>>> = page
        .items
        .iter()
        .map(|&(id, validator)| cache.get(id, validator))
        .collect();
    let missing: Vec<Uuid> = page
        .items
        .iter()
        .zip(&items)
        .filter(|(_, item)| item.is_none())
        .map(|(k, _)| k.0)
        .collect();
    if !missing.is_empty() {
        let mut rendered = render(conn, cache, missing).await?;
        for (slot, k) in items.iter_mut().zip(&page.items) {
            if slot.is_none() {
                *slot = rendered.remove(&k.0);
            }
        }
    }
    let items: Vec<Arc<[u8]>> = items.into_iter().flatten().collect();
    let mut body = Vec::with_capacity(64 + items.iter().map(|i| i.len() + 1).sum::<usize>());
    body.extend_from_slice(br#"{"items":["#);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item);
    }
    body.extend_from_slice(br#"],"next_cursor":"#);
    serde_json::to_writer(&mut body, &page.next_cursor).map_err(anyhow::Error::from)?;
    body.push(b'}');
    Ok(body)
}

/// Renders the list items of appeals `ids` and keeps each in `cache` under the validator of
/// the rows it was rendered from. The appeals and the clocks are two statements, so a change
/// committed between them can mix two states, as any two-statement read can; the validator is
/// summed from exactly the rows read, so once those writes are committed a reader sees a
/// larger validator than the mix's and renders again.
async fn render(
    conn: &impl ConnectionTrait,
    cache: &AppealCache,
    ids: Vec<Uuid>,
) -> AppResult<HashMap<Uuid, Arc<[u8]>>> {
    let appeals = rows::all_versioned::<appeal::Model>(
        conn,
        appeal::Entity::find().filter(appeal::Column::Id.is_in(ids.iter().copied())),
    )
    .await?;
    let mut clocks: HashMap<Uuid, (Vec<ClockView>, i64)> = HashMap::with_capacity(ids.len());
    for (c, version) in rows::all_versioned::<rows::ListedClock>(
        conn,
        sla_clock::Entity::find().filter(sla_clock::Column::AppealId.is_in(ids)),
    )
    .await?
    {
        let entry = clocks.entry(c.appeal_id).or_default();
        entry.0.push(c.view);
        entry.1 += version;
    }
    let mut out = HashMap::with_capacity(appeals.len());
    for (a, version) in appeals {
        let (views, clock_versions) = clocks.remove(&a.id).unwrap_or_default();
        let id = a.id;
        let json: Arc<[u8]> = serde_json::to_vec(&view_of(a, views))
            .map_err(anyhow::Error::from)?
            .into();
        cache.put(id, version + clock_versions, json.clone());
        out.insert(id, json);
    }
    Ok(out)
}

/// The timeline of an appeal the caller may see, oldest first.
pub async fn events(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<Vec<EventView>> {
    get(conn, actor, id).await?;
    let enterprise = (actor.role == Role::Enterprise).then_some(actor.organization_id);
    let mut find = appeal_event::Entity::find().filter(appeal_event::Column::AppealId.eq(id));
    if enterprise.is_some() {
        find = find.filter(appeal_event::Column::Visibility.ne(EventVisibility::Internal));
    }
    let rows = find
        .order_by_asc(appeal_event::Column::Id)
        .all(conn)
        .await?;
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
        .map(|e| {
            let (actor_id, note) = match enterprise {
                None => (e.actor_id, e.note),
                Some(own) => (
                    e.actor_id.filter(|_| e.actor_organization_id == own),
                    e.note.filter(|_| e.visibility == EventVisibility::Public),
                ),
            };
            EventView {
                id: e.id,
                at: e.at,
                actor_id,
                action: e.action,
                from_status: e.from_status,
                to_status: e.to_status,
                note,
                department_name: name(e.department_id),
                department_id: e.department_id,
                to_department_name: name(e.to_department_id),
                to_department_id: e.to_department_id,
                visibility: e.visibility,
            }
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

/// Marks the open clocks of `kinds` met at `now`.
async fn meet(
    conn: &impl ConnectionTrait,
    appeal: Uuid,
    kinds: &[ClockKind],
    now: DateTime<Utc>,
) -> AppResult<()> {
    sla_clock::Entity::update_many()
        .col_expr(sla_clock::Column::MetAt, Expr::val(now))
        .col_expr(sla_clock::Column::UpdatedAt, Expr::val(now))
        .filter(sla_clock::Column::AppealId.eq(appeal))
        .filter(sla_clock::Column::Kind.is_in(kinds.iter().copied()))
        .filter(sla_clock::Column::MetAt.is_null())
        .filter(sla_clock::Column::CancelledAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
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
    // Mails are queued after the appeal row is saved, so they read the new state.
    let mut after: Vec<Followup> = Vec::new();
    match act {
        Act::Assign(i) => {
            org_of_kind(conn, i.department_id, OrgKind::Department, "department_id").await?;
            note = opt_text("note", i.note.as_deref())?;
            am.department_id = Set(Some(i.department_id));
            am.assigned_at = Set(Some(now));
            assign_to(conn, a.id, i.department_id, now).await?;
            to_department = Some(i.department_id);
            after.push(Followup::Assigned(i.department_id, "分派", note.clone()));
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
            after.push(Followup::Assigned(
                i.department_id,
                "转办",
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
            meet(conn, a.id, &[ClockKind::Reply], now).await?;
            after.push(Followup::Enterprise("已响应", msg.clone()));
            note = Some(msg);
        }
        Act::Opinion(i) => {
            let msg = text("message", &i.message)?;
            meet(conn, a.id, &[ClockKind::Reply, ClockKind::Opinion], now).await?;
            after.push(Followup::Enterprise("已出具意见", msg.clone()));
            note = Some(msg);
        }
        Act::Resolve(i) => {
            let msg = text("message", &i.message)?;
            let clocks = clocks_of(conn, a.id).await?;
            if let Some(close) = clocks
                .iter()
                .filter(|c| c.kind == ClockKind::Close && is_open(c))
                .max_by_key(|c| c.round)
            {
                let worked = cal.working_time_between(close.start_at, now)
                    - TimeDelta::seconds(close.paused_working_seconds);
                am.close_working_seconds = Set(Some(worked.num_seconds().max(0)));
            }
            meet(
                conn,
                a.id,
                &[ClockKind::Reply, ClockKind::Opinion, ClockKind::Close],
                now,
            )
            .await?;
            am.resolved_at = Set(Some(now));
            am.pending_extension_days = Set(None);
            am.pending_extension_reason = Set(None);
            after.push(Followup::Enterprise("已办结", msg.clone()));
            note = Some(msg);
        }
        Act::RequestInfo(i) => {
            let msg = text("message", &i.message)?;
            sla_clock::Entity::update_many()
                .col_expr(sla_clock::Column::PausedAt, Expr::val(now))
                .col_expr(sla_clock::Column::UpdatedAt, Expr::val(now))
                .filter(sla_clock::Column::AppealId.eq(a.id))
                .filter(sla_clock::Column::MetAt.is_null())
                .filter(sla_clock::Column::CancelledAt.is_null())
                .exec(conn)
                .await?;
            am.paused_from_status = Set(Some(from));
            am.paused_at = Set(Some(now));
            after.push(Followup::Enterprise("需补充材料", msg.clone()));
            note = Some(msg);
        }
        Act::Supplement(i) => {
            let msg = text("message", &i.message)?;
            for c in clocks_of(conn, a.id).await? {
                let Some(paused_at) = c.paused_at else {
                    continue;
                };
                let mut spec = spec_of(&c);
                spec.paused += cal
                    .working_time_between(paused_at, now)
                    .max(TimeDelta::zero());
                reschedule(conn, cal, c, spec, None, now).await?;
            }
            to = a.paused_from_status.unwrap_or(AppealStatus::Assigned);
            am.paused_from_status = Set(None);
            am.paused_at = Set(None);
            if let Some(dep) = a.department_id {
                after.push(Followup::Assigned(dep, "企业补充材料", Some(msg.clone())));
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
                let close = clocks_of(conn, a.id)
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
                let mut spec = spec_of(&close);
                spec.extension = entity::sla::add_days(spec.extension, days);
                let paused_at = close.paused_at;
                reschedule(conn, cal, close, spec, paused_at, now).await?;
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
            clock_row(cal, a.id, ClockKind::Close, round, now, &policy, now)
                .insert(conn)
                .await?;
            am.reopen_count = Set(round);
            am.resolved_at = Set(None);
            am.closed_at = Set(None);
            am.close_working_seconds = Set(None);
            am.assigned_at = Set(Some(now));
            if let Some(dep) = a.department_id {
                after.push(Followup::Assigned(dep, "重办", Some(reason.clone())));
            }
            note = Some(reason);
        }
        Act::Withdraw(i) => {
            note = opt_text("reason", i.reason.as_deref())?;
            sla_clock::Entity::update_many()
                .col_expr(sla_clock::Column::CancelledAt, Expr::val(now))
                .col_expr(sla_clock::Column::UpdatedAt, Expr::val(now))
                .filter(sla_clock::Column::AppealId.eq(a.id))
                .filter(sla_clock::Column::MetAt.is_null())
                .filter(sla_clock::Column::CancelledAt.is_null())
                .exec(conn)
                .await?;
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
            supervision::ActiveModel {
                id: Set(Uuid::now_v7()),
                appeal_id: Set(a.id),
                clock_id: Set(None),
                level: Set(1),
                source: Set(SupervisionSource::Manual),
                department_id: Set(Some(dep)),
                note: Set(Some(n.clone())),
                created_by: Set(Some(actor.id)),
                created_at: Set(now),
            }
            .insert(conn)
            .await?;
            after.push(Followup::Supervised(dep, n.clone()));
            note = Some(n);
        }
    }
    am.status = Set(to);
    am.updated_at = Set(now);
    let saved = am.update(conn).await?;
    let mut event = event_row(&a, actor, now, action, Some(from), to, note);
    event.visibility = Set(visibility);
    event.to_department_id = Set(to_department);
    event.insert(conn).await?;
    let clocks = clocks_of(conn, saved.id).await?;
    for f in after {
        match f {
            Followup::Assigned(dep, label, note) => {
                mail_assigned(conn, cal, now, &saved, &clocks, dep, label, note).await?
            }
            Followup::Enterprise(label, msg) => {
                mail_enterprise(conn, now, &saved, label, &msg).await?
            }
            Followup::Supervised(dep, n) => {
                let (number, title) = (saved.number.clone(), saved.title.clone());
                mail_department(conn, cal, now, dep, move |department_name| {
                    Template::AppealSupervised {
                        department_name,
                        number,
                        title,
                        level: 1,
                        note: Some(n),
                    }
                })
                .await?
            }
        }
    }
    Ok(view(saved, clocks))
}

/// A mail an action causes.
enum Followup {
    /// To a department: assigned / transferred / reopened / supplemented.
    Assigned(Uuid, &'static str, Option<String>),
    /// To the enterprise.
    Enterprise(&'static str, String),
    /// To a department: supervised by hand.
    Supervised(Uuid, String),
}

/// Recomputes the due and warning times of every unmet clock after a calendar change, in the
/// caller's transaction. Breaches already recorded stay (a breach is a fact); clocks whose
/// appeal waits for the enterprise keep counting their finished pauses.
pub async fn recompute_clocks(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let mut after: Option<Uuid> = None;
    let mut changed = 0;
    loop {
        // Breached clocks too, until they escalate: their escalation follows the calendar.
        let mut q = sla_clock::Entity::find()
            .filter(sla_clock::Column::MetAt.is_null())
            .filter(sla_clock::Column::CancelledAt.is_null())
            .filter(sla_clock::Column::EscalatedAt.is_null())
            .order_by_asc(sla_clock::Column::Id)
            .limit(RECOMPUTE_BATCH);
        if let Some(last) = after {
            q = q.filter(sla_clock::Column::Id.gt(last));
        }
        let batch = q.all(conn).await?;
        let Some(last) = batch.last().map(|c| c.id) else {
            break;
        };
        after = Some(last);
        let n = batch.len() as u64;
        for c in batch {
            let spec = spec_of(&c);
            let times = spec.times(cal);
            let escalation_moves =
                c.breached_at.is_some() && c.escalate_at != Some(times.escalate_at);
            if times.due_at != c.due_at || times.warn_at != c.warn_at || escalation_moves {
                let paused_at = c.paused_at;
                reschedule(conn, cal, c, spec, paused_at, now).await?;
                changed += 1;
            }
        }
        if n < RECOMPUTE_BATCH {
            break;
        }
    }
    Ok(changed)
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
