//! Notifications to people (issue 11): the in-app inbox, each user's choice of which kinds also
//! mail, and the user and kind a queued mail is for.

use crate::util::{fk, index, ts, ts_null};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("notifications")
                .col(pk_uuid("id"))
                .col(uuid("user_id"))
                .col(string_len("kind", 32))
                .col(text("title"))
                .col(text("body"))
                .col(string_len_null("object_type", 32))
                .col(uuid_null("object_id"))
                .col(ts("created_at"))
                .col(ts_null("read_at"))
                .foreign_key(&mut fk("notifications", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        // A user's inbox, newest first: `WHERE user_id = ? [AND id < cursor] ORDER BY id DESC`.
        m.create_index(index("notifications", &["user_id", "id"]))
            .await?;
        // Unread only: the count (`GET /notifications/unread-count`, read on every page view),
        // the unread list and read-all touch just the unread entries of one user, however many
        // read ones pile up. Partial indexes: same syntax on both databases.
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_notifications_unread ON notifications (user_id, id) \
                 WHERE read_at IS NULL",
            )
            .await?;

        m.create_table(
            Table::create()
                .table("user_preferences")
                .col(uuid("user_id"))
                .col(string_len("kind", 32))
                .col(boolean("email"))
                .col(ts("updated_at"))
                .primary_key(Index::create().col("user_id").col("kind"))
                .foreign_key(&mut fk("user_preferences", "user_id", "users"))
                .to_owned(),
        )
        .await?;

        // The outbox is a delivery log: no foreign key (SQLite cannot add one to an existing
        // table, and users are never deleted, only deactivated).
        m.alter_table(
            Table::alter()
                .table("mail_outbox")
                .add_column(uuid_null("user_id"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("mail_outbox")
                .add_column(string_len_null("kind", 32))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in ["kind", "user_id"] {
            m.alter_table(
                Table::alter()
                    .table("mail_outbox")
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        for t in ["user_preferences", "notifications"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
