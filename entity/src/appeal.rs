//! An enterprise's appeal (诉求) and where it stands. Its clocks are in `sla_clock`, its
//! timeline in `appeal_event`.

use crate::enums::{AppealCategory, AppealStatus};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appeals")]
pub struct Model {
    /// UUID v7: time-ordered, the pagination key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Readable and unique: `SQ20261123-000123`.
    #[sea_orm(unique)]
    pub number: String,
    pub enterprise_id: Uuid,
    pub submitted_by: Uuid,
    pub chain_id: Option<Uuid>,
    pub category: AppealCategory,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    pub status: AppealStatus,
    pub department_id: Option<Uuid>,
    /// When the current department got it (the return window counts from here).
    pub assigned_at: Option<DateTimeUtc>,
    /// The status to go back to when the enterprise supplements.
    pub paused_from_status: Option<AppealStatus>,
    pub paused_at: Option<DateTimeUtc>,
    /// Approved extensions, working days as a decimal string.
    pub extension_working_days: String,
    pub pending_extension_days: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub pending_extension_reason: Option<String>,
    pub satisfaction: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub satisfaction_comment: Option<String>,
    pub reopen_count: i32,
    pub submitted_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub withdrawn_at: Option<DateTimeUtc>,
    /// Working time from submission to resolution, pauses excluded.
    pub close_working_seconds: Option<i64>,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
