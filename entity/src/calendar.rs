//! The working calendar: pure, allocation-free arithmetic on working time.
//!
//! A calendar has a time zone, the working-hour intervals of a working day and date exceptions
//! (`holiday`: a weekday not worked; `workday`: a weekend day worked, 调休). Working time counts
//! only inside the working-hour intervals of working days, in the calendar's time zone, and is
//! measured as real elapsed time (so a working interval that spans a DST change is an hour
//! longer or shorter that day).
//!
//! Local times are turned into instants as follows: a local time that occurs twice (DST
//! overlap) means its earliest occurrence; a local time that does not exist (DST gap) means the
//! first instant after the gap, i.e. the transition itself. Nothing here panics on any input.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

use crate::working_days::WorkingDays;

/// The time zone of a calendar when none is configured.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";

/// How a date deviates from the Monday–Friday week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// No exception: Monday–Friday are worked, Saturday and Sunday are not.
    Normal,
    /// A day that is not worked (a public holiday).
    Holiday,
    /// A weekend day that is worked (调休).
    Workday,
}

/// Errors from building calendar settings.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    /// A time of day that is not `HH:MM` between 00:00 and 24:00.
    #[error("invalid time of day {0:?}: expected HH:MM between 00:00 and 24:00")]
    InvalidTimeOfDay(String),
    /// A working-hours string that is not `HH:MM-HH:MM[,HH:MM-HH:MM...]`.
    #[error("invalid working hours {0:?}: expected HH:MM-HH:MM, comma separated")]
    InvalidWorkingHours(String),
    /// No working interval at all.
    #[error("working hours must contain at least one interval")]
    NoWorkingHours,
    /// An interval whose end is not after its start.
    #[error("working interval {start}-{end} must end after it starts")]
    EmptyInterval {
        /// The interval's start.
        start: TimeOfDay,
        /// The interval's end.
        end: TimeOfDay,
    },
    /// Intervals out of order or overlapping.
    #[error(
        "working hours must be ordered and must not overlap \
         ({previous} is followed by {next}, which starts before it ends)"
    )]
    UnorderedIntervals {
        /// The earlier interval as given.
        previous: Interval,
        /// The interval that starts before `previous` ends.
        next: Interval,
    },
    /// A time-zone name that is not in the IANA database.
    #[error("unknown time zone {0:?}: expected an IANA name such as Asia/Shanghai")]
    UnknownTimeZone(String),
}

/// Minutes since local midnight, 0..=1440 (1440 = "24:00").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    /// 24:00, the end of the day.
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(1440);

    /// Parses `HH:MM` (two digits each), from `00:00` to `24:00`.
    pub fn parse(s: &str) -> Result<Self, CalendarError> {
        let invalid = || CalendarError::InvalidTimeOfDay(s.to_owned());
        let b = s.as_bytes();
        if b.len() != 5 || b[2] != b':' || ![b[0], b[1], b[3], b[4]].iter().all(u8::is_ascii_digit)
        {
            return Err(invalid());
        }
        let hour = u16::from(b[0] - b'0') * 10 + u16::from(b[1] - b'0');
        let minute = u16::from(b[3] - b'0') * 10 + u16::from(b[4] - b'0');
        Self::from_hm(hour, minute).map_err(|_| invalid())
    }

    /// Builds a time from hour and minute; 24:00 is the only time with hour 24.
    pub fn from_hm(hour: u16, minute: u16) -> Result<Self, CalendarError> {
        if minute >= 60 || hour > 24 || (hour == 24 && minute != 0) {
            return Err(CalendarError::InvalidTimeOfDay(format!(
                "{hour:02}:{minute:02}"
            )));
        }
        Ok(TimeOfDay(hour * 60 + minute))
    }

    /// Minutes since local midnight, 0..=1440.
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl FromStr for TimeOfDay {
    type Err = CalendarError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for TimeOfDay {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TimeOfDay {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// One working interval of a day, `[start, end)` in local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    /// Opening time.
    pub start: TimeOfDay,
    /// Closing time (may be 24:00).
    pub end: TimeOfDay,
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// The working intervals of a working day: at least one, each non-empty, strictly ordered.
///
/// Touching intervals (`09:00-12:00,12:00-17:00`) are rejected rather than merged, so that
/// `intervals()` always returns exactly what was configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkingHours(Vec<Interval>);

impl WorkingHours {
    /// Validates intervals: at least one, each `start < end`, ordered, not overlapping (touching
    /// is fine: `09:00–12:00` and `12:00–17:00` is one stretch written as two).
    pub fn new(intervals: Vec<Interval>) -> Result<Self, CalendarError> {
        if intervals.is_empty() {
            return Err(CalendarError::NoWorkingHours);
        }
        for iv in &intervals {
            if iv.start >= iv.end {
                return Err(CalendarError::EmptyInterval {
                    start: iv.start,
                    end: iv.end,
                });
            }
        }
        for pair in intervals.windows(2) {
            if pair[0].end > pair[1].start {
                return Err(CalendarError::UnorderedIntervals {
                    previous: pair[0],
                    next: pair[1],
                });
            }
        }
        Ok(WorkingHours(intervals))
    }

    /// Parses `HH:MM-HH:MM`, several separated by commas (e.g. `09:00-12:00,13:30-17:30`).
    pub fn parse(s: &str) -> Result<Self, CalendarError> {
        let intervals = s
            .split(',')
            .map(|part| {
                let (start, end) = part
                    .trim()
                    .split_once('-')
                    .ok_or_else(|| CalendarError::InvalidWorkingHours(s.to_owned()))?;
                Ok(Interval {
                    start: TimeOfDay::parse(start.trim())?,
                    end: TimeOfDay::parse(end.trim())?,
                })
            })
            .collect::<Result<Vec<_>, CalendarError>>()?;
        Self::new(intervals)
    }

    /// The intervals, in order.
    pub fn intervals(&self) -> &[Interval] {
        &self.0
    }

    /// Total working time of one working day (by the wall clock).
    pub fn day_length(&self) -> TimeDelta {
        let minutes: i64 = self
            .0
            .iter()
            .map(|iv| i64::from(iv.end.0) - i64::from(iv.start.0))
            .sum();
        TimeDelta::minutes(minutes)
    }
}

impl Default for WorkingHours {
    /// 09:00–17:00.
    fn default() -> Self {
        WorkingHours(vec![Interval {
            start: TimeOfDay(9 * 60),
            end: TimeOfDay(17 * 60),
        }])
    }
}

impl fmt::Display for WorkingHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, iv) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{iv}")?;
        }
        Ok(())
    }
}

