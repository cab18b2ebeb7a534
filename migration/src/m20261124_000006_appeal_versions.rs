//! Row versions for appeals and their SLA clocks, kept by the database itself.
//!
//! Every row of `appeals` and `sla_clocks` gets a `version` that starts at 1 and goes up by one
//! on every `UPDATE` of that row, whoever writes it (an action, the SLA monitor, a calendar
//! recompute, an operator in psql). An appeal's *validator* is its version plus the versions of
//! its clocks: any committed change to the appeal or to one of its clocks makes it strictly
//! larger, so it never repeats. The appeal list uses it as the key of its rendered-item cache
//! (`api::services::appeal_cache`).
//!
//! Each trigger only touches the row being written (PostgreSQL: a `BEFORE UPDATE` row trigger
//! sets `NEW.version`; SQLite, whose `BEFORE` triggers cannot change `NEW`: an `AFTER UPDATE`
//! row trigger rewrites that one row), so it takes no lock beyond the writer's own and cannot
//! deadlock against anything. Inserts take the column default.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: &[&str] = &["appeals", "sla_clocks"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        for table in TABLES {
            conn.execute_unprepared(&format!(
                "ALTER TABLE {table} ADD COLUMN version BIGINT NOT NULL DEFAULT 1"
            ))
            .await?;
        }
        match conn.get_database_backend() {
            DatabaseBackend::Postgres => {
                conn.execute_unprepared(
                    "CREATE FUNCTION next_row_version() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN NEW.version := OLD.version + 1; RETURN NEW; END $$",
                )
                .await?;
                for table in TABLES {
                    conn.execute_unprepared(&format!(
                        "CREATE TRIGGER {table}_version BEFORE UPDATE ON {table} \
                         FOR EACH ROW EXECUTE FUNCTION next_row_version()"
                    ))
                    .await?;
                }
            }
            _ => {
                // `recursive_triggers` is off (SQLite's default), so the trigger's own UPDATE
                // does not fire it again.
                for table in TABLES {
                    conn.execute_unprepared(&format!(
                        "CREATE TRIGGER {table}_version AFTER UPDATE ON {table} FOR EACH ROW \
                         BEGIN UPDATE {table} SET version = OLD.version + 1 \
                         WHERE id = NEW.id; END"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        let pg = conn.get_database_backend() == DatabaseBackend::Postgres;
        for table in TABLES {
            let on = if pg {
                format!(" ON {table}")
            } else {
                String::new()
            };
            conn.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {table}_version{on}"))
                .await?;
            conn.execute_unprepared(&format!("ALTER TABLE {table} DROP COLUMN version"))
                .await?;
        }
        if pg {
            conn.execute_unprepared("DROP FUNCTION IF EXISTS next_row_version()")
                .await?;
        }
        Ok(())
    }
}
