//! An enterprise's financing request to a bank (融资需求): a subject of the engine with two
//! clocks, `accept` and `decide`. Its timeline is in `appeal_event`, its clocks in `sla_clock`.

use crate::enums::{FinancingProduct, FinancingStatus};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "financing_requests")]
pub struct Model {
    /// UUID v7: time-ordered, the pagination key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Readable and unique: `RZ20261123-000123`.
    #[sea_orm(unique)]
    pub number: String,
    pub enterprise_id: Uuid,
    pub submitted_by: Uuid,
    pub chain_id: Uuid,
    pub program_id: Option<Uuid>,
    /// The bank it is routed (or referred) to.
    pub bank_id: Uuid,
    pub amount_fen: i64,
    pub term_months: i32,
    #[sea_orm(column_type = "Text")]
    pub purpose: String,
    pub product: FinancingProduct,
    pub status: FinancingStatus,
    /// The status to go back to when the enterprise supplements.
    pub paused_from_status: Option<FinancingStatus>,
    pub paused_at: Option<DateTimeUtc>,
    pub proposal_limit_fen: Option<i64>,
    pub proposal_rate_e4: Option<i64>,
    pub proposal_term_months: Option<i32>,
    pub proposal_revolving: Option<bool>,
    pub proposal_expires_on: Option<Date>,
    pub proposed_by: Option<Uuid>,
    pub proposed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub reject_reason: Option<String>,
    /// How many times it was referred (its accept clock's round).
    pub refer_count: i32,
    pub submitted_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    /// Unpaused working time from submission to the decision.
    pub decision_working_seconds: Option<i64>,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
