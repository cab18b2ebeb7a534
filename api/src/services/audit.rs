//! The audit trail: one append-only row per change, written in the caller's transaction.

use chrono::{DateTime, Utc};
use entity::audit_log;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use serde::Serialize;
use uuid::Uuid;

/// One change to record.
pub struct Change<'a> {
    pub at: DateTime<Utc>,
    pub actor: Option<Uuid>,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: String,
}

impl Change<'_> {
    /// Writes the row with before/after summaries (JSON).
    pub async fn record(
        self,
        conn: &impl ConnectionTrait,
        before: Option<&impl Serialize>,
        after: Option<&impl Serialize>,
    ) -> Result<(), DbErr> {
        let json = |v: Option<&dyn erased::Ser>| v.and_then(|v| v.to_json());
        audit_log::Entity::insert(audit_log::ActiveModel {
            id: Set(Uuid::now_v7()),
            at: Set(self.at),
            actor_id: Set(self.actor),
            action: Set(self.action.to_string()),
            object_type: Set(self.object_type.to_string()),
            object_id: Set(self.object_id),
            before: Set(json(before.map(|b| b as &dyn erased::Ser))),
            after: Set(json(after.map(|a| a as &dyn erased::Ser))),
        })
        .exec_without_returning(conn)
        .await?;
        Ok(())
    }
}

mod erased {
    /// Object-safe "serialize to JSON text".
    pub trait Ser {
        fn to_json(&self) -> Option<String>;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_json(&self) -> Option<String> {
            serde_json::to_string(self).ok()
        }
    }
}
