//! Positional row decoding for the hot read paths (the appeal list and appeal answers).
//!
//! sea-orm's derived `FromQueryResult` finds every column by name and, for each NULL it reads
//! into an `Option`, formats an error string that it then throws away. On a 50-appeal page
//! (50 appeals, 150 clocks, ~3,500 values) that was more than a third of the request's CPU.
//! Here the select lists its columns explicitly ([`Positional::COLUMNS`]) and
//! each value is read by its index straight from the sqlx row of either backend; a NULL is a
//! plain `None`.

use chrono::{DateTime, Utc};
use entity::{appeal, sla_clock};
use sea_orm::{
    ActiveEnum, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryResult, QuerySelect,
    Select,
    sea_query::{Alias, Expr},
    sqlx::{self, Row, ValueRef, postgres::PgValueFormat},
};
use uuid::Uuid;

/// A value both backends decode the same way.
pub(crate) trait Value:
    for<'r> sqlx::Decode<'r, sqlx::Postgres>
    + sqlx::Type<sqlx::Postgres>
    + for<'r> sqlx::Decode<'r, sqlx::Sqlite>
    + sqlx::Type<sqlx::Sqlite>
{
}

impl<T> Value for T where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + for<'r> sqlx::Decode<'r, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
{
}

fn db_err(e: sqlx::Error) -> DbErr {
    DbErr::Type(e.to_string())
}

/// Column `i` of `row`.
pub(crate) fn get<T: Value>(row: &QueryResult, i: usize) -> Result<T, DbErr> {
    if let Some(r) = row.try_as_pg_row() {
        return r.try_get::<T, _>(i).map_err(db_err);
    }
    if let Some(r) = row.try_as_sqlite_row() {
        return r.try_get::<T, _>(i).map_err(db_err);
    }
    Err(DbErr::Type("rows: unsupported database backend".into()))
}

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// Column `i` of `row`, a nullable instant. PostgreSQL sends a `timestamptz` in binary as the
/// microseconds since its epoch; reading those 8 bytes directly is several times cheaper than
/// sqlx's decoding through `NaiveDateTime` and a `FixedOffset` (a page carries ~500 instants).
/// Anything else (text format, another type, SQLite) goes through sqlx.
pub(crate) fn opt_time(row: &QueryResult, i: usize) -> Result<Option<DateTime<Utc>>, DbErr> {
    let Some(r) = row.try_as_pg_row() else {
        return get(row, i);
    };
    let v = r.try_get_raw(i).map_err(db_err)?;
    if v.is_null() {
        return Ok(None);
    }
    if v.format() == PgValueFormat::Binary
        && *v.type_info() == <DateTime<Utc> as sqlx::Type<sqlx::Postgres>>::type_info()
        && let Some(t) = v
            .as_bytes()
            .ok()
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .and_then(|b| i64::from_be_bytes(b).checked_add(PG_EPOCH_MICROS))
            .and_then(DateTime::from_timestamp_micros)
    {
        return Ok(Some(t));
    }
    r.try_get(i).map_err(db_err)
}

/// Column `i` of `row`, an instant.
pub(crate) fn time(row: &QueryResult, i: usize) -> Result<DateTime<Utc>, DbErr> {
    opt_time(row, i)?.ok_or_else(|| DbErr::Type(format!("column {i} is NULL")))
}

/// Column `i` of `row`, a stored enum code.
pub(crate) fn get_enum<E: ActiveEnum<Value = String>>(
    row: &QueryResult,
    i: usize,
) -> Result<E, DbErr> {
    E::try_from_value(&get::<String>(row, i)?)
}

/// Column `i` of `row`, a nullable stored enum code.
fn get_opt_enum<E: ActiveEnum<Value = String>>(
    row: &QueryResult,
    i: usize,
) -> Result<Option<E>, DbErr> {
    get::<Option<String>>(row, i)?
        .map(|s| E::try_from_value(&s))
        .transpose()
}

/// A model read positionally; `select` names the columns in the order `read` takes them.
pub(crate) trait Positional: Sized {
    type Entity: EntityTrait;
    /// The columns, in the order [`Positional::read`] decodes them.
    const COLUMNS: &'static [<Self::Entity as EntityTrait>::Column];
    /// Decodes the model from `COLUMNS`, found in `row` from index `at` on.
    fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr>;
}

