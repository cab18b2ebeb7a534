//! Who receives mail for an organization: its contact address, or else its active users'.
//!
//! Only the SLA monitor still addresses mail this way; everything else goes through
//! [`crate::notify`], which writes to the users first and to the contact address only when none
//! of them has one.

use entity::{enums::OrgKind, organization, user};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

/// The addresses of organization `org`: `contact_email` when set, else the e-mails of its
/// active users. Empty when there is nobody to write to.
pub async fn of_organization(conn: &impl ConnectionTrait, org: Uuid) -> Result<Vec<String>, DbErr> {
    let Some(o) = organization::Entity::find_by_id(org).one(conn).await? else {
        return Ok(Vec::new());
    };
    addresses(conn, &o).await
}

/// The addresses of every service centre (see [`of_organization`]).
pub async fn of_service_centres(conn: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let centres = organization::Entity::find()
        .filter(organization::Column::Kind.eq(OrgKind::ServiceCenter))
        .all(conn)
        .await?;
    let mut all = Vec::new();
    for o in &centres {
        all.extend(addresses(conn, o).await?);
    }
    all.sort();
    all.dedup();
    Ok(all)
}

/// The addresses of organization `o`, already loaded (see [`of_organization`]).
pub async fn addresses(
    conn: &impl ConnectionTrait,
    o: &organization::Model,
) -> Result<Vec<String>, DbErr> {
    if let Some(mail) = o
        .contact_email
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        return Ok(vec![mail.to_string()]);
    }
    let mut mails: Vec<String> = user::Entity::find()
        .select_only()
        .column(user::Column::Email)
        .filter(user::Column::OrganizationId.eq(o.id))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Email.is_not_null())
        .into_tuple::<Option<String>>()
        .all(conn)
        .await?
        .into_iter()
        .flatten()
        .filter(|m| !m.trim().is_empty())
        .collect();
    mails.sort();
    mails.dedup();
    Ok(mails)
}
