//! Readable numbers of the subjects (`SQ20261123-000123` for an appeal, `RZ…` a financing
//! request, `ZJ…` a fund application, `BC…` a risk claim): a prefix, the local date and a
//! counter per kind — a sequence on PostgreSQL (no row lock between concurrent submissions;
//! gaps are allowed), a counter row on SQLite (one writer anyway). Here, below `api`, because
//! the jobs number the apply-free awards they create.

use chrono::{DateTime, NaiveDate, Utc};
use entity::calendar::Calendar;
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, Statement,
    sea_query::{Expr, SimpleExpr},
};

/// Which counter.
#[derive(Debug, Clone, Copy)]
pub enum Series {
    /// Appeals: `SQ…`, `appeal_number_seq`.
    Appeal,
    /// Financing requests: `RZ…`, `financing_number_seq`.
    Financing,
    /// Fund applications: `ZJ…`, `fund_number_seq`.
    Fund,
    /// Risk-compensation claims: `BC…`, `claim_number_seq`.
    Claim,
}

impl Series {
    fn prefix(self) -> &'static str {
        match self {
            Self::Appeal => "SQ",
            Self::Financing => "RZ",
            Self::Fund => "ZJ",
            Self::Claim => "BC",
        }
    }

    fn sequence(self) -> &'static str {
        match self {
            Self::Appeal => "appeal_number_seq",
            Self::Financing => "financing_number_seq",
            Self::Fund => "fund_number_seq",
            Self::Claim => "claim_number_seq",
        }
    }
}

/// The next number of `series` for a submission at `now` (local date of `cal`).
pub async fn next(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    now: DateTime<Utc>,
    series: Series,
) -> Result<String, DbErr> {
    let backend = conn.get_database_backend();
    let seq = series.sequence();
    // `seq` is one of the fixed names above, never input.
    let (sql, column) = match backend {
        DbBackend::Postgres => (format!("SELECT nextval('{seq}') AS n"), "n"),
        _ => (
            format!("UPDATE {seq} SET value = value + 1 WHERE id = 1 RETURNING value"),
            "value",
        ),
    };
    let row = conn
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("{seq} returned nothing")))?;
    Ok(format(series, cal, now, row.try_get("", column)?))
}

/// On PostgreSQL, the expression that draws the next counter value of `series` (a `BIGINT`),
/// for a submission to select with a read it makes anyway: one round trip fewer than [`next`].
/// `None` on SQLite, where the counter is a row to update and [`next`] is the way.
pub fn draw(backend: DbBackend, series: Series) -> Option<SimpleExpr> {
    (backend == DbBackend::Postgres)
        .then(|| Expr::cust(format!("nextval('{}')", series.sequence())))
}

/// The number of `series` whose counter value is `n`, for a submission at `now`.
pub fn format(series: Series, cal: &Calendar, now: DateTime<Utc>, n: i64) -> String {
    let date: NaiveDate = cal.local_date(now);
    format!("{}{}-{n:06}", series.prefix(), date.format("%Y%m%d"))
}
