//! An enterprise's financing request to a bank (融资需求): a subject of the engine with two
//! clocks, `accept` and `decide`. Its timeline is in `appeal_event`, its clocks in `sla_clock`.

use crate::enums::{FinancingProduct, FinancingStatus};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "financing_requests")]
pub struct Model {
    /// UUID v7: time-ordered, the pagination key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Readable and unique: `RZ20261123-000123`.
    #[sea_orm(unique)]
    pub number: String,
    pub enterprise_id: Uuid,
    pub submitted_by: Uuid,
    pub chain_id: Uuid,
    pub program_id: Option<Uuid>,
    /// The bank it is routed (or referred) to.
    pub bank_id: Uuid,
    pub amount_fen: i64,
    pub term_months: i32,
    #[sea_orm(column_type = "Text")]
    pub purpose: String,
    pub product: FinancingProduct,
    pub status: FinancingStatus,
    /// The status to go back to when the enterprise supplements.
    pub paused_from_status: Option<FinancingStatus>,
    pub paused_at: Option<DateTimeUtc>,
    pub proposal_limit_fen: Option<i64>,
    pub proposal_rate_e4: Option<i64>,
    pub proposal_term_months: Option<i32>,
    pub proposal_revolving: Option<bool>,
    pub proposal_expires_on: Option<Date>,
    pub proposed_by: Option<Uuid>,
    pub proposed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub reject_reason: Option<String>,
    /// How many times it was referred (its accept clock's round).
    pub refer_count: i32,
    pub submitted_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    /// Unpaused working time from submission to the decision.
    pub decision_working_seconds: Option<i64>,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

use crate::enums::EventVisibility;

/// Everything that can happen to a financing request; each writes one timeline event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FinancingAction {
    Submit,
    Accept,
    RequestInfo,
    Supplement,
    /// An approval above the four-eyes threshold, stored as a proposal.
    Propose,
    Approve,
    Reject,
    Withdraw,
    /// The lead bank hands the request to a partner bank (转介).
    Refer,
}

use FinancingStatus as S;

impl FinancingAction {
    /// The code in the timeline.
    pub fn code(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Accept => "accept",
            Self::RequestInfo => "request_info",
            Self::Supplement => "supplement",
            Self::Propose => "propose",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Withdraw => "withdraw",
            Self::Refer => "refer",
        }
    }

    /// Whether the action may run in status `from`.
    pub fn allowed(self, from: FinancingStatus) -> bool {
        match self {
            Self::Submit => false,
            Self::Accept => from == S::Submitted,
            Self::RequestInfo | Self::Refer => matches!(from, S::Submitted | S::Accepted),
            Self::Supplement => from == S::AwaitingEnterprise,
            Self::Propose => from == S::Accepted,
            Self::Approve => matches!(from, S::Accepted | S::PendingConfirmation),
            Self::Reject | Self::Withdraw => from.is_open(),
        }
    }

    /// The status after the action (`supplement` goes back to where the request paused, which
    /// the caller knows).
    pub fn target(self, paused_from: Option<FinancingStatus>) -> FinancingStatus {
        match self {
            Self::Submit | Self::Refer => S::Submitted,
            Self::Accept => S::Accepted,
            Self::RequestInfo => S::AwaitingEnterprise,
            Self::Supplement => paused_from.unwrap_or(S::Submitted),
            Self::Propose => S::PendingConfirmation,
            Self::Approve => S::Approved,
            Self::Reject => S::Rejected,
            Self::Withdraw => S::Withdrawn,
        }
    }

    /// What the enterprise may read of the event: a proposal is the bank's internal step, a
    /// referral shows without the banks' reason.
    pub fn visibility(self) -> EventVisibility {
        match self {
            Self::Propose => EventVisibility::Internal,
            Self::Refer => EventVisibility::Event,
            _ => EventVisibility::Public,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_machine_follows_the_contract() {
        use FinancingAction as A;
        assert!(A::Accept.allowed(S::Submitted));
        assert!(!A::Accept.allowed(S::Accepted));
        assert!(!A::Approve.allowed(S::Submitted));
        assert!(A::Approve.allowed(S::PendingConfirmation));
        assert!(A::Withdraw.allowed(S::AwaitingEnterprise));
        assert!(!A::Withdraw.allowed(S::Approved));
        assert!(!A::Reject.allowed(S::Rejected));
        assert_eq!(A::Supplement.target(Some(S::Accepted)), S::Accepted);
        assert_eq!(A::Refer.target(None), S::Submitted);
    }
}
