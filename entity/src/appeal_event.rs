//! One line of a subject's timeline, written in the same transaction as the change it records.
//! (The table keeps the name of its first subject, `appeal_events`.)

use crate::enums::{EventVisibility, SubjectType};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appeal_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// What the row belongs to; exactly the key column of this type is set.
    pub subject_type: SubjectType,
    pub appeal_id: Option<Uuid>,
    pub financing_request_id: Option<Uuid>,
    pub fund_application_id: Option<Uuid>,
    pub risk_claim_id: Option<Uuid>,
    pub at: DateTimeUtc,
    /// The user who acted; `None` for the SLA monitor.
    pub actor_id: Option<Uuid>,
    pub actor_organization_id: Option<Uuid>,
    /// The department holding the appeal when it happened (before a transfer or return).
    pub department_id: Option<Uuid>,
    /// `submit`, `assign`, `transfer`, ... or `breach`, `escalation` from the monitor.
    pub action: String,
    /// Status codes of the subject's own state machine (`assigned`, ...).
    pub from_status: Option<String>,
    pub to_status: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    /// Where an `assign` or `transfer` sent the appeal.
    pub to_department_id: Option<Uuid>,
    /// What the enterprise may read of it.
    pub visibility: EventVisibility,
}

impl ActiveModelBehavior for ActiveModel {}

crate::subject::keyed_by_subject!();
