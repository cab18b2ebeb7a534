//! The SLA dashboard: per department, chain or category figures of a period, computed by the
//! database with grouped aggregates (never by loading appeals), and the at-risk list.
//!
//! Every instant is bound as a `DateTime<Utc>` value, so PostgreSQL compares `timestamptz` and
//! SQLite compares the RFC 3339 text sea-orm writes (always `+00:00`, so text order is time
//! order).

use crate::{
    auth::{AuthUser, scope},
    error::{AppError, AppResult},
};
use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use entity::{
    appeal, appeal_event, chain,
    enums::{AppealCategory, AppealStatus, ClockKind, Role},
    organization, sla_clock,
};
use jobs::calendar::CalendarLoader as CalendarCache;
use rust_decimal::{Decimal, RoundingStrategy};
use sea_orm::{
    AccessMode, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, EntityTrait, FromQueryResult, IsolationLevel, QueryFilter, QueryResult,
    TransactionTrait,
    sea_query::{
        Alias, Expr, ExprTrait, Func, JoinType, Order, Query, SelectStatement, SimpleExpr,
    },
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// The longest period the dashboard answers, in days (both ends included).
pub const MAX_SPAN_DAYS: i64 = 366;
/// The default period: the last 30 days, today included.
const DEFAULT_SPAN_DAYS: i64 = 30;
/// Clocks due in the period are joined by hash to the appeals submitted at most this long
/// before it; the clocks of older appeals (long pauses, reopens) one appeal at a time. See `sla`.
const RECENT_APPEAL_DAYS: i64 = 31;
/// Name of the group of appeals not routed to any department yet.
pub const NO_DEPARTMENT: &str = "未分派";
/// Name of the group of appeals outside any chain.
pub const NO_CHAIN: &str = "无产业链";

/// How the dashboard groups appeals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// The appeal's current department (events: the department that held it).
    #[default]
    Department,
    Chain,
    Category,
}

/// `GET /dashboard/sla?from=&to=&group_by=`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct SlaQuery {
    /// First day of the period (calendar time zone), from 1900-01-01; default `to` − 29 days.
    #[param(pattern = r"^(?:19[0-9]{2}|[2-9][0-9]{3})-")]
    pub from: Option<NaiveDate>,
    /// Last day of the period, included, up to 9999-12-31; default today.
    #[param(pattern = r"^(?:19[0-9]{2}|[2-9][0-9]{3})-")]
    pub to: Option<NaiveDate>,
    /// `department` (default), `chain` or `category`.
    pub group_by: Option<GroupBy>,
}

/// One group's figures for the period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SlaRow {
    /// Department id, chain id or category code; null for appeals without department/chain.
    pub key: Option<String>,
    /// Organization name, chain name or category label; `未分派` / `无产业链` for a null key.
    pub name: String,
    /// Appeals submitted in the period.
    pub total: i64,
    /// Of those, not resolved, closed or withdrawn.
    pub open: i64,
    pub reply_on_time: i64,
    pub reply_late: i64,
    pub opinion_on_time: i64,
    pub opinion_late: i64,
    pub close_on_time: i64,
    pub close_late: i64,
    /// On time ÷ decided clocks due in the period, 4 places; `"1.0000"` when none was due.
    #[schema(example = "0.6667")]
    pub on_time_rate: String,
    /// Appeals submitted in the period, still open, with a breached unmet clock.
    pub breached_open: i64,
    /// Appeals submitted in the period, still open, with a clock inside its warning window.
    pub at_risk: i64,
    /// Average working hours from submission to resolution of the appeals resolved in the
    /// period, 2 places.
    #[schema(example = "12.50")]
    pub avg_close_working_hours: Option<String>,
    /// Average rating (1–5) of the appeals closed in the period, 2 places.
    #[schema(example = "4.50")]
    pub satisfaction_avg: Option<String>,
    /// Returns (退回) in the period by the department holding the appeal.
    pub returns: i64,
    /// Transfers (转办) in the period by the department holding the appeal.
    pub transfers: i64,
}

/// `GET /dashboard/sla`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SlaDashboard {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_by: GroupBy,
    pub rows: Vec<SlaRow>,
}

