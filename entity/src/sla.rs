//! The clock rules of the engine, for every subject: the arithmetic of a clock's due, warning
//! and escalation times, pure and fast. Due times are computed here at write time and stored;
//! the monitor only compares instants. (The appeal state machine is in [`crate::appeal`].)

use crate::calendar::Calendar;
use crate::working_days::WorkingDays;
use chrono::{DateTime, TimeDelta, Utc};

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
}
