//! A lead-bank monthly report for one (bank, chain, period): an immutable snapshot; a
//! regeneration is a new version.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bank_reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub bank_id: Uuid,
    pub chain_id: Uuid,
    /// `YYYY-MM`.
    pub period: String,
    pub version: i32,
    pub requests_received: i32,
    pub accepted_on_time: i32,
    pub decided_on_time: i32,
    pub approved_count: i32,
    pub approved_amount_fen: i64,
    pub rejected_count: i32,
    pub drawn_amount_fen: i64,
    pub repaid_amount_fen: i64,
    pub outstanding_end_fen: i64,
    /// Percent, four places; `None` when nothing was approved.
    pub avg_rate: Option<String>,
    pub enterprises_served: i32,
    /// Two places; `None` when nothing was decided.
    pub avg_decision_working_hours: Option<String>,
    pub generated_at: DateTimeUtc,
    /// `None` when the monthly job generated it.
    pub generated_by: Option<Uuid>,
}

impl ActiveModelBehavior for ActiveModel {}
