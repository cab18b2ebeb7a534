//! What the appeal API reads and answers: views, inputs, and the actions as one enum.

#[allow(unused_imports)]
use super::*;

pub use crate::services::clock_view::ClockView;
pub use crate::services::files::FileView;

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
    /// The documents attached at submission and with supplements (`GET /files/{id}`).
    pub attachments: Vec<FileView>,
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
pub(crate) use jobs::engine::clocks::days_of;

pub(super) fn view(
    a: appeal::Model,
    clocks: Vec<sla_clock::Model>,
    attachments: Vec<FileView>,
) -> AppealView {
    view_of(
        a,
        clocks.into_iter().map(ClockView::from).collect(),
        attachments,
    )
}

pub(super) fn view_of(
    a: appeal::Model,
    mut clocks: Vec<ClockView>,
    attachments: Vec<FileView>,
) -> AppealView {
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
        attachments,
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
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
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
    /// Uploads of the caller's own (`POST /files`) not attached to anything yet.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub attachment_ids: Vec<Uuid>,
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
    #[param(schema_with = crate::schemas::instant_or_date)]
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

/// `supplement`: the enterprise's answer to `request_info`, with documents if asked for.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplementInput {
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$"
    )]
    pub message: String,
    /// Uploads of the caller's own (`POST /files`) not attached to anything yet.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub attachment_ids: Vec<Uuid>,
}

/// `extension`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionInput {
    #[schema(schema_with = crate::schemas::positive_working_days)]
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
pub(super) fn integral<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
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
    Supplement(SupplementInput),
    Extension(ExtensionInput),
    ExtensionDecision(ExtensionDecisionInput),
    Rate(RateInput),
    Reopen(ReasonInput),
    Withdraw(OptionalReasonInput),
    Supervise(SuperviseInput),
}

impl Act {
    pub(super) fn action(&self) -> AppealAction {
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
    pub(super) fn roles(&self) -> &'static [Role] {
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

/// A clock as the appeal answers show it, with its appeal: only the columns the view needs,
/// read by position (see `crate::rows`).
pub(crate) struct ListedClock {
    pub appeal_id: Uuid,
    pub view: ClockView,
}

impl rows::Positional for ListedClock {
    type Entity = sla_clock::Entity;
    const COLUMNS: &'static [sla_clock::Column] = &[
        sla_clock::Column::AppealId,
        sla_clock::Column::Kind,
        sla_clock::Column::Round,
        sla_clock::Column::StartAt,
        sla_clock::Column::DueAt,
        sla_clock::Column::MetAt,
        sla_clock::Column::BreachedAt,
        sla_clock::Column::PausedAt,
        sla_clock::Column::WarnedAt,
        sla_clock::Column::EscalatedAt,
        sla_clock::Column::CancelledAt,
    ];

    fn read(r: &sea_orm::QueryResult, at: usize) -> Result<Self, sea_orm::DbErr> {
        use rows::{get, get_enum, opt_time, time};
        let kind: ClockKind = get_enum(r, at + 1)?;
        let due_at = time(r, at + 4)?;
        let met_at = opt_time(r, at + 5)?;
        let breached_at = opt_time(r, at + 6)?;
        Ok(Self {
            appeal_id: get(r, at)?,
            view: ClockView {
                kind,
                kind_label: kind.label_zh(),
                round: get(r, at + 2)?,
                started_at: time(r, at + 3)?,
                due_at,
                met_at,
                breached_at,
                paused: opt_time(r, at + 7)?.is_some(),
                warned_at: opt_time(r, at + 8)?,
                escalated_at: opt_time(r, at + 9)?,
                cancelled: opt_time(r, at + 10)?.is_some(),
                late: ClockView::is_late(due_at, met_at, breached_at),
            },
        })
    }
}
