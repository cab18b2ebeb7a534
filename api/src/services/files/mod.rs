//! Documents: the upload (streamed, typed by its bytes, within the size limit and the
//! organization's quota — [`upload`]), attaching uploads to what they document, a subject's
//! attachments for its views, and who may download a file. The bytes themselves are kept by
//! [`jobs::files`].

pub mod upload;

use crate::{
    auth::{AuthUser, scope},
    error::{AppError, AppResult},
};
use chrono::{DateTime, Utc};
use entity::{enums::SubjectType, file, subject::Subject};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr,
};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// An uploaded document as the API shows it (in upload answers and in `attachments`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FileView {
    pub id: Uuid,
    /// The uploaded name, without directories.
    pub name: String,
    /// Bytes.
    pub size: i64,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    /// The type found in the bytes (`application/pdf`, `application/ofd`, `image/jpeg`,
    /// `image/png`, and the DOCX and XLSX types).
    pub content_type: String,
}

impl From<file::Model> for FileView {
    fn from(f: file::Model) -> Self {
        Self {
            id: f.id,
            name: f.name,
            size: f.size,
            sha256: f.sha256,
            content_type: f.content_type,
        }
    }
}

/// The most attachments one create or action takes.
pub const MAX_ATTACHMENTS: usize = 20;

/// Attaches the caller's uploads `ids` to `subject`, in the caller's transaction: every id must
/// be an upload of the caller's own that is not attached yet, each listed once, or the answer is
/// 422 on `attachment_ids` and (the transaction being dropped) nothing is created.
pub async fn attach(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    subject: Subject,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<Vec<FileView>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    if ids.len() > MAX_ATTACHMENTS {
        return Err(AppError::invalid(
            "attachment_ids",
            format!("at most {MAX_ATTACHMENTS} attachments"),
        ));
    }
    if ids.iter().collect::<HashSet<_>>().len() != ids.len() {
        return Err(AppError::invalid(
            "attachment_ids",
            "lists the same file twice",
        ));
    }
    use file::Column as F;
    let done = file::Entity::update_many()
        .col_expr(F::SubjectType, Expr::val(subject.kind))
        .col_expr(file::key_column(subject.kind), Expr::val(subject.id))
        .col_expr(F::AttachedAt, Expr::val(now))
        .filter(F::Id.is_in(ids.iter().copied()))
        .filter(F::UploadedBy.eq(actor.id))
        .filter(F::SubjectType.is_null())
        .exec(conn)
        .await?;
    if done.rows_affected != ids.len() as u64 {
        return Err(AppError::invalid(
            "attachment_ids",
            "each must be an upload of your own (POST /files) not attached to anything yet",
        ));
    }
    of_subject(conn, subject).await
}

/// The attachments of `subject`, in upload order.
pub async fn of_subject(conn: &impl ConnectionTrait, subject: Subject) -> AppResult<Vec<FileView>> {
    Ok(file::Entity::find()
        .filter(file::of_subject(subject))
        .order_by_asc(file::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(FileView::from)
        .collect())
}

/// The attachments of a page of subjects of type `kind`, by subject id.
pub async fn of_subjects(
    conn: &impl ConnectionTrait,
    kind: SubjectType,
    ids: impl IntoIterator<Item = Uuid>,
) -> AppResult<HashMap<Uuid, Vec<FileView>>> {
    let mut out: HashMap<Uuid, Vec<FileView>> = HashMap::new();
    for f in file::Entity::find()
        .filter(file::of_subjects(kind, ids))
        .order_by_asc(file::Column::Id)
        .all(conn)
        .await?
    {
        if let Some(s) = f.subject() {
            out.entry(s.id).or_default().push(f.into());
        }
    }
    Ok(out)
}

/// A file the caller may download: its uploader, and whoever may see the object it is attached
/// to — decided by that object's own visibility rule ([`scope::may_see`]). Anyone else: 404.
pub async fn readable(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    id: Uuid,
) -> AppResult<file::Model> {
    let f = file::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    if f.uploaded_by == actor.id {
        return Ok(f);
    }
    match f.subject() {
        Some(s) if scope::may_see(conn, actor, s).await? => Ok(f),
        _ => Err(AppError::NotFound),
    }
}
