//! The working calendar: exceptions, settings, the deadline engine, and a per-process cache
//! that reloads whenever the stored revision moves (so every api instance sees a change).

use super::{
    audit::Change,
    validate::{Checks, MAX_DATE, date_in_range, instant_in_range},
};
use crate::{
    auth::AuthUser,
    error::{AppError, AppResult, FieldError},
};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    calendar::{CalendarError, CalendarSettings, DayKind, Interval, TimeOfDay, WorkingHours},
    calendar_day, calendar_setting,
    enums::{ExceptionKind, Role},
    working_days::WorkingDays,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};

/// The longest range `GET /calendar/days` answers in one call.
pub const MAX_RANGE_DAYS: i64 = 1100;

/// The platform's one calendar loader (`jobs::calendar`), shared with the job runner.
pub use jobs::calendar::CalendarLoader as CalendarCache;

/// One day of the calendar.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DayView {
    pub date: NaiveDate,
    pub working: bool,
    /// `normal`, `holiday` or `workday`.
    #[schema(value_type = String, example = "holiday")]
    pub kind: DayKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
}

/// A working-hours interval, `"HH:MM"` (end may be `"24:00"`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntervalDto {
    #[schema(
        pattern = r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$",
        example = "09:00"
    )]
    pub start: String,
    /// After `start`.
    #[schema(
        pattern = r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$",
        example = "17:00"
    )]
    pub end: String,
}

/// `GET/PUT /calendar/settings`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsDto {
    /// An IANA time zone name.
    #[schema(schema_with = crate::schemas::time_zone)]
    pub time_zone: String,
    /// Ordered intervals that do not overlap.
    #[schema(min_items = 1)]
    pub working_hours: Vec<IntervalDto>,
}

/// `PUT /calendar/days/{date}`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DayInput {
    pub kind: ExceptionKind,
    #[schema(
        max_length = 100,
        pattern = r"^(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*(?:[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*)?$"
    )]
    pub name: Option<String>,
}

/// `POST /calendar/deadline`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadlineInput {
    /// From 1900-01-01 to 9999-12-31; so must the due time be.
    #[schema(pattern = r"^(?:19[0-9]{2}|[2-9][0-9]{3})-")]
    pub start: DateTime<Utc>,
    #[schema(schema_with = crate::schemas::working_days)]
    pub working_days: WorkingDays,
}

/// The answer of `POST /calendar/deadline`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeadlineView {
    pub due_at: DateTime<Utc>,
    /// The working time counted, in minutes.
    pub working_minutes: i64,
}

/// Parses stored or submitted settings into the domain type.
pub fn parse_settings(dto: &SettingsDto) -> Result<CalendarSettings, Vec<FieldError>> {
    let mut errs = vec![];
    let tz = dto.time_zone.parse::<chrono_tz::Tz>().map_err(|_| {
        errs.push(FieldError::new(
            "time_zone",
            "is not an IANA time zone (e.g. Asia/Shanghai)",
        ))
    });
    let mut intervals = vec![];
    for (i, iv) in dto.working_hours.iter().enumerate() {
        match (TimeOfDay::parse(&iv.start), TimeOfDay::parse(&iv.end)) {
            (Ok(start), Ok(end)) => intervals.push(Interval { start, end }),
            (s, e) => {
                if let Err(x) = s {
                    errs.push(FieldError::new(
                        format!("working_hours[{i}].start"),
                        x.to_string(),
                    ));
                }
                if let Err(x) = e {
                    errs.push(FieldError::new(
                        format!("working_hours[{i}].end"),
                        x.to_string(),
                    ));
                }
            }
        }
    }
    let hours = if errs.is_empty() {
        WorkingHours::new(intervals.clone())
            .map_err(|e| {
                let at = |iv: &Interval| intervals.iter().position(|x| x == iv);
                let field = match &e {
                    CalendarError::EmptyInterval { start, end } => at(&Interval {
                        start: *start,
                        end: *end,
                    })
                    .map(|i| format!("working_hours[{i}].end")),
                    CalendarError::UnorderedIntervals { next, .. } => {
                        at(next).map(|i| format!("working_hours[{i}].start"))
                    }
                    _ => None,
                };
                errs.push(FieldError::new(
                    field.unwrap_or_else(|| "working_hours".into()),
                    format!("{e} (times are HH:MM in the calendar's time zone)"),
                ))
            })
            .ok()
    } else {
        None
    };
    match (tz, hours) {
        (Ok(time_zone), Some(working_hours)) if errs.is_empty() => Ok(CalendarSettings {
            time_zone,
            working_hours,
        }),
        _ => Err(errs),
    }
}

