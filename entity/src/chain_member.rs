//! An enterprise's membership of a chain: invited by the chain office and accepted by the
//! enterprise, or added at once by an admin. Only an `active` membership counts.

use crate::enums::{MemberRole, MembershipStatus};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "chain_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    pub role: MemberRole,
    pub status: MembershipStatus,
    /// The chain-office user who invited (last); `None` for memberships an admin added.
    pub invited_by: Option<Uuid>,
    pub invited_at: Option<DateTimeUtc>,
    /// When the membership became active (accepted, or added by an admin).
    pub accepted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Whether the membership counts (visibility, appeals into the chain).
    pub fn is_active(&self) -> bool {
        self.status == MembershipStatus::Active
    }
}
