//! What every request meets before a handler sees it: a deadline for its body (408), one check
//! of every text in a JSON body (422 with the field), `HEAD` answered as `GET`, and the security
//! headers of the answer. One place, so no endpoint can forget any of it.

use crate::{error::AppError, services::validate::TextKind};
use actix_web::{
    Error, HttpMessage,
    body::{BoxBody, MessageBody},
    dev::{Payload, ServiceRequest, ServiceResponse},
    error::PayloadError,
    http::{
        ConnectionType, Method, StatusCode,
        header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, TRANSFER_ENCODING},
    },
    middleware::Next,
    web::{self, Bytes, BytesMut},
};
use futures::{Stream, StreamExt};
use serde_json::Value;
use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

/// CORS for the allowed origins only (none by default): preflights from them are answered with
/// the methods and headers the API uses; any other origin gets no CORS headers, so browsers
/// refuse the response, and its preflight is refused.
pub fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "DELETE"])
        .allowed_headers([
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::HeaderName::from_static("idempotency-key"),
            actix_web::http::header::HeaderName::from_static("last-event-id"),
            actix_web::http::header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            actix_web::http::header::HeaderName::from_static("x-request-id"),
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::CONTENT_DISPOSITION,
        ])
        .block_on_origin_mismatch(false)
        .max_age(600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// The body deadline and size limit in effect, kept in app data.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    /// A body not received completely within this time is answered 408.
    pub deadline: Duration,
    /// The largest body a JSON endpoint reads.
    pub max_bytes: usize,
    /// The deadline of a `multipart/form-data` body (an upload of up to `FILES_MAX_BYTES` over a
    /// slow mobile link), instead of `deadline`.
    pub upload_deadline: Duration,
}

/// Middleware: `HEAD` is routed as `GET`. actix-http's encoder remembers the request was `HEAD`
/// and writes the headers (with the length `GET` would have) but no body.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

/// Middleware: puts a deadline on the request body; buffers a JSON body (or one with no declared
/// type, which JSON endpoints read as JSON) and refuses control characters in its strings.
pub async fn guard_body(
    mut req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(limits) = req
        .app_data::<web::Data<BodyLimits>>()
        .map(|l| *l.get_ref())
    else {
        return next.call(req).await;
    };
    // A body with no declared type is read as JSON (so `curl -d` without `-H` works); a body
    // declared as anything else is refused by the JSON endpoints with 415.
    if !req.headers().contains_key(CONTENT_TYPE) {
        req.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    if !has_body(&req) {
        return next.call(req).await;
    }
    let deadline = if is_multipart(&req) {
        limits.upload_deadline
    } else {
        limits.deadline
    };
    let payload = Deadline::new(req.take_payload(), deadline);
    if !reads_as_json(&req) {
        req.set_payload(Payload::from(
            Box::pin(payload) as Pin<Box<dyn Stream<Item = _>>>
        ));
        return finish(next.call(req).await);
    }
    let body = match buffer(payload, limits.max_bytes).await {
        Ok(body) => body,
        Err(e) => return Ok(refuse(req, e)),
    };
    if let Err(e) = check_json_text(&body) {
        return Ok(refuse(req, e));
    }
    req.set_payload(bytes_payload(body));
    finish(next.call(req).await)
}

/// A 408 also closes the connection: the client is not sending what it announced.
fn finish(res: Result<ServiceResponse<BoxBody>, Error>) -> Result<ServiceResponse<BoxBody>, Error> {
    res.map(|mut res| {
        if res.status() == StatusCode::REQUEST_TIMEOUT {
            res.response_mut()
                .head_mut()
                .set_connection_type(ConnectionType::Close);
        }
        res
    })
}

fn refuse(req: ServiceRequest, e: AppError) -> ServiceResponse<BoxBody> {
    let close = matches!(e, AppError::RequestTimeout | AppError::PayloadTooLarge(_));
    let mut res = req.error_response(e);
    if close {
        res.response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    res
}

fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(TRANSFER_ENCODING)
        || headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0)
}

