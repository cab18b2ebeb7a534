//! `/chains`, members and banks.

use super::write;
use crate::{
    auth::AuthUser,
    error::{AppResult, Problem},
    idempotency::{self, IdempotencyKey},
    pagination::PageQuery,
    services::{
        chains::{self as svc, BankInput, BankView, ChainFilter, ChainView, NewChain},
        memberships::{self, MemberInput, MemberView},
    },
    state::AppState,
};
use actix_web::{HttpRequest, HttpResponse, delete, get, http::StatusCode, post, put, web};
use uuid::Uuid;

/// Creates a chain (admin).
#[utoipa::path(post, path = "/api/v1/chains", tag = "chains", request_body = NewChain,
    params(("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    security(("bearer" = [])),
    responses((status = 201, body = ChainView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/chains")]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    body: web::Json<NewChain>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    idempotency::create(
        &state,
        &req,
        user.id.to_string(),
        key,
        body.into_inner(),
        StatusCode::CREATED,
        |txn, input| async move {
            let v = svc::create(&txn, &user, now, input).await?;
            Ok((v, txn))
        },
    )
    .await
}

/// Lists the chains the caller may see; an enterprise user may filter by its own membership.
#[utoipa::path(get, path = "/api/v1/chains", tag = "chains", params(ChainFilter, PageQuery), security(("bearer" = [])),
    responses((status = 200, body = crate::routes::pages::ChainPage),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "a malformed query"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`membership` by a user who is not an enterprise's")))]
#[get("/chains")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<ChainFilter>,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::list(&state.read_db, &user, &filter, &page).await?))
}

/// One chain with its banks and members: the admin and the chain's office see invitations too,
/// an enterprise its own membership, everyone else active members only.
#[utoipa::path(get, path = "/api/v1/chains/{id}", tag = "chains", params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = ChainView), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/chains/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::get(&state.read_db, &user, *id).await?))
}

/// Adds an enterprise to a chain (admin: active at once), invites it (the chain's office:
/// `status: invited` until the enterprise accepts), or changes its role.
#[utoipa::path(put, path = "/api/v1/chains/{id}/members/{organization_id}", tag = "chains",
    params(("id" = Uuid, Path), ("organization_id" = Uuid, Path)), request_body = MemberInput, security(("bearer" = [])),
    responses((status = 200, body = MemberView), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "a concurrent change of the same membership"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/chains/{id}/members/{organization_id}")]
pub async fn put_member(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<MemberInput>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let (chain, org) = path.into_inner();
    let input = body.into_inner();
    let v = write(&state, |txn| async move {
        Ok((
            memberships::put(&txn, &user, now, chain, org, input).await?,
            txn,
        ))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Removes an enterprise from a chain, or withdraws an invitation (admin, the chain's office).
#[utoipa::path(delete, path = "/api/v1/chains/{id}/members/{organization_id}", tag = "chains",
    params(("id" = Uuid, Path), ("organization_id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/chains/{id}/members/{organization_id}")]
pub async fn delete_member(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let (chain, org) = path.into_inner();
    write(&state, |txn| async move {
        Ok((
            memberships::delete(&txn, &user, now, chain, org).await?,
            txn,
        ))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn answer(
    state: &AppState,
    user: AuthUser,
    path: (Uuid, Uuid),
    answer: memberships::Answer,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let (chain, org) = path;
    let v = write(state, |txn| async move {
        Ok((
            memberships::answer(&txn, &user, now, chain, org, answer).await?,
            txn,
        ))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The invited enterprise (its users) accepts: the membership becomes active.
#[utoipa::path(post, path = "/api/v1/chains/{id}/members/{organization_id}/accept", tag = "chains",
    params(("id" = Uuid, Path), ("organization_id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = MemberView), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "not an enterprise user"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "no invitation for the caller's enterprise"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "already an active member")))]
#[post("/chains/{id}/members/{organization_id}/accept")]
pub async fn accept_member(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    answer(&state, user, path.into_inner(), memberships::Answer::Accept).await
}

/// The invited enterprise (its users) declines: the membership is kept as `declined`.
#[utoipa::path(post, path = "/api/v1/chains/{id}/members/{organization_id}/decline", tag = "chains",
    params(("id" = Uuid, Path), ("organization_id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = MemberView), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "not an enterprise user"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "no invitation for the caller's enterprise"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "already an active member")))]
#[post("/chains/{id}/members/{organization_id}/decline")]
pub async fn decline_member(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    answer(
        &state,
        user,
        path.into_inner(),
        memberships::Answer::Decline,
    )
    .await
}

/// Sets a bank's role in a chain (admin); one lead bank per chain.
#[utoipa::path(put, path = "/api/v1/chains/{id}/banks/{organization_id}", tag = "chains",
    params(("id" = Uuid, Path), ("organization_id" = Uuid, Path)), request_body = BankInput, security(("bearer" = [])),
    responses((status = 200, body = BankView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "the chain already has a lead bank"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/chains/{id}/banks/{organization_id}")]
pub async fn put_bank(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<BankInput>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let (chain, org) = path.into_inner();
    let input = body.into_inner();
    let v = write(&state, |txn| async move {
        Ok((
            svc::put_bank(&txn, &user, now, chain, org, input).await?,
            txn,
        ))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Removes a bank from a chain (admin).
#[utoipa::path(delete, path = "/api/v1/chains/{id}/banks/{organization_id}", tag = "chains",
    params(("id" = Uuid, Path), ("organization_id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/chains/{id}/banks/{organization_id}")]
pub async fn delete_bank(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let (chain, org) = path.into_inner();
    write(&state, |txn| async move {
        Ok((svc::delete_bank(&txn, &user, now, chain, org).await?, txn))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(put_member)
        .service(delete_member)
        .service(accept_member)
        .service(decline_member)
        .service(put_bank)
        .service(delete_bank);
}