impl FromStr for WorkingHours {
    type Err = CalendarError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Parses an IANA time-zone name.
pub fn parse_time_zone(name: &str) -> Result<Tz, CalendarError> {
    name.trim()
        .parse::<Tz>()
        .map_err(|_| CalendarError::UnknownTimeZone(name.to_owned()))
}

/// Time zone and working hours of a calendar.
#[derive(Clone, Debug, PartialEq)]
pub struct CalendarSettings {
    /// Zone in which dates and working hours are read.
    pub time_zone: Tz,
    /// Working intervals of every working day.
    pub working_hours: WorkingHours,
}

impl Default for CalendarSettings {
    /// Asia/Shanghai, 09:00–17:00.
    fn default() -> Self {
        CalendarSettings {
            time_zone: chrono_tz::Asia::Shanghai,
            working_hours: WorkingHours::default(),
        }
    }
}

/// A working calendar: settings plus date exceptions, ready for fast arithmetic.
#[derive(Clone, Debug)]
pub struct Calendar {
    settings: CalendarSettings,
    /// Sorted by date, one entry per date, `Normal` entries dropped.
    exceptions: Vec<(NaiveDate, DayKind)>,
    day_length: TimeDelta,
}

impl Calendar {
    /// Builds a calendar; when a date is listed twice the last entry wins.
    pub fn new(
        settings: CalendarSettings,
        exceptions: impl IntoIterator<Item = (NaiveDate, DayKind)>,
    ) -> Self {
        let mut list: Vec<(NaiveDate, DayKind)> = exceptions.into_iter().collect();
        // Stable sort, then keep the last of equal dates.
        list.sort_by_key(|&(date, _)| date);
        let mut exceptions: Vec<(NaiveDate, DayKind)> = Vec::with_capacity(list.len());
        for (date, kind) in list {
            match exceptions.last_mut() {
                Some(last) if last.0 == date => last.1 = kind,
                _ => exceptions.push((date, kind)),
            }
        }
        exceptions.retain(|&(_, kind)| kind != DayKind::Normal);
        let day_length = settings.working_hours.day_length();
        Calendar {
            settings,
            exceptions,
            day_length,
        }
    }

    /// The calendar's settings.
    pub fn settings(&self) -> &CalendarSettings {
        &self.settings
    }

    /// The exceptions, sorted by date (without `Normal` entries).
    pub fn exceptions(&self) -> &[(NaiveDate, DayKind)] {
        &self.exceptions
    }

    /// The exception for `date`, `Normal` when there is none.
    pub fn day_kind(&self, date: NaiveDate) -> DayKind {
        match self.exceptions.binary_search_by_key(&date, |&(d, _)| d) {
            Ok(i) => self.exceptions[i].1,
            Err(_) => DayKind::Normal,
        }
    }

    /// Monday–Friday unless a holiday; Saturday and Sunday only when a workday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.day_kind(date) {
            DayKind::Holiday => false,
            DayKind::Workday => true,
            DayKind::Normal => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// Working time of one working day (the length of "1 working day").
    pub fn day_length(&self) -> TimeDelta {
        self.day_length
    }

