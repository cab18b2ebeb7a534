//! Supply-chain finance (the lead-bank system, 一链一(批)行): banks' settings, chain credit
//! programs and financing requests on the engine (clocks `accept` and `decide`, the monitor,
//! the timeline, notifications). Credit lines and their ledger are in `credit_lines`, the
//! monthly reports in `bank_reports`.

pub mod programs;
pub mod requests;
pub mod settings;

use chrono::{DateTime, NaiveDate, Utc};
use entity::calendar::Calendar;

/// Today's date in the calendar's time zone.
pub fn today(cal: &Calendar, now: DateTime<Utc>) -> NaiveDate {
    cal.local_date(now)
}