/// The CSV columns, in order: the row fields.
pub const CSV_HEADER: &[&str] = &[
    "key",
    "name",
    "total",
    "open",
    "reply_on_time",
    "reply_late",
    "opinion_on_time",
    "opinion_late",
    "close_on_time",
    "close_late",
    "on_time_rate",
    "breached_open",
    "at_risk",
    "avg_close_working_hours",
    "satisfaction_avg",
    "returns",
    "transfers",
];

/// `GET /dashboard/at-risk?limit=&department_id=&chain_id=`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct AtRiskQuery {
    /// 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub department_id: Option<Uuid>,
    pub chain_id: Option<Uuid>,
}

/// An open appeal and its nearest unmet clock.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AtRiskItem {
    pub appeal_id: Uuid,
    pub number: String,
    pub title: String,
    pub status: AppealStatus,
    pub department_id: Option<Uuid>,
    pub chain_id: Option<Uuid>,
    pub category: AppealCategory,
    pub clock_kind: ClockKind,
    pub due_at: DateTime<Utc>,
    /// Working minutes left until `due_at`; negative (working time since) once past.
    pub remaining_working_minutes: i64,
    /// The due time has passed (or the monitor marked the clock breached).
    pub breached: bool,
}

/// `GET /dashboard/at-risk`: one page, nearest due time first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AtRiskPage {
    pub items: Vec<AtRiskItem>,
    /// Always null: the list is the first `limit` appeals by due time.
    pub next_cursor: Option<String>,
}

