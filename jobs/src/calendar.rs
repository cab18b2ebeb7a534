//! The working calendar as stored (`calendar_settings`, `calendar_days`), loaded by one piece
//! for the whole platform: the api's handlers and services and every job read it through
//! [`CalendarLoader`], which reloads only when the stored revision moves (so every process sees
//! a change made by another).

use entity::{
    calendar::{Calendar, CalendarSettings, Interval, TimeOfDay, WorkingHours, parse_time_zone},
    calendar_day, calendar_setting,
};
use sea_orm::{
    ConnectionTrait, DbBackend, EntityTrait, QuerySelect,
    sea_query::{Expr, SimpleExpr},
};
use serde::Deserialize;
use std::sync::{Arc, RwLock};

#[derive(Deserialize)]
struct StoredInterval {
    start: String,
    end: String,
}

/// A loaded calendar and the revision it was loaded at.
type Cached = Option<(i64, Arc<Calendar>)>;

/// Per-process cache of the calendar, keyed by `calendar_settings.revision`. Clones share it.
#[derive(Clone, Default)]
pub struct CalendarLoader(Arc<RwLock<Cached>>);

impl CalendarLoader {
    /// The calendar in effect, reloaded when another writer moved the revision.
    pub async fn current(&self, conn: &impl ConnectionTrait) -> anyhow::Result<Arc<Calendar>> {
        self.of_row(conn, settings_row(conn, false).await?).await
    }

    /// [`CalendarLoader::current`] for a transaction that computes and writes SLA clocks with
    /// it. On PostgreSQL the settings row is read `FOR SHARE`: a calendar change (which moves
    /// the revision on that row, then recomputes the unmet clocks) waits until this
    /// transaction has committed, so its recompute sees the clocks written here; and this
    /// transaction, if a change is under way, waits for it and then reads the new calendar.
    /// Without it, clocks written beside a change kept the old due times. (SQLite has one
    /// writer at a time, which already orders the two.)
    pub async fn current_for_write(
        &self,
        conn: &impl ConnectionTrait,
    ) -> anyhow::Result<Arc<Calendar>> {
        self.of_row(conn, settings_row(conn, true).await?).await
    }

    /// The calendar for a transaction that read the stored revision with
    /// [`revision_for_write`] in a statement of its own (the settings row is then locked as
    /// [`CalendarLoader::current_for_write`] locks it): the cached calendar of that revision, or
    /// the stored one reloaded.
    pub async fn for_write_at(
        &self,
        conn: &impl ConnectionTrait,
        revision: i64,
    ) -> anyhow::Result<Arc<Calendar>> {
        match self.at_revision(revision) {
            Some(cal) => Ok(cal),
            None => self.current_for_write(conn).await,
        }
    }

    /// The calendar of `revision` if this process has it loaded (a reader that learnt the
    /// stored revision in a statement of its own saves reading the settings row again).
    pub fn at_revision(&self, revision: i64) -> Option<Arc<Calendar>> {
        let guard = self.0.read().ok()?;
        let (rev, cal) = guard.as_ref()?;
        (*rev == revision).then(|| cal.clone())
    }

    /// The cached calendar if `row` is its revision, else the calendar rebuilt.
    async fn of_row(
        &self,
        conn: &impl ConnectionTrait,
        row: calendar_setting::Model,
    ) -> anyhow::Result<Arc<Calendar>> {
        if let Ok(guard) = self.0.read()
            && let Some((rev, cal)) = guard.as_ref()
            && *rev == row.revision
        {
            return Ok(cal.clone());
        }
        let cal = Arc::new(build(conn, &row).await?);
        if let Ok(mut guard) = self.0.write() {
            *guard = Some((row.revision, cal.clone()));
        }
        Ok(cal)
    }
}

/// The stored calendar revision as a scalar subquery, read `FOR SHARE` on PostgreSQL when
/// `locked`: a writer selects it with the first read it makes anyway, then gets the calendar
/// with [`CalendarLoader::for_write_at`] — the lock of [`CalendarLoader::current_for_write`]
/// without a statement of its own. Unlocked, for a write outside a transaction that carries
/// [`guard`] instead.
pub fn revision_for_write(backend: DbBackend, locked: bool) -> SimpleExpr {
    let lock = if locked && backend == DbBackend::Postgres {
        " FOR SHARE"
    } else {
        ""
    };
    Expr::cust(format!(
        "(SELECT revision FROM calendar_settings WHERE id = 1{lock})"
    ))
}

/// PostgreSQL: the guard of a write whose clock times were computed with the calendar of
/// `revision` and that holds no lock on it since (a batch of [`crate::bulk::Combiner`]):
/// evaluated in the write's statement, it takes the calendar's shared lock until that
/// statement commits and fails it with [`changed`] when the calendar is no longer `revision`
/// (migration `m20261209_000020_calendar_guard`).
pub fn guard(revision: i64) -> SimpleExpr {
    Expr::cust_with_values("calendar_revision_is($1)", [revision])
}

/// Whether `e` is a write's [`guard`] failing: the calendar changed after the writer read it,
/// so it computes again with the new one.
pub fn changed(e: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr, SqlxError};
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            matches!(&**e, SqlxError::Database(d) if d.code().as_deref() == Some("40001"))
        }
        _ => false,
    }
}

/// The settings row, read `FOR SHARE` on PostgreSQL when `shared`.
pub async fn settings_row(
    conn: &impl ConnectionTrait,
    shared: bool,
) -> anyhow::Result<calendar_setting::Model> {
    let mut q = calendar_setting::Entity::find_by_id(1);
    if shared && conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_shared();
    }
    q.one(conn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("calendar settings row missing"))
}

/// The calendar stored now, uncached (inside the transaction that changed it).
pub async fn load(conn: &impl ConnectionTrait) -> anyhow::Result<Calendar> {
    build(conn, &settings_row(conn, false).await?).await
}

/// The stored working hours of a settings row.
pub fn stored_settings(row: &calendar_setting::Model) -> anyhow::Result<CalendarSettings> {
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
    Ok(CalendarSettings {
        time_zone,
        working_hours: WorkingHours::new(intervals)?,
    })
}

async fn build(
    conn: &impl ConnectionTrait,
    row: &calendar_setting::Model,
) -> anyhow::Result<Calendar> {
    let settings = stored_settings(row)?;
    let days = calendar_day::Entity::find().all(conn).await?;
    Ok(Calendar::new(
        settings,
        days.into_iter().map(|d| (d.date, d.kind.into())),
    ))
}
