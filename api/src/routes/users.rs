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

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create);
}
