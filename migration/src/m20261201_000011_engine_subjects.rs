//! The engine's records belong to a subject, not to an appeal: `sla_clocks`, `supervisions`
//! and the timeline (`appeal_events`) get a `subject_type` and keep one nullable foreign key per
//! subject type (today `appeal_id`), with a `CHECK` that the key of the row's type — and only
//! that one — is set. Referential integrity stays in the database; a new subject type adds its
//! key column, widens the `CHECK` and adds its indexes (see the README, "The engine").
//!
//! `calendar_settings.clocks_revision` records the calendar revision the clocks have been
//! recomputed for: a calendar change commits at once and the clocks follow in short batches.

use crate::util::sqlite_rebuild;
use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables keyed by subject.
const TABLES: &[&str] = &["sla_clocks", "supervisions", "appeal_events"];

/// One subject type per row, and exactly its key set.
const CHECK: &str =
    "subject_type IN ('appeal') AND (appeal_id IS NOT NULL) = (subject_type = 'appeal')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        for table in TABLES {
            match conn.get_database_backend() {
                DbBackend::Sqlite => {
                    sqlite_rebuild(
                        m,
                        table,
                        |old| {
                            let key = "\"appeal_id\" uuid_text NOT NULL";
                            let fk = ", FOREIGN KEY";
                            if !old.contains(key) || !old.contains(fk) {
                                return Err(DbErr::Migration(format!(
                                    "{table}: appeal_id is not as created"
                                )));
                            }
                            let body = old
                                .replacen(key, "\"appeal_id\" uuid_text NULL", 1)
                                .replacen(
                                    fk,
                                    &format!(", \"subject_type\" varchar(32) NOT NULL{fk}"),
                                    1,
                                );
                            let end = body.rfind(')').unwrap_or(body.len());
                            Ok(format!(
                                "{}, CONSTRAINT \"ck_{table}_subject\" CHECK ({CHECK}) )",
                                body[..end].trim_end()
                            ))
                        },
                        &[("subject_type", "'appeal'")],
                    )
                    .await?;
                }
                _ => {
                    for sql in [
                        format!(
                            "ALTER TABLE {table} ADD COLUMN subject_type varchar(32) NOT NULL DEFAULT 'appeal'"
                        ),
                        format!("ALTER TABLE {table} ALTER COLUMN subject_type DROP DEFAULT"),
                        format!("ALTER TABLE {table} ALTER COLUMN appeal_id DROP NOT NULL"),
                        format!(
                            "ALTER TABLE {table} ADD CONSTRAINT ck_{table}_subject CHECK ({CHECK})"
                        ),
                    ] {
                        conn.execute_unprepared(&sql).await?;
                    }
                }
            }
        }
        // How far the clocks have been recomputed after calendar changes (see the README).
        m.alter_table(
            Table::alter()
                .table("calendar_settings")
                .add_column(
                    ColumnDef::new("clocks_revision")
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await?;
        conn.execute_unprepared("UPDATE calendar_settings SET clocks_revision = revision")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("calendar_settings")
                .drop_column("clocks_revision")
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        for table in TABLES {
            match conn.get_database_backend() {
                DbBackend::Sqlite => {
                    sqlite_rebuild(
                        m,
                        table,
                        |new| {
                            let start = new.find(", \"subject_type\"").unwrap_or(new.len());
                            let fk = new.find(", FOREIGN KEY").unwrap_or(new.len());
                            let check = new.find(", CONSTRAINT \"ck_").unwrap_or(new.len());
                            Ok(format!("{}{} )", &new[..start], &new[fk..check]).replacen(
                                "\"appeal_id\" uuid_text NULL",
                                "\"appeal_id\" uuid_text NOT NULL",
                                1,
                            ))
                        },
                        &[],
                    )
                    .await?;
                }
                _ => {
                    for sql in [
                        format!("ALTER TABLE {table} DROP CONSTRAINT ck_{table}_subject"),
                        format!("ALTER TABLE {table} ALTER COLUMN appeal_id SET NOT NULL"),
                        format!("ALTER TABLE {table} DROP COLUMN subject_type"),
                    ] {
                        conn.execute_unprepared(&sql).await?;
                    }
                }
            }
        }
        Ok(())
    }
}
