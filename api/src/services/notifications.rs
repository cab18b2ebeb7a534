//! The caller's in-app notifications and which kinds also mail them. Every user sees only their
//! own: another user's notification answers 404 like a missing one. Notifications are written
//! by `jobs::notify` in the transactions of the events; the streams are in
//! [`super::notification_hub`].

use crate::{
    auth::AuthUser,
    error::{AppError, AppResult, FieldError},
    pagination::{self, Page, PageQuery},
};
use chrono::{DateTime, Utc};
use entity::{
    enums::NotificationKind,
    notification::{self, Column as N},
    user_preference::{self, Column as P},
};
use jobs::feed::{Cached, Topic, touched};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, sea_query::Expr, sea_query::OnConflict,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// One notification.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    pub id: Uuid,
    pub kind: NotificationKind,
    /// Simplified Chinese, one line.
    pub title: String,
    /// Simplified Chinese.
    pub body: String,
    /// What it is about: `appeal`, `organization`, `job_run`; null with `object_id`.
    pub object_type: Option<String>,
    pub object_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// When the user marked it read; null while unread.
    pub read_at: Option<DateTime<Utc>>,
}

impl From<notification::Model> for NotificationView {
    fn from(n: notification::Model) -> Self {
        Self {
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            object_type: n.object_type,
            object_id: n.object_id,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

/// `GET /notifications/unread-count`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnreadCount {
    pub count: u64,
}

/// `POST /notifications/read-all`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReadAll {
    /// Notifications this call marked read.
    pub marked: u64,
}

/// The caller's notifications, newest first; `unread`: only unread (`true`) or only read
/// (`false`) ones.
pub async fn list(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    unread: Option<bool>,
    page: &PageQuery,
) -> AppResult<Page<NotificationView>> {
    let mut q = notification::Entity::find().filter(N::UserId.eq(actor.id));
    q = match unread {
        Some(true) => q.filter(N::ReadAt.is_null()),
        Some(false) => q.filter(N::ReadAt.is_not_null()),
        None => q,
    };
    let page = pagination::fetch_newest_first(conn, q, N::Id, page, |n: &notification::Model| n.id)
        .await?;
    Ok(page.map(NotificationView::from))
}

/// How many of the caller's notifications are unread: one partial-index range, whose answer
/// `cache` keeps until the change feed says the caller's notifications changed.
pub async fn unread_count(
    conn: &impl ConnectionTrait,
    cache: &Cached<u64>,
    actor: &AuthUser,
) -> AppResult<UnreadCount> {
    let count = cache
        .get_or_load(actor.id, || {
            notification::Entity::find()
                .filter(N::UserId.eq(actor.id))
                .filter(N::ReadAt.is_null())
                .count(conn)
        })
        .await?;
    Ok(UnreadCount { count })
}

/// Marks one of the caller's notifications read (once: a second call keeps the first time).
pub async fn mark_read(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    id: Uuid,
) -> AppResult<NotificationView> {
    notification::Entity::update_many()
        .col_expr(N::ReadAt, Expr::val(now))
        .filter(N::Id.eq(id))
        .filter(N::UserId.eq(actor.id))
        .filter(N::ReadAt.is_null())
        .exec(conn)
        .await?;
    touched(Topic::Unread, [actor.id]);
    let n = notification::Entity::find_by_id(id)
        .filter(N::UserId.eq(actor.id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(n.into())
}

/// Marks every unread notification of the caller read.
pub async fn mark_all_read(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
) -> AppResult<ReadAll> {
    let res = notification::Entity::update_many()
        .col_expr(N::ReadAt, Expr::val(now))
        .filter(N::UserId.eq(actor.id))
        .filter(N::ReadAt.is_null())
        .exec(conn)
        .await?;
    touched(Topic::Unread, [actor.id]);
    Ok(ReadAll {
        marked: res.rows_affected,
    })
}

/// Which notification kinds also mail the user: every kind, `true` unless turned off.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Preferences {
    /// Kind → whether it mails.
    #[schema(schema_with = email_preferences)]
    pub email: BTreeMap<NotificationKind, bool>,
}

/// `PUT /me/preferences`: the kinds named change, the others keep their setting.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesInput {
    /// Kind → whether it mails; an unknown kind is 422.
    #[schema(schema_with = email_preferences)]
    pub email: BTreeMap<String, bool>,
}

/// `{<kind>: bool}` with every kind named and nothing else allowed.
fn email_preferences() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
    let mut o = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .description(Some(
            "Per notification kind, whether it also mails the user (absent: it does).",
        ));
    for kind in NotificationKind::all() {
        o = o.property(
            kind.code(),
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .description(Some(kind.label_zh())),
        );
    }
    o.build()
}

/// The caller's preferences.
pub async fn preferences(conn: &impl ConnectionTrait, actor: &AuthUser) -> AppResult<Preferences> {
    let off: Vec<(NotificationKind, bool)> = user_preference::Entity::find()
        .select_only()
        .columns([P::Kind, P::Email])
        .filter(P::UserId.eq(actor.id))
        .into_tuple()
        .all(conn)
        .await?;
    let mut email: BTreeMap<NotificationKind, bool> =
        NotificationKind::all().iter().map(|k| (*k, true)).collect();
    email.extend(off);
    Ok(Preferences { email })
}

/// Sets the kinds named in `input`; answers the whole preferences.
pub async fn put_preferences(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    now: DateTime<Utc>,
    input: PreferencesInput,
) -> AppResult<Preferences> {
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    for (code, email) in &input.email {
        match NotificationKind::from_code(code) {
            Some(kind) => rows.push(user_preference::ActiveModel {
                user_id: Set(actor.id),
                kind: Set(kind),
                email: Set(*email),
                updated_at: Set(now),
            }),
            None => errors.push(FieldError::new(
                format!("email.{code}"),
                "not a notification kind",
            )),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if !rows.is_empty() {
        user_preference::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([P::UserId, P::Kind])
                    .update_columns([P::Email, P::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    preferences(conn, actor).await
}