/// A model decoded by [`Positional`], for `Select::into_model`.
pub(crate) struct Fast<M>(pub M);

impl<M: Positional> FromQueryResult for Fast<M> {
    fn from_query_result(row: &QueryResult, _pre: &str) -> Result<Self, DbErr> {
        M::read(row, 0).map(Fast)
    }
}

/// `select` narrowed to exactly `M::COLUMNS`, in their order.
pub(crate) fn select<M: Positional>(select: Select<M::Entity>) -> Select<M::Entity>
where
    <M::Entity as EntityTrait>::Column: Copy,
{
    select.select_only().columns(M::COLUMNS.iter().copied())
}

/// Every row of `select`, decoded positionally.
pub(crate) async fn all<M: Positional>(
    conn: &impl ConnectionTrait,
    select: Select<M::Entity>,
) -> Result<Vec<M>, DbErr>
where
    <M::Entity as EntityTrait>::Column: Copy,
{
    Ok(self::select::<M>(select)
        .into_model::<Fast<M>>()
        .all(conn)
        .await?
        .into_iter()
        .map(|Fast(m)| m)
        .collect())
}

/// A model decoded by [`Positional`] with the row's `version` (kept by database triggers, not
/// part of the entity) in the column after the model's.
pub(crate) struct Versioned<M>(pub M, pub i64);

impl<M: Positional> FromQueryResult for Versioned<M> {
    fn from_query_result(row: &QueryResult, _pre: &str) -> Result<Self, DbErr> {
        Ok(Versioned(M::read(row, 0)?, get(row, M::COLUMNS.len())?))
    }
}

/// Every row of `select` with its row version, decoded positionally.
pub(crate) async fn all_versioned<M: Positional>(
    conn: &impl ConnectionTrait,
    select: Select<M::Entity>,
) -> Result<Vec<(M, i64)>, DbErr>
where
    <M::Entity as EntityTrait>::Column: Copy,
{
    Ok(self::select::<M>(select)
        .expr(Expr::col((M::Entity::default(), Alias::new("version"))))
        .into_model::<Versioned<M>>()
        .all(conn)
        .await?
        .into_iter()
        .map(|Versioned(m, v)| (m, v))
        .collect())
}

impl Positional for appeal::Model {
    type Entity = appeal::Entity;
    /// Every column, in the order of `appeal::Model`'s fields.
    const COLUMNS: &'static [appeal::Column] = &[
        appeal::Column::Id,
        appeal::Column::Number,
        appeal::Column::EnterpriseId,
        appeal::Column::SubmittedBy,
        appeal::Column::ChainId,
        appeal::Column::Category,
        appeal::Column::Title,
        appeal::Column::Content,
        appeal::Column::Status,
        appeal::Column::DepartmentId,
        appeal::Column::AssignedAt,
        appeal::Column::PausedFromStatus,
        appeal::Column::PausedAt,
        appeal::Column::ExtensionWorkingDays,
        appeal::Column::PendingExtensionDays,
        appeal::Column::PendingExtensionReason,
        appeal::Column::Satisfaction,
        appeal::Column::SatisfactionComment,
        appeal::Column::ReopenCount,
        appeal::Column::SubmittedAt,
        appeal::Column::ResolvedAt,
        appeal::Column::ClosedAt,
        appeal::Column::WithdrawnAt,
        appeal::Column::CloseWorkingSeconds,
        appeal::Column::UpdatedAt,
    ];

    fn read(r: &QueryResult, at: usize) -> Result<Self, DbErr> {
        Ok(Self {
            id: get::<Uuid>(r, at)?,
            number: get(r, at + 1)?,
            enterprise_id: get(r, at + 2)?,
            submitted_by: get(r, at + 3)?,
            chain_id: get(r, at + 4)?,
            category: get_enum(r, at + 5)?,
            title: get(r, at + 6)?,
            content: get(r, at + 7)?,
            status: get_enum(r, at + 8)?,
            department_id: get(r, at + 9)?,
            assigned_at: opt_time(r, at + 10)?,
            paused_from_status: get_opt_enum(r, at + 11)?,
            paused_at: opt_time(r, at + 12)?,
            extension_working_days: get(r, at + 13)?,
            pending_extension_days: get(r, at + 14)?,
            pending_extension_reason: get(r, at + 15)?,
            satisfaction: get(r, at + 16)?,
            satisfaction_comment: get(r, at + 17)?,
            reopen_count: get(r, at + 18)?,
            submitted_at: time(r, at + 19)?,
            resolved_at: opt_time(r, at + 20)?,
            closed_at: opt_time(r, at + 21)?,
            withdrawn_at: opt_time(r, at + 22)?,
            close_working_seconds: get(r, at + 23)?,
            updated_at: time(r, at + 24)?,
        })
    }
}

