//! The SLA policy of a category (defaults 1/3/5 working days, warnings 2 working hours ahead).

use crate::enums::AppealCategory;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sla_policies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub category: AppealCategory,
    pub reply_working_days: String,
    pub opinion_working_days: String,
    pub close_working_days: String,
    pub warn_before_working_hours: String,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
