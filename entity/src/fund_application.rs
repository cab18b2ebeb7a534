//! An enterprise's application to a fund program (资金申报): a subject of the engine, reviewed
//! first by a chain office and then by the fund office (one clock per stage), published for
//! objections (公示), approved, and paid.

use crate::enums::{EventVisibility, FundStatus};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_applications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Readable and unique: `ZJ20261123-000123`.
    #[sea_orm(unique)]
    pub number: String,
    pub program_id: Uuid,
    pub enterprise_id: Uuid,
    /// The chain under which the enterprise is eligible; its office reviews first.
    pub chain_id: Option<Uuid>,
    /// `None` for an apply-free award the job created.
    pub submitted_by: Option<Uuid>,
    pub amount_fen: i64,
    pub project_title: String,
    /// The title as the duplicate-funding guard compares it.
    pub title_key: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub status: FundStatus,
    pub apply_free: bool,
    pub recommended_amount_fen: Option<i64>,
    pub approved_amount_fen: Option<i64>,
    /// What the application holds of its program's `committed_fen` now.
    pub reserved_fen: i64,
    pub disbursed_fen: i64,
    pub notice_ends_at: Option<DateTimeUtc>,
    pub duplicate_funding_flag: bool,
    pub duplicate_of: Option<Uuid>,
    pub year: i32,
    /// How many times it was resubmitted (its initial-review clock's round).
    pub round: i32,
    pub submitted_at: DateTimeUtc,
    pub initial_reviewed_at: Option<DateTimeUtc>,
    pub final_reviewed_at: Option<DateTimeUtc>,
    pub approved_at: Option<DateTimeUtc>,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

/// Everything that can happen to a fund application; each writes one timeline event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FundAction {
    Submit,
    /// The window-opening job created an apply-free award (免申即享).
    Award,
    InitialPass,
    InitialReturn,
    InitialReject,
    Resubmit,
    /// Final approval: the amount is reserved and the notice opens.
    FinalApprove,
    FinalReject,
    Withdraw,
    /// An objection was upheld: the application is rejected.
    ObjectionUpheld,
    /// The notice ended with no upheld objection.
    NoticeEnded,
    /// A payment made the approved amount fully paid.
    Disburse,
    /// A payment reversal took a fully paid application back to approved.
    ReverseDisbursement,
}

use FundStatus as S;

impl FundAction {
    /// The code in the timeline.
    pub fn code(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Award => "award",
            Self::InitialPass => "initial_pass",
            Self::InitialReturn => "initial_return",
            Self::InitialReject => "initial_reject",
            Self::Resubmit => "resubmit",
            Self::FinalApprove => "final_approve",
            Self::FinalReject => "final_reject",
            Self::Withdraw => "withdraw",
            Self::ObjectionUpheld => "objection_upheld",
            Self::NoticeEnded => "notice_ended",
            Self::Disburse => "disburse",
            Self::ReverseDisbursement => "reverse_disbursement",
        }
    }

    /// Whether the action may run in status `from`.
    pub fn allowed(self, from: FundStatus) -> bool {
        match self {
            Self::Submit | Self::Award => false,
            Self::InitialPass | Self::InitialReturn | Self::InitialReject => from == S::Submitted,
            Self::Resubmit => from == S::Returned,
            Self::FinalApprove | Self::FinalReject => from == S::InitialPassed,
            // Before the final review, or after it as long as nothing was paid (the caller
            // checks that): an enterprise may decline an approved award.
            Self::Withdraw => matches!(
                from,
                S::Submitted | S::Returned | S::InitialPassed | S::InNotice | S::Approved
            ),
            Self::ObjectionUpheld | Self::NoticeEnded => from == S::InNotice,
            Self::Disburse => from == S::Approved,
            Self::ReverseDisbursement => from == S::Disbursed,
        }
    }

    /// The status after the action (`FinalApprove` with no notice goes straight to
    /// `approved`, which the caller decides).
    pub fn target(self) -> FundStatus {
        match self {
            Self::Submit | Self::Resubmit => S::Submitted,
            Self::Award | Self::InitialPass => S::InitialPassed,
            Self::InitialReturn => S::Returned,
            Self::InitialReject | Self::FinalReject | Self::ObjectionUpheld => S::Rejected,
            Self::FinalApprove => S::InNotice,
            Self::Withdraw => S::Withdrawn,
            Self::NoticeEnded | Self::ReverseDisbursement => S::Approved,
            Self::Disburse => S::Disbursed,
        }
    }

    /// What the enterprise may read of the event: everything shows, reviewers' comments
    /// included (the enterprise must know why it was returned or rejected).
    pub fn visibility(self) -> EventVisibility {
        EventVisibility::Public
    }
}

/// The title as the duplicate-funding guard (就高不重复) compares it: without spaces and
/// punctuation, lower case.
pub fn title_key(title: &str) -> String {
    title
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_machine_follows_the_contract() {
        use FundAction as A;
        assert!(A::InitialPass.allowed(S::Submitted));
        assert!(!A::InitialPass.allowed(S::Returned));
        assert!(A::Resubmit.allowed(S::Returned));
        assert!(A::FinalApprove.allowed(S::InitialPassed));
        assert!(!A::FinalApprove.allowed(S::Submitted));
        assert!(A::Withdraw.allowed(S::InitialPassed));
        assert!(!A::Withdraw.allowed(S::Disbursed));
        assert!(!A::Withdraw.allowed(S::Rejected));
        assert_eq!(A::FinalApprove.target(), S::InNotice);
        assert_eq!(A::Award.target(), S::InitialPassed);
        assert_eq!(A::ReverseDisbursement.target(), S::Approved);
    }

    #[test]
    fn titles_compare_without_spacing_and_punctuation() {
        assert_eq!(
            title_key(" 智能 产线改造（二期）"),
            title_key("智能产线改造(二期)")
        );
        assert_eq!(title_key("AI Line"), "ailine");
        assert_ne!(title_key("产线改造一期"), title_key("产线改造二期"));
    }
}
