//! Funds and subsidies (issue 13): fund programs with their budget, applications with two review
//! stages and the public notice (公示), reviews, objections, disbursements, conflicts of
//! interest, and risk-compensation claims with their recoveries.
//!
//! The budget is kept by the database: `committed_fen` (reservations and approvals) stays within
//! `budget_fen` and `disbursed_fen` within `committed_fen` (`CHECK`s behind guarded updates);
//! an application's payments stay within its approved amount; one live application per program
//! and enterprise and one live claim per credit line are partial unique indexes.
//!
//! Fund applications and risk claims become subjects of the engine: `sla_clocks`,
//! `supervisions` and the timeline get `fund_application_id` and `risk_claim_id` and the subject
//! `CHECK` widens to them.

use crate::util::{SubjectChange, create_counter, drop_counter, fk, index, ts, ts_null};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Fund applications and risk claims become subjects of the engine.
const SUBJECTS: SubjectChange = SubjectChange {
    old_check: "subject_type IN ('appeal', 'financing_request') \
     AND (appeal_id IS NOT NULL) = (subject_type = 'appeal') \
     AND (financing_request_id IS NOT NULL) = (subject_type = 'financing_request')",
    new_check: "subject_type IN ('appeal', 'financing_request', 'fund_application', 'risk_claim') \
     AND (appeal_id IS NOT NULL) = (subject_type = 'appeal') \
     AND (financing_request_id IS NOT NULL) = (subject_type = 'financing_request') \
     AND (fund_application_id IS NOT NULL) = (subject_type = 'fund_application') \
     AND (risk_claim_id IS NOT NULL) = (subject_type = 'risk_claim')",
    keys: &[
        ("fund_application_id", "fund_applications"),
        ("risk_claim_id", "risk_claims"),
    ],
};

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("fund_programs")
                .col(pk_uuid("id"))
                .col(string_len("name", 200))
                .col(string_len("kind", 32))
                .col(big_integer("budget_fen"))
                .col(big_integer("max_per_application_fen"))
                // Reserved and approved amounts, net of releases and recovered shares.
                .col(big_integer("committed_fen"))
                // Paid, net of reversals and recovered shares.
                .col(big_integer("disbursed_fen"))
                // Covered shares of recoveries given back by banks.
                .col(big_integer("recovered_fen"))
                .col(ts("opens_at"))
                .col(ts("closes_at"))
                // The eligibility rules, JSON: chain_ids, qualifications_any/_all, member_roles.
                .col(text("eligibility"))
                .col(integer("notice_working_days"))
                .col(integer("review_working_days"))
                .col(boolean("apply_free"))
                .col(big_integer_null("fixed_amount_fen"))
                .col(big_integer_null("coverage_e4"))
                .col(big_integer_null("max_per_claim_fen"))
                // The window-opening job: done when set; `push_cursor` is the last enterprise
                // handled, so an interrupted run resumes without telling anyone twice.
                .col(ts_null("opened_at"))
                .col(uuid_null("push_cursor"))
                .col(uuid("created_by"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .check(Expr::cust(
                    "budget_fen > 0 AND committed_fen >= 0 AND committed_fen <= budget_fen \
                     AND disbursed_fen >= 0 AND disbursed_fen <= committed_fen \
                     AND recovered_fen >= 0 \
                     AND max_per_application_fen > 0 AND opens_at < closes_at",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("fund_programs", &["closes_at", "opens_at"]))
            .await?;
        m.create_index(index("fund_programs", &["opened_at", "opens_at"]))
            .await?;

        m.create_table(
            Table::create()
                .table("fund_applications")
                .col(pk_uuid("id"))
                .col(string_len("number", 32).unique_key())
                .col(uuid("program_id"))
                .col(uuid("enterprise_id"))
                // The chain under which the enterprise is eligible (its office reviews first).
                .col(uuid_null("chain_id"))
                .col(uuid_null("submitted_by"))
                .col(big_integer("amount_fen"))
                .col(string_len("project_title", 200))
                .col(string_len("title_key", 200))
                .col(text("description"))
                .col(string_len("status", 32))
                .col(boolean("apply_free"))
                .col(big_integer_null("recommended_amount_fen"))
                .col(big_integer_null("approved_amount_fen"))
                // What this application holds of the program's `committed_fen` now.
                .col(big_integer("reserved_fen"))
                .col(big_integer("disbursed_fen"))
                .col(ts_null("notice_ends_at"))
                .col(boolean("duplicate_funding_flag"))
                .col(uuid_null("duplicate_of"))
                // The program's year (its opening, local), for the duplicate-funding guard.
                .col(integer("year"))
                .col(integer("round"))
                .col(ts("submitted_at"))
                .col(ts_null("initial_reviewed_at"))
                .col(ts_null("final_reviewed_at"))
                .col(ts_null("approved_at"))
                .col(ts_null("withdrawn_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("fund_applications", "program_id", "fund_programs"))
                .foreign_key(&mut fk(
                    "fund_applications",
                    "enterprise_id",
                    "organizations",
                ))
                .foreign_key(&mut fk("fund_applications", "chain_id", "chains"))
                .check(Expr::cust(
                    "amount_fen > 0 AND reserved_fen >= 0 AND disbursed_fen >= 0 \
                     AND disbursed_fen <= COALESCE(approved_amount_fen, 0)",
                ))
                .to_owned(),
        )
        .await?;
        for cols in [
            &["enterprise_id", "id"][..],
            &["program_id", "id"],
            &["chain_id", "id"],
            &["status", "notice_ends_at"],
            &["enterprise_id", "title_key", "year"],
        ] {
            m.create_index(index("fund_applications", cols)).await?;
        }
        let conn = m.get_connection();
        // One live application per program and enterprise.
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX ux_fund_applications_live ON fund_applications \
             (program_id, enterprise_id) WHERE status NOT IN ('rejected', 'withdrawn')",
        )
        .await?;

        m.create_table(
            Table::create()
                .table("fund_reviews")
                .col(pk_uuid("id"))
                .col(uuid("application_id"))
                .col(string_len("stage", 16))
                .col(string_len("decision", 16))
                .col(text("comment"))
                .col(big_integer_null("amount_fen"))
                .col(uuid("reviewer_id"))
                .col(uuid_null("reviewer_organization_id"))
                .col(ts("at"))
                .foreign_key(&mut fk(
                    "fund_reviews",
                    "application_id",
                    "fund_applications",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("fund_reviews", &["application_id", "id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("objections")
                .col(pk_uuid("id"))
                .col(uuid("application_id"))
                .col(text("content"))
                .col(uuid("raised_by"))
                .col(uuid_null("raised_by_organization_id"))
                .col(ts("raised_at"))
                .col(string_len("status", 16))
                .col(uuid_null("decided_by"))
                .col(ts_null("decided_at"))
                .col(text_null("decision_note"))
                .foreign_key(&mut fk("objections", "application_id", "fund_applications"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("objections", &["application_id", "id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("risk_claims")
                .col(pk_uuid("id"))
                .col(string_len("number", 32).unique_key())
                .col(uuid("program_id"))
                .col(uuid("credit_line_id"))
                .col(uuid("bank_id"))
                .col(uuid("chain_id"))
                .col(uuid("enterprise_id"))
                .col(big_integer("loss_amount_fen"))
                .col(big_integer("payable_fen"))
                .col(big_integer("reserved_fen"))
                .col(big_integer("paid_fen"))
                .col(big_integer("recovered_fen"))
                .col(big_integer("returned_fen"))
                .col(string_len("status", 16))
                .col(text("note"))
                .col(uuid("submitted_by"))
                .col(ts("submitted_at"))
                .col(uuid_null("decided_by"))
                .col(ts_null("decided_at"))
                .col(text_null("decision_note"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("risk_claims", "program_id", "fund_programs"))
                .foreign_key(&mut fk("risk_claims", "credit_line_id", "credit_lines"))
                .foreign_key(&mut fk("risk_claims", "bank_id", "organizations"))
                .foreign_key(&mut fk("risk_claims", "chain_id", "chains"))
                .foreign_key(&mut fk("risk_claims", "enterprise_id", "organizations"))
                .check(Expr::cust(
                    "loss_amount_fen > 0 AND payable_fen > 0 AND payable_fen <= loss_amount_fen \
                     AND reserved_fen >= 0 AND paid_fen >= 0 AND paid_fen <= payable_fen \
                     AND recovered_fen >= 0 AND recovered_fen <= loss_amount_fen \
                     AND returned_fen >= 0 AND returned_fen <= paid_fen",
                ))
                .to_owned(),
        )
        .await?;
        for cols in [
            &["bank_id", "id"][..],
            &["program_id", "id"],
            &["chain_id", "id"],
        ] {
            m.create_index(index("risk_claims", cols)).await?;
        }
        // One live claim per credit line.
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX ux_risk_claims_live ON risk_claims (credit_line_id) \
             WHERE status <> 'rejected'",
        )
        .await?;

        m.create_table(
            Table::create()
                .table("recoveries")
                .col(pk_uuid("id"))
                .col(uuid("claim_id"))
                .col(big_integer("amount_fen"))
                .col(big_integer("returned_fen"))
                .col(date("recovered_on"))
                .col(uuid("movement_id"))
                .col(uuid("booked_by"))
                .col(ts("booked_at"))
                .foreign_key(&mut fk("recoveries", "claim_id", "risk_claims"))
                .foreign_key(&mut fk("recoveries", "movement_id", "credit_movements"))
                .check(Expr::cust("amount_fen > 0 AND returned_fen >= 0"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("recoveries", &["claim_id", "id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("disbursements")
                .col(pk_uuid("id"))
                .col(uuid("program_id"))
                .col(uuid_null("application_id"))
                .col(uuid_null("risk_claim_id"))
                .col(string_len("kind", 16))
                .col(big_integer("amount_fen"))
                .col(date("paid_on"))
                .col(string_len_null("reference", 100))
                .col(uuid_null("reverses_id"))
                .col(text_null("reason"))
                .col(uuid("recorded_by"))
                .col(ts("recorded_at"))
                .foreign_key(&mut fk("disbursements", "program_id", "fund_programs"))
                .foreign_key(&mut fk(
                    "disbursements",
                    "application_id",
                    "fund_applications",
                ))
                .foreign_key(&mut fk("disbursements", "risk_claim_id", "risk_claims"))
                .foreign_key(&mut fk("disbursements", "reverses_id", "disbursements"))
                .check(Expr::cust(
                    "amount_fen > 0 AND (application_id IS NULL) <> (risk_claim_id IS NULL) \
                     AND (reverses_id IS NOT NULL) = (kind = 'reversal')",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("disbursements", &["application_id", "id"]))
            .await?;
        m.create_index(index("disbursements", &["risk_claim_id", "id"]))
            .await?;
        // A payment is reversed at most once.
        m.create_index(
            Index::create()
                .name("ux_disbursements_reverses_id")
                .table("disbursements")
                .col("reverses_id")
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("conflicts")
                .col(pk_uuid("id"))
                .col(uuid("reviewer_id"))
                .col(uuid_null("reviewer_organization_id"))
                .col(uuid("enterprise_id"))
                .col(text("reason"))
                .col(ts("declared_at"))
                .foreign_key(&mut fk("conflicts", "reviewer_id", "users"))
                .foreign_key(&mut fk("conflicts", "enterprise_id", "organizations"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_conflicts_reviewer_enterprise")
                .table("conflicts")
                .col("reviewer_id")
                .col("enterprise_id")
                .unique()
                .to_owned(),
        )
        .await?;

        create_counter(m, "fund_number_seq").await?;
        create_counter(m, "claim_number_seq").await?;

        SUBJECTS.up(m).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        SUBJECTS
            .down(m, &["fund_application", "risk_claim"])
            .await?;
        drop_counter(m, "claim_number_seq").await?;
        drop_counter(m, "fund_number_seq").await?;
        for t in [
            "conflicts",
            "disbursements",
            "recoveries",
            "risk_claims",
            "objections",
            "fund_reviews",
            "fund_applications",
            "fund_programs",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
