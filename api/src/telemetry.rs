//! Logging set-up and per-request tracing: request ids and the root span of every request.
//!
//! Middleware order matters. actix runs the middleware registered *last* first, so the App
//! must register them in this order:
//!
//! ```ignore
//! App::new()
//!     .wrap(actix_web::middleware::from_fn(crate::metrics::record))
//!     .wrap(tracing_actix_web::TracingLogger::<crate::telemetry::RequestIdRootSpan>::new())
//!     .wrap(actix_web::middleware::from_fn(crate::telemetry::request_id))
//! ```
//!
//! `request_id` is the outermost layer: it decides the id before `TracingLogger` builds the root
//! span (which reads it from the request extensions) and it stamps `x-request-id` on every
//! response, including the ones built from errors raised by inner middleware.

use std::time::Instant;

use actix_web::{
    Error, HttpMessage, HttpResponse, ResponseError,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::{
        StatusCode,
        header::{HeaderName, HeaderValue},
    },
    middleware::Next,
};
use tracing::{Span, field::Empty};
use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::EnvFilter;

/// Filter used when `RUST_LOG` is unset or unparsable.
const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn";

/// Header that carries the request id in both directions.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client-supplied request id we accept; longer ones are replaced.
const MAX_REQUEST_ID_LEN: usize = 64;

/// Installs the global tracing subscriber: JSON lines when `json`, compact text otherwise.
///
/// Only the first call has an effect, so tests may call it freely.
pub fn init(json: bool) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // An error only means a subscriber is already installed (another test, or a second call).
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.compact().try_init()
    };
}

/// The id of the current request, in the request extensions (`req.extensions().get::<RequestId>()`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub String);

/// When the request entered the root span; used to log its latency.
#[derive(Clone, Copy)]
struct RequestStart(Instant);

/// Accepts a client-supplied id only if it is short and plain: 1–64 letters, digits and
/// `-_.:`, so it cannot forge log fields or smuggle markup into logs and headers.
fn sane_request_id(value: &HeaderValue) -> Option<String> {
    let bytes = value.as_bytes();
    let sane = !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID_LEN
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b));
    if !sane {
        return None;
    }
    value.to_str().ok().map(str::to_owned)
}

/// Middleware: picks the request id (incoming `x-request-id` or a new UUID v4), stores it as
/// [`RequestId`] and echoes it in the response's `x-request-id`, also for error responses.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(sane_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let header = HeaderValue::from_str(&id).ok();
    req.extensions_mut().insert(RequestId(id));

    match next.call(req).await {
        Ok(mut res) => {
            if let Some(value) = header {
                res.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            Ok(res)
        }
        // The error becomes a response only in actix's dispatcher, outside every middleware;
        // wrap it so that response gets the header too.
        Err(inner) => Err(match header {
            Some(id) => WithRequestId { inner, id }.into(),
            None => inner,
        }),
    }
}

/// An error from inner layers whose response also carries `x-request-id`.
#[derive(Debug)]
struct WithRequestId {
    inner: Error,
    id: HeaderValue,
}

impl std::fmt::Display for WithRequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl ResponseError for WithRequestId {
    fn status_code(&self) -> StatusCode {
        self.inner.as_response_error().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = self.inner.error_response();
        res.headers_mut().insert(REQUEST_ID_HEADER, self.id.clone());
        res
    }
}

/// Root span for `tracing_actix_web::TracingLogger`: request id, method, route pattern, path,
/// status and latency. Emits one `request completed` event per request.
pub struct RequestIdRootSpan;

