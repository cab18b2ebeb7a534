//! The one clock service: every subject starts, meets, pauses, resumes, extends, cancels and
//! recomputes its clocks here, and the monitor finds and claims due clocks here. The arithmetic
//! is pure, in [`entity::sla`]; this module is the only one that writes `sla_clocks`.
//!
//! Every function works in the caller's transaction. A clock's due, warning and (after a
//! breach) escalation instants are computed at write time and stored, so the monitor only
//! compares instants through partial indexes.

use crate::bulk::Batch;
use crate::calendar::CalendarLoader;
use chrono::{DateTime, TimeDelta, Utc};
use entity::{
    calendar::Calendar,
    calendar_setting,
    enums::ClockKind,
    sla::{ClockSpec, ClockTimes},
    sla_clock::{self, COLUMN as C},
    subject::Subject,
    working_days::WorkingDays,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
    sea_query::{CaseStatement, Expr},
};
use uuid::Uuid;

/// Clocks read and rewritten per transaction when a calendar change recomputes them.
pub const RECOMPUTE_BATCH: u64 = 1_000;

/// A clock to start: its kind, round, target and warning lead (the subject's policy).
#[derive(Clone, Copy, Debug)]
pub struct NewClock {
    pub kind: ClockKind,
    /// 0 for the first clocks of a subject; a reopen starts round n.
    pub round: i32,
    pub target: WorkingDays,
    /// How many working hours before the due time the warning falls.
    pub warn_before_hours: WorkingDays,
}

/// A clock's stored amount as working days (0 when unreadable: the column is written here).
pub fn days_of(s: &str) -> WorkingDays {
    s.parse().unwrap_or(WorkingDays::ZERO)
}

/// The stored inputs of a clock.
pub fn spec_of(c: &sla_clock::Model) -> ClockSpec {
    ClockSpec {
        start: c.start_at,
        target: days_of(&c.target_working_days),
        extension: days_of(&c.extension_working_days),
        paused: TimeDelta::seconds(c.paused_working_seconds),
        warn_before_hours: days_of(&c.warn_before_working_hours),
    }
}

/// Neither met nor cancelled.
pub fn is_open(c: &sla_clock::Model) -> bool {
    c.met_at.is_none() && c.cancelled_at.is_none()
}

/// Unpaused working time the clock has run from its start to `now`.
pub fn worked(cal: &Calendar, c: &sla_clock::Model, now: DateTime<Utc>) -> TimeDelta {
    let end = c.paused_at.unwrap_or(now);
    (cal.working_time_between(c.start_at, end) - TimeDelta::seconds(c.paused_working_seconds))
        .max(TimeDelta::zero())
}

/// The row of a new clock of `subject` starting at `start`.
fn new_row(
    cal: &Calendar,
    subject: Subject,
    start: DateTime<Utc>,
    clock: NewClock,
    now: DateTime<Utc>,
) -> sla_clock::ActiveModel {
    let spec = ClockSpec {
        start,
        target: clock.target,
        extension: WorkingDays::ZERO,
        paused: TimeDelta::zero(),
        warn_before_hours: clock.warn_before_hours,
    };
    let times = spec.times(cal);
    sla_clock::ActiveModel {
        id: Set(Uuid::now_v7()),
        subject_type: Set(subject.kind),
        appeal_id: Set(subject.appeal_id()),
        financing_request_id: Set(subject.financing_request_id()),
        fund_application_id: Set(subject.fund_application_id()),
        risk_claim_id: Set(subject.risk_claim_id()),
        kind: Set(clock.kind),
        round: Set(clock.round),
        start_at: Set(start),
        target_working_days: Set(spec.target.to_string()),
        extension_working_days: Set("0".into()),
        warn_before_working_hours: Set(spec.warn_before_hours.to_string()),
        paused_working_seconds: Set(0),
        paused_at: Set(None),
        due_at: Set(times.due_at),
        warn_at: Set(times.warn_at),
        met_at: Set(None),
        warned_at: Set(None),
        breached_at: Set(None),
        escalate_at: Set(None),
        escalated_at: Set(None),
        cancelled_at: Set(None),
        updated_at: Set(now),
    }
}

