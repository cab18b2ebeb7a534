//! Consensual chain membership and certified qualifications.
//!
//! `chain_members` gets a `status` (`invited | active | declined`) with who invited and when, and
//! when the membership became active; every existing membership was made by an admin or an
//! office under the old rule and stays `active`. `qualifications` gets the certificate number,
//! the issuing body and who recorded it (null on rows recorded before). Chain offices now propose
//! qualifications instead of writing them: `qualification_proposals` holds the proposals the fund
//! office confirms or declines.

use crate::util::{fk, index, ts, ts_null};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Added columns, one `ALTER TABLE` each (SQLite alters one column per statement).
fn added() -> Vec<(&'static str, ColumnDef)> {
    vec![
        (
            "chain_members",
            string_len("status", 16).default("active").to_owned(),
        ),
        ("chain_members", uuid_null("invited_by")),
        ("chain_members", ts_null("invited_at")),
        ("chain_members", ts_null("accepted_at")),
        ("qualifications", string_len_null("certificate_no", 64)),
        ("qualifications", string_len_null("issued_by", 200)),
        ("qualifications", uuid_null("recorded_by")),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, mut col) in added() {
            m.alter_table(Table::alter().table(table).add_column(&mut col).to_owned())
                .await?;
        }
        m.exec_stmt(
            Query::update()
                .table("chain_members")
                .value("accepted_at", Expr::col("created_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("qualification_proposals")
                .col(pk_uuid("id"))
                .col(uuid("organization_id"))
                .col(string_len("kind", 32))
                .col(date("valid_from"))
                .col(date_null("valid_until"))
                .col(string_len("certificate_no", 64))
                .col(string_len("issued_by", 200))
                .col(string_len("status", 16))
                .col(uuid("proposed_by"))
                .col(uuid("proposed_by_org"))
                .col(ts("proposed_at"))
                .col(uuid_null("decided_by"))
                .col(ts_null("decided_at"))
                .col(text_null("decision_note"))
                .foreign_key(&mut fk(
                    "qualification_proposals",
                    "organization_id",
                    "organizations",
                ))
                .foreign_key(&mut fk("qualification_proposals", "proposed_by", "users"))
                .foreign_key(&mut fk(
                    "qualification_proposals",
                    "proposed_by_org",
                    "organizations",
                ))
                .foreign_key(&mut fk("qualification_proposals", "decided_by", "users"))
                .to_owned(),
        )
        .await?;
        // The lists: a chain office's own proposals, the fund office's queue by status.
        m.create_index(index("qualification_proposals", &["proposed_by_org", "id"]))
            .await?;
        m.create_index(index("qualification_proposals", &["status", "id"]))
            .await?;
        m.create_index(index("qualification_proposals", &["organization_id"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("qualification_proposals").to_owned())
            .await?;
        for (table, col) in added().into_iter().rev() {
            m.alter_table(
                Table::alter()
                    .table(table)
                    .drop_column(col.get_column_name())
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
