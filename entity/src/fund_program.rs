//! A fund program (资金项目): an industry guidance fund, a chain special fund, a
//! risk-compensation fund or an award, with its budget, window and eligibility rules.
//! `committed_fen` is what reservations and approvals hold of the budget; the database keeps it
//! within `budget_fen` (guarded updates and a `CHECK`).

use crate::enums::FundKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_programs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub kind: FundKind,
    pub budget_fen: i64,
    pub max_per_application_fen: i64,
    pub committed_fen: i64,
    pub disbursed_fen: i64,
    pub recovered_fen: i64,
    pub opens_at: DateTimeUtc,
    /// Applications at or after this instant are refused.
    pub closes_at: DateTimeUtc,
    /// [`crate::eligibility::Rules`] as JSON.
    #[sea_orm(column_type = "Text")]
    pub eligibility: String,
    pub notice_working_days: i32,
    pub review_working_days: i32,
    pub apply_free: bool,
    pub fixed_amount_fen: Option<i64>,
    /// Percent in ten-thousandths (80 % → 800000).
    pub coverage_e4: Option<i64>,
    pub max_per_claim_fen: Option<i64>,
    pub opened_at: Option<DateTimeUtc>,
    pub push_cursor: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The eligibility rules (empty rules if the stored text were ever unreadable: the
    /// migration and the API only write what [`crate::eligibility::Rules`] serializes).
    pub fn rules(&self) -> crate::eligibility::Rules {
        serde_json::from_str(&self.eligibility).unwrap_or_default()
    }

    /// Whether applications are accepted at `now`: `opens_at <= now < closes_at`.
    pub fn is_open(&self, now: DateTimeUtc) -> bool {
        self.opens_at <= now && now < self.closes_at
    }
}
