//! Reference data: the default calendar settings and the State Council's 2024–2026 holidays and
//! make-up workdays (`shared/data/cn-calendar-2024-2026.csv`, kept in `entity::calendar`).

use chrono::{NaiveDate, Utc};
use entity::calendar::{CN_2024_2026, DayKind};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let now = Utc::now();
        let mut days = Query::insert();
        days.into_table("calendar_days")
            .columns(["date", "kind", "name", "name_en", "updated_at"]);
        for (date, kind, name_en, name_zh) in CN_2024_2026 {
            let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .map_err(|e| DbErr::Migration(format!("bad seed date {date}: {e}")))?;
            let kind = match kind {
                DayKind::Holiday => "holiday",
                DayKind::Workday => "workday",
                DayKind::Normal => continue,
            };
            days.values_panic([
                date.into(),
                kind.into(),
                (*name_zh).into(),
                (*name_en).into(),
                now.into(),
            ]);
        }
        m.exec_stmt(days).await?;

        let settings = Query::insert()
            .into_table("calendar_settings")
            .columns(["id", "time_zone", "working_hours", "revision", "updated_at"])
            .values_panic([
                1.into(),
                entity::calendar::DEFAULT_TIME_ZONE.into(),
                r#"[{"start":"09:00","end":"17:00"}]"#.into(),
                1i64.into(),
                now.into(),
            ])
            .to_owned();
        m.exec_stmt(settings).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.exec_stmt(Query::delete().from_table("calendar_days").to_owned())
            .await?;
        m.exec_stmt(Query::delete().from_table("calendar_settings").to_owned())
            .await?;
        Ok(())
    }
}