impl RootSpanBuilder for RequestIdRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.0.clone())
            // Only happens if `request_id` is not wrapped outside `TracingLogger`.
            .unwrap_or_default();
        request
            .extensions_mut()
            .insert(RequestStart(Instant::now()));
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        tracing::info_span!(
            "http_request",
            request_id = %request_id,
            http.method = %request.method(),
            http.route = %route,
            http.target = %request.path(),
            http.status_code = Empty,
            latency_ms = Empty,
            exception.message = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let (status, error, start) = match outcome {
            Ok(res) => (
                res.status(),
                res.response().error().map(ToString::to_string),
                res.request().extensions().get::<RequestStart>().copied(),
            ),
            Err(err) => (
                err.as_response_error().status_code(),
                Some(err.to_string()),
                None,
            ),
        };
        span.record("http.status_code", status.as_u16());
        if let Some(error) = &error {
            span.record("exception.message", error.as_str());
        }
        let latency_ms = start.map(|RequestStart(at)| at.elapsed().as_secs_f64() * 1000.0);
        if let Some(latency_ms) = latency_ms {
            span.record("latency_ms", latency_ms);
        }
        tracing::info!(parent: &span, "request completed");
    }
}

#[cfg(test)]
mod tests {
    use actix_web::{
        App, HttpResponse,
        dev::Service,
        middleware::from_fn,
        test::{TestRequest, call_service, init_service, read_body},
        web,
    };
    use tracing_actix_web::TracingLogger;

    use super::*;

    async fn echo_id(req: actix_web::HttpRequest) -> HttpResponse {
        let id = req
            .extensions()
            .get::<RequestId>()
            .map(|id| id.0.clone())
            .unwrap_or_default();
        HttpResponse::Ok().body(id)
    }

    async fn refuse(
        _req: ServiceRequest,
        _next: Next<impl MessageBody>,
    ) -> Result<ServiceResponse<impl MessageBody>, Error> {
        Err::<ServiceResponse<actix_web::body::BoxBody>, _>(actix_web::error::ErrorUnauthorized(
            "no",
        ))
    }

    macro_rules! app {
        () => {
            init_service(
                App::new()
                    .route("/id", web::get().to(echo_id))
                    .service(
                        web::scope("/guarded")
                            .wrap(from_fn(refuse))
                            .route("", web::get().to(echo_id)),
                    )
                    .wrap(TracingLogger::<RequestIdRootSpan>::new())
                    .wrap(from_fn(request_id)),
            )
            .await
        };
    }

    fn header(res: &ServiceResponse<impl MessageBody>) -> String {
        res.headers()
            .get(&REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    #[actix_web::test]
    async fn incoming_request_id_is_kept_and_echoed() {
        let app = app!();
        let req = TestRequest::get()
            .uri("/id")
            .insert_header(("x-request-id", "abc-123"))
            .to_request();
        let res = call_service(&app, req).await;
        assert_eq!(header(&res), "abc-123");
        assert_eq!(read_body(res).await, "abc-123");
    }

    #[actix_web::test]
    async fn missing_or_insane_request_id_is_replaced_by_a_uuid() {
        let app = app!();
        let long = "a".repeat(129);
        for incoming in [None, Some("has space"), Some(long.as_str()), Some("")] {
            let mut req = TestRequest::get().uri("/id");
            if let Some(value) = incoming {
                req = req.insert_header(("x-request-id", value));
            }
            let res = call_service(&app, req.to_request()).await;
            let id = header(&res);
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{incoming:?} gave {id}");
            assert_eq!(read_body(res).await, id.as_bytes());
        }
    }

    #[actix_web::test]
    async fn error_responses_carry_the_request_id() {
        let app = app!();
        let req = TestRequest::get()
            .uri("/guarded")
            .insert_header(("x-request-id", "err-1"))
            .to_request();
        // An inner middleware's error stays an error; the dispatcher renders it.
        let err = match app.call(req).await {
            Ok(_) => panic!("the guard should refuse"),
            Err(err) => err,
        };
        let res = err.error_response();
        assert_eq!(res.status(), 401);
        assert_eq!(res.headers().get(&REQUEST_ID_HEADER).unwrap(), "err-1");

        let res = call_service(&app, TestRequest::get().uri("/nope").to_request()).await;
        assert_eq!(res.status(), 404);
        assert!(uuid::Uuid::parse_str(&header(&res)).is_ok());
    }
}
