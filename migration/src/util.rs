//! Column and index helpers shared by the migrations.

use sea_orm_migration::{prelude::*, schema::*};

pub(crate) fn ts(name: &'static str) -> ColumnDef {
    timestamp_with_time_zone(name)
}

pub(crate) fn ts_null(name: &'static str) -> ColumnDef {
    timestamp_with_time_zone_null(name)
}

pub(crate) fn fk(
    from_table: &'static str,
    col: &'static str,
    to_table: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{col}"))
        .from(from_table, col)
        .to(to_table, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

pub(crate) fn index(table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("ix_{table}_{}", cols.join("_")))
        .table(table);
    for c in cols {
        stmt.col(*c);
    }
    stmt.to_owned()
}

/// Rebuilds a SQLite table whose columns or constraints change in a way `ALTER TABLE` cannot
/// express (a `NOT NULL` dropped, a `CHECK` added), the way SQLite documents it: on one pinned
/// connection with foreign keys off, create the new table from the old `CREATE TABLE` text as
/// `edit` rewrites it, copy every old column (plus `extra` columns computed by SQL), drop the
/// old table, rename the new one, re-create the old table's indexes and triggers, check every
/// foreign key, commit, and turn foreign keys back on.
pub(crate) async fn sqlite_rebuild(
    m: &SchemaManager<'_>,
    table: &str,
    edit: impl FnOnce(&str) -> Result<String, DbErr>,
    extra: &[(&str, &str)],
) -> Result<(), DbErr> {
    use sea_orm::sqlx::{self, Row};
    let SchemaManagerConnection::Connection(db) = m.get_connection() else {
        return Err(DbErr::Migration(
            "a SQLite table rebuild needs the pool, not a transaction".into(),
        ));
    };
    let err = |e: sqlx::Error| DbErr::Migration(format!("rebuilding {table}: {e}"));
    let mut conn = db
        .get_sqlite_connection_pool()
        .acquire()
        .await
        .map_err(err)?;
    let old: String =
        sqlx::query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?")
            .bind(table)
            .fetch_one(&mut *conn)
            .await
            .map_err(err)?
            .get(0);
    let dependents: Vec<String> = sqlx::query(
        "SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = ? \
         AND sql IS NOT NULL ORDER BY type, name",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await
    .map_err(err)?
    .into_iter()
    .map(|r| r.get(0))
    .collect();
    let columns: Vec<String> = sqlx::query("SELECT name FROM pragma_table_info(?) ORDER BY cid")
        .bind(table)
        .fetch_all(&mut *conn)
        .await
        .map_err(err)?
        .into_iter()
        .map(|r| format!("\"{}\"", r.get::<String, _>(0)))
        .collect();
    let rebuilt = edit(&old)?;
    let prefix = format!("CREATE TABLE \"{table}\"");
    let Some(body) = rebuilt.strip_prefix(&prefix) else {
        return Err(DbErr::Migration(format!(
            "{table}: unexpected CREATE TABLE text"
        )));
    };
    let new = format!("{table}__rebuild");
    let (mut into, mut from) = (columns.clone(), columns);
    for (col, expr) in extra {
        into.push(format!("\"{col}\""));
        from.push((*expr).to_string());
    }
    let mut steps = vec![
        format!("CREATE TABLE \"{new}\"{body}"),
        format!(
            "INSERT INTO \"{new}\" ({}) SELECT {} FROM \"{table}\"",
            into.join(", "),
            from.join(", ")
        ),
        format!("DROP TABLE \"{table}\""),
        format!("ALTER TABLE \"{new}\" RENAME TO \"{table}\""),
    ];
    steps.extend(dependents);
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await
        .map_err(err)?;
    let outcome = async {
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        for sql in &steps {
            // Built above from the schema's own text and fixed names, not from input.
            let sql = sqlx::AssertSqlSafe(sql.clone());
            if let Err(e) = sqlx::query(sql).execute(&mut *conn).await {
                sqlx::query("ROLLBACK").execute(&mut *conn).await?;
                return Err(e);
            }
        }
        let broken = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut *conn)
            .await?;
        if !broken.is_empty() {
            sqlx::query("ROLLBACK").execute(&mut *conn).await?;
            return Err(sqlx::Error::Protocol(format!(
                "{} row(s) break a foreign key",
                broken.len()
            )));
        }
        sqlx::query("COMMIT").execute(&mut *conn).await?;
        Ok(())
    }
    .await;
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await
        .map_err(err)?;
    outcome.map_err(err)
}

/// A counter for readable numbers: a sequence on PostgreSQL (no row lock between concurrent
/// submissions), a one-row table on SQLite (one writer anyway).
pub(crate) async fn create_counter(m: &SchemaManager<'_>, name: &'static str) -> Result<(), DbErr> {
    let conn = m.get_connection();
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        conn.execute_unprepared(&format!("CREATE SEQUENCE {name}"))
            .await?;
        return Ok(());
    }
    m.create_table(
        Table::create()
            .table(name)
            .col(integer("id").primary_key())
            .col(big_integer("value"))
            .to_owned(),
    )
    .await?;
    conn.execute_unprepared(&format!("INSERT INTO {name} (id, value) VALUES (1, 0)"))
        .await?;
    Ok(())
}

/// Drops a counter made by [`create_counter`].
pub(crate) async fn drop_counter(m: &SchemaManager<'_>, name: &'static str) -> Result<(), DbErr> {
    let conn = m.get_connection();
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        conn.execute_unprepared(&format!("DROP SEQUENCE IF EXISTS {name}"))
            .await?;
        return Ok(());
    }
    m.drop_table(Table::drop().table(name).to_owned()).await
}
