//! Documents: `POST /files` (multipart upload) and `GET /files/{id}` (download, with ranges).

use crate::{
    auth::AuthUser,
    error::{AppError, AppResult, Problem},
    idempotency::{self, IdempotencyKey},
    services::files::{
        self, FileView,
        upload::{self as uploads, drain_cap},
    },
    state::AppState,
};
use actix_multipart::Multipart;
use actix_web::{
    HttpRequest, HttpResponse, ResponseError, get,
    http::{
        StatusCode,
        header::{
            ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, ETAG,
            IF_RANGE, RANGE, X_CONTENT_TYPE_OPTIONS,
        },
    },
    post, web,
};
use futures::TryStreamExt;
use std::ops::Range;
use uuid::Uuid;

/// The multipart body of an upload: the one field `file`.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The document: PDF, OFD, JPEG, PNG, DOCX or XLSX, decided by its content.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Uploads a document (any signed-in user). The type is decided from the bytes, not the name
/// or the declared type; attach the answer's `id` with `attachment_ids` within 24 hours, or the
/// upload is removed.
#[utoipa::path(post, path = "/api/v1/files", tag = "files",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    params(("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    security(("bearer" = [])),
    responses((status = 201, body = FileView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 408, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the organization's storage quota would be exceeded", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "larger than FILES_MAX_BYTES (20 MiB by default)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "not a PDF, OFD, JPEG, PNG, DOCX or XLSX document", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/files")]
pub async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    form: Multipart,
) -> AppResult<HttpResponse> {
    let ctx = state.jobs.context();
    let limits = ctx.config.files.clone();
    let announced = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > drain_cap(limits.max_bytes)) {
        return Err(uploads::too_large(limits.max_bytes));
    }
    let store = ctx.files.clone();
    let up = uploads::receive(&store, &limits, form).await?;
    let now = state.clock.now();
    let answer = idempotency::create(
        &state,
        &req,
        user.id.to_string(),
        key,
        up.clone(),
        StatusCode::CREATED,
        |txn, up| {
            let store = store.clone();
            async move {
                let view = uploads::accept(&txn, &store, &limits, &user, &up, now).await?;
                Ok((view, txn))
            }
        },
    )
    .await;
    // Kept uploads were moved to their hash; a replay's or a refusal's staged bytes go.
    uploads::discard(&store, &up).await;
    answer
}

/// Downloads a document: its uploader, and whoever may see what it is attached to; anyone else
/// 404. Single byte ranges (`Range: bytes=…`) are answered 206.
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "files", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "the bytes, with the stored content type and Content-Disposition: attachment"),
        (status = 206, description = "the requested byte range"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 416, body = Problem, content_type = "application/problem+json")))]
#[get("/files/{id}")]
pub async fn download(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let f = files::readable(&state.read_db, &user, *id).await?;
    let size = f.size.max(0) as u64;
    let etag = format!("\"{}\"", f.sha256);
    // `If-Range` with another validator: the whole file, as RFC 9110 says.
    let ranged = req
        .headers()
        .get(IF_RANGE)
        .is_none_or(|v| v.as_bytes() == etag.as_bytes());
    let asked = match req.headers().get(RANGE).and_then(|v| v.to_str().ok()) {
        Some(v) if ranged => byte_range(v, size),
        _ => Ok(None),
    };
    let part = match asked {
        Ok(p) => p,
        Err(()) => {
            let mut res = AppError::RangeNotSatisfiable(format!(
                "the range is outside the file's {size} bytes"
            ))
            .error_response();
            if let Ok(v) = format!("bytes */{size}").parse() {
                res.headers_mut().insert(CONTENT_RANGE, v);
            }
            return Ok(res);
        }
    };
    let stream = state
        .jobs
        .context()
        .files
        .read_blob(&f.sha256, part.clone())
        .await
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("reading a stored file")))?
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()));
    let mut res = match &part {
        Some(r) => {
            let mut b = HttpResponse::build(StatusCode::PARTIAL_CONTENT);
            b.insert_header((
                CONTENT_RANGE,
                format!("bytes {}-{}/{size}", r.start, r.end - 1),
            ));
            b
        }
        None => HttpResponse::Ok(),
    };
    let length = part.as_ref().map_or(size, |r| r.end - r.start);
    Ok(res
        .content_type(f.content_type.as_str())
        .insert_header((CONTENT_DISPOSITION, content_disposition(&f.name)))
        .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((ACCEPT_RANGES, "bytes"))
        .insert_header((ETAG, etag))
        .insert_header((CACHE_CONTROL, "private, no-store"))
        .no_chunking(length)
        .streaming(stream))
}

/// The one range of a `Range: bytes=…` header within a file of `size` bytes: `Ok(None)` when the
/// header is not a single byte range (the whole file is sent, as RFC 9110 allows), `Err` when
/// it is one that no byte of the file satisfies (416).
fn byte_range(header: &str, size: u64) -> Result<Option<Range<u64>>, ()> {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (first, last) = (first.trim(), last.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if first.is_empty() {
        // A suffix: the last N bytes.
        if !digits(last) {
            return Ok(None);
        }
        let n: u64 = last.parse().unwrap_or(u64::MAX);
        if n == 0 || size == 0 {
            return Err(());
        }
        return Ok(Some(size - n.min(size)..size));
    }
    if !digits(first) || !(last.is_empty() || digits(last)) {
        return Ok(None);
    }
    let start: u64 = first.parse().unwrap_or(u64::MAX);
    let end = if last.is_empty() {
        size
    } else {
        let last: u64 = last.parse().unwrap_or(u64::MAX);
        if last < start {
            return Ok(None);
        }
        last.saturating_add(1).min(size)
    };
    if start >= size {
        return Err(());
    }
    Ok(Some(start..end))
}

/// `attachment` with the name twice (RFC 6266): an ASCII stand-in in `filename` for old clients
/// and the exact name in `filename*` (RFC 5987, UTF-8, percent-encoded).
fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        if keep {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(upload).service(download);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(byte_range("bytes=0-99", 1000), Ok(Some(0..100)));
        assert_eq!(byte_range("bytes=900-", 1000), Ok(Some(900..1000)));
        assert_eq!(byte_range("bytes=-100", 1000), Ok(Some(900..1000)));
        assert_eq!(byte_range("bytes=-5000", 1000), Ok(Some(0..1000)));
        assert_eq!(byte_range("bytes=990-2000", 1000), Ok(Some(990..1000)));
        assert_eq!(byte_range("bytes=1000-", 1000), Err(()));
        assert_eq!(byte_range("bytes=-0", 1000), Err(()));
        assert_eq!(byte_range("bytes=0-1,5-6", 1000), Ok(None));
        assert_eq!(byte_range("items=0-1", 1000), Ok(None));
        assert_eq!(byte_range("bytes=5-1", 1000), Ok(None));
        assert_eq!(byte_range("bytes=x-1", 1000), Ok(None));
    }

    #[test]
    fn a_chinese_name_is_sent_both_ways() {
        assert_eq!(
            content_disposition("报表.pdf"),
            "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E6%8A%A5%E8%A1%A8.pdf"
        );
        assert_eq!(
            content_disposition("a \"b\".pdf"),
            "attachment; filename=\"a _b_.pdf\"; filename*=UTF-8''a%20%22b%22.pdf"
        );
    }
}