    /// The instant reached after `duration` of working time counted from `start`.
    ///
    /// A result that falls exactly on a closing time stays there. A zero duration gives `start`
    /// when it is inside working hours or exactly at a closing time, else the next opening.
    /// Negative durations count as zero. Saturates at `DateTime::<Utc>::MAX_UTC`. The cost grows
    /// with the number of calendar days walked, so callers bound durations (see `WorkingDays`).
    pub fn add_working_time(&self, start: DateTime<Utc>, duration: TimeDelta) -> DateTime<Utc> {
        let mut remaining = duration.max(TimeDelta::zero());
        let mut date = self.local_date(start);
        let intervals = self.settings.working_hours.intervals();
        if remaining.is_zero()
            && intervals
                .last()
                .is_some_and(|iv| iv.end == TimeOfDay::END_OF_DAY)
        {
            // `start` may be the previous day's 24:00 closing, where a zero duration stays.
            date = date.pred_opt().unwrap_or(date);
        }
        loop {
            if self.is_working_day(date) {
                for iv in intervals {
                    let Some((open, close)) = self.period(date, *iv) else {
                        return DateTime::<Utc>::MAX_UTC;
                    };
                    if close < start {
                        continue;
                    }
                    let from = open.max(start);
                    let available = close - from;
                    if remaining <= available {
                        return from
                            .checked_add_signed(remaining)
                            .unwrap_or(DateTime::<Utc>::MAX_UTC);
                    }
                    remaining -= available;
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => return DateTime::<Utc>::MAX_UTC,
            }
        }
    }

    /// Working time inside `[a, b]`; the negative of `working_time_between(b, a)` when `b < a`.
    pub fn working_time_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> TimeDelta {
        if b < a {
            return -self.working_time_between(b, a);
        }
        let mut total = TimeDelta::zero();
        let mut date = self.local_date(a);
        loop {
            if self.is_working_day(date) {
                for iv in self.settings.working_hours.intervals() {
                    let Some((open, close)) = self.period(date, *iv) else {
                        return total;
                    };
                    if open >= b {
                        return total;
                    }
                    if close > a {
                        total += close.min(b) - open.max(a);
                    }
                    if close >= b {
                        return total;
                    }
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => return total,
            }
        }
    }

    /// `days` working days from `start`: `days × day_length()` of working time.
    pub fn add_working_days(&self, start: DateTime<Utc>, days: WorkingDays) -> DateTime<Utc> {
        self.add_working_time(start, days.to_duration(self.day_length))
    }

    /// The first instant `>= t` inside working hours of a working day (`t` itself when it is;
    /// an exact closing time moves to the next opening).
    pub fn next_opening(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let mut date = self.local_date(t);
        loop {
            if self.is_working_day(date) {
                for iv in self.settings.working_hours.intervals() {
                    let Some((open, close)) = self.period(date, *iv) else {
                        return DateTime::<Utc>::MAX_UTC;
                    };
                    if close > t {
                        return open.max(t);
                    }
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => return DateTime::<Utc>::MAX_UTC,
            }
        }
    }

    /// True when `t` lies in `[start, end)` of a working interval on a working day.
    pub fn is_working_instant(&self, t: DateTime<Utc>) -> bool {
        self.next_opening(t) == t
    }

    /// The local date of an instant in the calendar's zone.
    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        let utc = t.naive_utc();
        let offset = self.settings.time_zone.offset_from_utc_datetime(&utc).fix();
        // `with_timezone` panics at chrono's limits; fall back to the UTC date there.
        utc.checked_add_offset(offset).unwrap_or(utc).date()
    }

    /// The instants `[open, close)` of interval `iv` on `date`; `None` only past chrono's range.
    /// The period may be empty when both ends fall in one DST gap.
    fn period(&self, date: NaiveDate, iv: Interval) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let open = self.resolve(local_at(date, iv.start)?);
        let close = self.resolve(local_at(date, iv.end)?);
        Some((open, close.max(open)))
    }

    /// The instant a local wall-clock time denotes (see the module doc for gaps and overlaps).
    fn resolve(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let tz = self.settings.time_zone;
        match tz.offset_from_local_datetime(&local) {
            chrono::LocalResult::Single(offset) => to_utc(local, offset.fix()),
            chrono::LocalResult::Ambiguous(a, b) => {
                to_utc(local, a.fix()).min(to_utc(local, b.fix()))
            }
            chrono::LocalResult::None => self.gap_end(local),
        }
    }

    /// The first instant whose wall-clock time is at or after `local`, which lies in a DST gap:
    /// the transition that created the gap.
    fn gap_end(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let tz = self.settings.time_zone;
        let as_utc = local.and_utc();
        let offset_at = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix();
        let day = TimeDelta::days(1);
        let (Some(before), Some(after)) = (
            as_utc.checked_sub_signed(day),
            as_utc.checked_add_signed(day),
        ) else {
            return as_utc;
        };
        let (before, after) = (offset_at(before), offset_at(after));
        // Within the gap the transition lies in (local - after, local - before].
        let before_secs = i64::from(before.local_minus_utc());
        let after_secs = i64::from(after.local_minus_utc());
        let local_secs = as_utc.timestamp();
        let wall_reached = |secs: i64| -> bool {
            DateTime::<Utc>::from_timestamp(secs, 0)
                .is_some_and(|t| secs + i64::from(offset_at(t).local_minus_utc()) >= local_secs)
        };
        let (mut lo, mut hi) = (local_secs - after_secs, local_secs - before_secs);
        if lo >= hi || wall_reached(lo) || !wall_reached(hi) {
            // Not the simple one-transition gap; shifting by the earlier offset is still sane.
            return DateTime::<Utc>::from_timestamp(hi, 0).unwrap_or(as_utc);
        }
        // Invariant: the wall clock at `lo` is before `local`, at `hi` it has reached it.
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if wall_reached(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        DateTime::<Utc>::from_timestamp(hi, 0).unwrap_or(as_utc)
    }
}

/// The instant of `local` read with `offset` (clamped, never panicking, at chrono's limits).
fn to_utc(local: NaiveDateTime, offset: chrono::FixedOffset) -> DateTime<Utc> {
    local.checked_sub_offset(offset).unwrap_or(local).and_utc()
}

/// The local date-time of `time` on `date`; 24:00 is midnight of the next day.
fn local_at(date: NaiveDate, time: TimeOfDay) -> Option<NaiveDateTime> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    midnight.checked_add_signed(TimeDelta::minutes(i64::from(time.0)))
}

/// Chinese public holidays and adjusted workdays 2024–2026 (State Council announcements):
/// date `YYYY-MM-DD`, kind, English name, Chinese name.
pub const CN_2024_2026: &[(&str, DayKind, &str, &str)] = &[
    ("2024-01-01", DayKind::Holiday, "New Year's Day", "元旦"),
    ("2024-02-04", DayKind::Workday, "Spring Festival", "春节"),
    ("2024-02-10", DayKind::Holiday, "Spring Festival", "春节"),
    ("2024-02-11", DayKind::Holiday, "Spring Festival", "春节"),
    ("2024-02-12", DayKind::Holiday, "Spring Festival", "春节"),
    ("2024-02-13", DayKind::Holiday, "Spring Festival", "春节"),
    ("2024-02-14", DayKind::Holiday, "Spring Festival", "春节"),
    ("2024-02-15", DayKind::Holiday, "Spring Festival", "春节"),
    ("2024-02-16", DayKind::Holiday, "Spring Festival", "春节"),
    ("2024-02-17", DayKind::Holiday, "Spring Festival", "春节"),
    ("2024-02-18", DayKind::Workday, "Spring Festival", "春节"),
    (
        "2024-04-04",
        DayKind::Holiday,
        "Tomb-sweeping Day",
        "清明节",
    ),
    (
        "2024-04-05",
        DayKind::Holiday,
        "Tomb-sweeping Day",
        "清明节",
    ),
    (
        "2024-04-06",
        DayKind::Holiday,
        "Tomb-sweeping Day",
        "清明节",
    ),
    (
        "2024-04-07",
        DayKind::Workday,
        "Tomb-sweeping Day",
        "清明节",
    ),
    ("2024-04-28", DayKind::Workday, "Labour Day", "劳动节"),
    ("2024-05-01", DayKind::Holiday, "Labour Day", "劳动节"),
    ("2024-05-02", DayKind::Holiday, "Labour Day", "劳动节"),
    ("2024-05-03", DayKind::Holiday, "Labour Day", "劳动节"),
    ("2024-05-04", DayKind::Holiday, "Labour Day", "劳动节"),
    ("2024-05-05", DayKind::Holiday, "Labour Day", "劳动节"),
    ("2024-05-11", DayKind::Workday, "Labour Day", "劳动节"),
    (
        "2024-06-10",
        DayKind::Holiday,
        "Dragon Boat Festival",
        "端午节",
    ),
    (
        "2024-09-14",
        DayKind::Workday,
        "Mid-autumn Festival",
        "中秋节",
    ),
    (
        "2024-09-15",
        DayKind::Holiday,
        "Mid-autumn Festival",
        "中秋节",
    ),
    (
        "2024-09-16",
        DayKind::Holiday,
        "Mid-autumn Festival",
        "中秋节",
    ),
    (
        "2024-09-17",
        DayKind::Holiday,
        "Mid-autumn Festival",
        "中秋节",
    ),
    ("2024-09-29", DayKind::Workday, "National Day", "国庆节"),
    ("2024-10-01", DayKind::Holiday, "National Day", "国庆节"),
    ("2024-10-02", DayKind::Holiday, "National Day", "国庆节"),
    ("2024-10-03", DayKind::Holiday, "National Day", "国庆节"),
    ("2024-10-04", DayKind::Holiday, "National Day", "国庆节"),
    ("2024-10-05", DayKind::Holiday, "National Day", "国庆节"),
    ("2024-10-06", DayKind::Holiday, "National Day", "国庆节"),
    ("2024-10-07", DayKind::Holiday, "National Day", "国庆节"),
    ("2024-10-12", DayKind::Workday, "National Day", "国庆节"),
    ("2025-01-01", DayKind::Holiday, "New Year's Day", "元旦"),
    ("2025-01-26", DayKind::Workday, "Spring Festival", "春节"),
    ("2025-01-28", DayKind::Holiday, "Spring Festival", "春节"),
    ("2025-01-29", DayKind::Holiday, "Spring Festival", "春节"),
    ("2025-01-30", DayKind::Holiday, "Spring Festival", "春节"),
    ("2025-01-31", DayKind::Holiday, "Spring Festival", "春节"),
    ("2025-02-01", DayKind::Holiday, "Spring Festival", "春节"),
    ("2025-02-02", DayKind::Holiday, "Spring Festival", "春节"),
    ("2025-02-03", DayKind::Holiday, "Spring Festival", "春节"),
    ("2025-02-04", DayKind::Holiday, "Spring Festival", "春节"),
    ("2025-02-08", DayKind::Workday, "Spring Festival", "春节"),
    (
        "2025-04-04",
        DayKind::Holiday,
        "Tomb-sweeping Day",
        "清明节",
    ),
    (
        "2025-04-05",
        DayKind::Holiday,
        "Tomb-sweeping Day",
        "清明节",
    ),
    (
        "2025-04-06",
        DayKind::Holiday,
        "Tomb-sweeping Day",
        "清明节",
    ),
    ("2025-04-27", DayKind::Workday, "Labour Day", "劳动节"),
    ("2025-05-01", DayKind::Holiday, "Labour Day", "劳动节"),
    ("2025-05-02", DayKind::Holiday, "Labour Day", "劳动节"),
    ("2025-05-03", DayKind::Holiday, "Labour Day", "劳动节"),
    ("2025-05-04", DayKind::Holiday, "Labour Day", "劳动节"),
    ("2025-05-05", DayKind::Holiday, "Labour Day", "劳动节"),
    (
        "2025-05-31",
        DayKind::Holiday,
        "Dragon Boat Festival",
        "端午节",
    ),
    (
        "2025-06-01",
        DayKind::Holiday,
        "Dragon Boat Festival",
        "端午节",
    ),
    (
        "2025-06-02",
        DayKind::Holiday,
        "Dragon Boat Festival",
        "端午节",
    ),
    ("2025-09-28", DayKind::Workday, "National Day", "国庆节"),
    ("2025-10-01", DayKind::Holiday, "National Day", "国庆节"),
    ("2025-10-02", DayKind::Holiday, "National Day", "国庆节"),
    ("2025-10-03", DayKind::Holiday, "National Day", "国庆节"),
    ("2025-10-04", DayKind::Holiday, "National Day", "国庆节"),
    ("2025-10-05", DayKind::Holiday, "National Day", "国庆节"),
    (
        "2025-10-06",
        DayKind::Holiday,
        "Mid-autumn Festival",
        "中秋节",
    ),
    ("2025-10-07", DayKind::Holiday, "National Day", "国庆节"),
    ("2025-10-08", DayKind::Holiday, "National Day", "国庆节"),
    ("2025-10-11", DayKind::Workday, "National Day", "国庆节"),
    ("2026-01-01", DayKind::Holiday, "New Year's Day", "元旦"),
    ("2026-01-02", DayKind::Holiday, "New Year's Day", "元旦"),
    ("2026-01-03", DayKind::Holiday, "New Year's Day", "元旦"),
    ("2026-01-04", DayKind::Workday, "New Year's Day", "元旦"),
    ("2026-02-14", DayKind::Workday, "Spring Festival", "春节"),
    ("2026-02-15", DayKind::Holiday, "Spring Festival", "春节"),
    ("2026-02-16", DayKind::Holiday, "Spring Festival", "春节"),
    ("2026-02-17", DayKind::Holiday, "Spring Festival", "春节"),
    ("2026-02-18", DayKind::Holiday, "Spring Festival", "春节"),
    ("2026-02-19", DayKind::Holiday, "Spring Festival", "春节"),
    ("2026-02-20", DayKind::Holiday, "Spring Festival", "春节"),
    ("2026-02-21", DayKind::Holiday, "Spring Festival", "春节"),
    ("2026-02-22", DayKind::Holiday, "Spring Festival", "春节"),
    ("2026-02-23", DayKind::Holiday, "Spring Festival", "春节"),
    ("2026-02-28", DayKind::Workday, "Spring Festival", "春节"),
    (
        "2026-04-04",
        DayKind::Holiday,
        "Tomb-sweeping Day",
        "清明节",
    ),
    (
        "2026-04-05",
        DayKind::Holiday,
        "Tomb-sweeping Day",
        "清明节",
    ),
    (
        "2026-04-06",
        DayKind::Holiday,
        "Tomb-sweeping Day",
        "清明节",
    ),
    ("2026-05-01", DayKind::Holiday, "Labour Day", "劳动节"),
    ("2026-05-02", DayKind::Holiday, "Labour Day", "劳动节"),
    ("2026-05-03", DayKind::Holiday, "Labour Day", "劳动节"),
    ("2026-05-04", DayKind::Holiday, "Labour Day", "劳动节"),
    ("2026-05-05", DayKind::Holiday, "Labour Day", "劳动节"),
    ("2026-05-09", DayKind::Workday, "Labour Day", "劳动节"),
    (
        "2026-06-19",
        DayKind::Holiday,
        "Dragon Boat Festival",
        "端午节",
    ),
    (
        "2026-06-20",
        DayKind::Holiday,
        "Dragon Boat Festival",
        "端午节",
    ),
    (
        "2026-06-21",
        DayKind::Holiday,
        "Dragon Boat Festival",
        "端午节",
    ),
    ("2026-09-20", DayKind::Workday, "National Day", "国庆节"),
    (
        "2026-09-25",
        DayKind::Holiday,
        "Mid-autumn Festival",
        "中秋节",
    ),
    (
        "2026-09-26",
        DayKind::Holiday,
        "Mid-autumn Festival",
        "中秋节",
    ),
    (
        "2026-09-27",
        DayKind::Holiday,
        "Mid-autumn Festival",
        "中秋节",
    ),
    ("2026-10-01", DayKind::Holiday, "National Day", "国庆节"),
    ("2026-10-02", DayKind::Holiday, "National Day", "国庆节"),
    ("2026-10-03", DayKind::Holiday, "National Day", "国庆节"),
    ("2026-10-04", DayKind::Holiday, "National Day", "国庆节"),
    ("2026-10-05", DayKind::Holiday, "National Day", "国庆节"),
    ("2026-10-06", DayKind::Holiday, "National Day", "国庆节"),
    ("2026-10-07", DayKind::Holiday, "National Day", "国庆节"),
    ("2026-10-10", DayKind::Workday, "National Day", "国庆节"),
];

/// [`CN_2024_2026`] as `(date, kind)` pairs, ready for [`Calendar::new`] or a seed migration.
pub fn cn_2024_2026() -> Vec<(NaiveDate, DayKind)> {
    CN_2024_2026
        .iter()
        .filter_map(|&(date, kind, _, _)| {
            // The table is a compile-time constant checked by a unit test; a bad row is skipped.
            NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .ok()
                .map(|d| (d, kind))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;
    use proptest::prelude::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// An instant given as Shanghai local time `YYYY-MM-DD HH:MM[:SS[.f]]`.
    fn sh(s: &str) -> DateTime<Utc> {
        at(chrono_tz::Asia::Shanghai, s)
    }

    fn at(tz: Tz, s: &str) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
            .unwrap();
        tz.from_local_datetime(&naive).earliest().unwrap().to_utc()
    }

    fn cn() -> Calendar {
        Calendar::new(CalendarSettings::default(), cn_2024_2026())
    }

    fn lunch_break() -> CalendarSettings {
        CalendarSettings {
            working_hours: WorkingHours::parse("09:00-12:00,13:30-17:30").unwrap(),
            ..CalendarSettings::default()
        }
    }

    fn days(n: &str) -> WorkingDays {
        n.parse().unwrap()
    }

    /// True when `t` is exactly the closing time of a working interval.
    fn is_closing_instant(cal: &Calendar, t: DateTime<Utc>) -> bool {
        let local = cal.local_date(t);
        [local.pred_opt().unwrap(), local].into_iter().any(|d| {
            cal.is_working_day(d)
                && cal
                    .settings
                    .working_hours
                    .intervals()
                    .iter()
                    .any(|iv| cal.period(d, *iv).is_some_and(|(_, close)| close == t))
        })
    }

    #[test]
    fn time_of_day_parses_and_displays() {
        assert_eq!(TimeOfDay::parse("09:00").unwrap().minutes(), 540);
        assert_eq!(TimeOfDay::parse("24:00").unwrap(), TimeOfDay::END_OF_DAY);
        assert_eq!(TimeOfDay::parse("00:00").unwrap().to_string(), "00:00");
        assert_eq!(TimeOfDay::parse("24:00").unwrap().to_string(), "24:00");
        assert_eq!(TimeOfDay::parse("13:30").unwrap().to_string(), "13:30");
        for bad in [
            "24:01", "9:00", "09:60", "25:00", "0900", "09:0a", "", "09:00 ",
        ] {
            assert_eq!(
                TimeOfDay::parse(bad),
                Err(CalendarError::InvalidTimeOfDay(bad.to_owned())),
                "{bad}"
            );
        }
    }

    #[test]
    fn working_hours_are_validated() {
        let t = |s| TimeOfDay::parse(s).unwrap();
        let iv = |a, b| Interval {
            start: t(a),
            end: t(b),
        };
        assert_eq!(
            WorkingHours::new(vec![]),
            Err(CalendarError::NoWorkingHours)
        );
        assert!(matches!(
            WorkingHours::new(vec![iv("10:00", "10:00")]),
            Err(CalendarError::EmptyInterval { .. })
        ));
        let overlapping = WorkingHours::new(vec![iv("09:00", "12:00"), iv("11:00", "17:00")]);
        assert!(matches!(
            overlapping,
            Err(CalendarError::UnorderedIntervals { .. })
        ));
        assert!(
            overlapping
                .unwrap_err()
                .to_string()
                .starts_with("working hours must be ordered and must not overlap")
        );
        assert!(WorkingHours::new(vec![iv("13:00", "17:00"), iv("09:00", "12:00")]).is_err());
        let touching = WorkingHours::new(vec![iv("09:00", "12:00"), iv("12:00", "17:00")]);
        assert_eq!(touching.map(|h| h.day_length()), Ok(TimeDelta::hours(8)));
        let hours = WorkingHours::parse("09:00-12:00, 13:30-17:30").unwrap();
        assert_eq!(hours.day_length(), TimeDelta::hours(7));
        assert_eq!(hours.to_string(), "09:00-12:00,13:30-17:30");
        assert_eq!(WorkingHours::default().to_string(), "09:00-17:00");
        assert_eq!(
            WorkingHours::parse("00:00-24:00").unwrap().day_length(),
            TimeDelta::hours(24)
        );
        assert!(matches!(
            WorkingHours::parse("09:00"),
            Err(CalendarError::InvalidWorkingHours(_))
        ));
    }

    #[test]
    fn default_settings_are_shanghai_nine_to_five() {
        let settings = CalendarSettings::default();
        assert_eq!(settings.time_zone.name(), DEFAULT_TIME_ZONE);
        assert_eq!(parse_time_zone(DEFAULT_TIME_ZONE), Ok(settings.time_zone));
        assert!(parse_time_zone("Mars/Olympus").is_err());
        assert_eq!(
            Calendar::new(settings, []).day_length(),
            TimeDelta::hours(8)
        );
    }

    #[test]
    fn cn_table_is_complete_and_consistent() {
        let list = cn_2024_2026();
        assert_eq!(list.len(), CN_2024_2026.len());
        assert_eq!(list.len(), 108);
        assert!(
            list.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, no duplicates"
        );
        for (d, kind) in &list {
            if *kind == DayKind::Workday {
                assert!(matches!(d.weekday(), Weekday::Sat | Weekday::Sun), "{d}");
            }
        }
        let cal = cn();
        assert_eq!(cal.exceptions().len(), 108);
        assert_eq!(cal.day_kind(date("2026-02-14")), DayKind::Workday);
        assert_eq!(cal.day_kind(date("2026-02-16")), DayKind::Holiday);
        assert_eq!(cal.day_kind(date("2026-03-03")), DayKind::Normal);
    }

    #[test]
    fn later_exception_for_same_date_wins() {
        let d = date("2026-03-03");
        let cal = Calendar::new(
            CalendarSettings::default(),
            [(d, DayKind::Holiday), (d, DayKind::Normal)],
        );
        assert!(cal.is_working_day(d));
        assert!(cal.exceptions().is_empty());
    }

    #[test]
    fn design_examples() {
        let cal = Calendar::new(CalendarSettings::default(), []);
        // Tue 2026-03-03 15:00 → 1 working day → Wed 15:00.
        assert_eq!(
            cal.add_working_days(sh("2026-03-03 15:00"), days("1")),
            sh("2026-03-04 15:00")
        );
        // Fri 20:00 → clock starts Mon 09:00.
        let friday_evening = sh("2026-03-06 20:00");
        assert_eq!(cal.next_opening(friday_evening), sh("2026-03-09 09:00"));
        assert_eq!(
            cal.add_working_days(friday_evening, days("1")),
            sh("2026-03-09 17:00")
        );
        assert_eq!(
            cal.add_working_days(friday_evening, days("3")),
            sh("2026-03-11 17:00")
        );
        assert_eq!(
            cal.add_working_days(friday_evening, days("5")),
            sh("2026-03-13 17:00")
        );
        assert_eq!(
            cal.add_working_days(friday_evening, days("0.5")),
            sh("2026-03-09 13:00")
        );
    }

    #[test]
    fn sub_second_precision_is_kept() {
        let cal = cn();
        assert_eq!(
            cal.add_working_days(sh("2026-03-03 15:00:30.5"), days("1")),
            sh("2026-03-04 15:00:30.5")
        );
        let start = sh("2026-03-03 16:59:59.999999");
        let due = cal.add_working_time(start, TimeDelta::microseconds(2));
        assert_eq!(due, sh("2026-03-04 09:00:00.000001"));
        assert_eq!(due.nanosecond() % 1000, 0);
    }

    #[test]
    fn zero_duration() {
        let cal = cn();
        let inside = sh("2026-03-03 10:15:07");
        assert_eq!(cal.add_working_time(inside, TimeDelta::zero()), inside);
        let closing = sh("2026-03-03 17:00");
        assert_eq!(cal.add_working_time(closing, TimeDelta::zero()), closing);
        assert_eq!(cal.next_opening(closing), sh("2026-03-04 09:00"));
        assert_eq!(
            cal.add_working_time(sh("2026-03-03 07:00"), TimeDelta::zero()),
            sh("2026-03-03 09:00")
        );
        assert_eq!(
            cal.add_working_time(sh("2026-03-07 12:00"), TimeDelta::zero()),
            sh("2026-03-09 09:00")
        );
        // Negative durations count as zero.
        assert_eq!(cal.add_working_time(inside, TimeDelta::hours(-3)), inside);
    }

    #[test]
    fn working_instants() {
        let cal = cn();
        assert!(cal.is_working_instant(sh("2026-03-03 09:00")));
        assert!(cal.is_working_instant(sh("2026-03-03 16:59:59.999")));
        assert!(!cal.is_working_instant(sh("2026-03-03 17:00")));
        assert!(!cal.is_working_instant(sh("2026-03-03 08:59:59")));
        assert!(!cal.is_working_instant(sh("2026-03-07 10:00")), "Saturday");
        assert!(
            cal.is_working_instant(sh("2026-02-14 10:00")),
            "adjusted Saturday"
        );
        assert!(
            !cal.is_working_instant(sh("2026-02-16 10:00")),
            "Spring Festival"
        );
    }

    #[test]
    fn spring_festival_2026() {
        let cal = cn();
        assert!(cal.is_working_day(date("2026-02-13")));
        assert!(
            cal.is_working_day(date("2026-02-14")),
            "Sat 02-14 is worked"
        );
        for d in 15..=23 {
            assert!(!cal.is_working_day(date(&format!("2026-02-{d}"))), "02-{d}");
        }
        assert!(cal.is_working_day(date("2026-02-24")));
        assert!(
            cal.is_working_day(date("2026-02-28")),
            "Sat 02-28 is worked"
        );
        assert!(!cal.is_working_day(date("2026-03-01")));

        let start = sh("2026-02-13 10:00");
        assert_eq!(
            cal.add_working_days(start, days("1")),
            sh("2026-02-14 10:00")
        );
        assert_eq!(
            cal.add_working_days(start, days("2")),
            sh("2026-02-24 10:00")
        );
        assert_eq!(
            cal.add_working_days(start, days("5")),
            sh("2026-02-27 10:00")
        );
        // Submitted during the holiday: the clock starts on Tue 02-24.
        let holiday = sh("2026-02-17 11:00");
        assert_eq!(cal.next_opening(holiday), sh("2026-02-24 09:00"));
        assert_eq!(
            cal.add_working_days(holiday, days("1")),
            sh("2026-02-24 17:00")
        );
        assert_eq!(
            cal.add_working_days(holiday, days("5")),
            sh("2026-02-28 17:00")
        );
        assert_eq!(
            cal.working_time_between(start, sh("2026-02-27 10:00")),
            TimeDelta::hours(40)
        );
    }

    #[test]
    fn national_day_2026() {
        let cal = cn();
        assert!(
            cal.is_working_day(date("2026-09-20")),
            "Sun 09-20 is worked"
        );
        assert!(
            !cal.is_working_day(date("2026-09-25")),
            "Mid-autumn Festival"
        );
        for d in 1..=7 {
            assert!(!cal.is_working_day(date(&format!("2026-10-0{d}"))));
        }
        assert!(
            cal.is_working_day(date("2026-10-10")),
            "Sat 10-10 is worked"
        );

        let start = sh("2026-09-30 10:00");
        assert_eq!(
            cal.add_working_days(start, days("1")),
            sh("2026-10-08 10:00")
        );
        assert_eq!(
            cal.add_working_days(start, days("3")),
            sh("2026-10-10 10:00")
        );
        assert_eq!(
            cal.add_working_days(sh("2026-09-24 10:00"), days("1")),
            sh("2026-09-28 10:00")
        );
        assert_eq!(
            cal.add_working_days(sh("2026-09-18 17:00"), days("1")),
            sh("2026-09-20 17:00")
        );
    }

    #[test]
    fn lunch_break_setting() {
        let cal = Calendar::new(lunch_break(), cn_2024_2026());
        assert_eq!(cal.day_length(), TimeDelta::hours(7));
        let tue = sh("2026-03-03 11:00");
        assert_eq!(cal.add_working_days(tue, days("1")), sh("2026-03-04 11:00"));
        assert_eq!(
            cal.add_working_days(tue, days("0.5")),
            sh("2026-03-03 16:00")
        );
        assert_eq!(
            cal.add_working_time(tue, TimeDelta::hours(1)),
            sh("2026-03-03 12:00"),
            "a deadline at the lunch closing stays there"
        );
        let noon = sh("2026-03-03 12:00");
        assert_eq!(cal.add_working_time(noon, TimeDelta::zero()), noon);
        assert_eq!(cal.next_opening(noon), sh("2026-03-03 13:30"));
        assert!(!cal.is_working_instant(noon));
        assert!(!cal.is_working_instant(sh("2026-03-03 13:00")));
        assert_eq!(
            cal.add_working_time(sh("2026-03-03 12:30"), TimeDelta::zero()),
            sh("2026-03-03 13:30")
        );
        assert_eq!(
            cal.working_time_between(sh("2026-03-03 08:00"), sh("2026-03-03 20:00")),
            TimeDelta::hours(7)
        );
        assert_eq!(
            cal.working_time_between(sh("2026-03-03 11:30"), sh("2026-03-03 14:00")),
            TimeDelta::hours(1)
        );
        // Fri 20:00 + 5 working days = the following Friday 17:30.
        assert_eq!(
            cal.add_working_days(sh("2026-03-06 20:00"), days("5")),
            sh("2026-03-13 17:30")
        );
    }

    #[test]
    fn interval_ending_at_midnight() {
        let settings = CalendarSettings {
            working_hours: WorkingHours::parse("20:00-24:00").unwrap(),
            ..CalendarSettings::default()
        };
        let cal = Calendar::new(settings, []);
        assert_eq!(cal.day_length(), TimeDelta::hours(4));
        assert_eq!(
            cal.add_working_days(sh("2026-03-03 22:00"), days("1")),
            sh("2026-03-04 22:00")
        );
        // The deadline falls on Tue 24:00 = Wed 00:00 and stays there.
        let midnight = sh("2026-03-04 00:00");
        assert_eq!(
            cal.add_working_days(sh("2026-03-03 20:00"), days("1")),
            midnight
        );
        assert!(!cal.is_working_instant(midnight));
        assert!(cal.is_working_instant(sh("2026-03-03 23:59:59")));
        assert_eq!(cal.add_working_time(midnight, TimeDelta::zero()), midnight);
        assert_eq!(cal.next_opening(midnight), sh("2026-03-04 20:00"));
        // Fri 23:00 + 1.5 h → Mon 20:30 (Saturday 00:00–24:00 is not worked).
        assert_eq!(
            cal.add_working_time(sh("2026-03-06 23:00"), TimeDelta::minutes(90)),
            sh("2026-03-09 20:30")
        );
        assert_eq!(
            cal.working_time_between(sh("2026-03-06 23:00"), sh("2026-03-09 20:30")),
            TimeDelta::minutes(90)
        );

        let all_day = Calendar::new(
            CalendarSettings {
                working_hours: WorkingHours::parse("00:00-24:00").unwrap(),
                ..CalendarSettings::default()
            },
            [],
        );
        assert_eq!(
            all_day.add_working_days(sh("2026-03-06 12:00"), days("1")),
            sh("2026-03-09 12:00")
        );
        assert!(all_day.is_working_instant(sh("2026-03-09 00:00")));
        assert!(!all_day.is_working_instant(sh("2026-03-08 23:59")));
    }

    #[test]
    fn working_time_between_is_antisymmetric() {
        let cal = cn();
        let a = sh("2026-03-03 15:00");
        let b = sh("2026-03-05 10:30");
        let forward = TimeDelta::hours(2) + TimeDelta::hours(8) + TimeDelta::minutes(90);
        assert_eq!(cal.working_time_between(a, b), forward);
        assert_eq!(cal.working_time_between(b, a), -forward);
        assert_eq!(cal.working_time_between(a, a), TimeDelta::zero());
        // Only non-working time in between.
        assert_eq!(
            cal.working_time_between(sh("2026-02-14 17:00"), sh("2026-02-24 09:00")),
            TimeDelta::zero()
        );
        assert_eq!(
            cal.working_time_between(sh("2026-03-31 09:00"), sh("2026-03-01 09:00")),
            -TimeDelta::hours(8 * 21)
        );
    }

    #[test]
    fn dst_gap_and_overlap_use_real_elapsed_time() {
        let berlin = chrono_tz::Europe::Berlin;
        // Both transitions of 2026 fall on Sundays; make them worked.
        let exceptions = [
            (date("2026-03-29"), DayKind::Workday),
            (date("2026-10-25"), DayKind::Workday),
        ];
        let settings = |hours: &str| CalendarSettings {
            time_zone: berlin,
            working_hours: WorkingHours::parse(hours).unwrap(),
        };
        let cal = Calendar::new(settings("01:00-05:00"), exceptions);
        let day_of = |d: &str| {
            cal.working_time_between(
                at(berlin, &format!("{d} 00:00")),
                at(berlin, &format!("{d} 23:00")),
            )
        };
        assert_eq!(
            day_of("2026-03-29"),
            TimeDelta::hours(3),
            "clocks go forward"
        );
        assert_eq!(day_of("2026-10-25"), TimeDelta::hours(5), "clocks go back");
        assert_eq!(day_of("2026-03-30"), TimeDelta::hours(4));
        let start = at(berlin, "2026-03-29 01:30");
        let due = cal.add_working_time(start, TimeDelta::hours(3));
        assert_eq!(
            due,
            at(berlin, "2026-03-30 01:30"),
            "2.5 h on the short day, then 0.5 h"
        );
        assert_eq!(cal.working_time_between(start, due), TimeDelta::hours(3));

        // An opening inside the gap opens at the transition (03:00 CEST = 01:00 UTC).
        let gap = Calendar::new(settings("02:30-04:00"), exceptions);
        let transition = "2026-03-29T01:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(gap.next_opening(at(berlin, "2026-03-29 00:00")), transition);
        assert_eq!(
            gap.working_time_between(transition, at(berlin, "2026-03-29 12:00")),
            TimeDelta::hours(1)
        );
        // An opening inside the overlap opens at its first occurrence (02:30 CEST).
        let first = "2026-10-25T00:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(gap.next_opening(at(berlin, "2026-10-25 00:00")), first);
        assert_eq!(
            gap.working_time_between(first, at(berlin, "2026-10-25 12:00")),
            TimeDelta::minutes(150)
        );
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        let cal = cn();
        let max = DateTime::<Utc>::MAX_UTC;
        assert_eq!(cal.add_working_time(max, TimeDelta::hours(1)), max);
        assert_eq!(cal.next_opening(max), max);
        let near_max = max - TimeDelta::days(3);
        assert_eq!(cal.add_working_time(near_max, TimeDelta::days(30)), max);
        let _ = cal.working_time_between(near_max, max);
        let min = DateTime::<Utc>::MIN_UTC;
        let _ = cal.next_opening(min);
        let _ = cal.working_time_between(min, min + TimeDelta::days(10));
        let _ = cal.is_working_instant(min);
    }

    /// Calendars the properties run on: CN defaults, CN with a lunch break, and a DST zone.
    fn calendars() -> Vec<Calendar> {
        let mut berlin_exceptions = cn_2024_2026();
        berlin_exceptions.push((date("2025-03-30"), DayKind::Workday));
        berlin_exceptions.push((date("2025-10-26"), DayKind::Workday));
        vec![
            cn(),
            Calendar::new(lunch_break(), cn_2024_2026()),
            Calendar::new(
                CalendarSettings {
                    time_zone: chrono_tz::Europe::Berlin,
                    working_hours: WorkingHours::parse("00:30-02:30,08:00-12:00,13:00-24:00")
                        .unwrap(),
                },
                berlin_exceptions,
            ),
        ]
    }

    fn start_strategy() -> impl Strategy<Value = DateTime<Utc>> {
        let from = sh("2024-01-01 00:00").timestamp();
        let to = sh("2027-01-01 00:00").timestamp();
        prop_oneof![
            // Anywhere, to the second: nights, weekends and holidays included.
            (from..to).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap()),
            // Exactly on a minute boundary, so openings and closings are hit often.
            (from / 60..to / 60).prop_map(|m| DateTime::from_timestamp(m * 60, 0).unwrap()),
            // With a sub-second part.
            (from..to, 0u32..1_000_000_000)
                .prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap()),
        ]
    }

