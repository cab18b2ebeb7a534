//! A clock of the engine as the API shows it, for every subject (appeals, financing requests).

use chrono::{DateTime, Utc};
use entity::{enums::ClockKind, sla_clock};
use serde::Serialize;

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
