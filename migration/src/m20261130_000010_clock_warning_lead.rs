//! The warning lead (`warn_before_working_hours`) is stored on each SLA clock, as its target is:
//! the clock keeps the lead of the policy it started under, and a pause, an extension or a
//! calendar change recomputes its warning from the clock alone, whatever its subject.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("sla_clocks")
                .add_column(string_len("warn_before_working_hours", 16).default("2"))
                .to_owned(),
        )
        .await?;
        // Existing clocks take the lead of their appeal's category policy (2 h without one).
        m.get_connection()
            .execute_unprepared(
                "UPDATE sla_clocks SET warn_before_working_hours = COALESCE(( \
                   SELECT p.warn_before_working_hours FROM sla_policies p \
                   JOIN appeals a ON a.category = p.category \
                   WHERE a.id = sla_clocks.appeal_id), '2')",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("sla_clocks")
                .drop_column("warn_before_working_hours")
                .to_owned(),
        )
        .await
    }
}
