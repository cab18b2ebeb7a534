//! Supply-chain finance (issue 12): banks' settings, chain credit programs, financing requests
//! (a subject of the engine), credit lines, their ledger and the lead-bank reports.
//!
//! Money is integer fen (`BIGINT`) and rates integer ten-thousandths of a percent, so sums and
//! guarded updates are exact in SQL on both databases. The invariants are also `CHECK`s: a
//! program's granted amount within its quota, a line's outstanding within `0..=limit`.
//!
//! Financing requests become a subject: `sla_clocks`, `supervisions` and the timeline get a
//! nullable `financing_request_id` and the subject `CHECK` widens to it.

use crate::util::{SubjectChange, fk, index, ts, ts_null};
use sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Financing requests become a subject of the engine.
const SUBJECTS: SubjectChange = SubjectChange {
    old_check: "subject_type IN ('appeal') AND (appeal_id IS NOT NULL) = (subject_type = 'appeal')",
    new_check: "subject_type IN ('appeal', 'financing_request') \
     AND (appeal_id IS NOT NULL) = (subject_type = 'appeal') \
     AND (financing_request_id IS NOT NULL) = (subject_type = 'financing_request')",
    keys: &[("financing_request_id", "financing_requests")],
};

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("bank_settings")
                .col(uuid("organization_id").primary_key())
                .col(big_integer_null("four_eyes_threshold_fen"))
                .col(string_len("accept_working_days", 16))
                .col(string_len("decide_working_days", 16))
                .col(integer("unused_line_expiry_days"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("bank_settings", "organization_id", "organizations"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("credit_programs")
                .col(pk_uuid("id"))
                .col(uuid("chain_id"))
                .col(uuid("bank_id"))
                .col(string_len("name", 200))
                .col(big_integer("quota_fen"))
                .col(big_integer("max_per_enterprise_fen"))
                .col(big_integer("granted_fen"))
                .col(big_integer("rate_floor_e4"))
                .col(big_integer("rate_ceiling_e4"))
                .col(integer("max_term_months"))
                .col(date("valid_from"))
                .col(date("valid_until"))
                .col(uuid("created_by"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("credit_programs", "chain_id", "chains"))
                .foreign_key(&mut fk("credit_programs", "bank_id", "organizations"))
                .check(Expr::cust(
                    "granted_fen >= 0 AND granted_fen <= quota_fen \
                     AND max_per_enterprise_fen > 0 AND max_per_enterprise_fen <= quota_fen \
                     AND rate_floor_e4 <= rate_ceiling_e4",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("credit_programs", &["chain_id", "id"]))
            .await?;
        m.create_index(index("credit_programs", &["bank_id", "id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("financing_requests")
                .col(pk_uuid("id"))
                .col(string_len("number", 32).unique_key())
                .col(uuid("enterprise_id"))
                .col(uuid("submitted_by"))
                .col(uuid("chain_id"))
                .col(uuid_null("program_id"))
                .col(uuid("bank_id"))
                .col(big_integer("amount_fen"))
                .col(integer("term_months"))
                .col(text("purpose"))
                .col(string_len("product", 32))
                .col(string_len("status", 32))
                .col(string_len_null("paused_from_status", 32))
                .col(ts_null("paused_at"))
                // The pending four-eyes proposal (all set or none).
                .col(big_integer_null("proposal_limit_fen"))
                .col(big_integer_null("proposal_rate_e4"))
                .col(integer_null("proposal_term_months"))
                .col(boolean_null("proposal_revolving"))
                .col(date_null("proposal_expires_on"))
                .col(uuid_null("proposed_by"))
                .col(ts_null("proposed_at"))
                .col(text_null("reject_reason"))
                .col(integer("refer_count"))
                .col(ts("submitted_at"))
                .col(ts_null("accepted_at"))
                .col(ts_null("decided_at"))
                .col(big_integer_null("decision_working_seconds"))
                .col(ts_null("withdrawn_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk(
                    "financing_requests",
                    "enterprise_id",
                    "organizations",
                ))
                .foreign_key(&mut fk("financing_requests", "chain_id", "chains"))
                .foreign_key(&mut fk(
                    "financing_requests",
                    "program_id",
                    "credit_programs",
                ))
                .foreign_key(&mut fk("financing_requests", "bank_id", "organizations"))
                .check(Expr::cust("amount_fen > 0"))
                .to_owned(),
        )
        .await?;
        for cols in [
            &["enterprise_id", "id"][..],
            &["bank_id", "id"],
            &["chain_id", "id"],
            &["bank_id", "chain_id", "submitted_at"],
        ] {
            m.create_index(index("financing_requests", cols)).await?;
        }

        m.create_table(
            Table::create()
                .table("credit_lines")
                .col(pk_uuid("id"))
                .col(uuid("request_id").unique_key())
                .col(uuid("enterprise_id"))
                .col(uuid("bank_id"))
                .col(uuid("chain_id"))
                .col(uuid_null("program_id"))
                .col(big_integer("limit_fen"))
                .col(big_integer("outstanding_fen"))
                // What counts against the limit: the outstanding balance of a revolving line,
                // everything drawn (net of reversals) on a non-revolving one.
                .col(big_integer("used_fen"))
                .col(big_integer("rate_e4"))
                .col(integer("term_months"))
                .col(boolean("revolving"))
                .col(string_len("status", 16))
                .col(date("expires_on"))
                .col(uuid("approved_by"))
                .col(uuid_null("confirmed_by"))
                .col(ts("approved_at"))
                .col(ts_null("first_drawdown_at"))
                .col(ts_null("closed_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("credit_lines", "request_id", "financing_requests"))
                .foreign_key(&mut fk("credit_lines", "enterprise_id", "organizations"))
                .foreign_key(&mut fk("credit_lines", "bank_id", "organizations"))
                .foreign_key(&mut fk("credit_lines", "chain_id", "chains"))
                .foreign_key(&mut fk("credit_lines", "program_id", "credit_programs"))
                .check(Expr::cust(
                    "limit_fen > 0 AND outstanding_fen >= 0 AND outstanding_fen <= limit_fen \
                     AND used_fen >= 0 AND used_fen <= limit_fen",
                ))
                .to_owned(),
        )
        .await?;
        for cols in [
            &["enterprise_id", "id"][..],
            &["bank_id", "id"],
            &["chain_id", "id"],
            &["program_id", "enterprise_id"],
        ] {
            m.create_index(index("credit_lines", cols)).await?;
        }

        m.create_table(
            Table::create()
                .table("credit_movements")
                .col(pk_uuid("id"))
                .col(uuid("line_id"))
                .col(string_len("kind", 16))
                .col(big_integer("amount_fen"))
                .col(date("value_date"))
                .col(uuid_null("reverses_id"))
                .col(text_null("reason"))
                .col(ts("booked_at"))
                .col(uuid("booked_by"))
                .foreign_key(&mut fk("credit_movements", "line_id", "credit_lines"))
                .foreign_key(&mut fk(
                    "credit_movements",
                    "reverses_id",
                    "credit_movements",
                ))
                .check(Expr::cust(
                    "amount_fen > 0 AND (reverses_id IS NOT NULL) = (kind = 'reversal')",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("credit_movements", &["line_id", "id"]))
            .await?;
        // A movement is reversed at most once.
        m.create_index(
            Index::create()
                .name("ux_credit_movements_reverses_id")
                .table("credit_movements")
                .col("reverses_id")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(index("credit_movements", &["value_date"]))
            .await?;

        m.create_table(
            Table::create()
                .table("bank_reports")
                .col(pk_uuid("id"))
                .col(uuid("bank_id"))
                .col(uuid("chain_id"))
                .col(string_len("period", 7))
                .col(integer("version"))
                .col(integer("requests_received"))
                .col(integer("accepted_on_time"))
                .col(integer("decided_on_time"))
                .col(integer("approved_count"))
                .col(big_integer("approved_amount_fen"))
                .col(integer("rejected_count"))
                .col(big_integer("drawn_amount_fen"))
                .col(big_integer("repaid_amount_fen"))
                .col(big_integer("outstanding_end_fen"))
                .col(string_len_null("avg_rate", 16))
                .col(integer("enterprises_served"))
                .col(string_len_null("avg_decision_working_hours", 16))
                .col(ts("generated_at"))
                .col(uuid_null("generated_by"))
                .foreign_key(&mut fk("bank_reports", "bank_id", "organizations"))
                .foreign_key(&mut fk("bank_reports", "chain_id", "chains"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_bank_reports_version")
                .table("bank_reports")
                .col("bank_id")
                .col("chain_id")
                .col("period")
                .col("version")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(index("bank_reports", &["period", "id"]))
            .await?;

        let conn = m.get_connection();
        // Financing request numbers, as appeal numbers: a sequence on PostgreSQL, a counter row
        // on SQLite.
        match conn.get_database_backend() {
            DbBackend::Postgres => {
                conn.execute_unprepared("CREATE SEQUENCE financing_number_seq")
                    .await?;
            }
            _ => {
                m.create_table(
                    Table::create()
                        .table("financing_number_seq")
                        .col(integer("id").primary_key())
                        .col(big_integer("value"))
                        .to_owned(),
                )
                .await?;
                conn.execute_unprepared(
                    "INSERT INTO financing_number_seq (id, value) VALUES (1, 0)",
                )
                .await?;
            }
        }

        SUBJECTS.up(m).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        SUBJECTS.down(m, &["financing_request"]).await?;
        let conn = m.get_connection();
        match conn.get_database_backend() {
            DbBackend::Postgres => {
                conn.execute_unprepared("DROP SEQUENCE IF EXISTS financing_number_seq")
                    .await?;
            }
            _ => {
                m.drop_table(Table::drop().table("financing_number_seq").to_owned())
                    .await?;
            }
        }
        for t in [
            "bank_reports",
            "credit_movements",
            "credit_lines",
            "financing_requests",
            "credit_programs",
            "bank_settings",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
