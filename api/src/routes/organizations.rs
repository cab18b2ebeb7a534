//! `/organizations`, `/enterprises/register`, qualifications.

use super::write;
use crate::{
    auth::AuthUser,
    error::{AppResult, Problem},
    idempotency::{self, IdempotencyKey},
    pagination::PageQuery,
    services::{
        organizations::{
            self as svc, NewOrganization, OrganizationFilter, OrganizationView, Registered,
            Registration,
        },
        qualifications::{self, QualificationInput, QualificationView},
    },
    state::AppState,
};
use actix_web::{HttpRequest, HttpResponse, delete, get, http::StatusCode, post, put, web};
use entity::enums::QualificationKind;
use uuid::Uuid;

/// Creates an organization (admin).
#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations", request_body = NewOrganization,
    params(("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    security(("bearer" = [])),
    responses((status = 201, body = OrganizationView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "duplicate USCC"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "invalid input, e.g. a bad USCC")))]
#[post("/organizations")]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    body: web::Json<NewOrganization>,
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

/// Lists the organizations the caller may see.
#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations", params(OrganizationFilter, PageQuery),
    security(("bearer" = [])), responses((status = 200, body = crate::routes::pages::OrganizationPage)))]
#[get("/organizations")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<OrganizationFilter>,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    Ok(
        HttpResponse::Ok()
            .json(svc::list(&state.read_db, &user, filter.into_inner(), &page).await?),
    )
}

/// One organization with its qualifications.
#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = "organizations", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = OrganizationView), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/organizations/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::get(&state.read_db, &user, *id).await?))
}

/// Self-registration of an enterprise (no auth); it starts unverified.
#[utoipa::path(post, path = "/api/v1/enterprises/register", tag = "organizations", request_body = Registration,
    params(("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    responses((status = 201, body = Registered),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/enterprises/register")]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: IdempotencyKey,
    body: web::Json<Registration>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let st = state.clone();
    idempotency::create(
        &state,
        &req,
        "anonymous".into(),
        key,
        body.into_inner(),
        StatusCode::CREATED,
        |txn, input| async move {
            let v = svc::register(&st, &txn, now, input).await?;
            Ok((v, txn))
        },
    )
    .await
}

/// Marks an organization verified (admin, service centre).
#[utoipa::path(post, path = "/api/v1/organizations/{id}/verify", tag = "organizations", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = OrganizationView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[post("/organizations/{id}/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let id = *id;
    let (view, _) = write(&state, |txn| async move {
        Ok((svc::verify(&txn, &user, now, id).await?, txn))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Records (creates or replaces) a qualification of an enterprise with its certificate (admin,
/// fund office; a chain office proposes one instead).
#[utoipa::path(put, path = "/api/v1/organizations/{id}/qualifications/{kind}", tag = "organizations",
    params(("id" = Uuid, Path), ("kind" = QualificationKind, Path)), request_body = QualificationInput,
    security(("bearer" = [])),
    responses((status = 200, body = QualificationView), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "a concurrent change of the same qualification"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/organizations/{id}/qualifications/{kind}")]
pub async fn put_qualification(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, QualificationKind)>,
    body: web::Json<QualificationInput>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let (id, kind) = path.into_inner();
    let input = body.into_inner();
    let v = write(&state, |txn| async move {
        Ok((
            qualifications::put(&txn, &user, now, id, kind, input).await?,
            txn,
        ))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Removes a qualification (admin, fund office).
#[utoipa::path(delete, path = "/api/v1/organizations/{id}/qualifications/{kind}", tag = "organizations",
    params(("id" = Uuid, Path), ("kind" = QualificationKind, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "the organization is not an enterprise")))]
#[delete("/organizations/{id}/qualifications/{kind}")]
pub async fn delete_qualification(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, QualificationKind)>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let (id, kind) = path.into_inner();
    write(&state, |txn| async move {
        Ok((
            qualifications::delete(&txn, &user, now, id, kind).await?,
            txn,
        ))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(register)
        .service(verify)
        .service(put_qualification)
        .service(delete_qualification);
}