impl Positional for sla_clock::Model {
    type Entity = sla_clock::Entity;
    /// Every column, in the order of `sla_clock::Model`'s fields.
    const COLUMNS: &'static [sla_clock::Column] = &[
        sla_clock::Column::Id,
        sla_clock::Column::SubjectType,
        sla_clock::Column::AppealId,
        sla_clock::Column::FinancingRequestId,
        sla_clock::Column::FundApplicationId,
        sla_clock::Column::RiskClaimId,
        sla_clock::Column::Kind,
        sla_clock::Column::Round,
        sla_clock::Column::StartAt,
        sla_clock::Column::TargetWorkingDays,
        sla_clock::Column::ExtensionWorkingDays,
        sla_clock::Column::WarnBeforeWorkingHours,
        sla_clock::Column::PausedWorkingSeconds,
        sla_clock::Column::PausedAt,
        sla_clock::Column::DueAt,
        sla_clock::Column::WarnAt,
        sla_clock::Column::MetAt,
        sla_clock::Column::WarnedAt,
        sla_clock::Column::BreachedAt,
        sla_clock::Column::EscalateAt,
        sla_clock::Column::EscalatedAt,
        sla_clock::Column::CancelledAt,
        sla_clock::Column::UpdatedAt,
    ];

    fn read(r: &QueryResult, at: usize) -> Result<Self, DbErr> {
        Ok(Self {
            id: get::<Uuid>(r, at)?,
            subject_type: get_enum(r, at + 1)?,
            appeal_id: get(r, at + 2)?,
            financing_request_id: get(r, at + 3)?,
            fund_application_id: get(r, at + 4)?,
            risk_claim_id: get(r, at + 5)?,
            kind: get_enum(r, at + 6)?,
            round: get(r, at + 7)?,
            start_at: time(r, at + 8)?,
            target_working_days: get(r, at + 9)?,
            extension_working_days: get(r, at + 10)?,
            warn_before_working_hours: get(r, at + 11)?,
            paused_working_seconds: get(r, at + 12)?,
            paused_at: opt_time(r, at + 13)?,
            due_at: time(r, at + 14)?,
            warn_at: time(r, at + 15)?,
            met_at: opt_time(r, at + 16)?,
            warned_at: opt_time(r, at + 17)?,
            breached_at: opt_time(r, at + 18)?,
            escalate_at: opt_time(r, at + 19)?,
            escalated_at: opt_time(r, at + 20)?,
            cancelled_at: opt_time(r, at + 21)?,
            updated_at: time(r, at + 22)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{IdenStatic, Iterable};

    /// The column lists name every column once, in the entities' field order, so a column
    /// added to an entity without being added here fails this test.
    #[test]
    fn column_lists_match_the_entities() {
        let names = |cols: &[appeal::Column]| -> Vec<String> {
            cols.iter().map(|c| c.as_str().to_owned()).collect()
        };
        let all: Vec<appeal::Column> = appeal::Column::iter().collect();
        assert_eq!(names(<appeal::Model as Positional>::COLUMNS), names(&all));
        let clock_names: Vec<String> = <sla_clock::Model as Positional>::COLUMNS
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect();
        let all_clocks: Vec<String> = sla_clock::Column::iter()
            .map(|c| c.as_str().to_owned())
            .collect();
        assert_eq!(clock_names, all_clocks);
    }
}
