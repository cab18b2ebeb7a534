//! One review decision on a fund application (initial or final stage).

use crate::enums::{ReviewDecision, ReviewStage};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub application_id: Uuid,
    pub stage: ReviewStage,
    pub decision: ReviewDecision,
    #[sea_orm(column_type = "Text")]
    pub comment: String,
    /// The recommended (initial) or approved (final) amount.
    pub amount_fen: Option<i64>,
    pub reviewer_id: Uuid,
    pub reviewer_organization_id: Option<Uuid>,
    pub at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
