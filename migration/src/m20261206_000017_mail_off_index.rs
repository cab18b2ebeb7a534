//! The mails users turned off, by kind: a partial index over the few `user_preferences` rows
//! with `email = false`. A notification to many users (the window-opening push tells every
//! eligible enterprise) reads every such row of its kinds in one statement through it, instead
//! of looking its users up a few hundred at a time.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_user_preferences_mail_off ON user_preferences (kind, user_id) \
                 WHERE email = false",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX ix_user_preferences_mail_off")
            .await?;
        Ok(())
    }
}
