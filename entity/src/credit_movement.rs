//! One posted row of a credit line's ledger: a drawdown, a repayment, or the reversal of one of
//! them. Never edited or deleted; a movement is reversed at most once (unique `reverses_id`).

use crate::enums::MovementKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credit_movements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub line_id: Uuid,
    pub kind: MovementKind,
    pub amount_fen: i64,
    pub value_date: Date,
    pub reverses_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    pub booked_at: DateTimeUtc,
    pub booked_by: Uuid,
}

impl ActiveModelBehavior for ActiveModel {}
