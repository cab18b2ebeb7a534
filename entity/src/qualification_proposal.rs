//! A chain office's proposal of a qualification for an active member of its chain; a fund
//! office (or admin) user confirms it, which records the qualification, or declines it.

use crate::enums::{ProposalStatus, QualificationKind};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "qualification_proposals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub kind: QualificationKind,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
    pub certificate_no: String,
    pub issued_by: String,
    pub status: ProposalStatus,
    pub proposed_by: Uuid,
    /// The proposing chain office: its users see the office's proposals.
    pub proposed_by_org: Uuid,
    pub proposed_at: DateTimeUtc,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decision_note: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
