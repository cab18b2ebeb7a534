//! PostgreSQL: `calendar_revision_is(expected)`, the guard of a write that computed clock times
//! with the calendar of revision `expected` without holding the calendar's lock since it read
//! it (`jobs::bulk::Combiner`: a submission's write sent together with others, outside a
//! transaction). Called in the write's own statement, it locks the calendar row `FOR SHARE`
//! until that statement commits (a calendar change waits for it, as it waits for a
//! transaction that read the calendar `FOR SHARE`) and fails the whole statement with
//! `serialization_failure` (40001) when the calendar has changed since: the writer computes
//! again with the new calendar. `VOLATILE`, so its query sees what committed before it ran,
//! and the row lock reads the newest version of a row updated meanwhile.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const GUARD: &str =
    "CREATE OR REPLACE FUNCTION calendar_revision_is(expected bigint) RETURNS bigint
    LANGUAGE plpgsql VOLATILE AS $$
    DECLARE current bigint;
    BEGIN
        SELECT revision INTO current FROM calendar_settings WHERE id = 1 FOR SHARE;
        IF current IS DISTINCT FROM expected THEN
            RAISE EXCEPTION 'the calendar changed (revision % is now %)', expected, current
                USING ERRCODE = 'serialization_failure';
        END IF;
        RETURN current;
    END $$";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DatabaseBackend::Postgres {
            m.get_connection().execute_unprepared(GUARD).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared("DROP FUNCTION calendar_revision_is(bigint)")
                .await?;
        }
        Ok(())
    }
}
