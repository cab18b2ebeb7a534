//! A credit line granted on approval of a financing request. `outstanding_fen` and `used_fen`
//! are what the ledger (`credit_movement`) gives, kept by guarded updates in the same
//! transaction as each movement; `CHECK`s keep both within `0..=limit_fen`.

use crate::enums::CreditLineStatus;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credit_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub request_id: Uuid,
    pub enterprise_id: Uuid,
    pub bank_id: Uuid,
    pub chain_id: Uuid,
    pub program_id: Option<Uuid>,
    pub limit_fen: i64,
    pub outstanding_fen: i64,
    /// What counts against the limit: the outstanding balance of a revolving line, everything
    /// drawn (net of reversals) on a non-revolving one. `available = limit - used`.
    pub used_fen: i64,
    pub rate_e4: i64,
    pub term_months: i32,
    pub revolving: bool,
    pub status: CreditLineStatus,
    pub expires_on: Date,
    pub approved_by: Uuid,
    /// The second user of a four-eyes approval.
    pub confirmed_by: Option<Uuid>,
    pub approved_at: DateTimeUtc,
    pub first_drawdown_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
