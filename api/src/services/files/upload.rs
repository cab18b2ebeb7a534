//! `POST /files`: the multipart field `file` is streamed into the store's staging area while its
//! size is counted, its SHA-256 computed and its first bytes kept; past the size limit the
//! staged object is aborted (nothing stays) and the answer is 413. The type is then decided
//! from the bytes alone ([`entity::file_type`]: magic numbers, and a ZIP's central directory
//! read back by range), 415 for anything not accepted. Only then, in one transaction, the
//! organization's quota is charged (409 past it), the bytes move to their hash under the blob
//! row's lock, and the file row is written.

use super::FileView;
use crate::{
    auth::AuthUser,
    edge::payload_error,
    error::{AppError, AppResult},
};
use actix_multipart::Multipart;
use chrono::{DateTime, Utc};
use entity::{
    file,
    file_type::{self, Directory, FileType, Head},
};
use futures::StreamExt;
use jobs::{
    FilesConfig,
    files::{self as store_ops, FileStore},
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The largest central directory read back to type a ZIP container.
const MAX_DIRECTORY_BYTES: u64 = 4 * 1024 * 1024;

/// How much of a refused body is still read (and dropped) so the client sees the answer rather
/// than a reset connection: bodies announcing more are refused before any is read.
pub fn drain_cap(max: u64) -> u64 {
    max.saturating_mul(2).saturating_add(1024 * 1024)
}

/// An upload received whole into the staging area, its type accepted: what the idempotency
/// fingerprint hashes (the same name and bytes are the same request).
#[derive(Debug, Clone, Serialize)]
pub struct Received {
    #[serde(skip)]
    pub id: Uuid,
    pub name: String,
    pub size: i64,
    pub sha256: String,
    #[serde(skip)]
    pub file_type: Option<FileType>,
}

/// Reads the multipart body: the field `file` into the staging area (other fields are read and
/// dropped). 413 past `limits.max_bytes`, 415 for a type that is not accepted, 422 without a
/// `file` field.
pub async fn receive(
    store: &FileStore,
    limits: &FilesConfig,
    mut form: Multipart,
) -> AppResult<Received> {
    let mut received: Option<Received> = None;
    let mut seen: u64 = 0;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(multipart_error)?;
        if field.name() != Some("file") {
            return Err(AppError::invalid(
                field.name().unwrap_or("body"),
                "unknown field: the upload's only field is file",
            ));
        }
        if received.is_some() {
            while let Some(chunk) = field.next().await {
                seen += chunk.map_err(multipart_error)?.len() as u64;
                if seen > drain_cap(limits.max_bytes) {
                    return Err(too_large(limits.max_bytes));
                }
            }
            continue;
        }
        let name = file_type::clean_name(
            field
                .content_disposition()
                .and_then(|d| d.get_filename())
                .unwrap_or(""),
        );
        let declared = field.content_type().map(|m| m.essence_str().to_string());
        let id = Uuid::now_v7();
        let mut staged = store.stage(id).await.map_err(store_error)?;
        let mut hasher = Sha256::new();
        let mut head: Vec<u8> = Vec::with_capacity(file_type::HEAD_BYTES);
        let mut size: u64 = 0;
        let mut over = false;
        while let Some(chunk) = field.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    staged.abort().await;
                    return Err(multipart_error(e));
                }
            };
            size += chunk.len() as u64;
            seen += chunk.len() as u64;
            if over || size > limits.max_bytes {
                // Past the limit: the staged object goes, the rest is read and dropped.
                over = true;
                if seen > drain_cap(limits.max_bytes) {
                    break;
                }
                continue;
            }
            hasher.update(&chunk);
            if head.len() < file_type::HEAD_BYTES {
                let take = (file_type::HEAD_BYTES - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            if let Err(e) = staged.write(chunk).await {
                staged.abort().await;
                return Err(store_error(e));
            }
        }
        if over {
            staged.abort().await;
            return Err(too_large(limits.max_bytes));
        }
        staged.finish().await.map_err(store_error)?;
        let file_type = match kind_of(store, id, &head, size).await {
            Ok(Some(t)) => t,
            Ok(None) => {
                let _ = store.discard(id).await;
                return Err(AppError::UnsupportedMediaType(
                    "the file is not a PDF, OFD, JPEG, PNG, DOCX or XLSX document (decided by \
                     its content, not its name)"
                        .into(),
                ));
            }
            Err(e) => {
                let _ = store.discard(id).await;
                return Err(e);
            }
        };
        if let Err(file_type::Disguised(why)) =
            file_type::check_agrees(file_type, &name, declared.as_deref())
        {
            let _ = store.discard(id).await;
            return Err(AppError::UnsupportedMediaType(why));
        }
        received = Some(Received {
            id,
            name: file_type::with_extension(file_type, &name),
            size: size as i64,
            sha256: hex::encode(hasher.finalize()),
            file_type: Some(file_type),
        });
    }
    received.ok_or_else(|| {
        AppError::invalid("file", "a multipart/form-data field named file is required")
    })
}

