//! `/users`.

use crate::{
    auth::AuthUser,
    error::{AppResult, Problem},
    idempotency::{self, IdempotencyKey},
    services::{
        auth::UserView,
        users::{self as svc, NewUser},
    },
    state::AppState,
};
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, post, web};
use uuid::Uuid;

/// Creates a user (admin); the role must fit the organization's kind.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    params(("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    security(("bearer" = [])),
    responses((status = 201, body = UserView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    body: web::Json<NewUser>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let st = state.clone();
    idempotency::create(
        &state,
        &req,
        user.id.to_string(),
        key,
        body.into_inner(),
        StatusCode::CREATED,
        |txn, input| async move {
            let v = svc::create(&st, &txn, &user, now, input).await?;
            Ok((v, txn))
        },
    )
    .await
}

/// Deactivates a user (admin): no more logins, and its sessions end on every instance within
/// seconds.
#[utoipa::path(post, path = "/api/v1/users/{id}/deactivate", tag = "users", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "an administrator deactivating themself")))]
#[post("/users/{id}/deactivate")]
pub async fn deactivate(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    set_active(&state, user, *id, false).await
}

/// Activates a deactivated user again (admin); earlier sessions stay ended.
#[utoipa::path(post, path = "/api/v1/users/{id}/activate", tag = "users", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[post("/users/{id}/activate")]
pub async fn activate(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    set_active(&state, user, *id, true).await
}

async fn set_active(
    state: &AppState,
    user: AuthUser,
    id: Uuid,
    active: bool,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let view = super::write(state, |txn| async move {
        let v = svc::set_active(&txn, &user, now, id, active).await?;
        Ok((v, txn))
    })
    .await?;
    if !active {
        state.sessions.forget_all();
    }
    Ok(HttpResponse::Ok().json(view))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create).service(deactivate).service(activate);
}
