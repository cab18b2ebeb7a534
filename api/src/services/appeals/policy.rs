//! The appeal's SLA policy: which clocks an appeal starts, from its category's policy. The clocks
//! themselves live in the engine (`jobs::engine::clocks`).

#[allow(unused_imports)]
use super::*;

/// The current SLA policy of a category (defaults when the row is missing).
pub struct Policy {
    pub reply: WorkingDays,
    pub opinion: WorkingDays,
    pub close: WorkingDays,
    pub warn_before_hours: WorkingDays,
}

impl Policy {
    pub(super) fn of(row: Option<&sla_policy::Model>) -> Self {
        Self::of_days(row.map(|p| {
            [
                p.reply_working_days.as_str(),
                p.opinion_working_days.as_str(),
                p.close_working_days.as_str(),
                p.warn_before_working_hours.as_str(),
            ]
        }))
    }

    /// From a policy row's reply, opinion, close and warning amounts; `None`: no row, the
    /// defaults 1/3/5 days and 2 hours.
    pub(super) fn of_days(days: Option<[&str; 4]>) -> Self {
        match days {
            Some([reply, opinion, close, warn]) => Self {
                reply: days_of(reply),
                opinion: days_of(opinion),
                close: days_of(close),
                warn_before_hours: days_of(warn),
            },
            None => Self {
                reply: WorkingDays::from_int(1),
                opinion: WorkingDays::from_int(3),
                close: WorkingDays::from_int(5),
                warn_before_hours: WorkingDays::from_int(2),
            },
        }
    }

    fn target(&self, kind: ClockKind) -> WorkingDays {
        match kind {
            ClockKind::Reply => self.reply,
            ClockKind::Opinion => self.opinion,
            ClockKind::Close => self.close,
            // Not clocks of an appeal.
            ClockKind::Accept
            | ClockKind::Decide
            | ClockKind::InitialReview
            | ClockKind::FinalReview
            | ClockKind::ClaimReview => WorkingDays::ZERO,
        }
    }
}

pub(super) async fn policy(
    conn: &impl ConnectionTrait,
    category: AppealCategory,
) -> AppResult<Policy> {
    let row = sla_policy::Entity::find_by_id(category).one(conn).await?;
    Ok(Policy::of(row.as_ref()))
}

impl Policy {
    /// The clock of `kind` this policy starts in round `round`.
    pub(super) fn clock(&self, kind: ClockKind, round: i32) -> NewClock {
        NewClock {
            kind,
            round,
            target: self.target(kind),
            warn_before_hours: self.warn_before_hours,
        }
    }
}
