//! One service-level clock of a subject (an appeal, ...). `due_at` and `warn_at` are computed by
//! [`crate::sla`] at write time and stored, so the monitor only reads indexed instants.

use crate::enums::{ClockKind, SubjectType};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sla_clocks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// What the row belongs to; exactly the key column of this type is set.
    pub subject_type: SubjectType,
    pub appeal_id: Option<Uuid>,
    pub financing_request_id: Option<Uuid>,
    pub fund_application_id: Option<Uuid>,
    pub risk_claim_id: Option<Uuid>,
    pub kind: ClockKind,
    /// 0 for the submission's clocks; each reopen adds a close clock of the next round.
    pub round: i32,
    /// Where the clock starts counting (submission or reopen).
    pub start_at: DateTimeUtc,
    /// The policy's working days for this clock, decimal string.
    pub target_working_days: String,
    /// Approved extensions (close clocks), decimal string.
    pub extension_working_days: String,
    /// How many working hours before `due_at` the warning falls, decimal string (the policy's
    /// lead when the clock started).
    pub warn_before_working_hours: String,
    /// Working time spent paused in finished pauses.
    pub paused_working_seconds: i64,
    /// Set while the appeal waits for the enterprise.
    pub paused_at: Option<DateTimeUtc>,
    pub due_at: DateTimeUtc,
    /// When the warning becomes due (`warn_before_working_hours` before `due_at`).
    pub warn_at: DateTimeUtc,
    pub met_at: Option<DateTimeUtc>,
    pub warned_at: Option<DateTimeUtc>,
    pub breached_at: Option<DateTimeUtc>,
    /// One working day after the breach; set with `breached_at`.
    pub escalate_at: Option<DateTimeUtc>,
    pub escalated_at: Option<DateTimeUtc>,
    /// The appeal was withdrawn before the clock was met.
    pub cancelled_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

crate::subject::keyed_by_subject!();
