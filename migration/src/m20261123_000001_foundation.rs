//! Organizations, users, auth, chains, calendar, idempotency keys and the audit log.

use crate::util::{fk, index, ts, ts_null};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("organizations")
                .col(pk_uuid("id"))
                .col(string_len("kind", 32))
                .col(string("name"))
                .col(string_len_null("uscc", 18).unique_key())
                .col(string_null("region"))
                .col(string_null("contact_name"))
                .col(string_null("contact_email"))
                .col(boolean("verified").default(false))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("organizations", &["kind", "id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("users")
                .col(pk_uuid("id"))
                .col(string_len_uniq("username", 64))
                .col(string("password_hash"))
                .col(string("display_name"))
                .col(string_null("email"))
                .col(string_len("role", 32))
                .col(uuid_null("organization_id"))
                .col(boolean("active").default(true))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("users", "organization_id", "organizations"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("users", &["organization_id"])).await?;

        m.create_table(
            Table::create()
                .table("refresh_tokens")
                .col(pk_uuid("id"))
                .col(uuid("user_id"))
                .col(uuid("family_id"))
                .col(string_len_uniq("token_hash", 64))
                .col(ts("expires_at"))
                .col(ts_null("used_at"))
                .col(ts_null("revoked_at"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("refresh_tokens", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("refresh_tokens", &["family_id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("login_attempts")
                .col(pk_uuid("id"))
                .col(string_len("username", 64))
                .col(ts("at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("login_attempts", &["username", "at"]))
            .await?;
        // One row per username that ever failed: locked FOR UPDATE so concurrent logins of one
        // username are counted one after another.
        m.create_table(
            Table::create()
                .table("login_throttles")
                .col(string_len("username", 64).primary_key())
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("qualifications")
                .col(uuid("organization_id"))
                .col(string_len("kind", 32))
                .col(date("valid_from"))
                .col(date_null("valid_until"))
                .col(ts("updated_at"))
                .primary_key(Index::create().col("organization_id").col("kind"))
                .foreign_key(&mut fk(
                    "qualifications",
                    "organization_id",
                    "organizations",
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("chains")
                .col(pk_uuid("id"))
                .col(string_len_uniq("code", 64))
                .col(string("name"))
                .col(text_null("description"))
                .col(uuid("office_organization_id"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("chains", "office_organization_id", "organizations"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("chains", &["office_organization_id"]))
            .await?;

        for (table, role_len) in [("chain_members", 32), ("chain_banks", 16)] {
            m.create_table(
                Table::create()
                    .table(table)
                    .col(uuid("chain_id"))
                    .col(uuid("organization_id"))
                    .col(string_len("role", role_len))
                    .col(ts("created_at"))
                    .primary_key(Index::create().col("chain_id").col("organization_id"))
                    .foreign_key(&mut fk(table, "chain_id", "chains"))
                    .foreign_key(&mut fk(table, "organization_id", "organizations"))
                    .to_owned(),
            )
            .await?;
            m.create_index(index(table, &["organization_id"])).await?;
        }
        // One lead bank per chain, held by the database under concurrency. Partial indexes
        // exist in both SQLite and PostgreSQL with this exact syntax.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_chain_banks_one_lead ON chain_banks (chain_id) WHERE role = 'lead'",
            )
            .await?;

        m.create_table(
            Table::create()
                .table("calendar_days")
                .col(date("date").primary_key())
                .col(string_len("kind", 16))
                .col(string_null("name"))
                .col(string_null("name_en"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("calendar_settings")
                .col(integer("id").primary_key())
                .col(string_len("time_zone", 64))
                .col(text("working_hours"))
                .col(big_integer("revision"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("idempotency_keys")
                .col(string_len("scope", 64))
                .col(string_len("key", 128))
                .col(string_len("request_hash", 64))
                .col(integer("status_code"))
                .col(text("response_body"))
                .col(ts("created_at"))
                .col(ts("expires_at"))
                .primary_key(Index::create().col("scope").col("key"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idempotency_keys", &["expires_at"]))
            .await?;

        m.create_table(
            Table::create()
                .table("audit_log")
                .col(pk_uuid("id"))
                .col(ts("at"))
                .col(uuid_null("actor_id"))
                .col(string_len("action", 64))
                .col(string_len("object_type", 64))
                .col(string_len("object_id", 128))
                .col(text_null("before"))
                .col(text_null("after"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("audit_log", &["object_type", "object_id"]))
            .await?;
        m.create_index(index("audit_log", &["at"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "audit_log",
            "idempotency_keys",
            "calendar_settings",
            "calendar_days",
            "chain_banks",
            "chain_members",
            "chains",
            "qualifications",
            "login_throttles",
            "login_attempts",
            "refresh_tokens",
            "users",
            "organizations",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
