//! User accounts created by the admin (enterprise users also come from self-registration).

use super::{audit::Change, auth::UserView, validate::Checks};
use crate::{
    auth::AuthUser,
    error::{AppError, AppResult},
    state::AppState,
};
use chrono::{DateTime, Utc};
use entity::{enums::Role, organization, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `POST /users`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 3 to 64 letters, digits, `_ - . @`; case-insensitive, unique.
    #[schema(
        pattern = r"^(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*[A-Za-z0-9_.@-]{3,64}(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*$"
    )]
    pub username: String,
    #[schema(
        min_length = 10,
        max_length = 256,
        pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$"
    )]
    pub password: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*$"
    )]
    pub display_name: String,
    /// An e-mail address of at most 254 bytes in UTF-8 (surrounding whitespace ignored).
    #[schema(
        pattern = r"^(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*(?:[^\s\x00-\x1f\x7f-\x9f@]+@(?:[^\s\x00-\x1f\x7f-\x9f@.]+\.)+[^\s\x00-\x1f\x7f-\x9f@.]+(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*)?$"
    )]
    pub email: Option<String>,
    /// Must fit the organization's kind (admin: none or any).
    pub role: Role,
    pub organization_id: Option<Uuid>,
}

/// Usernames: 3–64 characters of letters, digits, `_`, `-`, `.`, `@`; case-insensitive, so
/// they are kept lower-cased (`ADMIN` is `admin`).
pub fn check_username(c: &mut Checks, raw: &str) -> String {
    match normalize_username(raw) {
        Some(v) => v,
        None => {
            c.add(
                "username",
                "must be 3 to 64 characters of letters, digits, _ - . @",
            );
            raw.trim().to_lowercase()
        }
    }
}

/// The stored form of a username, or `None` when no user can have it.
pub fn normalize_username(raw: &str) -> Option<String> {
    let v = raw.trim();
    let ok_chars = v
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || "_-.@".contains(ch));
    ((3..=64).contains(&v.len()) && ok_chars).then(|| v.to_ascii_lowercase())
}

/// 409 when the username is taken.
pub async fn ensure_username_free(conn: &impl ConnectionTrait, username: &str) -> AppResult<()> {
    if user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(conn)
        .await?
        .is_some()
    {
        return Err(AppError::conflict(
            "duplicate_username",
            "this username is already taken",
        ));
    }
    Ok(())
}

/// Inserts a user row.
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    username: String,
    password_hash: String,
    display_name: String,
    email: Option<String>,
    role: Role,
    organization_id: Option<Uuid>,
) -> AppResult<user::Model> {
    Ok(user::ActiveModel {
        id: Set(Uuid::now_v7()),
        username: Set(username),
        password_hash: Set(password_hash),
        display_name: Set(display_name),
        email: Set(email),
        role: Set(role),
        organization_id: Set(organization_id),
        active: Set(true),
        session_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?)
}

/// Creates a user (admin). The role must fit the organization's kind.
pub async fn create(
    state: &AppState,
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    input: NewUser,
) -> AppResult<UserView> {
    actor.require(&[Role::Admin])?;
    let mut c = Checks::new();
    let username = check_username(&mut c, &input.username);
    c.check(
        "password",
        crate::auth::password::check_password_rules(&input.password),
    );
    let display_name = c.line("display_name", &input.display_name, 100);
    let email = c.opt_email("email", input.email.as_deref());
    let org = match input.organization_id {
        Some(id) => {
            let org = organization::Entity::find_by_id(id).one(conn).await?;
            if org.is_none() {
                c.add("organization_id", "no such organization");
            }
            org
        }
        None => None,
    };
    if input.organization_id.is_none() || org.is_some() {
        let kind = org.as_ref().map(|o| o.kind);
        if !input.role.fits(kind) {
            c.add(
                "role",
                match input.role.org_kind() {
                    Some(k) => format!(
                        "role {} needs an organization of kind {}",
                        input.role.code(),
                        k.code()
                    ),
                    None => "invalid role".into(),
                },
            );
        }
    }
    c.finish()?;
    ensure_username_free(conn, &username).await?;
    let hash = state.passwords.hash(input.password).await?;
    let u = insert(
        conn,
        now,
        username,
        hash,
        display_name,
        email,
        input.role,
        input.organization_id,
    )
    .await?;
    let view = UserView::from(u);
    Change {
        at: now,
        actor: Some(actor.id),
        action: "user.create",
        object_type: "user",
        object_id: view.id.to_string(),
    }
    .record(conn, None::<&()>, Some(&view))
    .await?;
    Ok(view)
}

/// Deactivates a user (admin): it can no longer log in, its refresh tokens are revoked, and its
/// access tokens stop working on every api instance within the session-check interval.
/// An administrator cannot deactivate themself (409): it would lock the platform out.
pub async fn set_active(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
    active: bool,
) -> AppResult<UserView> {
    actor.require(&[Role::Admin])?;
    let before = user::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    if !active && id == actor.id {
        return Err(AppError::conflict(
            "cannot_deactivate_self",
            "an administrator cannot deactivate their own account",
        ));
    }
    if before.active != active {
        user::Entity::update_many()
            .col_expr(user::Column::Active, Expr::val(active))
            .col_expr(user::Column::UpdatedAt, Expr::val(now))
            .filter(user::Column::Id.eq(id))
            .exec(conn)
            .await?;
    }
    if !active {
        super::auth::end_sessions(conn, id, now).await?;
    }
    let after = user::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let before = UserView::from(before);
    let view = UserView::from(after);
    Change {
        at: now,
        actor: Some(actor.id),
        action: if active {
            "user.activate"
        } else {
            "user.deactivate"
        },
        object_type: "user",
        object_id: id.to_string(),
    }
    .record(conn, Some(&before), Some(&view))
    .await?;
    Ok(view)
}