/// The type of the staged upload `id` from its first bytes and, for a ZIP container, its
/// central directory.
async fn kind_of(
    store: &FileStore,
    id: Uuid,
    head: &[u8],
    size: u64,
) -> AppResult<Option<FileType>> {
    match file_type::sniff_head(head) {
        Head::Is(t) => Ok(Some(t)),
        Head::Other => Ok(None),
        Head::Zip => {
            let tail_at = file_type::tail_range(size);
            let tail = store
                .read_staged(id, tail_at.clone())
                .await
                .map_err(store_error)?;
            let dir = match file_type::locate_directory(&tail, size) {
                None => return Ok(None),
                Some(Directory::At(r)) => r,
                Some(Directory::Zip64Record(r)) => {
                    let record = store
                        .read_staged(id, r.clone())
                        .await
                        .map_err(store_error)?;
                    match file_type::locate_zip64_directory(&record, r.start) {
                        Some(r) => r,
                        None => return Ok(None),
                    }
                }
            };
            if dir.end - dir.start > MAX_DIRECTORY_BYTES {
                return Ok(None);
            }
            let cd = store.read_staged(id, dir).await.map_err(store_error)?;
            Ok(file_type::directory_names(&cd).and_then(|names| file_type::zip_type(&names)))
        }
    }
}

/// Keeps a received upload, in the caller's transaction: charges the uploader's organization
/// (409 past its quota), moves the bytes to their hash under the blob row's lock, writes the
/// row.
pub async fn accept(
    txn: &impl ConnectionTrait,
    store: &FileStore,
    limits: &FilesConfig,
    actor: &AuthUser,
    up: &Received,
    now: DateTime<Utc>,
) -> AppResult<FileView> {
    if let Some(org) = actor.organization_id {
        let quota = i64::try_from(limits.quota_bytes).unwrap_or(i64::MAX);
        if !store_ops::charge(txn, org, up.size, quota).await? {
            let used = store_ops::usage(txn, org).await?;
            return Err(AppError::conflict(
                "storage_quota_exceeded",
                format!(
                    "this upload ({}) would take the organization's stored files past its quota \
                     of {} ({} used); remove unattached uploads or ask the platform to raise it",
                    human(up.size as u64),
                    human(limits.quota_bytes),
                    human(used.max(0) as u64)
                ),
            ));
        }
    }
    store_ops::lock_blob(txn, &up.sha256, up.size, now).await?;
    store
        .publish(up.id, &up.sha256)
        .await
        .map_err(store_error)?;
    let row = file::ActiveModel {
        id: Set(up.id),
        name: Set(up.name.clone()),
        size: Set(up.size),
        sha256: Set(up.sha256.clone()),
        content_type: Set(up
            .file_type
            .map_or("application/octet-stream", FileType::content_type)
            .to_string()),
        uploaded_by: Set(actor.id),
        organization_id: Set(actor.organization_id),
        created_at: Set(now),
        subject_type: Set(None),
        appeal_id: Set(None),
        financing_request_id: Set(None),
        fund_application_id: Set(None),
        risk_claim_id: Set(None),
        attached_at: Set(None),
    }
    .insert(txn)
    .await?;
    Ok(row.into())
}

fn human(bytes: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if bytes >= 1 << 30 {
        format!("{:.2} GiB", bytes as f64 / (MIB * 1024.0))
    } else {
        format!("{:.2} MiB", bytes as f64 / MIB)
    }
}

/// 413 for an upload past `max` bytes.
pub fn too_large(max: u64) -> AppError {
    AppError::PayloadTooLarge(format!(
        "a file may be at most {} ({max} bytes)",
        human(max)
    ))
}

fn multipart_error(e: actix_multipart::MultipartError) -> AppError {
    use actix_multipart::MultipartError as M;
    match e {
        M::Payload(p) => payload_error(&p),
        M::ContentTypeMissing | M::ContentTypeParse | M::ContentTypeIncompatible => {
            AppError::UnsupportedMediaType("the body must be multipart/form-data".into())
        }
        other => AppError::BadRequest(format!("unreadable multipart body: {other}")),
    }
}

fn store_error(e: object_store::Error) -> AppError {
    AppError::Internal(anyhow::Error::new(e).context("the file store failed"))
}

/// Drops a staged upload that was not kept (a replay, an error after receiving).
pub async fn discard(store: &FileStore, up: &Received) {
    if let Err(e) = store.discard(up.id).await {
        tracing::warn!(error = %e, "could not drop a staged upload");
    }
}