/// `[start, end)` instants of the period.
#[derive(Debug, Clone, Copy)]
struct Period {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Period {
    /// `col` within the period.
    fn holds(&self, col: impl ColumnTrait) -> Condition {
        Condition::all()
            .add(col.gte(self.start))
            .add(col.lt(self.end))
    }
}

/// The first instant of `date` in `tz` (the end of a DST gap when midnight does not exist).
fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    (0..=3)
        .find_map(|h| {
            tz.from_local_datetime(&(midnight + TimeDelta::hours(h)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| midnight.and_utc())
}

/// The dates asked for, with their defaults, checked.
fn resolve_dates(q: &SlaQuery, today: NaiveDate) -> AppResult<(NaiveDate, NaiveDate)> {
    if let Some(from) = q.from {
        super::validate::date_in_range("from", from)?;
    }
    let to = super::validate::date_in_range("to", q.to.unwrap_or(today))?;
    let from = match q.from {
        Some(d) => d,
        None => to
            .checked_sub_signed(TimeDelta::days(DEFAULT_SPAN_DAYS - 1))
            .unwrap_or(NaiveDate::MIN),
    };
    if from > to {
        return Err(AppError::invalid("from", "must not be after to"));
    }
    if (to - from).num_days() + 1 > MAX_SPAN_DAYS {
        return Err(AppError::invalid(
            "to",
            format!("the period may span at most {MAX_SPAN_DAYS} days"),
        ));
    }
    Ok((from, to))
}

/// Which column names the department a figure is attributed to.
#[derive(Clone, Copy)]
enum DeptColumn {
    /// The appeal's current department.
    Appeal,
    /// The department that held the appeal when the event happened.
    Event,
}

/// The appeals (and events) the caller's figures cover: everything for the service centre and
/// admins, its chains for a chain office, itself for a department; 403 for everyone else.
fn dashboard_scope(user: &AuthUser, dept: DeptColumn) -> AppResult<Condition> {
    user.require(&[
        Role::Admin,
        Role::ServiceCenter,
        Role::ChainOffice,
        Role::Department,
    ])?;
    Ok(match user.role {
        Role::Department => {
            let own = match dept {
                DeptColumn::Appeal => appeal::Column::DepartmentId.eq(user.organization_id),
                DeptColumn::Event => appeal_event::Column::DepartmentId.eq(user.organization_id),
            };
            // A department without an organization sees nothing (`= NULL` is never true).
            Condition::all().add(scope::appeals(user)).add(own)
        }
        _ => Condition::all().add(scope::appeals(user)),
    })
}

fn col(c: impl ColumnTrait) -> Expr {
    Expr::col(c.as_column_ref())
}

/// The grouping key of a query over appeals (and, for events, the event's department).
fn key_expr(group: GroupBy, dept: DeptColumn) -> Expr {
    match (group, dept) {
        (GroupBy::Department, DeptColumn::Appeal) => col(appeal::Column::DepartmentId),
        (GroupBy::Department, DeptColumn::Event) => col(appeal_event::Column::DepartmentId),
        (GroupBy::Chain, _) => col(appeal::Column::ChainId),
        (GroupBy::Category, _) => col(appeal::Column::Category),
    }
}

/// `SUM(CASE WHEN cond THEN 1 ELSE 0 END)` as a 64-bit integer on both databases.
fn count_if(cond: impl sea_orm::sea_query::IntoCondition) -> Expr {
    sum_bigint(Expr::case(cond, 1).finally(0).into())
}

/// `CAST(SUM(e) AS BIGINT)`: PostgreSQL sums a bigint into a numeric otherwise.
fn sum_bigint(e: Expr) -> Expr {
    Func::cast_as(Func::sum(e), Alias::new("BIGINT")).into()
}

/// Statuses in which an appeal is no longer worked on.
fn done_statuses() -> [AppealStatus; 3] {
    [
        AppealStatus::Resolved,
        AppealStatus::Closed,
        AppealStatus::Withdrawn,
    ]
}

fn is_open() -> SimpleExpr {
    appeal::Column::Status.is_not_in(done_statuses())
}

/// A clock of the current appeal row, from `sla_clocks`, matching `cond`.
fn appeal_has_clock(cond: Condition) -> SimpleExpr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(sla_clock::Entity)
            .and_where(col(sla_clock::Column::AppealId).equals(appeal::Column::Id.as_column_ref()))
            .cond_where(cond)
            .to_owned(),
    )
}

/// Unmet, not cancelled and breached: marked by the monitor, or past due while running (so a
/// monitor that has not run yet does not hide a breach).
fn breached_unmet(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(sla_clock::Column::MetAt.is_null())
        .add(sla_clock::Column::CancelledAt.is_null())
        .add(
            Condition::any()
                .add(sla_clock::Column::BreachedAt.is_not_null())
                .add(
                    Condition::all()
                        .add(sla_clock::Column::PausedAt.is_null())
                        .add(sla_clock::Column::DueAt.lt(now)),
                ),
        )
}

/// Unmet, running, not breached, and inside its warning window.
fn at_risk_unmet(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(sla_clock::Column::MetAt.is_null())
        .add(sla_clock::Column::CancelledAt.is_null())
        .add(sla_clock::Column::PausedAt.is_null())
        .add(sla_clock::Column::BreachedAt.is_null())
        .add(sla_clock::Column::WarnAt.lte(now))
        .add(sla_clock::Column::DueAt.gt(now))
}

/// Met no later than due, never breached, not cancelled.
fn clock_on_time() -> Condition {
    Condition::all()
        .add(sla_clock::Column::CancelledAt.is_null())
        .add(sla_clock::Column::BreachedAt.is_null())
        .add(sla_clock::Column::MetAt.is_not_null())
        .add(col(sla_clock::Column::MetAt).lte(col(sla_clock::Column::DueAt)))
}

/// Breached (even if later cancelled), met after due, or unmet, running and past due.
fn clock_late(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(sla_clock::Column::BreachedAt.is_not_null())
        .add(
            Condition::all()
                .add(sla_clock::Column::CancelledAt.is_null())
                .add(
                    Condition::any()
                        .add(col(sla_clock::Column::MetAt).gt(col(sla_clock::Column::DueAt)))
                        .add(
                            Condition::all()
                                .add(sla_clock::Column::MetAt.is_null())
                                .add(sla_clock::Column::PausedAt.is_null())
                                .add(sla_clock::Column::DueAt.lt(now)),
                        ),
                ),
        )
}

/// Adds the clock kind and its on-time and late counts to a select over `sla_clocks`; the
/// caller groups by the kind too.
fn clock_counts(select: &mut SelectStatement, now: DateTime<Utc>) {
    select
        .column((sla_clock::Entity, sla_clock::Column::Kind))
        .expr_as(count_if(clock_on_time()), "on_time")
        .expr_as(count_if(clock_late(now)), "late")
        .add_group_by([col(sla_clock::Column::Kind)]);
}

/// One row of `clock_counts` as on time and late of reply, opinion and close.
fn read_clock_counts(row: &QueryResult) -> AppResult<[i64; 6]> {
    let kind: ClockKind = row.try_get("", "kind")?;
    let i = KINDS.iter().position(|k| *k == kind).unwrap_or(0);
    let mut out = [0; 6];
    out[2 * i] = int(row, "on_time")?;
    out[2 * i + 1] = int(row, "late")?;
    Ok(out)
}

const KINDS: [ClockKind; 3] = [ClockKind::Reply, ClockKind::Opinion, ClockKind::Close];

/// Whether the caller's scope is every appeal (so a query need not join them to filter).
fn sees_everything(user: &AuthUser) -> bool {
    user.role == Role::Admin || (user.role == Role::ServiceCenter && user.organization_id.is_some())
}

/// A read-only transaction for the dashboard's queries: one snapshot for all of them. On
/// PostgreSQL also without JIT compilation, which costs more than these index-only
/// aggregates take to run.
pub async fn read_snapshot(db: &DatabaseConnection) -> AppResult<DatabaseTransaction> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(db.begin().await?);
    }
    let txn = db
        .begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await?;
    txn.execute_unprepared("SET LOCAL jit = off").await?;
    Ok(txn)
}

