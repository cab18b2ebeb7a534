//! `/notifications` (the caller's in-app inbox and its live stream) and `/me/preferences`
//! (which kinds also mail).

use crate::{
    auth::{AuthSession, AuthUser},
    error::{AppError, AppResult, Problem},
    pagination::PageQuery,
    services::{
        notification_hub::{self as hub, StreamContext},
        notifications::{
            self as svc, NotificationView, Preferences, PreferencesInput, ReadAll, UnreadCount,
        },
    },
    state::AppState,
};
use actix_web::{
    HttpRequest, HttpResponse, get,
    http::header::{CACHE_CONTROL, CONTENT_TYPE},
    post, put, web,
};
use serde::Deserialize;
use uuid::Uuid;

/// A page of notifications.
#[derive(utoipa::ToSchema)]
pub struct NotificationPage {
    pub items: Vec<NotificationView>,
    pub next_cursor: Option<String>,
}

/// `?unread=` plus paging.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct NotificationQuery {
    /// `true`: only unread notifications; `false`: only read ones; all when absent.
    pub unread: Option<bool>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = r"^[A-Za-z0-9_-]{21}[AQgw]$")]
    pub cursor: Option<String>,
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(NotificationQuery),
    security(("bearer" = [])), responses((status = 200, body = NotificationPage)))]
#[get("/notifications")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<NotificationQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    Ok(HttpResponse::Ok().json(svc::list(&state.read_db, &user, q.unread, &page).await?))
}

/// How many of the caller's notifications are unread.
#[utoipa::path(get, path = "/api/v1/notifications/unread-count", tag = "notifications",
    security(("bearer" = [])), responses((status = 200, body = UnreadCount)))]
#[get("/notifications/unread-count")]
pub async fn unread_count(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(svc::unread_count(&state.read_db, &state.unread_counts, &user).await?))
}

/// Marks one of the caller's notifications read; another user's is 404.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = NotificationView),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[post("/notifications/{id}/read")]
pub async fn read(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let view = svc::mark_read(&state.db, &user, state.clock.now(), *id).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Marks every unread notification of the caller read.
#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "notifications",
    security(("bearer" = [])), responses((status = 200, body = ReadAll)))]
#[post("/notifications/read-all")]
pub async fn read_all(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::mark_all_read(&state.db, &user, state.clock.now()).await?))
}

/// Server-sent events: one event per new notification of the caller (`id:` its id, `data:`
/// its JSON, as in the list), whichever process wrote it, within about a second. With
/// `Last-Event-ID`, the caller's notifications after that one come first, oldest first. An
/// idle stream gets a `: keep-alive` comment every `SSE_HEARTBEAT_MS` (15 s); it ends when the
/// access token expires or the session ends (reconnect with a fresh token and
/// `Last-Event-ID`). The token goes in the `Authorization` header, as everywhere.
#[utoipa::path(get, path = "/api/v1/notifications/stream", tag = "notifications",
    params(("Last-Event-ID" = Option<Uuid>, Header, description = "the id of the last event received: replay what came after it")),
    security(("bearer" = [])),
    responses((status = 200, content_type = "text/event-stream", body = String,
            description = "`id: <notification id>` and `data: <notification JSON>` per event; `: keep-alive` comments"),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "`Last-Event-ID` is not an id")))]
#[get("/notifications/stream")]
pub async fn stream(
    state: web::Data<AppState>,
    session: AuthSession,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let last_event_id = match req.headers().get("Last-Event-ID") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| Uuid::parse_str(s.trim()).ok())
                .ok_or_else(|| {
                    AppError::BadRequest("Last-Event-ID is not a notification id".into())
                })?,
        ),
    };
    let subscription = state.notifications.subscribe(session.user.id).await?;
    let ctx = StreamContext {
        db: state.read_db.clone(),
        clock: state.clock.clone(),
        sessions: state.sessions.clone(),
        claims: session.claims,
        heartbeat: std::time::Duration::from_millis(state.settings.sse_heartbeat_ms),
    };
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/event-stream"))
        .insert_header((CACHE_CONTROL, "no-cache"))
        // nginx and the like: pass each event on at once.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(hub::event_stream(ctx, subscription, last_event_id)))
}

/// Which notification kinds also mail the caller (every kind listed; absent from storage: on).
#[utoipa::path(get, path = "/api/v1/me/preferences", tag = "notifications",
    security(("bearer" = [])), responses((status = 200, body = Preferences)))]
#[get("/me/preferences")]
pub async fn get_preferences(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::preferences(&state.read_db, &user).await?))
}

/// Sets whether the named kinds mail the caller; kinds left out keep their setting. An unknown
/// kind is 422 naming `email.<kind>`.
#[utoipa::path(put, path = "/api/v1/me/preferences", tag = "notifications", request_body = PreferencesInput,
    security(("bearer" = [])), responses((status = 200, body = Preferences),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/me/preferences")]
pub async fn put_preferences(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<PreferencesInput>,
) -> AppResult<HttpResponse> {
    let prefs =
        svc::put_preferences(&state.db, &user, state.clock.now(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(prefs))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(unread_count)
        .service(stream)
        .service(read_all)
        .service(read)
        .service(get_preferences)
        .service(put_preferences);
}
