//! A row of the disbursement ledger: a payment of an approved application or of a risk claim,
//! or the reversal that voids one (at most one per payment: a unique index).

use crate::enums::DisbursementKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "disbursements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub program_id: Uuid,
    pub application_id: Option<Uuid>,
    pub risk_claim_id: Option<Uuid>,
    pub kind: DisbursementKind,
    pub amount_fen: i64,
    pub paid_on: Date,
    pub reference: Option<String>,
    pub reverses_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