/// Running totals of one group.
#[derive(Debug, Default, Clone)]
struct Acc {
    total: i64,
    open: i64,
    on_time: [i64; 3],
    late: [i64; 3],
    breached_open: i64,
    at_risk: i64,
    resolved: i64,
    close_seconds: i64,
    rated: i64,
    rating_sum: i64,
    returns: i64,
    transfers: i64,
}

impl Acc {
    /// Adds counts in the order of `read_clock_counts`.
    fn add_clocks(&mut self, counts: &[i64; 6]) {
        for i in 0..3 {
            self.on_time[i] += counts[2 * i];
            self.late[i] += counts[2 * i + 1];
        }
    }
}

/// The key column `k` of an aggregate row, as the API writes it.
fn read_key(row: &QueryResult, group: GroupBy) -> AppResult<Option<String>> {
    Ok(match group {
        GroupBy::Department | GroupBy::Chain => row
            .try_get::<Option<Uuid>>("", "k")?
            .map(|id| id.to_string()),
        GroupBy::Category => row.try_get::<Option<String>>("", "k")?,
    })
}

fn int(row: &QueryResult, name: &str) -> AppResult<i64> {
    Ok(row.try_get::<Option<i64>>("", name)?.unwrap_or(0))
}

/// Runs a grouped aggregate and folds each row into its group's totals.
async fn fold(
    conn: &impl ConnectionTrait,
    group: GroupBy,
    select: &SelectStatement,
    groups: &mut BTreeMap<Option<String>, Acc>,
    mut apply: impl FnMut(&QueryResult, &mut Acc) -> AppResult<()>,
) -> AppResult<()> {
    for row in conn.query_all(select).await? {
        let key = read_key(&row, group)?;
        apply(&row, groups.entry(key).or_default())?;
    }
    Ok(())
}

/// `numerator ÷ denominator` rounded half-even to `places`.
fn ratio(numerator: i64, denominator: i64, places: u32) -> String {
    let value = Decimal::from(numerator)
        .checked_div(Decimal::from(denominator))
        .unwrap_or(Decimal::ZERO)
        .round_dp_with_strategy(places, RoundingStrategy::MidpointNearestEven);
    format!("{value:.prec$}", prec = places as usize)
}