/// JSON endpoints accept `application/json`, `…+json`, or no declared type.
fn reads_as_json(req: &ServiceRequest) -> bool {
    match req.headers().get(CONTENT_TYPE) {
        None => true,
        Some(v) => is_json_type(v),
    }
}

/// Whether the body is `multipart/form-data` (an upload).
fn is_multipart(req: &ServiceRequest) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|s| {
            s.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// Whether a `Content-Type` names JSON.
pub fn is_json_type(v: &HeaderValue) -> bool {
    let Ok(s) = v.to_str() else { return false };
    let essence = s
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

async fn buffer(mut payload: Deadline, max: usize) -> Result<Bytes, AppError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| payload_error(&e))?;
        if body.len() + chunk.len() > max {
            return Err(AppError::PayloadTooLarge(format!(
                "the body exceeds {max} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The answer to a body that could not be read.
pub fn payload_error(e: &PayloadError) -> AppError {
    match e {
        PayloadError::Io(io) if io.kind() == io::ErrorKind::TimedOut => AppError::RequestTimeout,
        PayloadError::Overflow => AppError::PayloadTooLarge("the body is too large".into()),
        other => AppError::BadRequest(format!("unreadable body: {other}")),
    }
}

fn bytes_payload(body: Bytes) -> Payload {
    let (_, mut h1) = actix_http::h1::Payload::create(true);
    h1.unread_data(body);
    Payload::from(h1)
}

/// Refuses a JSON body with a control character (other than line breaks and tabs) in any string
/// or key. Invalid JSON passes through: the endpoint's extractor answers it with 400.
fn check_json_text(body: &[u8]) -> Result<(), AppError> {
    let plain = !body.contains(&b'\\')
        && std::str::from_utf8(body).is_ok_and(|s| {
            !s.chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        });
    if plain {
        // No escape and no control character but JSON whitespace: no string can hold one.
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Ok(());
    };
    let mut path = String::new();
    match first_bad(&value, &mut path) {
        None => Ok(()),
        Some(message) => Err(AppError::invalid(
            if path.is_empty() { "body".into() } else { path },
            message,
        )),
    }
}

fn first_bad(value: &Value, path: &mut String) -> Option<&'static str> {
    match value {
        Value::String(s) => TextKind::Free.refusal(s),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = first_bad(v, path);
            if found.is_none() {
                path.truncate(len);
            }
            found
        }),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            if TextKind::Line.refusal(k).is_some() {
                path.push_str(&k.escape_default().to_string());
                return Some("a field name must not contain control characters");
            }
            path.push_str(k);
            let found = first_bad(v, path);
            if found.is_none() {
                path.truncate(len);
            }
            found
        }),
        _ => None,
    }
}

/// A request body stream that fails with `TimedOut` once its deadline passes.
struct Deadline {
    inner: Payload,
    sleep: Pin<Box<tokio::time::Sleep>>,
    expired: bool,
}

impl Deadline {
    fn new(inner: Payload, after: Duration) -> Self {
        Self {
            inner,
            sleep: Box::pin(tokio::time::sleep(after)),
            expired: false,
        }
    }
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = self.inner.poll_next_unpin(cx) {
            return Poll::Ready(item);
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.expired = true;
                Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the request body did not arrive in time",
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(body: &str) -> Option<String> {
        match check_json_text(body.as_bytes()) {
            Ok(()) => None,
            Err(AppError::Validation(errs)) => Some(errs[0].field.clone()),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn control_characters_are_found_with_their_field() {
        assert_eq!(field(r#"{"title":"正常的标题","n":1}"#), None);
        assert_eq!(field(r#"{"content":"第一行\n第二行\t"}"#), None);
        assert_eq!(field(r#"{"content":"a\\u0000b"}"#), None);
        assert_eq!(field(r#"{"title":"a\u0000b"}"#).as_deref(), Some("title"));
        assert_eq!(
            field(r#"{"working_hours":[{"start":"09:00"},{"end":"\u001b"}]}"#).as_deref(),
            Some("working_hours[1].end")
        );
        assert_eq!(field(r#"{"a":{"b":"x\ry"}}"#).as_deref(), Some("a.b"));
        assert_eq!(field("not json \u{0}"), None);
    }
}
