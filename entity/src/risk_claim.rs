//! A bank's risk-compensation claim (风险补偿) on a defaulted credit line: a subject of the
//! engine with one review clock. The payable amount is reserved from the program's budget at
//! submission; recoveries give the covered share back.

use crate::enums::ClaimStatus;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "risk_claims")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Readable and unique: `BC20261123-000012`.
    #[sea_orm(unique)]
    pub number: String,
    pub program_id: Uuid,
    pub credit_line_id: Uuid,
    pub bank_id: Uuid,
    pub chain_id: Uuid,
    pub enterprise_id: Uuid,
    pub loss_amount_fen: i64,
    /// min(loss × coverage, the program's maximum per claim).
    pub payable_fen: i64,
    /// What the claim holds of its program's `committed_fen` now.
    pub reserved_fen: i64,
    pub paid_fen: i64,
    pub recovered_fen: i64,
    /// The covered share of the recoveries, given back to the program.
    pub returned_fen: i64,
    pub status: ClaimStatus,
    #[sea_orm(column_type = "Text")]
    pub note: String,
    pub submitted_by: Uuid,
    pub submitted_at: DateTimeUtc,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decision_note: Option<String>,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
