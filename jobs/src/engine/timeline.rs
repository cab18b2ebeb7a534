//! The one writer of timelines and supervisions, for any subject. Every state change of a
//! subject writes its timeline line here, in the change's transaction; the monitor writes its
//! breach and escalation lines and supervisions here too.

use crate::bulk::Batch;
use chrono::{DateTime, Utc};
use entity::{
    appeal_event,
    enums::{EventVisibility, SupervisionSource},
    subject::Subject,
    supervision,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, sea_query::OnConflict};
use uuid::Uuid;

/// One line of a subject's timeline.
#[derive(Clone, Debug)]
pub struct Entry {
    pub subject: Subject,
    pub at: DateTime<Utc>,
    /// The user who acted; `None` for the platform (routing, the monitor).
    pub actor_id: Option<Uuid>,
    pub actor_organization_id: Option<Uuid>,
    /// The organization holding the subject when it happened.
    pub holder_id: Option<Uuid>,
    /// The action's code (`submit`, `transfer`, `breach`, ...).
    pub action: String,
    /// Status codes of the subject's state machine.
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: Option<String>,
    /// Where an assignment or a transfer sent the subject.
    pub to_holder_id: Option<Uuid>,
    /// What the applicant may read of it.
    pub visibility: EventVisibility,
}

impl Entry {
    fn row(self) -> appeal_event::ActiveModel {
        appeal_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            subject_type: Set(self.subject.kind),
            appeal_id: Set(self.subject.appeal_id()),
            financing_request_id: Set(self.subject.financing_request_id()),
            fund_application_id: Set(self.subject.fund_application_id()),
            risk_claim_id: Set(self.subject.risk_claim_id()),
            at: Set(self.at),
            actor_id: Set(self.actor_id),
            actor_organization_id: Set(self.actor_organization_id),
            department_id: Set(self.holder_id),
            action: Set(self.action),
            from_status: Set(self.from_status),
            to_status: Set(self.to_status),
            note: Set(self.note),
            to_department_id: Set(self.to_holder_id),
            visibility: Set(self.visibility),
        }
    }
}

/// Writes timeline lines, in order, in one statement.
pub async fn record(conn: &impl ConnectionTrait, entries: Vec<Entry>) -> Result<(), DbErr> {
    let mut batch = Batch::default();
    record_into(&mut batch, entries);
    batch.run(conn).await
}

/// As [`record`], with the lines' insert added to `batch`, written with the event's other rows.
pub fn record_into(batch: &mut Batch, entries: Vec<Entry>) {
    if !entries.is_empty() {
        batch.push(appeal_event::Entity::insert_many(
            entries.into_iter().map(Entry::row),
        ));
    }
}

/// One supervision (督办) of a subject.
#[derive(Clone, Debug)]
pub struct Supervision {
    pub subject: Subject,
    /// The clock a breach or an escalation is about (`None` by hand).
    pub clock_id: Option<Uuid>,
    /// 1 for a breach or by hand, 2 for an escalation.
    pub level: i32,
    pub source: SupervisionSource,
    /// The organization supervised: the one holding the subject.
    pub holder_id: Option<Uuid>,
    pub note: Option<String>,
    pub created_by: Option<Uuid>,
    pub at: DateTime<Utc>,
}

/// Records supervisions in one statement; one per clock and level whatever the number of
/// monitors (the unique index `ux_supervisions_clock_level`). Returns how many were new.
pub async fn supervise(conn: &impl ConnectionTrait, items: Vec<Supervision>) -> Result<u64, DbErr> {
    if items.is_empty() {
        return Ok(0);
    }
    let rows = items.into_iter().map(|s| supervision::ActiveModel {
        id: Set(Uuid::now_v7()),
        subject_type: Set(s.subject.kind),
        appeal_id: Set(s.subject.appeal_id()),
        financing_request_id: Set(s.subject.financing_request_id()),
        fund_application_id: Set(s.subject.fund_application_id()),
        risk_claim_id: Set(s.subject.risk_claim_id()),
        clock_id: Set(s.clock_id),
        level: Set(s.level),
        source: Set(s.source),
        department_id: Set(s.holder_id),
        note: Set(s.note),
        created_by: Set(s.created_by),
        created_at: Set(s.at),
    });
    let inserted = supervision::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([supervision::Column::ClockId, supervision::Column::Level])
                .target_and_where(sea_orm::ColumnTrait::is_not_null(
                    &supervision::Column::ClockId,
                ))
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(inserted)
}
