//! Inserting many rows, and many inserts at once.
//!
//! - **Many rows**: multi-row `INSERT` statements as large as the database's limit on bound
//!   parameters allows (SQLite 32,766, PostgreSQL 65,535), so a batch is a few statements. Few
//!   statements matter beyond round trips: over TLS on a loopback connection each statement
//!   larger than one TLS record can wait for a delayed ACK (sqlx writes one record per system
//!   call and does not set `TCP_NODELAY`), see bench/README.md, "Notifications".
//! - **Many inserts** ([`Batch`]): the rows an event writes and never reads back (the subject,
//!   its clocks, its timeline lines, notifications, mails) are collected while the use case
//!   runs and sent at its end; on PostgreSQL as one statement of data-modifying `WITH` parts,
//!   one round trip instead of one per table (see bench/README.md, "Issue 11: the submission
//!   in one write"). Its parts see one snapshot and run in no set order, so a batch holds only
//!   inserts that do not depend on each other's rows; foreign keys are checked at the end of
//!   the statement, so a clock may name the appeal inserted beside it.

use std::fmt::Write;

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, Iterable, QueryTrait,
    Statement,
    sea_query::{InsertStatement, PostgresQueryBuilder, SqlWriterValues},
};

/// PostgreSQL's limit on the bound parameters of one statement.
const PG_PARAMETERS: usize = 65_535;

/// Rows of `columns` columns per statement on `backend`.
pub fn rows_per_statement(backend: DbBackend, columns: usize) -> usize {
    let parameters = match backend {
        DbBackend::Postgres => PG_PARAMETERS,
        _ => 32_766,
    };
    (parameters / columns.max(1)).max(1)
}

/// Inserts `rows` (every column set) in as few statements as the parameter limit allows;
/// returns how many.
pub async fn insert_all<A>(conn: &impl ConnectionTrait, rows: Vec<A>) -> Result<u64, DbErr>
where
    A: ActiveModelTrait,
{
    let n = rows.len() as u64;
    let mut batch = Batch::default();
    batch.insert_all(conn.get_database_backend(), rows);
    batch.run(conn).await?;
    Ok(n)
}

/// Inserts collected during a use case and written together at its end ([`Batch::run`], in
/// the use case's transaction): one statement on PostgreSQL (as many as the parameter limit
/// needs), one after the other on SQLite, which has no round trips to save.
#[derive(Debug, Default)]
pub struct Batch {
    /// Each insert with its bound parameters when known (at most so many).
    inserts: Vec<(InsertStatement, Option<usize>)>,
}

impl Batch {
    /// Adds one insert.
    pub fn push(&mut self, insert: impl QueryTrait<QueryStatement = InsertStatement>) {
        self.inserts.push((insert.into_query(), None));
    }

    /// Adds `rows` (every column set), in statements of at most the parameter limit.
    pub fn insert_all<A>(&mut self, backend: DbBackend, rows: Vec<A>)
    where
        A: ActiveModelTrait,
    {
        let columns = <A::Entity as EntityTrait>::Column::iter().count();
        let per = rows_per_statement(backend, columns);
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<A> = rows.by_ref().take(per).collect();
            let parameters = chunk.len() * columns;
            let insert = <A::Entity as EntityTrait>::insert_many(chunk).into_query();
            self.inserts.push((insert, Some(parameters)));
        }
    }

    /// Writes what was added.
    pub async fn run(self, conn: &impl ConnectionTrait) -> Result<(), DbErr> {
        if conn.get_database_backend() != DbBackend::Postgres {
            for (insert, _) in &self.inserts {
                conn.execute(insert).await?;
            }
            return Ok(());
        }
        for statement in combined(self.inserts) {
            conn.execute_raw(statement).await?;
        }
        Ok(())
    }
}

/// `inserts` as PostgreSQL statements of `WITH` parts, each under the parameter limit: every
/// insert but the last of a statement is a part, the last its main query.
fn combined(inserts: Vec<(InsertStatement, Option<usize>)>) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut parts: Vec<(InsertStatement, usize)> = Vec::new();
    let mut parameters = 0;
    for (insert, known) in inserts {
        let n = known.unwrap_or_else(|| insert.build(PostgresQueryBuilder).1.0.len());
        if !parts.is_empty() && parameters + n > PG_PARAMETERS {
            out.push(one_statement(std::mem::take(&mut parts)));
            parameters = 0;
        }
        parameters += n;
        parts.push((insert, n));
    }
    if !parts.is_empty() {
        out.push(one_statement(parts));
    }
    out
}

fn one_statement(parts: Vec<(InsertStatement, usize)>) -> Statement {
    let mut sql = SqlWriterValues::new("$", true);
    let last = parts.len() - 1;
    for (i, (insert, _)) in parts.iter().enumerate() {
        if i < last {
            let _ = write!(sql, "{}w{i} AS (", if i == 0 { "WITH " } else { ", " });
        } else if last > 0 {
            let _ = write!(sql, " ");
        }
        insert.build_collect_into(PostgresQueryBuilder, &mut sql);
        if i < last {
            let _ = write!(sql, ")");
        }
    }
    let (sql, values) = sql.into_parts();
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_go_as_one_statement_of_with_parts() {
        use sea_orm::sea_query::{Alias, Query};
        let insert = |table: &str, values: &[i64]| {
            let mut q = Query::insert();
            q.into_table(Alias::new(table)).columns([Alias::new("n")]);
            for v in values {
                q.values_panic([(*v).into()]);
            }
            (q, None)
        };
        let statements = combined(vec![
            insert("a", &[1, 2]),
            insert("b", &[3]),
            insert("c", &[4]),
        ]);
        assert_eq!(statements.len(), 1);
        assert_eq!(
            statements[0].sql,
            r#"WITH w0 AS (INSERT INTO "a" ("n") VALUES ($1), ($2)), w1 AS (INSERT INTO "b" ("n") VALUES ($3)) INSERT INTO "c" ("n") VALUES ($4)"#
        );
        assert_eq!(statements[0].values.as_ref().map(|v| v.0.len()), Some(4));
        let one = combined(vec![insert("a", &[1])]);
        assert_eq!(one[0].sql, r#"INSERT INTO "a" ("n") VALUES ($1)"#);
        // Past the parameter limit: two statements.
        let big: Vec<i64> = (0..40_000).collect();
        let split = combined(vec![
            insert("a", &big),
            insert("b", &big),
            insert("c", &[1]),
        ]);
        assert_eq!(split.len(), 2);
        assert!(split[1].sql.starts_with(r#"WITH w0 AS (INSERT INTO "b""#));
    }

    #[test]
    fn statements_stay_under_the_parameter_limits() {
        assert_eq!(rows_per_statement(DbBackend::Sqlite, 9), 3_640);
        assert_eq!(rows_per_statement(DbBackend::Postgres, 15), 4_369);
        assert!(rows_per_statement(DbBackend::Postgres, 15) * 15 <= 65_535);
        assert_eq!(rows_per_statement(DbBackend::Sqlite, 0), 32_766);
    }
}
