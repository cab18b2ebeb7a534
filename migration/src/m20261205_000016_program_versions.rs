//! A row version for fund programs, kept by the database like the appeals' (migration
//! `m20261124_000006_appeal_versions`, whose PostgreSQL function it reuses): it starts at 1 and
//! goes up by one on every `UPDATE` of the row — a budget reservation, a payment, the window
//! job's cursor, an edit. The eligibility list keys its per-program cache on it
//! (`api::item_cache::ProgramCache`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        conn.execute_unprepared(
            "ALTER TABLE fund_programs ADD COLUMN version BIGINT NOT NULL DEFAULT 1",
        )
        .await?;
        let trigger = match conn.get_database_backend() {
            DatabaseBackend::Postgres => {
                "CREATE TRIGGER fund_programs_version BEFORE UPDATE ON fund_programs \
                 FOR EACH ROW EXECUTE FUNCTION next_row_version()"
            }
            _ => {
                "CREATE TRIGGER fund_programs_version AFTER UPDATE ON fund_programs FOR EACH ROW \
                 BEGIN UPDATE fund_programs SET version = OLD.version + 1 WHERE id = NEW.id; END"
            }
        };
        conn.execute_unprepared(trigger).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        let on = if conn.get_database_backend() == DatabaseBackend::Postgres {
            " ON fund_programs"
        } else {
            ""
        };
        conn.execute_unprepared(&format!("DROP TRIGGER IF EXISTS fund_programs_version{on}"))
            .await?;
        conn.execute_unprepared("ALTER TABLE fund_programs DROP COLUMN version")
            .await?;
        Ok(())
    }
}
