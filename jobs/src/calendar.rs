//! The working calendar as stored (`calendar_settings`, `calendar_days`), loaded for the
//! schedules; reloaded only when the stored revision moves.

use entity::{
    calendar::{Calendar, CalendarSettings, Interval, TimeOfDay, WorkingHours, parse_time_zone},
    calendar_day, calendar_setting,
};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde::Deserialize;
use std::sync::{Arc, Mutex};

#[derive(Deserialize)]
struct StoredInterval {
    start: String,
    end: String,
}

/// A loaded calendar and the revision it was loaded at.
type Cached = Option<(i64, Arc<Calendar>)>;

/// Per-process cache of the calendar, keyed by `calendar_settings.revision`.
#[derive(Clone, Default)]
pub struct CalendarLoader(Arc<Mutex<Cached>>);

impl CalendarLoader {
    /// The calendar in effect.
    pub async fn current(&self, conn: &impl ConnectionTrait) -> anyhow::Result<Arc<Calendar>> {
        let row = calendar_setting::Entity::find_by_id(1)
            .one(conn)
            .await?
            .ok_or_else(|| anyhow::anyhow!("calendar settings row missing"))?;
        if let Ok(guard) = self.0.lock()
            && let Some((rev, cal)) = guard.as_ref()
            && *rev == row.revision
        {
            return Ok(cal.clone());
        }
        let cal = Arc::new(load(conn, &row).await?);
        if let Ok(mut guard) = self.0.lock() {
            *guard = Some((row.revision, cal.clone()));
        }
        Ok(cal)
    }
}

async fn load(
    conn: &impl ConnectionTrait,
    row: &calendar_setting::Model,
) -> anyhow::Result<Calendar> {
    let time_zone = parse_time_zone(&row.time_zone)?;
    let stored: Vec<StoredInterval> = serde_json::from_str(&row.working_hours)?;
    let intervals = stored
        .iter()
        .map(|i| {
            Ok(Interval {
                start: TimeOfDay::parse(&i.start)?,
                end: TimeOfDay::parse(&i.end)?,
            })
        })
        .collect::<Result<Vec<_>, entity::calendar::CalendarError>>()?;
    let settings = CalendarSettings {
        time_zone,
        working_hours: WorkingHours::new(intervals)?,
    };
    let days = calendar_day::Entity::find().all(conn).await?;
    Ok(Calendar::new(
        settings,
        days.into_iter().map(|d| (d.date, d.kind.into())),
    ))
}
