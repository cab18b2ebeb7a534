//! `/qualification-proposals`: a chain office proposes a qualification for an active member of
//! its chain; the fund office confirms or declines it.

use super::write;
use crate::{
    auth::AuthUser,
    error::{AppResult, Problem},
    idempotency::{self, IdempotencyKey},
    pagination::PageQuery,
    services::qualifications::{
        self as svc, Decision, DeclineInput, ProposalFilter, ProposalView, QualificationInput,
    },
    state::AppState,
};
use actix_web::{HttpRequest, HttpResponse, get, http::StatusCode, post, web};
use entity::enums::QualificationKind;
use uuid::Uuid;

/// A chain office proposes a qualification for an active member of one of its chains.
#[utoipa::path(post, path = "/api/v1/organizations/{id}/qualifications/{kind}/proposals", tag = "qualifications",
    params(("id" = Uuid, Path), ("kind" = QualificationKind, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    request_body = QualificationInput, security(("bearer" = [])),
    responses((status = 201, body = ProposalView), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "not a chain office user"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "not an active member of the caller's chains"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "a request with this Idempotency-Key is in progress"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/organizations/{id}/qualifications/{kind}/proposals")]
pub async fn propose(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    path: web::Path<(Uuid, QualificationKind)>,
    body: web::Json<QualificationInput>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let (id, kind) = path.into_inner();
    idempotency::create(
        &state,
        &req,
        user.id.to_string(),
        key,
        body.into_inner(),
        StatusCode::CREATED,
        |txn, input| async move {
            let v = svc::propose(&txn, &user, now, id, kind, input).await?;
            Ok((v, txn))
        },
    )
    .await
}

/// A page of qualification proposals.
#[derive(utoipa::ToSchema)]
pub struct ProposalPage {
    pub items: Vec<ProposalView>,
    pub next_cursor: Option<String>,
}

/// The proposals the caller may see, oldest first: fund office and admin all, a chain office
/// its own.
#[utoipa::path(get, path = "/api/v1/qualification-proposals", tag = "qualifications",
    params(ProposalFilter, PageQuery), security(("bearer" = [])),
    responses((status = 200, body = ProposalPage), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "a malformed query"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/qualification-proposals")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<ProposalFilter>,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::list(&state.read_db, &user, &filter, &page).await?))
}

/// One proposal.
#[utoipa::path(get, path = "/api/v1/qualification-proposals/{id}", tag = "qualifications",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = ProposalView), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/qualification-proposals/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::get(&state.read_db, &user, *id).await?))
}

async fn decide(
    state: &AppState,
    user: AuthUser,
    id: Uuid,
    decision: Decision,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let v = write(state, |txn| async move {
        Ok((svc::decide(&txn, &user, now, id, decision).await?, txn))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The fund office (or an admin) confirms: the qualification is recorded as `PUT` would.
#[utoipa::path(post, path = "/api/v1/qualification-proposals/{id}/confirm", tag = "qualifications",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = ProposalView), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "already decided")))]
#[post("/qualification-proposals/{id}/confirm")]
pub async fn confirm(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    decide(&state, user, *id, Decision::Confirm).await
}

/// The fund office (or an admin) declines, with an optional note.
#[utoipa::path(post, path = "/api/v1/qualification-proposals/{id}/decline", tag = "qualifications",
    params(("id" = Uuid, Path)), request_body = DeclineInput, security(("bearer" = [])),
    responses((status = 200, body = ProposalView), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "already decided"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/qualification-proposals/{id}/decline")]
pub async fn decline(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<DeclineInput>,
) -> AppResult<HttpResponse> {
    decide(&state, user, *id, Decision::Decline(body.into_inner())).await
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(propose)
        .service(list)
        .service(get)
        .service(confirm)
        .service(decline);
}
