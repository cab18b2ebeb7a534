//! Background jobs (leases, run history) and the mail outbox.

use crate::util::{ts, ts_null};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("job_leases")
                .col(string_len("name", 64).primary_key())
                .col(string_len_null("owner", 128))
                .col(ts("expires_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("job_runs")
                .col(pk_uuid("id"))
                .col(string_len("job", 64))
                .col(ts("slot"))
                .col(string_len("trigger", 16))
                .col(string_len("owner", 128))
                .col(integer("attempts").default(1))
                .col(ts("started_at"))
                .col(ts_null("finished_at"))
                .col(string_len("status", 16))
                .col(big_integer("items").default(0))
                .col(text_null("error"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_job_runs_job_started_at")
                .table("job_runs")
                .col("job")
                .col("started_at")
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        // A scheduled slot runs once: the database refuses a second row for it, whatever the
        // leases say. Manual runs are not slots. Partial indexes: same syntax on both databases.
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX ux_job_runs_job_slot ON job_runs (job, slot) WHERE trigger = 'schedule'",
        )
        .await?;

        m.create_table(
            Table::create()
                .table("mail_outbox")
                .col(pk_uuid("id"))
                .col(string_len_uniq("message_id", 255))
                .col(string_len("template", 64))
                .col(text("data"))
                .col(string_len("recipient", 320))
                .col(string("subject"))
                .col(string_len("status", 16))
                .col(integer("attempts").default(0))
                .col(ts("next_attempt_at"))
                .col(text_null("last_error"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .col(ts_null("sent_at"))
                .to_owned(),
        )
        .await?;
        // The dispatcher's claim reads only due pending rows: its cost follows the backlog, not
        // the (ever growing) number of sent mails.
        conn.execute_unprepared(
            "CREATE INDEX ix_mail_outbox_pending ON mail_outbox (next_attempt_at) WHERE status = 'pending'",
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_mail_outbox_status_id")
                .table("mail_outbox")
                .col("status")
                .col("id")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["mail_outbox", "job_runs", "job_leases"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
