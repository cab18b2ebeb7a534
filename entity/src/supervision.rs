//! A supervision (督办) of a subject: by hand from the service centre, or from the monitor on a breach
//! (level 1) and an escalation (level 2); the latter are unique per clock and level.

use crate::enums::{SubjectType, SupervisionSource};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supervisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// What the row belongs to; exactly the key column of this type is set.
    pub subject_type: SubjectType,
    pub appeal_id: Option<Uuid>,
    pub financing_request_id: Option<Uuid>,
    pub fund_application_id: Option<Uuid>,
    pub risk_claim_id: Option<Uuid>,
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

crate::subject::keyed_by_subject!();
