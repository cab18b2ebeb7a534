//! The SLA engine: the appeal state machine and the arithmetic of its clocks, pure and fast.
//! Due times are computed here at write time and stored; the monitor only compares instants.

use crate::calendar::Calendar;
use crate::enums::AppealStatus;
use crate::working_days::WorkingDays;
use chrono::{DateTime, TimeDelta, Utc};

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

/// The stored inputs of one clock, from which its due and warning times follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockSpec {
    /// Where counting starts (submission or reopen).
    pub start: DateTime<Utc>,
    /// The policy's working days.
    pub target: WorkingDays,
    /// Approved extensions.
    pub extension: WorkingDays,
    /// Working time spent in finished pauses.
    pub paused: TimeDelta,
    /// Warn this many working hours (as a decimal count of hours) before the due time.
    pub warn_before_hours: WorkingDays,
}

/// When a clock is due, when its warning is, and when it escalates if it is breached and still
/// unmet: one working day of unpaused working time after the due time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockTimes {
    pub due_at: DateTime<Utc>,
    pub warn_at: DateTime<Utc>,
    pub escalate_at: DateTime<Utc>,
}

impl ClockSpec {
    /// The working time the clock allows: target + extension, in the calendar's day length,
    /// plus the time paused.
    pub fn allowed(&self, cal: &Calendar) -> TimeDelta {
        let day = cal.day_length();
        self.target.to_duration(day) + self.extension.to_duration(day) + self.paused
    }

    /// Due time: `allowed` working time after `start`. The warning is due
    /// `warn_before_hours` of working time earlier, never before `start`.
    pub fn times(&self, cal: &Calendar) -> ClockTimes {
        let allowed = self.allowed(cal);
        let warn = self.warn_before_hours.to_duration(TimeDelta::hours(1));
        ClockTimes {
            due_at: cal.add_working_time(self.start, allowed),
            warn_at: cal.add_working_time(self.start, (allowed - warn).max(TimeDelta::zero())),
            escalate_at: cal.add_working_time(self.start, allowed + cal.day_length()),
        }
    }
}

/// When a breach at `breached_at` escalates: one working day later. Equal to
/// `ClockSpec::times(..).escalate_at` for a clock breached at its due time; a pause, an
/// extension or a calendar change recomputes it from the spec like the due time.
pub fn escalate_at(cal: &Calendar, breached_at: DateTime<Utc>) -> DateTime<Utc> {
    cal.add_working_days(breached_at, WorkingDays::from_int(1))
}

/// Sums two working-day amounts (saturating at the maximum).
pub fn add_days(a: WorkingDays, b: WorkingDays) -> WorkingDays {
    WorkingDays::parse_decimal(a.as_decimal() + b.as_decimal())
        .unwrap_or(WorkingDays::from_int(WorkingDays::MAX))
}

/// Remaining working minutes from `now` to `due`; negative (working time since) when past.
pub fn remaining_working_minutes(cal: &Calendar, now: DateTime<Utc>, due: DateTime<Utc>) -> i64 {
    cal.working_time_between(now, due).num_minutes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Calendar, CalendarSettings, cn_2024_2026};
    use chrono::TimeZone;
    use chrono_tz::Asia::Shanghai;

    fn cal() -> Calendar {
        Calendar::new(CalendarSettings::default(), cn_2024_2026())
    }

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Shanghai
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn spec(start: DateTime<Utc>, days: u32) -> ClockSpec {
        ClockSpec {
            start,
            target: WorkingDays::from_int(days),
            extension: WorkingDays::ZERO,
            paused: TimeDelta::zero(),
            warn_before_hours: WorkingDays::from_int(2),
        }
    }

    #[test]
    fn friday_evening_clocks_start_monday_morning() {
        // Fri 2026-03-06 20:00 → Mon 09:00 start.
        let c = cal();
        let start = at(2026, 3, 6, 20, 0);
        assert_eq!(spec(start, 1).times(&c).due_at, at(2026, 3, 9, 17, 0));
        assert_eq!(spec(start, 3).times(&c).due_at, at(2026, 3, 11, 17, 0));
        assert_eq!(spec(start, 5).times(&c).due_at, at(2026, 3, 13, 17, 0));
        assert_eq!(spec(start, 1).times(&c).warn_at, at(2026, 3, 9, 15, 0));
    }

    #[test]
    fn national_day_week_is_skipped_and_make_up_saturday_counts() {
        let c = cal();
        // Fri 2026-09-25 20:00 is itself Mid-autumn; counting starts Mon 09-28 09:00 and the
        // National Day week (10-01..07) is skipped.
        let start = at(2026, 9, 25, 20, 0);
        assert_eq!(spec(start, 1).times(&c).due_at, at(2026, 9, 28, 17, 0));
        assert_eq!(spec(start, 3).times(&c).due_at, at(2026, 9, 30, 17, 0));
        assert_eq!(spec(start, 5).times(&c).due_at, at(2026, 10, 9, 17, 0));
        // Submitted Wed 09-30 20:00: Thu 10-08, Fri 10-09, and the make-up Saturday 10-10.
        let start = at(2026, 9, 30, 20, 0);
        assert_eq!(spec(start, 3).times(&c).due_at, at(2026, 10, 10, 17, 0));
    }

    #[test]
    fn extension_and_pause_move_the_due_time_later() {
        let c = cal();
        let start = at(2026, 3, 3, 10, 0);
        let mut s = spec(start, 5);
        let base = s.times(&c).due_at;
        assert_eq!(base, at(2026, 3, 10, 10, 0));
        s.extension = WorkingDays::from_int(2);
        assert_eq!(s.times(&c).due_at, at(2026, 3, 12, 10, 0));
        s.paused = TimeDelta::hours(4);
        assert_eq!(s.times(&c).due_at, at(2026, 3, 12, 14, 0));
    }

    #[test]
    fn fractional_days_and_warning_never_before_start() {
        let c = cal();
        let start = at(2026, 3, 3, 9, 0);
        let mut s = spec(start, 0);
        s.target = "0.125".parse().unwrap_or(WorkingDays::ZERO);
        let t = s.times(&c);
        assert_eq!(t.due_at, at(2026, 3, 3, 10, 0));
        assert_eq!(t.warn_at, start);
    }

    #[test]
    fn escalation_is_one_working_day_after_the_breach() {
        let c = cal();
        assert_eq!(
            escalate_at(&c, at(2026, 3, 6, 17, 0)),
            at(2026, 3, 9, 17, 0)
        );
    }

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
