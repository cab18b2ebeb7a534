//! `/outbox` (admin): queued, sent and failed mails; retry a failed one.

use crate::{
    auth::AuthUser,
    error::{AppResult, Problem},
    pagination::PageQuery,
    services::outbox::{self as svc, MailView},
    state::AppState,
};
use actix_web::{HttpResponse, get, post, web};
use entity::mail_outbox::MailStatus;
use serde::Deserialize;
use uuid::Uuid;

/// A page of mails.
#[derive(utoipa::ToSchema)]
pub struct MailPage {
    pub items: Vec<MailView>,
    pub next_cursor: Option<String>,
}

/// `?status=` plus paging.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OutboxQuery {
    /// `pending`, `sent` or `failed`; all when absent.
    pub status: Option<MailStatus>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = r"^[A-Za-z0-9_-]{21}[AQgw]$")]
    pub cursor: Option<String>,
}

/// Mails, oldest first (admin).
#[utoipa::path(get, path = "/api/v1/outbox", tag = "jobs", params(OutboxQuery), security(("bearer" = [])),
    responses((status = 200, body = MailPage), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/outbox")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<OutboxQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    Ok(HttpResponse::Ok().json(svc::list(&state.read_db, &user, q.status, &page).await?))
}

/// Puts a failed mail back in the queue with fresh attempts (admin); 409 unless it failed.
#[utoipa::path(post, path = "/api/v1/outbox/{id}/retry", tag = "jobs", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = MailView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
#[post("/outbox/{id}/retry")]
pub async fn retry(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let view = svc::retry(&state.db, &user, state.clock.now(), *id).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(retry);
}