/// Counts the clocks due in the period, any round, by kind, into their appeals' groups.
///
/// Joining clocks to their appeals is the expensive part of the dashboard. Nearly all of them
/// belong to appeals submitted shortly before or in the period, which a hash join reads through
/// the `submitted_at` index instead of every appeal: a left join, so the clocks of older
/// appeals show up unmatched. Only when some of those are decided does a second pass count
/// them per appeal.
async fn fold_due_clocks(
    conn: &impl ConnectionTrait,
    group: GroupBy,
    period: Period,
    now: DateTime<Utc>,
    scope: &Condition,
    groups: &mut BTreeMap<Option<String>, Acc>,
) -> AppResult<()> {
    let key = key_expr(group, DeptColumn::Appeal);
    let recent = period.start - TimeDelta::days(RECENT_APPEAL_DAYS);
    let unmatched = Expr::col((appeal::Entity, appeal::Column::Id)).is_null();
    let mut joined = Query::select();
    joined
        .expr_as(key.clone(), "k")
        .expr_as(unmatched.clone(), "unmatched");
    clock_counts(&mut joined, now);
    joined
        .from(sla_clock::Entity)
        .join(
            JoinType::LeftJoin,
            appeal::Entity,
            Condition::all()
                .add(col(appeal::Column::Id).equals(sla_clock::Column::AppealId.as_column_ref()))
                .add(appeal::Column::SubmittedAt.gte(recent))
                .add(appeal::Column::SubmittedAt.lt(period.end)),
        )
        .cond_where(period.holds(sla_clock::Column::DueAt))
        .cond_where(Condition::any().add(unmatched.clone()).add(scope.clone()))
        .add_group_by([key.clone(), unmatched]);
    let mut older_decided = false;
    for row in conn.query_all(&joined).await? {
        let counts = read_clock_counts(&row)?;
        if row.try_get::<bool>("", "unmatched")? {
            older_decided |= counts.iter().any(|n| *n > 0);
        } else {
            groups
                .entry(read_key(&row, group)?)
                .or_default()
                .add_clocks(&counts);
        }
    }
    // The clocks of older appeals: a clock of the submission (round 0) starts at
    // `submitted_at`, so theirs started before `recent` or are reopen rounds. Counted per
    // appeal, then put in the appeal's group.
    if older_decided {
        let mut long = Query::select();
        long.column((sla_clock::Entity, sla_clock::Column::AppealId));
        clock_counts(&mut long, now);
        long.from(sla_clock::Entity)
            .cond_where(period.holds(sla_clock::Column::DueAt))
            .cond_where(
                Condition::any()
                    .add(sla_clock::Column::Round.ne(0))
                    .add(sla_clock::Column::StartAt.lt(recent)),
            )
            .group_by_col((sla_clock::Entity, sla_clock::Column::AppealId));
        let mut per_appeal: HashMap<Uuid, [i64; 6]> = HashMap::new();
        for row in conn.query_all(&long).await? {
            let counts = read_clock_counts(&row)?;
            let sum = per_appeal.entry(row.try_get("", "appeal_id")?).or_default();
            for (total, n) in sum.iter_mut().zip(counts) {
                *total += n;
            }
        }
        let ids: Vec<Uuid> = per_appeal.keys().copied().collect();
        for chunk in ids.chunks(500) {
            // Only the appeals the left join left unmatched.
            let keys = Query::select()
                .column((appeal::Entity, appeal::Column::Id))
                .expr_as(key.clone(), "k")
                .from(appeal::Entity)
                .and_where(appeal::Column::Id.is_in(chunk.iter().copied()))
                .cond_where(
                    Condition::any()
                        .add(appeal::Column::SubmittedAt.lt(recent))
                        .add(appeal::Column::SubmittedAt.gte(period.end)),
                )
                .cond_where(scope.clone())
                .to_owned();
            for row in conn.query_all(&keys).await? {
                let id: Uuid = row.try_get("", "id")?;
                if let Some(counts) = per_appeal.get(&id) {
                    groups
                        .entry(read_key(&row, group)?)
                        .or_default()
                        .add_clocks(counts);
                }
            }
        }
    }
    Ok(())
}