/// Starts `clocks` of `subject` at `start`, in one statement; returns them as stored.
pub async fn start(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    subject: Subject,
    start: DateTime<Utc>,
    clocks: &[NewClock],
    now: DateTime<Utc>,
) -> Result<Vec<sla_clock::Model>, DbErr> {
    let mut batch = Batch::default();
    let models = start_into(&mut batch, cal, subject, start, clocks, now)?;
    batch.run(conn).await?;
    Ok(models)
}

/// As [`start`], with the clocks' insert added to `batch`, written with the subject's own rows.
pub fn start_into(
    batch: &mut Batch,
    cal: &Calendar,
    subject: Subject,
    start: DateTime<Utc>,
    clocks: &[NewClock],
    now: DateTime<Utc>,
) -> Result<Vec<sla_clock::Model>, DbErr> {
    let rows: Vec<sla_clock::ActiveModel> = clocks
        .iter()
        .map(|c| new_row(cal, subject, start, *c, now))
        .collect();
    // Every column is set, so the rows are the stored clocks: no read back.
    let models = rows
        .iter()
        .cloned()
        .map(sea_orm::TryIntoModel::try_into_model)
        .collect::<Result<Vec<sla_clock::Model>, _>>()?;
    if !rows.is_empty() {
        batch.push(sla_clock::Entity::insert_many(rows));
    }
    Ok(models)
}

/// Every clock of `subject`, by round then kind.
pub async fn of_subject(
    conn: &impl ConnectionTrait,
    subject: Subject,
) -> Result<Vec<sla_clock::Model>, DbErr> {
    sla_clock::Entity::find()
        .filter(sla_clock::of_subject(subject))
        .order_by_asc(sla_clock::Column::Round)
        .order_by_asc(sla_clock::Column::Kind)
        .all(conn)
        .await
}

