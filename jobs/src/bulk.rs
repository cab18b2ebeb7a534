//! Inserting many rows: multi-row `INSERT` statements as large as the database's limit on bound
//! parameters allows (SQLite 32,766, PostgreSQL 65,535), so a batch is a few statements. Few
//! statements matter beyond round trips: over TLS on a loopback connection each statement
//! larger than one TLS record can wait for a delayed ACK (sqlx writes one record per system
//! call and does not set `TCP_NODELAY`), see bench/README.md, "Notifications".

use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, Iterable};

/// Rows of `columns` columns per statement on `backend`.
pub fn rows_per_statement(backend: DbBackend, columns: usize) -> usize {
    let parameters = match backend {
        DbBackend::Postgres => 65_535,
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
    let columns = <A::Entity as EntityTrait>::Column::iter().count();
    let per = rows_per_statement(conn.get_database_backend(), columns);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_stay_under_the_parameter_limits() {
        assert_eq!(rows_per_statement(DbBackend::Sqlite, 9), 3_640);
        assert_eq!(rows_per_statement(DbBackend::Postgres, 15), 4_369);
        assert!(rows_per_statement(DbBackend::Postgres, 15) * 15 <= 65_535);
        assert_eq!(rows_per_statement(DbBackend::Sqlite, 0), 32_766);
    }
}