/// The SLA figures of a period, one row per group, ordered by name.
#[tracing::instrument(skip_all, fields(role = %user.role.code()))]
pub async fn sla(
    conn: &impl ConnectionTrait,
    calendar: &CalendarCache,
    user: &AuthUser,
    now: DateTime<Utc>,
    q: &SlaQuery,
) -> AppResult<SlaDashboard> {
    let appeals_scope = dashboard_scope(user, DeptColumn::Appeal)?;
    let events_scope = dashboard_scope(user, DeptColumn::Event)?;
    let group = q.group_by.unwrap_or_default();
    let cal = calendar.current(conn).await?;
    let tz = cal.settings().time_zone;
    let today = now.with_timezone(&tz).date_naive();
    let (from, to) = resolve_dates(q, today)?;
    let period = Period {
        start: local_midnight(tz, from),
        end: local_midnight(tz, to.succ_opt().unwrap_or(to)),
    };
    let key = key_expr(group, DeptColumn::Appeal);
    let mut groups: BTreeMap<Option<String>, Acc> = BTreeMap::new();

    // Appeals submitted in the period.
    let submitted = Query::select()
        .expr_as(key.clone(), "k")
        .expr_as(Func::count(Expr::val(1)), "total")
        .expr_as(count_if(is_open()), "open")
        .expr_as(
            count_if(
                Condition::all()
                    .add(is_open())
                    .add(appeal_has_clock(breached_unmet(now))),
            ),
            "breached_open",
        )
        .expr_as(
            count_if(
                Condition::all()
                    .add(is_open())
                    .add(appeal_has_clock(at_risk_unmet(now))),
            ),
            "at_risk",
        )
        .from(appeal::Entity)
        .cond_where(period.holds(appeal::Column::SubmittedAt))
        .cond_where(appeals_scope.clone())
        .add_group_by([key.clone()])
        .to_owned();
    fold(conn, group, &submitted, &mut groups, |row, acc| {
        acc.total += int(row, "total")?;
        acc.open += int(row, "open")?;
        acc.breached_open += int(row, "breached_open")?;
        acc.at_risk += int(row, "at_risk")?;
        Ok(())
    })
    .await?;

    fold_due_clocks(conn, group, period, now, &appeals_scope, &mut groups).await?;

    // Appeals resolved in the period: working time to resolution.
    let resolved = Query::select()
        .expr_as(key.clone(), "k")
        .expr_as(Func::count(col(appeal::Column::CloseWorkingSeconds)), "n")
        .expr_as(
            sum_bigint(col(appeal::Column::CloseWorkingSeconds)),
            "seconds",
        )
        .from(appeal::Entity)
        .cond_where(period.holds(appeal::Column::ResolvedAt))
        .cond_where(appeals_scope.clone())
        .add_group_by([key.clone()])
        .to_owned();
    fold(conn, group, &resolved, &mut groups, |row, acc| {
        acc.resolved += int(row, "n")?;
        acc.close_seconds += int(row, "seconds")?;
        Ok(())
    })
    .await?;

    // Appeals rated and closed in the period.
    let rated = Query::select()
        .expr_as(key.clone(), "k")
        .expr_as(Func::count(col(appeal::Column::Satisfaction)), "n")
        .expr_as(sum_bigint(col(appeal::Column::Satisfaction)), "score")
        .from(appeal::Entity)
        .cond_where(period.holds(appeal::Column::ClosedAt))
        .and_where(appeal::Column::Satisfaction.is_not_null())
        .cond_where(appeals_scope)
        .add_group_by([key.clone()])
        .to_owned();
    fold(conn, group, &rated, &mut groups, |row, acc| {
        acc.rated += int(row, "n")?;
        acc.rating_sum += int(row, "score")?;
        Ok(())
    })
    .await?;

    // Returns and transfers, attributed to the department that held the appeal.
    let event_key = key_expr(group, DeptColumn::Event);
    let (ret, transfer) = ("return", "transfer");
    let mut events = Query::select();
    events
        .expr_as(event_key.clone(), "k")
        .expr_as(count_if(appeal_event::Column::Action.eq(ret)), "returns")
        .expr_as(
            count_if(appeal_event::Column::Action.eq(transfer)),
            "transfers",
        )
        .from(appeal_event::Entity)
        .and_where(appeal_event::Column::Action.is_in([ret, transfer]))
        .cond_where(period.holds(appeal_event::Column::At))
        .add_group_by([event_key]);
    // The appeal is needed only for a chain or category key or a narrower scope.
    if group != GroupBy::Department || !sees_everything(user) {
        events
            .join(
                JoinType::InnerJoin,
                appeal::Entity,
                col(appeal::Column::Id).equals(appeal_event::Column::AppealId.as_column_ref()),
            )
            .cond_where(events_scope);
    }
    fold(conn, group, &events, &mut groups, |row, acc| {
        acc.returns += int(row, "returns")?;
        acc.transfers += int(row, "transfers")?;
        Ok(())
    })
    .await?;

    let names = group_names(conn, group, groups.keys()).await?;
    let mut rows: Vec<SlaRow> = groups
        .into_iter()
        .map(|(key, acc)| {
            let name = names.get(&key).cloned().unwrap_or_else(|| match group {
                GroupBy::Department => NO_DEPARTMENT.to_string(),
                GroupBy::Chain => NO_CHAIN.to_string(),
                GroupBy::Category => key.clone().unwrap_or_default(),
            });
            row_of(key, name, &acc)
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.key.cmp(&b.key)));
    Ok(SlaDashboard {
        from,
        to,
        group_by: group,
        rows,
    })
}

