//! `/auth/*` and `/me`.

use crate::{
    auth::AuthUser,
    error::{AppResult, Problem},
    services::auth::{self as svc, TokenPair, UserView},
    state::AppState,
};
use actix_web::{
    HttpRequest, HttpResponse, get,
    http::header::{CACHE_CONTROL, PRAGMA},
    post, web,
};
use serde::Deserialize;

/// `POST /auth/login`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    /// Any text: an impossible username is the same 401 as a wrong one.
    #[schema(pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$")]
    pub username: String,
    #[schema(pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$")]
    pub password: String,
}

/// `POST /auth/refresh` and `/auth/logout`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshInput {
    #[schema(pattern = r"^(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)*$")]
    pub refresh_token: String,
}

/// Exchanges a username and password for tokens.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginInput,
    responses((status = 200, body = TokenPair), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 429, body = Problem, content_type = "application/problem+json", description = "too many failed attempts; see Retry-After"),
              (status = 503, body = Problem, content_type = "application/problem+json", description = "every password-hashing slot is busy; see Retry-After")))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginInput>,
) -> AppResult<HttpResponse> {
    let LoginInput { username, password } = body.into_inner();
    let address = svc::client_address(&req, state.settings.trust_forwarded_for);
    Ok(tokens(
        svc::login(&state, &address, &username, password).await?,
    ))
}

/// Answers with tokens, which no cache may keep.
fn tokens(pair: TokenPair) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"))
        .json(pair)
}

/// Rotates a refresh token; a reused one revokes the whole login.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshInput,
    responses((status = 200, body = TokenPair), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshInput>,
) -> AppResult<HttpResponse> {
    Ok(tokens(svc::refresh(&state, &body.refresh_token).await?))
}

/// Ends the login of a refresh token.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshInput,
    security(("bearer" = [])), responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<RefreshInput>,
) -> AppResult<HttpResponse> {
    svc::logout(&state, user.id, &body.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::me(&state.read_db, user.id).await?))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(login)
        .service(refresh)
        .service(logout)
        .service(me);
}
