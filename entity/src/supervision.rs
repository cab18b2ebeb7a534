//! A supervision (督办): by hand from the service centre, or from the monitor on a breach
//! (level 1) and an escalation (level 2); the latter are unique per clock and level.

use crate::enums::SupervisionSource;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supervisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub appeal_id: Uuid,
    pub clock_id: Option<Uuid>,
    pub level: i32,
    pub source: SupervisionSource,
    pub department_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