fn row_of(key: Option<String>, name: String, a: &Acc) -> SlaRow {
    let on_time: i64 = a.on_time.iter().sum();
    let decided = on_time + a.late.iter().sum::<i64>();
    SlaRow {
        key,
        name,
        total: a.total,
        open: a.open,
        reply_on_time: a.on_time[0],
        reply_late: a.late[0],
        opinion_on_time: a.on_time[1],
        opinion_late: a.late[1],
        close_on_time: a.on_time[2],
        close_late: a.late[2],
        on_time_rate: if decided == 0 {
            ratio(1, 1, 4)
        } else {
            ratio(on_time, decided, 4)
        },
        breached_open: a.breached_open,
        at_risk: a.at_risk,
        avg_close_working_hours: (a.resolved > 0)
            .then(|| ratio(a.close_seconds, a.resolved * 3600, 2)),
        satisfaction_avg: (a.rated > 0).then(|| ratio(a.rating_sum, a.rated, 2)),
        returns: a.returns,
        transfers: a.transfers,
    }
}

/// Display names of the group keys (organizations, chains or category labels).
async fn group_names<'a>(
    conn: &impl ConnectionTrait,
    group: GroupBy,
    keys: impl Iterator<Item = &'a Option<String>>,
) -> AppResult<HashMap<Option<String>, String>> {
    let ids: Vec<Uuid> = keys
        .flatten()
        .filter_map(|k| Uuid::parse_str(k).ok())
        .collect();
    let mut out = HashMap::new();
    match group {
        GroupBy::Department => {
            for o in organization::Entity::find()
                .filter(organization::Column::Id.is_in(ids))
                .all(conn)
                .await?
            {
                out.insert(Some(o.id.to_string()), o.name);
            }
        }
        GroupBy::Chain => {
            for c in chain::Entity::find()
                .filter(chain::Column::Id.is_in(ids))
                .all(conn)
                .await?
            {
                out.insert(Some(c.id.to_string()), c.name);
            }
        }
        GroupBy::Category => {
            for c in AppealCategory::all() {
                out.insert(Some(c.code()), c.label_zh().to_string());
            }
        }
    }
    Ok(out)
}

/// The dashboard as CSV (the one writer, `crate::csv`): a header row of the field names, then
/// one line per row; names are text cells, so a formula in a name is neutralized.
pub fn to_csv(d: &SlaDashboard) -> String {
    let mut csv = crate::csv::Csv::new().header(CSV_HEADER);
    for r in &d.rows {
        csv.opt_text(r.key.as_deref())
            .text(&r.name)
            .number(r.total)
            .number(r.open)
            .number(r.reply_on_time)
            .number(r.reply_late)
            .number(r.opinion_on_time)
            .number(r.opinion_late)
            .number(r.close_on_time)
            .number(r.close_late)
            .number(&r.on_time_rate)
            .number(r.breached_open)
            .number(r.at_risk)
            .opt_number(r.avg_close_working_hours.as_ref())
            .opt_number(r.satisfaction_avg.as_ref())
            .number(r.returns)
            .number(r.transfers)
            .end_line();
    }
    csv.finish()
}

#[derive(Debug, FromQueryResult)]
struct AtRiskRow {
    id: Uuid,
    number: String,
    title: String,
    status: AppealStatus,
    department_id: Option<Uuid>,
    chain_id: Option<Uuid>,
    category: AppealCategory,
    kind: ClockKind,
    due_at: DateTime<Utc>,
    breached_at: Option<DateTime<Utc>>,
}

