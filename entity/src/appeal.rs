//! An enterprise's appeal (诉求) and where it stands. Its clocks are in `sla_clock`, its
//! timeline in `appeal_event`.

use crate::enums::{AppealCategory, AppealStatus};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appeals")]
pub struct Model {
    /// UUID v7: time-ordered, the pagination key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Readable and unique: `SQ20261123-000123`.
    #[sea_orm(unique)]
    pub number: String,
    pub enterprise_id: Uuid,
    pub submitted_by: Uuid,
    pub chain_id: Option<Uuid>,
    pub category: AppealCategory,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    pub status: AppealStatus,
    pub department_id: Option<Uuid>,
    /// When the current department got it (the return window counts from here).
    pub assigned_at: Option<DateTimeUtc>,
    /// The status to go back to when the enterprise supplements.
    pub paused_from_status: Option<AppealStatus>,
    pub paused_at: Option<DateTimeUtc>,
    /// Approved extensions, working days as a decimal string.
    pub extension_working_days: String,
    pub pending_extension_days: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub pending_extension_reason: Option<String>,
    pub satisfaction: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub satisfaction_comment: Option<String>,
    pub reopen_count: i32,
    pub submitted_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub withdrawn_at: Option<DateTimeUtc>,
    /// Working time from submission to resolution, pauses excluded.
    pub close_working_seconds: Option<i64>,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

/// Everything that can happen to an appeal; each writes one timeline event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AppealAction {
    Submit,
    Assign,
    Transfer,
    Return,
    Reply,
    Opinion,
    Resolve,
    RequestInfo,
    Supplement,
    Extension,
    ExtensionDecision,
    Rate,
    Reopen,
    Withdraw,
    Supervise,
    /// The monitor: a clock passed its due time.
    Breach,
    /// The monitor: still unmet one working day after the breach.
    Escalation,
}

use AppealStatus as S;

/// Statuses in which a department is working on the appeal.
const IN_PROGRESS: &[AppealStatus] = &[S::Assigned, S::Replied, S::OpinionGiven, S::Reopened];

impl AppealAction {
    /// What the enterprise may read of this action's timeline event (an extension decision
    /// that grants is shown as an event: see `appeals::act`).
    pub fn visibility(self) -> crate::enums::EventVisibility {
        use crate::enums::EventVisibility as V;
        match self {
            Self::Submit
            | Self::Reply
            | Self::Opinion
            | Self::Resolve
            | Self::RequestInfo
            | Self::Supplement
            | Self::Rate
            | Self::Reopen
            | Self::Withdraw => V::Public,
            Self::Assign | Self::Transfer | Self::Return => V::Event,
            Self::Extension
            | Self::ExtensionDecision
            | Self::Supervise
            | Self::Breach
            | Self::Escalation => V::Internal,
        }
    }

    /// The action's code in the timeline (`request_info`, `extension_decision`, ...).
    pub fn code(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Assign => "assign",
            Self::Transfer => "transfer",
            Self::Return => "return",
            Self::Reply => "reply",
            Self::Opinion => "opinion",
            Self::Resolve => "resolve",
            Self::RequestInfo => "request_info",
            Self::Supplement => "supplement",
            Self::Extension => "extension",
            Self::ExtensionDecision => "extension_decision",
            Self::Rate => "rate",
            Self::Reopen => "reopen",
            Self::Withdraw => "withdraw",
            Self::Supervise => "supervise",
            Self::Breach => "breach",
            Self::Escalation => "escalation",
        }
    }

    /// The status after this action from `from`, or `None` when the action is not allowed
    /// there (the API answers 409). `Supplement` returns `from`: the caller restores the status
    /// saved when the appeal was paused.
    pub fn next(self, from: AppealStatus) -> Option<AppealStatus> {
        let in_progress = IN_PROGRESS.contains(&from);
        match self {
            Self::Submit => None,
            Self::Assign => match from {
                S::Submitted => Some(S::Assigned),
                _ if in_progress => Some(from),
                _ => None,
            },
            Self::Transfer | Self::Extension => in_progress.then_some(from),
            Self::Return => (from == S::Assigned).then_some(S::Submitted),
            Self::Reply => matches!(from, S::Assigned | S::Reopened).then_some(S::Replied),
            Self::Opinion => {
                matches!(from, S::Assigned | S::Replied | S::Reopened).then_some(S::OpinionGiven)
            }
            Self::Resolve => in_progress.then_some(S::Resolved),
            Self::RequestInfo => in_progress.then_some(S::AwaitingEnterprise),
            Self::Supplement => (from == S::AwaitingEnterprise).then_some(from),
            Self::ExtensionDecision | Self::Supervise | Self::Breach | Self::Escalation => {
                (in_progress || from == S::AwaitingEnterprise).then_some(from)
            }
            Self::Rate => (from == S::Resolved).then_some(S::Closed),
            Self::Reopen => matches!(from, S::Resolved | S::Closed).then_some(S::Reopened),
            Self::Withdraw => matches!(
                from,
                S::Submitted
                    | S::Assigned
                    | S::Replied
                    | S::OpinionGiven
                    | S::AwaitingEnterprise
                    | S::Reopened
            )
            .then_some(S::Withdrawn),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_follow_the_contract() {
        use AppealAction as A;
        assert_eq!(A::Assign.next(S::Submitted), Some(S::Assigned));
        assert_eq!(A::Assign.next(S::Replied), Some(S::Replied));
        assert_eq!(A::Assign.next(S::Resolved), None);
        assert_eq!(A::Return.next(S::Assigned), Some(S::Submitted));
        assert_eq!(A::Return.next(S::Replied), None);
        assert_eq!(A::Reply.next(S::Submitted), None);
        assert_eq!(A::Reply.next(S::Replied), None);
        assert_eq!(A::Opinion.next(S::Replied), Some(S::OpinionGiven));
        assert_eq!(A::Resolve.next(S::OpinionGiven), Some(S::Resolved));
        assert_eq!(A::Resolve.next(S::AwaitingEnterprise), None);
        assert_eq!(
            A::RequestInfo.next(S::Assigned),
            Some(S::AwaitingEnterprise)
        );
        assert_eq!(A::Supplement.next(S::Assigned), None);
        assert_eq!(A::Rate.next(S::Replied), None);
        assert_eq!(A::Rate.next(S::Resolved), Some(S::Closed));
        assert_eq!(A::Reopen.next(S::Assigned), None);
        assert_eq!(A::Withdraw.next(S::Resolved), None);
        assert_eq!(A::Withdraw.next(S::Closed), None);
        assert_eq!(A::Withdraw.next(S::Submitted), Some(S::Withdrawn));
        for s in [S::Closed, S::Withdrawn] {
            for a in [A::Assign, A::Transfer, A::Reply, A::Supervise, A::Extension] {
                assert_eq!(a.next(s), None, "{a:?} from {s:?}");
            }
        }
    }
}
