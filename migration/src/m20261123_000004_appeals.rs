//! Appeals (诉求), their timeline, SLA clocks, supervisions, SLA policies and routing rules.

use crate::util::{fk, index, ts, ts_null};
use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The categories of `entity::enums::AppealCategory`, seeded with the default policy 1/3/5.
const CATEGORIES: &[&str] = &[
    "financing",
    "land",
    "energy",
    "permits",
    "logistics",
    "talent",
    "technology",
    "market",
    "policy",
    "other",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("sla_policies")
                .col(string_len("category", 32).primary_key())
                // Working-day amounts as normalized decimal strings ("1", "0.5").
                .col(string_len("reply_working_days", 16))
                .col(string_len("opinion_working_days", 16))
                .col(string_len("close_working_days", 16))
                .col(string_len("warn_before_working_hours", 16))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        let now = chrono::Utc::now();
        let mut seed = Query::insert();
        seed.into_table("sla_policies").columns([
            "category",
            "reply_working_days",
            "opinion_working_days",
            "close_working_days",
            "warn_before_working_hours",
            "updated_at",
        ]);
        for c in CATEGORIES {
            seed.values_panic([
                (*c).into(),
                "1".into(),
                "3".into(),
                "5".into(),
                "2".into(),
                now.into(),
            ]);
        }
        m.exec_stmt(seed).await?;

        m.create_table(
            Table::create()
                .table("routing_rules")
                .col(string_len("category", 32).primary_key())
                .col(uuid("department_id"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("routing_rules", "department_id", "organizations"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("appeals")
                .col(pk_uuid("id"))
                .col(string_len_uniq("number", 32))
                .col(uuid("enterprise_id"))
                .col(uuid("submitted_by"))
                .col(uuid_null("chain_id"))
                .col(string_len("category", 32))
                .col(string_len("title", 200))
                .col(text("content"))
                .col(string_len("status", 32))
                .col(uuid_null("department_id"))
                .col(ts_null("assigned_at"))
                .col(string_len_null("paused_from_status", 32))
                .col(ts_null("paused_at"))
                .col(string_len("extension_working_days", 16).default("0"))
                .col(string_len_null("pending_extension_days", 16))
                .col(text_null("pending_extension_reason"))
                .col(integer_null("satisfaction"))
                .col(text_null("satisfaction_comment"))
                .col(integer("reopen_count").default(0))
                .col(ts("submitted_at"))
                .col(ts_null("resolved_at"))
                .col(ts_null("closed_at"))
                .col(ts_null("withdrawn_at"))
                // Working time from submission to resolution (pauses excluded), for averages.
                .col(big_integer_null("close_working_seconds"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("appeals", "enterprise_id", "organizations"))
                .foreign_key(&mut fk("appeals", "submitted_by", "users"))
                .foreign_key(&mut fk("appeals", "chain_id", "chains"))
                .foreign_key(&mut fk("appeals", "department_id", "organizations"))
                .to_owned(),
        )
        .await?;
        for cols in [
            &["department_id", "id"][..],
            &["enterprise_id", "id"],
            &["chain_id", "id"],
            &["status", "id"],
            &["submitted_at"],
        ] {
            m.create_index(index("appeals", cols)).await?;
        }

        // Every department an appeal was ever assigned to: "a department sees appeals assigned
        // to it now or before".
        m.create_table(
            Table::create()
                .table("appeal_assignments")
                .col(uuid("appeal_id"))
                .col(uuid("department_id"))
                .col(ts("assigned_at"))
                .primary_key(Index::create().col("appeal_id").col("department_id"))
                .foreign_key(&mut fk("appeal_assignments", "appeal_id", "appeals"))
                .foreign_key(&mut fk(
                    "appeal_assignments",
                    "department_id",
                    "organizations",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("appeal_assignments", &["department_id", "appeal_id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("appeal_events")
                .col(pk_uuid("id"))
                .col(uuid("appeal_id"))
                .col(ts("at"))
                .col(uuid_null("actor_id"))
                .col(uuid_null("actor_organization_id"))
                // The department holding the appeal when the action happened.
                .col(uuid_null("department_id"))
                .col(string_len("action", 32))
                .col(string_len_null("from_status", 32))
                .col(string_len("to_status", 32))
                .col(text_null("note"))
                .foreign_key(&mut fk("appeal_events", "appeal_id", "appeals"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("appeal_events", &["appeal_id", "id"]))
            .await?;
        m.create_index(index("appeal_events", &["action", "at"]))
            .await?;

        m.create_table(
            Table::create()
                .table("sla_clocks")
                .col(pk_uuid("id"))
                .col(uuid("appeal_id"))
                .col(string_len("kind", 16))
                // 0 for the clocks of the submission; a reopen adds a close clock of round n.
                .col(integer("round").default(0))
                .col(ts("start_at"))
                .col(string_len("target_working_days", 16))
                .col(string_len("extension_working_days", 16).default("0"))
                .col(big_integer("paused_working_seconds").default(0))
                .col(ts_null("paused_at"))
                .col(ts("due_at"))
                .col(ts("warn_at"))
                .col(ts_null("met_at"))
                .col(ts_null("warned_at"))
                .col(ts_null("breached_at"))
                .col(ts_null("escalate_at"))
                .col(ts_null("escalated_at"))
                .col(ts_null("cancelled_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("sla_clocks", "appeal_id", "appeals"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_sla_clocks_appeal_kind_round")
                .table("sla_clocks")
                .col("appeal_id")
                .col("kind")
                .col("round")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(index("sla_clocks", &["due_at"])).await?;
        let conn = m.get_connection();
        // The monitor's three queries read only the clocks that can still fire (not met, not
        // cancelled, not paused): their cost follows the clocks due, not the number of appeals.
        // Same syntax on both databases.
        for sql in [
            "CREATE INDEX ix_sla_clocks_warn ON sla_clocks (warn_at) \
             WHERE met_at IS NULL AND warned_at IS NULL AND cancelled_at IS NULL AND paused_at IS NULL",
            "CREATE INDEX ix_sla_clocks_breach ON sla_clocks (due_at) \
             WHERE met_at IS NULL AND breached_at IS NULL AND cancelled_at IS NULL AND paused_at IS NULL",
            "CREATE INDEX ix_sla_clocks_escalate ON sla_clocks (escalate_at) \
             WHERE met_at IS NULL AND escalated_at IS NULL AND cancelled_at IS NULL AND paused_at IS NULL",
            "CREATE INDEX ix_sla_clocks_open ON sla_clocks (due_at) \
             WHERE met_at IS NULL AND cancelled_at IS NULL",
        ] {
            conn.execute_unprepared(sql).await?;
        }

        m.create_table(
            Table::create()
                .table("supervisions")
                .col(pk_uuid("id"))
                .col(uuid("appeal_id"))
                .col(uuid_null("clock_id"))
                .col(integer("level"))
                .col(string_len("source", 16))
                .col(uuid_null("department_id"))
                .col(text_null("note"))
                .col(uuid_null("created_by"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("supervisions", "appeal_id", "appeals"))
                .foreign_key(&mut fk("supervisions", "clock_id", "sla_clocks"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("supervisions", &["appeal_id", "id"]))
            .await?;
        // One breach and one escalation record per clock, whatever the number of monitors.
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX ux_supervisions_clock_level ON supervisions (clock_id, level) \
             WHERE clock_id IS NOT NULL",
        )
        .await?;

        // Appeal numbers: a sequence on PostgreSQL (no row lock between concurrent submissions;
        // gaps are allowed), a counter row on SQLite (one writer anyway).
        match conn.get_database_backend() {
            DatabaseBackend::Postgres => {
                conn.execute_unprepared("CREATE SEQUENCE appeal_number_seq")
                    .await?;
            }
            _ => {
                m.create_table(
                    Table::create()
                        .table("appeal_number_seq")
                        .col(integer("id").primary_key())
                        .col(big_integer("value"))
                        .to_owned(),
                )
                .await?;
                m.exec_stmt(
                    Query::insert()
                        .into_table("appeal_number_seq")
                        .columns(["id", "value"])
                        .values_panic([1.into(), 0i64.into()])
                        .to_owned(),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        match conn.get_database_backend() {
            DatabaseBackend::Postgres => {
                conn.execute_unprepared("DROP SEQUENCE IF EXISTS appeal_number_seq")
                    .await?;
            }
            _ => {
                m.drop_table(Table::drop().table("appeal_number_seq").to_owned())
                    .await?;
            }
        }
        for t in [
            "supervisions",
            "sla_clocks",
            "appeal_events",
            "appeal_assignments",
            "appeals",
            "routing_rules",
            "sla_policies",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
