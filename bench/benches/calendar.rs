//! Working-calendar arithmetic: the cost of computing one SLA deadline.
//!
//! Run with `cargo bench -p bench --bench calendar`.

use std::hint::black_box;

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use entity::calendar::{Calendar, CalendarSettings, cn_2024_2026};
use entity::working_days::WorkingDays;

/// An instant given as Shanghai local time.
fn shanghai(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    let date = NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let local = date.and_hms_opt(h, min, 0).unwrap_or_default();
    chrono_tz::Asia::Shanghai
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.to_utc())
        .unwrap_or_default()
}

fn calendar(c: &mut Criterion) {
    let cal = Calendar::new(CalendarSettings::default(), cn_2024_2026());
    let day = cal.day_length();

    let before_spring_festival = shanghai(2026, 2, 13, 10, 0);
    let five_days = WorkingDays::from_int(5).to_duration(day);
    c.bench_function("add_working_time/5 days across Spring Festival 2026", |b| {
        b.iter(|| cal.add_working_time(black_box(before_spring_festival), black_box(five_days)))
    });

    let tuesday = shanghai(2026, 3, 3, 15, 0);
    c.bench_function("add_working_time/1 day from a plain Tuesday", |b| {
        b.iter(|| cal.add_working_time(black_box(tuesday), black_box(day)))
    });

    let month_start = shanghai(2026, 3, 1, 0, 0);
    let month_end = shanghai(2026, 4, 1, 0, 0);
    c.bench_function("working_time_between/March 2026", |b| {
        b.iter(|| cal.working_time_between(black_box(month_start), black_box(month_end)))
    });

    let thirty_days = TimeDelta::hours(30 * 8);
    c.bench_function(
        "add_working_time/30 days across Spring Festival 2026",
        |b| {
            b.iter(|| {
                cal.add_working_time(black_box(before_spring_festival), black_box(thirty_days))
            })
        },
    );
}

criterion_group!(benches, calendar);
criterion_main!(benches);