fn to_dto(s: &CalendarSettings) -> SettingsDto {
    SettingsDto {
        time_zone: s.time_zone.name().to_string(),
        working_hours: s
            .working_hours
            .intervals()
            .iter()
            .map(|i| IntervalDto {
                start: i.start.to_string(),
                end: i.end.to_string(),
            })
            .collect(),
    }
}

async fn settings_row(conn: &impl ConnectionTrait) -> AppResult<calendar_setting::Model> {
    Ok(jobs::calendar::settings_row(conn, false).await?)
}

/// Moves the calendar revision: every process reloads its calendar, and the clocks follow once
/// the change has committed ([`recompute_clocks`]).
async fn bump_revision(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<()> {
    bump(conn, now).await
}

/// After a committed calendar change: recomputes every clock that can still fire, in short
/// batches (see `jobs::engine::clocks::recompute`).
pub async fn recompute_clocks(
    db: &sea_orm::DatabaseConnection,
    calendar: &CalendarCache,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let changed = jobs::engine::clocks::recompute(db, calendar, now).await?;
    tracing::info!(changed, "calendar changed: unmet clocks recomputed");
    Ok(changed)
}

async fn bump(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<()> {
    calendar_setting::Entity::update_many()
        .col_expr(
            calendar_setting::Column::Revision,
            Expr::col(calendar_setting::Column::Revision).add(Expr::val(1)),
        )
        .col_expr(calendar_setting::Column::UpdatedAt, now.into())
        .filter(calendar_setting::Column::Id.eq(1))
        .exec(conn)
        .await?;
    Ok(())
}

/// Every date in `[from, to]` with its kind.
pub async fn days(
    conn: &impl ConnectionTrait,
    cache: &CalendarCache,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<DayView>> {
    let from = date_in_range("from", from)?;
    let to = date_in_range("to", to)?;
    if to < from {
        return Err(AppError::invalid("to", "must not be before from"));
    }
    if (to - from).num_days() >= MAX_RANGE_DAYS {
        return Err(AppError::invalid(
            "to",
            format!("the range may span at most {MAX_RANGE_DAYS} days"),
        ));
    }
    let cal = cache.current(conn).await?;
    let rows = calendar_day::Entity::find()
        .filter(calendar_day::Column::Date.between(from, to))
        .order_by_asc(calendar_day::Column::Date)
        .all(conn)
        .await?;
    let mut rows = rows.into_iter().peekable();
    let mut out = Vec::with_capacity((to - from).num_days() as usize + 1);
    for date in from.iter_days().take_while(|d| *d <= to) {
        let row = rows.next_if(|r| r.date == date);
        out.push(DayView {
            date,
            working: cal.is_working_day(date),
            kind: row
                .as_ref()
                .map(|r| r.kind.into())
                .unwrap_or(DayKind::Normal),
            name: row.as_ref().and_then(|r| r.name.clone()),
            name_en: row.and_then(|r| r.name_en),
        });
    }
    Ok(out)
}

/// Marks a date as a holiday or a make-up workday (admin).
pub async fn put_day(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    date: NaiveDate,
    input: DayInput,
) -> AppResult<DayView> {
    actor.require(&[Role::Admin])?;
    let date = date_in_range("date", date)?;
    let mut c = Checks::new();
    let name = c.opt_line("name", input.name.as_deref(), 100);
    c.finish()?;
    let existing = calendar_day::Entity::find_by_id(date).one(conn).await?;
    let before = existing
        .as_ref()
        .map(|d| serde_json::json!({"kind": d.kind, "name": d.name}));
    let model = match existing {
        Some(d) => {
            let mut am: calendar_day::ActiveModel = d.into();
            am.kind = Set(input.kind);
            am.name = Set(name);
            am.name_en = Set(None);
            am.updated_at = Set(now);
            am.update(conn).await?
        }
        None => {
            calendar_day::ActiveModel {
                date: Set(date),
                kind: Set(input.kind),
                name: Set(name),
                name_en: Set(None),
                updated_at: Set(now),
            }
            .insert(conn)
            .await?
        }
    };
    bump_revision(conn, now).await?;
    let after = serde_json::json!({"kind": model.kind, "name": model.name});
    Change {
        at: now,
        actor: Some(actor.id),
        action: "calendar.day.put",
        object_type: "calendar_day",
        object_id: date.to_string(),
    }
    .record(conn, before.as_ref(), Some(&after))
    .await?;
    Ok(DayView {
        date,
        // An exception decides the day by itself: a holiday is off, a make-up day is worked.
        working: model.kind == ExceptionKind::Workday,
        kind: model.kind.into(),
        name: model.name,
        name_en: None,
    })
}

/// Reverts a date to normal (admin). Reverting a normal date changes nothing.
pub async fn delete_day(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    date: NaiveDate,
) -> AppResult<()> {
    actor.require(&[Role::Admin])?;
    let date = date_in_range("date", date)?;
    let Some(existing) = calendar_day::Entity::find_by_id(date).one(conn).await? else {
        return Ok(());
    };
    calendar_day::Entity::delete_by_id(date).exec(conn).await?;
    bump_revision(conn, now).await?;
    Change {
        at: now,
        actor: Some(actor.id),
        action: "calendar.day.delete",
        object_type: "calendar_day",
        object_id: date.to_string(),
    }
    .record(
        conn,
        Some(&serde_json::json!({"kind": existing.kind, "name": existing.name})),
        None::<&()>,
    )
    .await?;
    Ok(())
}

/// The settings in effect.
pub async fn get_settings(
    conn: &impl ConnectionTrait,
    cache: &CalendarCache,
) -> AppResult<SettingsDto> {
    Ok(to_dto(cache.current(conn).await?.settings()))
}

/// Replaces time zone and working hours (admin).
pub async fn put_settings(
    conn: &impl ConnectionTrait,
    cache: &CalendarCache,
    actor: &AuthUser,
    now: DateTime<Utc>,
    input: SettingsDto,
) -> AppResult<SettingsDto> {
    actor.require(&[Role::Admin])?;
    let parsed = parse_settings(&input).map_err(AppError::Validation)?;
    let before = get_settings(conn, cache).await?;
    let dto = to_dto(&parsed);
    let row = settings_row(conn).await?;
    let mut am: calendar_setting::ActiveModel = row.into();
    am.time_zone = Set(dto.time_zone.clone());
    am.working_hours = Set(serde_json::to_string(&dto.working_hours).map_err(anyhow::Error::from)?);
    am.update(conn).await?;
    bump_revision(conn, now).await?;
    Change {
        at: now,
        actor: Some(actor.id),
        action: "calendar.settings.put",
        object_type: "calendar_settings",
        object_id: "1".into(),
    }
    .record(conn, Some(&before), Some(&dto))
    .await?;
    Ok(dto)
}

/// The due time `working_days` after `start`.
pub async fn deadline(
    conn: &impl ConnectionTrait,
    cache: &CalendarCache,
    input: DeadlineInput,
) -> AppResult<DeadlineView> {
    let start = instant_in_range("start", input.start)?;
    let cal = cache.current(conn).await?;
    let duration = input.working_days.to_duration(cal.day_length());
    let due_at = cal.add_working_time(start, duration);
    if due_at.date_naive() > MAX_DATE {
        return Err(AppError::invalid(
            "working_days",
            format!("the deadline would fall after {MAX_DATE}"),
        ));
    }
    Ok(DeadlineView {
        due_at,
        working_minutes: duration.num_minutes(),
    })
}
