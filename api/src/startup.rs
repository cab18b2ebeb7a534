//! Builds the application: database, migrations, first admin, keys, routes, middleware.

use crate::{
    auth::{jwt::JwtKeys, password::PasswordPolicy},
    config::Settings,
    db, docs, edge,
    error::AppError,
    item_cache::AppealCache,
    metrics::{self, Metrics},
    openapi, routes,
    services::{bootstrap, notification_hub::NotificationHub},
    state::AppState,
    telemetry::{self, RequestIdRootSpan},
};
use actix_web::{
    App, HttpRequest, HttpResponse, HttpServer, ResponseError,
    body::{BoxBody, MessageBody},
    dev::{Server, ServiceResponse},
    error::{JsonPayloadError, PathError, QueryPayloadError},
    http::header::{ALLOW, CONTENT_TYPE, HeaderValue},
    middleware::{ErrorHandlerResponse, ErrorHandlers, from_fn},
    web,
};
use entity::clock::Clock;
use migration::{Migrator, MigratorTrait};
use std::{net::TcpListener, sync::Arc};
use tracing_actix_web::TracingLogger;

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

impl Application {
    /// Connects, migrates, bootstraps and binds (port 0 picks a free port).
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&settings.data_dir)?;
        let db = db::connect(&settings).await?;
        Migrator::up(&db, None).await?;
        let read_db = db::connect_reader(&settings, &db).await?;
        let secret = bootstrap::jwt_secret(&settings)?;
        let jobs_config = settings.jobs_config();
        let job_list = jobs::runner::default_jobs(&jobs_config);
        let jobs = jobs::Runner::new(
            jobs::JobContext::new(db.clone(), clock.clone(), jobs_config)?,
            job_list,
        );
        // One calendar cache per process, shared by the handlers and the embedded jobs.
        let calendar = jobs.context().calendar.clone();
        let feed = jobs::feed::Feed::start(
            read_db.clone(),
            std::time::Duration::from_millis(settings.change_feed_poll_ms),
            std::time::Duration::from_secs(settings.change_feed_lookback_secs),
        );
        let combiner = db::connect_combiner(&settings)
            .await?
            .map(|pool| jobs::bulk::Combiner::start(pool, settings.db_combined_writers as usize));
        let state = AppState {
            combiner,
            db,
            read_db: read_db.clone(),
            clock,
            jobs,
            jwt: JwtKeys::new(
                &secret,
                &settings.jwt_issuer,
                &settings.jwt_audience,
                settings.access_token_ttl_secs,
            ),
            sessions: crate::auth::session::Sessions::new(
                &feed,
                std::time::Duration::from_millis(settings.session_check_ms),
            ),
            unread_counts: feed.cache(
                &[(jobs::feed::Topic::Unread, jobs::feed::On::Key)],
                100_000,
                std::time::Duration::from_secs(settings.unread_cache_secs),
            ),
            feed,
            passwords: PasswordPolicy::new(
                settings.argon2_m_cost_kib,
                settings.argon2_t_cost,
                settings.password_hash_slots(),
                std::time::Duration::from_millis(settings.password_hash_wait_ms),
            ),
            appeal_cache: AppealCache::new(settings.appeal_cache_mib * 1024 * 1024),
            program_cache: crate::services::funds::programs::ProgramCache::new(
                settings.program_cache_mib * 1024 * 1024,
            ),
            eligible_answers: crate::services::funds::programs::AnswerCache::new(
                settings.program_cache_mib * 1024 * 1024,
            ),
            notifications: NotificationHub::new(
                read_db.clone(),
                std::time::Duration::from_millis(settings.notification_poll_ms),
                std::time::Duration::from_secs(settings.notification_lookback_secs),
            ),
            settings: Arc::new(settings),
            calendar,
        };
        state.passwords.warm().await?;
        if let Some(password) = bootstrap::ensure_admin(&state).await? {
            tracing::warn!(
                username = "admin",
                password = %password,
                "created the first admin with a random password; it is shown only this once"
            );
        }
        let listener = TcpListener::bind((state.settings.host.as_str(), state.settings.port))?;
        let port = listener.local_addr()?.port();
        let server = server(listener, state.clone())?;
        tracing::info!(
            port,
            database = if state.settings.is_sqlite() {
                "sqlite"
            } else {
                "postgres"
            },
            "listening"
        );
        Ok(Self {
            port,
            server,
            state,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (database, clock, settings).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGTERM/Ctrl-C (graceful: in-flight requests finish). With
    /// `jobs_embedded` the job runner runs alongside; at shutdown each job finishes its current
    /// step and the leases are released.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let cancel = tokio_util::sync::CancellationToken::new();
        let runner = self
            .state
            .settings
            .jobs_embedded
            .then(|| tokio::spawn(self.state.jobs.clone().run(cancel.clone())));
        // Event streams never finish by themselves: end them when the server is told to stop,
        // so its graceful shutdown does not wait its whole timeout for them.
        let hub = self.state.notifications.clone();
        let streams = tokio::spawn(async move {
            jobs::shutdown_signal().await;
            hub.close();
        });
        let served = self.server.await;
        streams.abort();
        cancel.cancel();
        if let Some(handle) = runner {
            let _ = handle.await;
        }
        served
    }
}

