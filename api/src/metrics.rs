//! Prometheus metrics for HTTP traffic, kept in a private registry and exposed in text format.
//!
//! `route` is the matched route pattern (`/api/v1/organizations/{id}`), never the raw path, and
//! `"unmatched"` when no route matched, so scanners probing random paths cannot grow the series.

use std::time::Instant;

use actix_web::{
    Error, HttpResponse,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::Method,
    middleware::Next,
    web,
};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

/// Latency buckets in seconds: fine-grained below 100 ms, where most API calls land.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

const LABELS: &[&str] = &["method", "route", "status"];

/// HTTP request metrics; cheap to clone (the collectors are shared).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates the collectors in a fresh registry.
    pub fn new() -> Self {
        let registry = Registry::new();
        // These can only fail on an invalid metric name or a duplicate registration in this
        // fresh registry: fixed at compile time, so a failure is a programming error.
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered."),
            LABELS,
        )
        .expect("valid counter definition");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from request to response head, in seconds.",
            )
            .buckets(DURATION_BUCKETS.to_vec()),
            LABELS,
        )
        .expect("valid histogram definition");
        registry
            .register(Box::new(requests.clone()))
            .expect("register http_requests_total once");
        registry
            .register(Box::new(duration.clone()))
            .expect("register http_request_duration_seconds once");
        Self {
            registry,
            requests,
            duration,
        }
    }

    /// Counts one answered request and its duration.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.duration.with_label_values(&labels).observe(seconds);
    }

    /// Renders every metric in the Prometheus text exposition format.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf)?;
        String::from_utf8(buf).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

/// Method label: the standard methods by name, anything else folded into `"OTHER"`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Middleware: records `http_requests_total` and `http_request_duration_seconds` for every
/// request, using the `web::Data<Metrics>` in app data (passes through if there is none).
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let Some(metrics) = req.app_data::<web::Data<Metrics>>().cloned() else {
        return next.call(req).await;
    };
    // Taken before the call: an error from an inner middleware comes back without the request
    // (and holding a clone of the request during the call would break routing).
    let method = method_label(req.method());
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let start = Instant::now();
    let outcome = next.call(req).await;
    let status = match &outcome {
        Ok(res) => res.status(),
        Err(err) => err.as_response_error().status_code(),
    };
    metrics.observe(
        method,
        &route,
        status.as_u16(),
        start.elapsed().as_secs_f64(),
    );
    outcome
}

/// `GET /metrics`: the text exposition of all metrics.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain")))]
pub async fn handler(metrics: web::Data<Metrics>) -> HttpResponse {
    match metrics.render() {
        Ok(body) => HttpResponse::Ok()
            .content_type(prometheus::TEXT_FORMAT)
            .body(body),
        Err(err) => {
            tracing::error!(error = %err, "rendering metrics failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::{
        App,
        http::header::CONTENT_TYPE,
        middleware::from_fn,
        test::{TestRequest, call_service, init_service, read_body},
    };

    use super::*;

    #[test]
    fn render_has_both_families_with_labels() {
        let metrics = Metrics::new();
        metrics.observe("GET", "/api/v1/organizations/{id}", 200, 0.003);
        let text = metrics.render().unwrap();
        assert!(
            text.contains("# TYPE http_requests_total counter"),
            "{text}"
        );
        assert!(text.contains("# TYPE http_request_duration_seconds histogram"));
        assert!(text.contains(
            r#"http_requests_total{method="GET",route="/api/v1/organizations/{id}",status="200"} 1"#
        ));
        assert!(text.contains(
            r#"http_request_duration_seconds_bucket{method="GET",route="/api/v1/organizations/{id}",status="200",le="0.005"} 1"#
        ));
    }

    #[test]
    fn each_instance_has_its_own_registry() {
        let a = Metrics::new();
        let b = Metrics::new();
        a.observe("GET", "/x", 200, 0.1);
        assert!(!b.render().unwrap().contains("route=\"/x\""));
    }

    #[actix_web::test]
    async fn middleware_labels_by_pattern_and_folds_unmatched_paths() {
        let metrics = web::Data::new(Metrics::new());
        let app = init_service(
            App::new()
                .app_data(metrics.clone())
                .route(
                    "/items/{id}",
                    web::get().to(|| async { HttpResponse::Ok().finish() }),
                )
                .route("/metrics", web::get().to(handler))
                .wrap(from_fn(record)),
        )
        .await;
        for uri in ["/items/1", "/items/2", "/random/a", "/random/b"] {
            call_service(&app, TestRequest::get().uri(uri).to_request()).await;
        }

        let res = call_service(&app, TestRequest::get().uri("/metrics").to_request()).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers().get(CONTENT_TYPE).unwrap(),
            "text/plain; version=0.0.4"
        );
        let body = read_body(res).await;
        let text = std::str::from_utf8(&body).unwrap();
        assert!(
            text.contains(
                r#"http_requests_total{method="GET",route="/items/{id}",status="200"} 2"#
            )
        );
        assert!(
            text.contains(r#"http_requests_total{method="GET",route="unmatched",status="404"} 2"#)
        );
        assert!(!text.contains("/random"));
    }

    #[actix_web::test]
    async fn middleware_passes_through_without_metrics_data() {
        let app = init_service(
            App::new()
                .route("/", web::get().to(|| async { HttpResponse::Ok().finish() }))
                .wrap(from_fn(record)),
        )
        .await;
        let res = call_service(&app, TestRequest::get().uri("/").to_request()).await;
        assert_eq!(res.status(), 200);
    }
}