    fn duration_strategy() -> impl Strategy<Value = TimeDelta> {
        prop_oneof![
            Just(TimeDelta::zero()),
            (0i64..=30 * 8 * 3600).prop_map(TimeDelta::seconds),
            (0i64..=30).prop_map(|h| TimeDelta::hours(h) / 2),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn add_working_time_properties(
            which in 0usize..3,
            start in start_strategy(),
            a in duration_strategy(),
            b in duration_strategy(),
        ) {
            let cal = &calendars()[which];
            let due = cal.add_working_time(start, a);
            prop_assert!(due >= start);
            prop_assert_eq!(cal.working_time_between(start, due), a);
            prop_assert_eq!(cal.working_time_between(due, start), -a);
            prop_assert!(
                cal.is_working_instant(due) || is_closing_instant(cal, due),
                "{} is outside working hours", due
            );
            prop_assert_eq!(cal.add_working_time(due, b), cal.add_working_time(start, a + b));
            let opening = cal.next_opening(start);
            prop_assert!(opening >= start);
            prop_assert!(cal.is_working_instant(opening));
            prop_assert_eq!(cal.working_time_between(start, opening), TimeDelta::zero());
        }

        #[test]
        fn working_time_between_is_additive(
            which in 0usize..3,
            a in start_strategy(),
            b in start_strategy(),
            c in start_strategy(),
        ) {
            let cal = &calendars()[which];
            prop_assert_eq!(
                cal.working_time_between(a, b) + cal.working_time_between(b, c),
                cal.working_time_between(a, c)
            );
        }
    }
}
