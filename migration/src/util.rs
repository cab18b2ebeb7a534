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
/// `edit` rewrites it, copy every old column it keeps (plus `extra` columns computed by SQL), drop the
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
    let create = format!("CREATE TABLE \"{new}\"{body}");
    let rest = [
        format!("DROP TABLE \"{table}\""),
        format!("ALTER TABLE \"{new}\" RENAME TO \"{table}\""),
    ];
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await
        .map_err(err)?;
    let outcome = async {
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        let run = async |conn: &mut sqlx::SqliteConnection, sql: &str| {
            // Built here from the schema's own text and fixed names, not from input.
            let sql = sqlx::AssertSqlSafe(sql.to_string());
            sqlx::query(sql).execute(&mut *conn).await.map(|_| ())
        };
        let copy = async |conn: &mut sqlx::SqliteConnection| -> Result<(), sqlx::Error> {
            run(conn, &create).await?;
            // Every old column the new table still has (a column the edit removed is dropped),
            // plus the computed ones.
            let kept: Vec<String> =
                sqlx::query("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                    .bind(&new)
                    .fetch_all(&mut *conn)
                    .await?
                    .into_iter()
                    .map(|r| format!("\"{}\"", r.get::<String, _>(0)))
                    .collect();
            let (mut into, mut from): (Vec<String>, Vec<String>) = columns
                .iter()
                .filter(|c| kept.contains(c))
                .map(|c| (c.clone(), c.clone()))
                .unzip();
            for (col, expr) in extra {
                into.push(format!("\"{col}\""));
                from.push((*expr).to_string());
            }
            run(
                conn,
                &format!(
                    "INSERT INTO \"{new}\" ({}) SELECT {} FROM \"{table}\"",
                    into.join(", "),
                    from.join(", ")
                ),
            )
            .await?;
            for sql in rest.iter().chain(&dependents) {
                run(conn, sql).await?;
            }
            Ok(())
        };
        if let Err(e) = copy(&mut conn).await {
            sqlx::query("ROLLBACK").execute(&mut *conn).await?;
            return Err(e);
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

/// The tables keyed by subject (clocks, supervisions, the timeline).
pub(crate) const SUBJECT_TABLES: &[&str] = &["sla_clocks", "supervisions", "appeal_events"];

/// A change of the subject types: the subject `CHECK` before and after, and the new subjects'
/// key columns with the tables they point at.
pub(crate) struct SubjectChange {
    pub old_check: &'static str,
    pub new_check: &'static str,
    pub keys: &'static [(&'static str, &'static str)],
}

impl SubjectChange {
    /// SQLite: the key columns' definitions.
    fn columns(&self) -> String {
        self.keys
            .iter()
            .map(|(col, _)| format!(", \"{col}\" uuid_text NULL"))
            .collect()
    }

    /// SQLite: the key columns' foreign key clauses.
    fn foreign_keys(&self) -> String {
        self.keys
            .iter()
            .map(|(col, target)| {
                format!(
                    ", FOREIGN KEY (\"{col}\") REFERENCES \"{target}\" (\"id\") ON DELETE RESTRICT"
                )
            })
            .collect()
    }

    /// Adds the key columns (with their foreign keys and partial indexes) to every table keyed
    /// by subject and widens the subject `CHECK`; on SQLite with the documented table rebuild
    /// (column definitions go before the table constraints).
    pub(crate) async fn up(&self, m: &SchemaManager<'_>) -> Result<(), DbErr> {
        let conn = m.get_connection();
        const FIRST_FK: &str = ", FOREIGN KEY";
        for table in SUBJECT_TABLES {
            if conn.get_database_backend() == sea_orm::DbBackend::Sqlite {
                sqlite_rebuild(
                    m,
                    table,
                    |old| {
                        let check = format!("CHECK ({})", self.old_check);
                        let constraint = format!(", CONSTRAINT \"ck_{table}_subject\"");
                        if !old.contains(&check)
                            || !old.contains(&constraint)
                            || !old.contains(FIRST_FK)
                        {
                            return Err(DbErr::Migration(format!(
                                "{table}: the subject check is not as created"
                            )));
                        }
                        Ok(old
                            .replacen(&check, &format!("CHECK ({})", self.new_check), 1)
                            .replacen(FIRST_FK, &format!("{}{FIRST_FK}", self.columns()), 1)
                            .replacen(
                                &constraint,
                                &format!("{}{constraint}", self.foreign_keys()),
                                1,
                            ))
                    },
                    &[],
                )
                .await?;
            } else {
                let mut sql: Vec<String> = self
                    .keys
                    .iter()
                    .map(|(col, target)| {
                        format!(
                            "ALTER TABLE {table} ADD COLUMN {col} uuid NULL \
                             REFERENCES {target} (id) ON DELETE RESTRICT"
                        )
                    })
                    .collect();
                sql.push(format!(
                    "ALTER TABLE {table} DROP CONSTRAINT ck_{table}_subject"
                ));
                sql.push(format!(
                    "ALTER TABLE {table} ADD CONSTRAINT ck_{table}_subject CHECK ({})",
                    self.new_check
                ));
                for s in sql {
                    conn.execute_unprepared(&s).await?;
                }
            }
            for (col, _) in self.keys {
                conn.execute_unprepared(&format!(
                    "CREATE INDEX ix_{table}_{col} ON {table} ({col}) WHERE {col} IS NOT NULL"
                ))
                .await?;
            }
        }
        Ok(())
    }

    /// Undoes [`SubjectChange::up`], deleting the rows of the new subject types first.
    pub(crate) async fn down(&self, m: &SchemaManager<'_>, types: &[&str]) -> Result<(), DbErr> {
        let conn = m.get_connection();
        let types = types
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(", ");
        for table in SUBJECT_TABLES {
            conn.execute_unprepared(&format!(
                "DELETE FROM {table} WHERE subject_type IN ({types})"
            ))
            .await?;
            for (col, _) in self.keys {
                conn.execute_unprepared(&format!("DROP INDEX IF EXISTS ix_{table}_{col}"))
                    .await?;
            }
            if conn.get_database_backend() == sea_orm::DbBackend::Sqlite {
                sqlite_rebuild(
                    m,
                    table,
                    |new| {
                        Ok(new
                            .replacen(&self.columns(), "", 1)
                            .replacen(&self.foreign_keys(), "", 1)
                            .replacen(
                                &format!("CHECK ({})", self.new_check),
                                &format!("CHECK ({})", self.old_check),
                                1,
                            ))
                    },
                    &[],
                )
                .await?;
            } else {
                let mut sql = vec![format!(
                    "ALTER TABLE {table} DROP CONSTRAINT ck_{table}_subject"
                )];
                for (col, _) in self.keys {
                    sql.push(format!("ALTER TABLE {table} DROP COLUMN {col}"));
                }
                sql.push(format!(
                    "ALTER TABLE {table} ADD CONSTRAINT ck_{table}_subject CHECK ({})",
                    self.old_check
                ));
                for s in sql {
                    conn.execute_unprepared(&s).await?;
                }
            }
        }
        Ok(())
    }
}
