//! Readable numbers of the subjects (`SQ20261123-000123` for an appeal, `RZ…` a financing
//! request, `ZJ…` a fund application, `BC…` a risk claim): a prefix, the local date and a
//! counter per kind — a sequence on PostgreSQL (no row lock between concurrent submissions;
//! gaps are allowed), a counter row on SQLite (one writer anyway). Here, below `api`, because
//! the jobs number the apply-free awards they create.

use chrono::{DateTime, NaiveDate, Utc};
use entity::calendar::Calendar;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

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
    let n: i64 = row.try_get("", column)?;
    let date: NaiveDate = cal.local_date(now);
    Ok(format!(
        "{}{}-{n:06}",
        series.prefix(),
        date.format("%Y%m%d")
    ))
}