/// Open appeals by their nearest unmet, running clock, nearest (overdue) first.
#[tracing::instrument(skip_all, fields(role = %user.role.code()))]
pub async fn at_risk(
    conn: &impl ConnectionTrait,
    calendar: &CalendarCache,
    user: &AuthUser,
    now: DateTime<Utc>,
    q: &AtRiskQuery,
) -> AppResult<AtRiskPage> {
    let scope = dashboard_scope(user, DeptColumn::Appeal)?;
    let limit = crate::pagination::limit_of(q.limit)?;
    let running = |t: &str| {
        Condition::all()
            .add(Expr::col((Alias::new(t), sla_clock::Column::MetAt)).is_null())
            .add(Expr::col((Alias::new(t), sla_clock::Column::CancelledAt)).is_null())
            .add(Expr::col((Alias::new(t), sla_clock::Column::PausedAt)).is_null())
    };
    let clocks = "sla_clocks";
    let other = "nearer";
    let other_col = |c: sla_clock::Column| Expr::col((Alias::new(other), c));
    let this_col = |c: sla_clock::Column| Expr::col((Alias::new(clocks), c));
    // One row per appeal: no running clock of the same appeal comes before this one.
    let nearer = Query::select()
        .expr(Expr::val(1))
        .from_as(sla_clock::Entity, Alias::new(other))
        .and_where(
            other_col(sla_clock::Column::AppealId)
                .equals((Alias::new(clocks), sla_clock::Column::AppealId)),
        )
        .cond_where(running(other))
        .cond_where(
            Condition::any()
                .add(other_col(sla_clock::Column::DueAt).lt(this_col(sla_clock::Column::DueAt)))
                .add(
                    Condition::all()
                        .add(
                            other_col(sla_clock::Column::DueAt)
                                .eq(this_col(sla_clock::Column::DueAt)),
                        )
                        .add(other_col(sla_clock::Column::Id).lt(this_col(sla_clock::Column::Id))),
                ),
        )
        .to_owned();
    let mut select = Query::select();
    select
        .columns(
            [
                appeal::Column::Id,
                appeal::Column::Number,
                appeal::Column::Title,
                appeal::Column::Status,
                appeal::Column::DepartmentId,
                appeal::Column::ChainId,
                appeal::Column::Category,
            ]
            .map(|c| (appeal::Entity, c)),
        )
        .columns(
            [
                sla_clock::Column::Kind,
                sla_clock::Column::DueAt,
                sla_clock::Column::BreachedAt,
            ]
            .map(|c| (sla_clock::Entity, c)),
        )
        .from(sla_clock::Entity)
        .join(
            JoinType::InnerJoin,
            appeal::Entity,
            col(appeal::Column::Id).equals(sla_clock::Column::AppealId.as_column_ref()),
        )
        .cond_where(running(clocks))
        .and_where(is_open())
        .and_where(Expr::not_exists(nearer))
        .cond_where(scope)
        .order_by((sla_clock::Entity, sla_clock::Column::DueAt), Order::Asc)
        .order_by((sla_clock::Entity, sla_clock::Column::Id), Order::Asc)
        .limit(limit);
    if let Some(d) = q.department_id {
        select.and_where(appeal::Column::DepartmentId.eq(d));
    }
    if let Some(c) = q.chain_id {
        select.and_where(appeal::Column::ChainId.eq(c));
    }
    let cal = calendar.current(conn).await?;
    let mut items = Vec::new();
    for row in conn.query_all(&select).await? {
        let r = AtRiskRow::from_query_result(&row, "")?;
        items.push(AtRiskItem {
            appeal_id: r.id,
            number: r.number,
            title: r.title,
            status: r.status,
            department_id: r.department_id,
            chain_id: r.chain_id,
            category: r.category,
            clock_kind: r.kind,
            due_at: r.due_at,
            remaining_working_minutes: entity::sla::remaining_working_minutes(&cal, now, r.due_at),
            breached: r.breached_at.is_some() || r.due_at < now,
        });
    }
    Ok(AtRiskPage {
        items,
        next_cursor: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_half_even_to_fixed_places() {
        assert_eq!(ratio(2, 3, 4), "0.6667");
        assert_eq!(ratio(1, 1, 4), "1.0000");
        assert_eq!(ratio(0, 5, 4), "0.0000");
        assert_eq!(ratio(9, 2, 2), "4.50");
        assert_eq!(ratio(5400, 3600, 2), "1.50");
    }

    #[test]
    fn default_period_is_the_last_thirty_days_and_long_spans_are_refused() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap_or_default();
        let (from, to) = resolve_dates(&SlaQuery::default(), today).unwrap_or((today, today));
        assert_eq!(to, today);
        assert_eq!((to - from).num_days(), 29);
        let long = SlaQuery {
            from: NaiveDate::from_ymd_opt(2025, 3, 30),
            to: Some(today),
            group_by: None,
        };
        assert!(resolve_dates(&long, today).is_err());
        let year = SlaQuery {
            from: NaiveDate::from_ymd_opt(2025, 3, 31),
            ..long
        };
        assert!(resolve_dates(&year, today).is_ok());
    }

    #[test]
    fn midnight_in_shanghai_is_sixteen_utc_the_day_before() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default();
        assert_eq!(
            local_midnight(chrono_tz::Asia::Shanghai, d).to_rfc3339(),
            "2026-03-01T16:00:00+00:00"
        );
    }
}
