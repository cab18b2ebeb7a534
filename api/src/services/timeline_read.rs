//! Reading a subject's timeline, one rule for every subject: officials read every line; the
//! enterprise reads its own case without the internal lines, without the officials' notes
//! (only public lines keep theirs) and without officials' user ids.

use crate::{auth::AuthUser, error::AppResult};
use entity::{
    appeal_event,
    enums::{EventVisibility, Role},
    subject::Subject,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

/// The lines of `subject` as `reader` may read them, oldest first. The caller has checked
/// that the reader may see the subject at all.
pub async fn lines(
    conn: &impl ConnectionTrait,
    reader: &AuthUser,
    subject: Subject,
) -> AppResult<Vec<appeal_event::Model>> {
    let enterprise = (reader.role == Role::Enterprise).then_some(reader.organization_id);
    let mut find = appeal_event::Entity::find().filter(appeal_event::of_subject(subject));
    if enterprise.is_some() {
        find = find.filter(appeal_event::Column::Visibility.ne(EventVisibility::Internal));
    }
    let mut rows = find
        .order_by_asc(appeal_event::Column::Id)
        .all(conn)
        .await?;
    if let Some(own) = enterprise {
        for e in &mut rows {
            if e.actor_organization_id != own {
                e.actor_id = None;
            }
            if e.visibility != EventVisibility::Public {
                e.note = None;
            }
        }
    }
    Ok(rows)
}
