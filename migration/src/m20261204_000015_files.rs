//! Documents (issue 14): uploaded files, the content-addressed blobs that hold their bytes, and
//! each organization's stored total.
//!
//! A file row is what one user uploaded (name, size, sha256, the type found in its bytes); its
//! bytes live in the object store under their sha256, once for every row with that hash, and
//! `file_blobs` is the row that orders the store's writes and deletes of one hash (an upload
//! and the orphan job lock it while they touch the object). A file is attached at most once,
//! to one subject of the engine: the same key columns as clocks and the timeline, with a
//! `CHECK` that exactly the subject type's column is set, or none while the file is
//! unattached. `storage_usage` holds each organization's stored bytes behind a guarded update,
//! so concurrent uploads cannot pass the quota together.

use crate::util::{fk, index, ts, ts_null};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("file_blobs")
                .col(string_len("sha256", 64).primary_key())
                .col(big_integer("size"))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("files")
                .col(pk_uuid("id"))
                .col(string_len("name", 255))
                .col(big_integer("size"))
                .col(string_len("sha256", 64))
                .col(string_len("content_type", 128))
                .col(uuid("uploaded_by"))
                .col(uuid_null("organization_id"))
                .col(ts("created_at"))
                .col(string_len_null("subject_type", 32))
                .col(uuid_null("appeal_id"))
                .col(uuid_null("financing_request_id"))
                .col(uuid_null("fund_application_id"))
                .col(uuid_null("risk_claim_id"))
                .col(ts_null("attached_at"))
                .foreign_key(&mut fk("files", "uploaded_by", "users"))
                .foreign_key(&mut fk("files", "organization_id", "organizations"))
                // A blob row cannot go while a file row names its hash.
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_files_sha256")
                        .from("files", "sha256")
                        .to("file_blobs", "sha256")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(&mut fk("files", "appeal_id", "appeals"))
                .foreign_key(&mut fk("files", "financing_request_id", "financing_requests"))
                .foreign_key(&mut fk("files", "fund_application_id", "fund_applications"))
                .foreign_key(&mut fk("files", "risk_claim_id", "risk_claims"))
                .check(Expr::cust(
                    "size >= 0 AND ((subject_type IS NULL AND attached_at IS NULL \
                     AND appeal_id IS NULL AND financing_request_id IS NULL \
                     AND fund_application_id IS NULL AND risk_claim_id IS NULL) \
                     OR (subject_type IN ('appeal', 'financing_request', 'fund_application', 'risk_claim') \
                     AND attached_at IS NOT NULL \
                     AND (appeal_id IS NOT NULL) = (subject_type = 'appeal') \
                     AND (financing_request_id IS NOT NULL) = (subject_type = 'financing_request') \
                     AND (fund_application_id IS NOT NULL) = (subject_type = 'fund_application') \
                     AND (risk_claim_id IS NOT NULL) = (subject_type = 'risk_claim')))",
                ))
                .to_owned(),
        )
        .await?;
        for cols in [
            &["appeal_id"][..],
            &["financing_request_id"],
            &["fund_application_id"],
            &["risk_claim_id"],
            &["sha256"],
            &["uploaded_by"],
        ] {
            m.create_index(index("files", cols)).await?;
        }
        // What the orphan job reads: unattached uploads, oldest first.
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_files_unattached ON files (created_at) WHERE subject_type IS NULL",
            )
            .await?;

        m.create_table(
            Table::create()
                .table("storage_usage")
                .col(uuid("organization_id").primary_key())
                .col(big_integer("bytes"))
                .foreign_key(&mut fk("storage_usage", "organization_id", "organizations"))
                .check(Expr::cust("bytes >= 0"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["storage_usage", "files", "file_blobs"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