fn server(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let max_body = state.settings.max_body_bytes;
    let limits = web::Data::new(edge::BodyLimits {
        deadline: std::time::Duration::from_millis(state.settings.request_body_timeout_ms.max(1)),
        max_bytes: max_body,
        upload_deadline: std::time::Duration::from_secs(state.settings.upload_timeout_secs.max(1)),
    });
    let cors_origins = state.settings.cors_origins();
    let metrics = web::Data::new(Metrics::new());
    let authenticator = web::Data::new(crate::auth::Authenticator {
        jwt: state.jwt.clone(),
        sessions: state.sessions.clone(),
        read_db: state.read_db.clone(),
        clock: state.clock.clone(),
    });
    let state = web::Data::new(state);
    Ok(HttpServer::new(move || {
        App::new()
            .wrap(from_fn(edge::guard_body))
            .wrap(ErrorHandlers::new().default_handler(problem_body))
            .wrap(from_fn(metrics::record))
            .wrap(TracingLogger::<RequestIdRootSpan>::new())
            .wrap(from_fn(telemetry::request_id))
            .wrap(
                actix_web::middleware::DefaultHeaders::new()
                    .add((actix_web::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff")),
            )
            .wrap(from_fn(edge::head_as_get))
            .wrap(edge::cors(&cors_origins))
            .app_data(limits.clone())
            .app_data(state.clone())
            .app_data(authenticator.clone())
            .app_data(metrics.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(max_body)
                    .content_type_required(true)
                    .error_handler(json_error),
            )
            .app_data(web::PayloadConfig::new(max_body))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(web::PathConfig::default().error_handler(path_error))
            .service(routes::health::live)
            .service(routes::health::ready)
            .route("/metrics", web::get().to(metrics::handler))
            .configure(docs::configure)
            .service(
                web::scope("/api/v1")
                    .service(openapi::openapi_json)
                    .configure(routes::configure),
            )
            .default_service(web::to(not_found))
    })
    .listen(listener)?
    .shutdown_timeout(30)
    .run())
}

/// No route matched: 405 with `Allow` (the methods the API description declares for the path)
/// when the path exists under another method, else 404.
async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    if !req.resource_map().has_resource(req.path()) {
        return Err(AppError::NotFound);
    }
    let allow = openapi::allowed_methods(req.path()).unwrap_or_else(|| "GET".into());
    Ok(method_not_allowed(&allow))
}

/// 405 with `Allow: allow`.
fn method_not_allowed(allow: &str) -> HttpResponse {
    let mut res = AppError::MethodNotAllowed.error_response();
    if let Ok(v) = HeaderValue::from_str(allow) {
        res.headers_mut().insert(ALLOW, v);
    }
    res
}

fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let e = match &err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            AppError::PayloadTooLarge(format!("the body exceeds {limit} bytes"))
        }
        JsonPayloadError::Deserialize(de) if de.is_data() => {
            let msg = de.to_string();
            let field = msg
                .split_once("field `")
                .and_then(|(_, rest)| rest.split_once('`'))
                .map(|(f, _)| f.to_string())
                .unwrap_or_else(|| "body".into());
            AppError::invalid(field, msg)
        }
        JsonPayloadError::Deserialize(de) => AppError::BadRequest(format!("malformed JSON: {de}")),
        JsonPayloadError::ContentType => AppError::UnsupportedMediaType(
            "this endpoint reads JSON: send Content-Type: application/json".into(),
        ),
        JsonPayloadError::Payload(p) => edge::payload_error(p),
        other => AppError::BadRequest(format!("unreadable body: {other}")),
    };
    e.into()
}

fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    AppError::BadRequest(format!("bad query string: {err}")).into()
}

/// A path parameter that does not parse is 404, unless the path is another operation's literal
/// path under other methods (`GET /bank-reports/generate` is `POST` only, not a report id): 405
/// with `Allow`, as for any other method the path does not have.
fn path_error(_: PathError, req: &HttpRequest) -> actix_web::Error {
    if let Some(allow) = openapi::allowed_methods(req.path())
        && !allow.split(", ").any(|m| m == req.method().as_str())
    {
        return actix_web::error::InternalError::from_response(
            "method not allowed",
            method_not_allowed(&allow),
        )
        .into();
    }
    AppError::NotFound.into()
}

/// Turns any error answer that is not already problem+json (405 from the router, 413 from the
/// payload limit, ...) into one, so clients always get the same error shape.
fn problem_body<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let err = match status.as_u16() {
        404 => AppError::NotFound,
        405 => AppError::MethodNotAllowed,
        413 => AppError::PayloadTooLarge("the body is too large".into()),
        408 => AppError::RequestTimeout,
        415 => AppError::UnsupportedMediaType("unsupported media type".into()),
        401 => AppError::Unauthorized("authentication required".into()),
        403 => AppError::forbidden("forbidden"),
        s if s >= 500 => AppError::Internal(anyhow::anyhow!("unhandled error response {s}")),
        _ => AppError::BadRequest(
            status
                .canonical_reason()
                .unwrap_or("bad request")
                .to_lowercase(),
        ),
    };
    let mut problem = err.problem();
    problem.status = status.as_u16();
    let (req, _) = res.into_parts();
    let mut resp: HttpResponse<BoxBody> = HttpResponse::build(status).json(problem);
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, resp).map_into_right_body::<B>(),
    ))
}
