//! A recovery a bank booked on a claimed line after payment: the covered share went back to
//! the program once, with the row.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recoveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub claim_id: Uuid,
    pub amount_fen: i64,
    /// The covered share given back to the program.
    pub returned_fen: i64,
    pub recovered_on: Date,
    /// The repayment booked on the credit line's ledger.
    pub movement_id: Uuid,
    pub booked_by: Uuid,
    pub booked_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
