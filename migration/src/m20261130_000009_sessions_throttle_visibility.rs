//! Issue 10's schema: per-user session versions (an administrator ends a user's sessions),
//! lower-cased usernames, login failures keyed by client address as well as username, and the
//! visibility of each appeal timeline event (what the enterprise may read).

use crate::util::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("users")
                .add_column(integer("session_version").default(0))
                .to_owned(),
        )
        .await?;
        // Usernames are case-insensitive from now on and stored lower-cased. A mixed-case name
        // whose lower-cased form is taken keeps its spelling (and can no longer log in): an
        // administrator renames one of the two.
        m.get_connection()
            .execute_unprepared(
                "UPDATE users SET username = LOWER(username) \
                 WHERE username <> LOWER(username) \
                 AND NOT EXISTS (SELECT 1 FROM users u2 WHERE u2.username = LOWER(users.username))",
            )
            .await?;

        m.alter_table(
            Table::alter()
                .table("login_attempts")
                .add_column(string_len("address", 64).default(""))
                .to_owned(),
        )
        .await?;
        m.create_index(index("login_attempts", &["address", "at"]))
            .await?;

        m.alter_table(
            Table::alter()
                .table("appeal_events")
                .add_column(string_len("visibility", 16).default("public"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("appeal_events")
                .add_column(uuid_null("to_department_id"))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared(
            "UPDATE appeal_events SET visibility = 'event' \
             WHERE action IN ('assign', 'transfer', 'return')",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE appeal_events SET visibility = 'internal' \
             WHERE action IN ('extension', 'extension_decision', 'supervise', 'breach', 'escalation')",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("appeal_events")
                .drop_column("visibility")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("appeal_events")
                .drop_column("to_department_id")
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("ix_login_attempts_address_at")
                .table("login_attempts")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("login_attempts")
                .drop_column("address")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("users")
                .drop_column("session_version")
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