/// Every clock of the subjects of type `kind` with ids `ids` (a page of a list), by subject id,
/// each by round then kind.
pub async fn of_subjects(
    conn: &impl ConnectionTrait,
    kind: entity::enums::SubjectType,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, Vec<sla_clock::Model>>, DbErr> {
    let mut out: std::collections::HashMap<Uuid, Vec<sla_clock::Model>> =
        std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for c in sla_clock::Entity::find()
        .filter(sla_clock::of_subjects(kind, ids.iter().copied()))
        .order_by_asc(sla_clock::Column::Round)
        .order_by_asc(sla_clock::Column::Kind)
        .all(conn)
        .await?
    {
        out.entry(c.subject().id).or_default().push(c);
    }
    Ok(out)
}

/// The open clocks of `subject` (neither met nor cancelled).
fn open_of(subject: Subject) -> Condition {
    sla_clock::of_subject(subject)
        .add(C.met_at.is_null())
        .add(C.cancelled_at.is_null())
}

/// Marks the open clocks of `kinds` met at `now`.
pub async fn meet(
    conn: &impl ConnectionTrait,
    subject: Subject,
    kinds: &[ClockKind],
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(sla_clock::Entity::update_many()
        .col_expr(sla_clock::Column::MetAt, Expr::val(now))
        .col_expr(sla_clock::Column::UpdatedAt, Expr::val(now))
        .filter(open_of(subject))
        .filter(C.kind.is_in(kinds.iter().copied()))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Pauses the open clocks of `subject` at `now` (while it waits for the enterprise): the
/// monitor skips paused clocks, and [`resume`] moves their times by the working time paused.
pub async fn pause(
    conn: &impl ConnectionTrait,
    subject: Subject,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(sla_clock::Entity::update_many()
        .col_expr(sla_clock::Column::PausedAt, Expr::val(now))
        .col_expr(sla_clock::Column::UpdatedAt, Expr::val(now))
        .filter(open_of(subject))
        .filter(C.paused_at.is_null())
        .exec(conn)
        .await?
        .rows_affected)
}

/// Resumes the paused clocks of `subject`: the working time paused is added to each, and its
/// due, warning and pending escalation times move by it.
pub async fn resume(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    subject: Subject,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    for c in of_subject(conn, subject).await? {
        let Some(paused_at) = c.paused_at else {
            continue;
        };
        let mut spec = spec_of(&c);
        spec.paused += cal
            .working_time_between(paused_at, now)
            .max(TimeDelta::zero());
        save(conn, cal, c, spec, None, now).await?;
    }
    Ok(())
}

/// Extends `clock` by `days` working days (an approved extension); returns it as saved.
pub async fn extend(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    clock: sla_clock::Model,
    days: WorkingDays,
    now: DateTime<Utc>,
) -> Result<sla_clock::Model, DbErr> {
    let mut spec = spec_of(&clock);
    spec.extension = entity::sla::add_days(spec.extension, days);
    let paused_at = clock.paused_at;
    save(conn, cal, clock, spec, paused_at, now).await
}

/// Cancels the open clocks of `kinds` of `subject` (it was withdrawn; a financing request's
/// accept clock when it is referred to another bank).
pub async fn cancel(
    conn: &impl ConnectionTrait,
    subject: Subject,
    kinds: &[ClockKind],
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(sla_clock::Entity::update_many()
        .col_expr(sla_clock::Column::CancelledAt, Expr::val(now))
        .col_expr(sla_clock::Column::UpdatedAt, Expr::val(now))
        .filter(open_of(subject))
        .filter(C.kind.is_in(kinds.iter().copied()))
        .exec(conn)
        .await?
        .rows_affected)
}

/// The escalation instant a clock should hold with these times: a breach stays a fact, and its
/// pending escalation follows the clock; before a breach (or once escalated) it is as stored.
fn escalation_of(c: &sla_clock::Model, times: &ClockTimes) -> Option<DateTime<Utc>> {
    if c.breached_at.is_some() && c.escalated_at.is_none() {
        Some(times.escalate_at)
    } else {
        c.escalate_at
    }
}

/// Saves a clock with new inputs and the times they give.
async fn save(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    c: sla_clock::Model,
    spec: ClockSpec,
    paused_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<sla_clock::Model, DbErr> {
    let times = spec.times(cal);
    let escalate_at = escalation_of(&c, &times);
    let mut am: sla_clock::ActiveModel = c.into();
    am.extension_working_days = Set(spec.extension.to_string());
    am.paused_working_seconds = Set(spec.paused.num_seconds());
    am.paused_at = Set(paused_at);
    am.due_at = Set(times.due_at);
    am.warn_at = Set(times.warn_at);
    am.escalate_at = Set(escalate_at);
    am.updated_at = Set(now);
    am.update(conn).await
}

/// Brings every clock that can still fire (unmet, uncancelled, not yet escalated), whatever its
/// subject, to the calendar in effect, after a calendar change has committed. Keyset batches
/// of [`RECOMPUTE_BATCH`] clocks, each in its own short transaction: the batch is read (locked
/// for update on PostgreSQL, so an action changing one of its clocks waits or goes first, and
/// nothing is lost), its new instants computed, and the clocks whose instants moved written
/// back with one `UPDATE … FROM (VALUES …)`. Submissions and actions are never held for the
/// whole recompute; while it runs the monitor checks each candidate against the calendar it
/// loaded (see `monitor`), so no clock is warned or breached on its old times. A breach stays a
/// fact. When it is done, `calendar_settings.clocks_revision` records the revision it reached;
/// a recompute that was interrupted is finished by the next monitor pass
/// ([`recompute_if_behind`]). Returns the clocks changed.
pub async fn recompute(
    db: &DatabaseConnection,
    calendar: &CalendarLoader,
    now: DateTime<Utc>,
) -> anyhow::Result<u64> {
    let target = crate::calendar::settings_row(db, false).await?.revision;
    let mut after: Option<Uuid> = None;
    let mut changed = 0;
    loop {
        let txn = db.begin().await?;
        let cal = calendar.current(&txn).await?;
        // Breached clocks too, until they escalate: their escalation follows the calendar.
        let mut q = sla_clock::Entity::find()
            .filter(C.met_at.is_null())
            .filter(C.cancelled_at.is_null())
            .filter(C.escalated_at.is_null())
            .order_by_asc(sla_clock::Column::Id)
            .limit(RECOMPUTE_BATCH);
        if let Some(last) = after {
            q = q.filter(C.id.gt(last));
        }
        if txn.get_database_backend() == DbBackend::Postgres {
            q = q.lock_exclusive();
        }
        let batch = q.all(&txn).await?;
        let Some(last) = batch.last().map(|c| c.id) else {
            txn.commit().await?;
            break;
        };
        after = Some(last);
        let full = batch.len() as u64 == RECOMPUTE_BATCH;
        let moved: Vec<Moved> = batch.iter().filter_map(|c| moved(&cal, c)).collect();
        changed += rewrite_times(&txn, &moved, now).await?;
        txn.commit().await?;
        if !full {
            break;
        }
    }
    calendar_setting::Entity::update_many()
        .col_expr(calendar_setting::Column::ClocksRevision, Expr::val(target))
        .filter(calendar_setting::Column::Id.eq(1))
        .filter(calendar_setting::Column::ClocksRevision.lt(target))
        .exec(db)
        .await?;
    Ok(changed)
}

/// Runs [`recompute`] when the clocks are behind the calendar's revision (a recompute after a
/// change was interrupted). Returns the clocks changed.
pub async fn recompute_if_behind(
    db: &DatabaseConnection,
    calendar: &CalendarLoader,
    now: DateTime<Utc>,
) -> anyhow::Result<u64> {
    let row = crate::calendar::settings_row(db, false).await?;
    if row.clocks_revision >= row.revision {
        return Ok(0);
    }
    tracing::warn!(
        revision = row.revision,
        clocks_revision = row.clocks_revision,
        "SLA clocks behind the calendar: recomputing"
    );
    recompute(db, calendar, now).await
}

/// A clock whose instants moved: id, new times, new escalation.
type Moved = (Uuid, ClockTimes, Option<DateTime<Utc>>);

/// The new instants of `c` under `cal`, if they differ from the stored ones.
fn moved(cal: &Calendar, c: &sla_clock::Model) -> Option<Moved> {
    let times = spec_of(c).times(cal);
    let escalate_at = escalation_of(c, &times);
    (times.due_at != c.due_at || times.warn_at != c.warn_at || escalate_at != c.escalate_at)
        .then_some((c.id, times, escalate_at))
}

/// Whether `step` is really due for `clock` at `now` under `cal`: its stored instant may be
/// stale while a recompute after a calendar change is under way.
pub fn still_due(cal: &Calendar, step: Step, clock: &sla_clock::Model, now: DateTime<Utc>) -> bool {
    let times = spec_of(clock).times(cal);
    match step {
        Step::Warn => times.warn_at <= now,
        Step::Breach => times.due_at <= now,
        Step::Escalate => escalation_of(clock, &times).is_some_and(|at| at <= now),
    }
}

/// One `UPDATE … FROM (VALUES …)` setting each listed clock's due, warning and escalation
/// instants (the same statement on both databases: `VALUES` columns are `column1`, ...).
async fn rewrite_times(
    conn: &impl ConnectionTrait,
    moved: &[Moved],
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    if moved.is_empty() {
        return Ok(0);
    }
    let backend = conn.get_database_backend();
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(moved.len() * 4 + 1);
    let mut n = 0;
    let mut param = |v: sea_orm::Value, values: &mut Vec<sea_orm::Value>| {
        values.push(v);
        n += 1;
        match backend {
            DbBackend::Postgres => format!("${n}"),
            _ => "?".to_string(),
        }
    };
    let updated = param(now.into(), &mut values);
    let rows: Vec<String> = moved
        .iter()
        .map(|(id, times, escalate_at)| {
            format!(
                "({}, {}, {}, {})",
                param((*id).into(), &mut values),
                param(times.due_at.into(), &mut values),
                param(times.warn_at.into(), &mut values),
                param((*escalate_at).into(), &mut values),
            )
        })
        .collect();
    let sql = format!(
        "UPDATE sla_clocks SET due_at = v.column2, warn_at = v.column3, escalate_at = v.column4, \
         updated_at = {updated} FROM (VALUES {}) AS v WHERE sla_clocks.id = v.column1",
        rows.join(", ")
    );
    Ok(conn
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .rows_affected())
}

/// What the monitor does to a clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Warn,
    Breach,
    Escalate,
}

impl Step {
    /// The instant column the step's partial index orders by.
    fn column(self) -> sla_clock::Column {
        match self {
            Step::Warn => sla_clock::Column::WarnAt,
            Step::Breach => sla_clock::Column::DueAt,
            Step::Escalate => sla_clock::Column::EscalateAt,
        }
    }

    /// That instant of `clock` (`None` only for a clock never breached).
    fn instant(self, clock: &sla_clock::Model) -> Option<DateTime<Utc>> {
        match self {
            Step::Warn => Some(clock.warn_at),
            Step::Breach => Some(clock.due_at),
            Step::Escalate => clock.escalate_at,
        }
    }

    /// Open, unpaused clocks this step has not handled yet and whose instant has come: the
    /// partial index's predicate (`ix_sla_clocks_warn`, `_breach`, `_escalate`) plus the
    /// step's conditions. Also the claim's guard.
    fn due(self, now: DateTime<Utc>) -> Condition {
        let open = Condition::all()
            .add(C.met_at.is_null())
            .add(C.cancelled_at.is_null())
            .add(C.paused_at.is_null());
        match self {
            Step::Warn => open.add(C.warned_at.is_null()).add(C.warn_at.lte(now)),
            Step::Breach => open.add(C.breached_at.is_null()).add(C.due_at.lte(now)),
            Step::Escalate => open
                .add(C.escalated_at.is_null())
                .add(C.escalate_at.is_not_null())
                .add(C.escalate_at.lte(now)),
        }
    }
}

/// Where a step's keyset scan resumes: after this instant and clock.
pub type Cursor = (DateTime<Utc>, Uuid);

/// Up to `limit` clocks `step` should handle at `now`, after `cursor`, in index order; and the
/// cursor past the last of them.
pub async fn due(
    conn: &impl ConnectionTrait,
    step: Step,
    now: DateTime<Utc>,
    cursor: Option<Cursor>,
    limit: u64,
) -> Result<(Vec<sla_clock::Model>, Option<Cursor>), DbErr> {
    let col = step.column();
    let mut q = sla_clock::Entity::find().filter(step.due(now));
    if let Some((at, id)) = cursor {
        q = q.filter(
            Condition::any()
                .add(col.gt(at))
                .add(Condition::all().add(col.eq(at)).add(C.id.gt(id))),
        );
    }
    let batch = q
        .order_by_asc(col)
        .order_by_asc(sla_clock::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    let next = batch
        .last()
        .and_then(|last| step.instant(last).map(|at| (at, last.id)));
    Ok((batch, next))
}

/// Claims clocks `ids` for `step` with one conditional `UPDATE … RETURNING`: only those still
/// due are returned (a second monitor, a restart or a retried pass finds the guard column set),
/// as they are after the claim. A breach happens at the due time and escalates one working day
/// of unpaused working time after it.
pub async fn claim(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    step: Step,
    clocks: &[sla_clock::Model],
    now: DateTime<Utc>,
) -> Result<Vec<sla_clock::Model>, DbErr> {
    if clocks.is_empty() {
        return Ok(Vec::new());
    }
    let mut claim = sla_clock::Entity::update_many()
        .col_expr(sla_clock::Column::UpdatedAt, Expr::val(now))
        .filter(C.id.is_in(clocks.iter().map(|c| c.id)))
        .filter(step.due(now));
    claim = match step {
        Step::Warn => claim.col_expr(sla_clock::Column::WarnedAt, Expr::val(now)),
        Step::Breach => {
            // Only the calendar knows the escalation instant: one CASE over the batch.
            let mut case = CaseStatement::new();
            for c in clocks {
                case = case.case(C.id.eq(c.id), Expr::val(spec_of(c).times(cal).escalate_at));
            }
            claim
                .col_expr(
                    sla_clock::Column::BreachedAt,
                    Expr::col(sla_clock::Column::DueAt),
                )
                .col_expr(
                    sla_clock::Column::EscalateAt,
                    case.finally(Expr::col(sla_clock::Column::EscalateAt))
                        .into(),
                )
        }
        Step::Escalate => claim.col_expr(sla_clock::Column::EscalatedAt, Expr::val(now)),
    };
    claim.exec_with_returning(conn).await
}
