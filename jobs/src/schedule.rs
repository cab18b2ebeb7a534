//! When a job runs, read in the working calendar's time zone: every N seconds, daily at a time,
//! or monthly on the first working day at a time. A schedule is a set of instants ("slots");
//! the runner runs the latest slot that has passed, once.

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use entity::calendar::Calendar;

/// A job's schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Every period (at least one second), aligned to multiples of the period since the epoch.
    Every(TimeDelta),
    /// Every day at this local time.
    DailyAt(NaiveTime),
    /// On the first working day of every month at this local time.
    MonthlyFirstWorkingDayAt(NaiveTime),
}

/// The instant of local `date` `time` in `tz`; a time in a DST gap moves past the gap.
fn at(tz: Tz, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    let naive = date.and_time(time);
    for shift in [0, 1, 2] {
        if let Some(t) = tz
            .from_local_datetime(&(naive + TimeDelta::hours(shift)))
            .earliest()
        {
            return Some(t.with_timezone(&Utc));
        }
    }
    None
}

fn first_working_day(cal: &Calendar, year: i32, month: u32) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    first
        .iter_days()
        .take_while(|d| d.month() == month)
        .find(|d| cal.is_working_day(*d))
}

fn monthly(cal: &Calendar, month_start: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    let day = first_working_day(cal, month_start.year(), month_start.month())?;
    at(cal.settings().time_zone, day, time)
}

impl Schedule {
    /// The latest slot at or before `now`.
    pub fn last_slot(&self, cal: &Calendar, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let tz = cal.settings().time_zone;
        match *self {
            Schedule::Every(period) => {
                let secs = period.num_seconds().max(1);
                DateTime::from_timestamp(now.timestamp().div_euclid(secs) * secs, 0)
            }
            Schedule::DailyAt(time) => {
                let today = now.with_timezone(&tz).date_naive();
                match at(tz, today, time) {
                    Some(t) if t <= now => Some(t),
                    _ => at(tz, today.pred_opt()?, time),
                }
            }
            Schedule::MonthlyFirstWorkingDayAt(time) => {
                let month = now.with_timezone(&tz).date_naive().with_day(1)?;
                // A month may have no working day at all (a test calendar); look back a year.
                for back in 0..13 {
                    let m = month.checked_sub_months(Months::new(back))?;
                    if let Some(t) = monthly(cal, m, time)
                        && t <= now
                    {
                        return Some(t);
                    }
                }
                None
            }
        }
    }

    /// The first slot after `now`.
    pub fn next_slot(&self, cal: &Calendar, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let tz = cal.settings().time_zone;
        match *self {
            Schedule::Every(period) => {
                let secs = period.num_seconds().max(1);
                DateTime::from_timestamp((now.timestamp().div_euclid(secs) + 1) * secs, 0)
            }
            Schedule::DailyAt(time) => {
                let today = now.with_timezone(&tz).date_naive();
                match at(tz, today, time) {
                    Some(t) if t > now => Some(t),
                    _ => at(tz, today.succ_opt()?, time),
                }
            }
            Schedule::MonthlyFirstWorkingDayAt(time) => {
                let month = now.with_timezone(&tz).date_naive().with_day(1)?;
                for ahead in 0..13 {
                    let m = month.checked_add_months(Months::new(ahead))?;
                    if let Some(t) = monthly(cal, m, time)
                        && t > now
                    {
                        return Some(t);
                    }
                }
                None
            }
        }
    }

    /// A human-readable form, e.g. `every 10s`, `daily 03:00 Asia/Shanghai`.
    pub fn describe(&self, tz: Tz) -> String {
        match *self {
            Schedule::Every(p) if p.num_seconds() % 3600 == 0 => {
                format!("every {}h", p.num_hours())
            }
            Schedule::Every(p) if p.num_seconds() % 60 == 0 => {
                format!("every {}m", p.num_minutes())
            }
            Schedule::Every(p) => format!("every {}s", p.num_seconds()),
            Schedule::DailyAt(t) => format!("daily {} {}", t.format("%H:%M"), tz.name()),
            Schedule::MonthlyFirstWorkingDayAt(t) => {
                format!(
                    "monthly first working day {} {}",
                    t.format("%H:%M"),
                    tz.name()
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::calendar::{CalendarSettings, cn_2024_2026};

    fn cal() -> Calendar {
        Calendar::new(CalendarSettings::default(), cn_2024_2026())
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("time")
    }

    #[test]
    fn every_aligns_to_the_period() {
        let s = Schedule::Every(TimeDelta::seconds(10));
        let now = utc("2026-03-02T01:00:07Z");
        assert_eq!(s.last_slot(&cal(), now), Some(utc("2026-03-02T01:00:00Z")));
        assert_eq!(s.next_slot(&cal(), now), Some(utc("2026-03-02T01:00:10Z")));
        assert_eq!(
            s.last_slot(&cal(), utc("2026-03-02T01:00:10Z")),
            Some(utc("2026-03-02T01:00:10Z"))
        );
    }

    #[test]
    fn daily_is_read_in_the_calendar_time_zone() {
        let s = Schedule::DailyAt(hm(3, 0));
        // 02:00 Shanghai on 03-02: today's 03:00 has not come yet.
        let now = utc("2026-03-01T18:00:00Z");
        assert_eq!(s.last_slot(&cal(), now), Some(utc("2026-02-28T19:00:00Z")));
        assert_eq!(s.next_slot(&cal(), now), Some(utc("2026-03-01T19:00:00Z")));
    }

    #[test]
    fn monthly_uses_the_first_working_day() {
        let s = Schedule::MonthlyFirstWorkingDayAt(hm(8, 0));
        // February 2026: the 1st is a Sunday, the 2nd a Monday.
        assert_eq!(
            s.next_slot(&cal(), utc("2026-01-15T00:00:00Z")),
            Some(utc("2026-02-02T00:00:00Z"))
        );
        // October 2026: 1–7 are the National Day holiday, the 8th is the first working day.
        assert_eq!(
            s.next_slot(&cal(), utc("2026-09-15T00:00:00Z")),
            Some(utc("2026-10-08T00:00:00Z"))
        );
        assert_eq!(
            s.last_slot(&cal(), utc("2026-10-07T00:00:00Z")),
            Some(utc("2026-09-01T00:00:00Z"))
        );
        assert_eq!(
            s.last_slot(&cal(), utc("2026-10-08T00:00:00Z")),
            Some(utc("2026-10-08T00:00:00Z"))
        );
    }
}
