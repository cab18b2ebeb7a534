//! `/sla-policies` and `/routing-rules`.

use super::write;
use crate::{
    auth::AuthUser,
    error::{AppResult, Problem},
    services::appeals_admin::{self as svc, PolicyInput, PolicyView, RuleInput, RuleView},
    state::AppState,
};
use actix_web::{HttpResponse, delete, get, put, web};
use entity::enums::AppealCategory;

/// Every category's SLA policy.
#[utoipa::path(get, path = "/api/v1/sla-policies", tag = "appeals", security(("bearer" = [])),
    responses((status = 200, body = [PolicyView]), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/sla-policies")]
pub async fn policies(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::policies(&state.read_db, &user).await?))
}

/// Sets a category's SLA policy (admin); applies to appeals submitted from then on.
#[utoipa::path(put, path = "/api/v1/sla-policies/{category}", tag = "appeals", params(("category" = AppealCategory, Path)),
    request_body = PolicyInput, security(("bearer" = [])),
    responses((status = 200, body = PolicyView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/sla-policies/{category}")]
pub async fn put_policy(
    state: web::Data<AppState>,
    user: AuthUser,
    category: web::Path<AppealCategory>,
    body: web::Json<PolicyInput>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let (category, input) = (category.into_inner(), body.into_inner());
    let v = write(&state, |txn| async move {
        Ok((
            svc::put_policy(&txn, &user, now, category, input).await?,
            txn,
        ))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Every routing rule.
#[utoipa::path(get, path = "/api/v1/routing-rules", tag = "appeals", security(("bearer" = [])),
    responses((status = 200, body = [RuleView]), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/routing-rules")]
pub async fn rules(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::rules(&state.read_db, &user).await?))
}

/// Routes a category's new appeals to a department at once (admin).
#[utoipa::path(put, path = "/api/v1/routing-rules/{category}", tag = "appeals", params(("category" = AppealCategory, Path)),
    request_body = RuleInput, security(("bearer" = [])),
    responses((status = 200, body = RuleView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/routing-rules/{category}")]
pub async fn put_rule(
    state: web::Data<AppState>,
    user: AuthUser,
    category: web::Path<AppealCategory>,
    body: web::Json<RuleInput>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let (category, input) = (category.into_inner(), body.into_inner());
    let v = write(&state, |txn| async move {
        Ok((svc::put_rule(&txn, &user, now, category, input).await?, txn))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Removes a category's routing rule (admin).
#[utoipa::path(delete, path = "/api/v1/routing-rules/{category}", tag = "appeals", params(("category" = AppealCategory, Path)),
    security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[delete("/routing-rules/{category}")]
pub async fn delete_rule(
    state: web::Data<AppState>,
    user: AuthUser,
    category: web::Path<AppealCategory>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let category = category.into_inner();
    write(&state, |txn| async move {
        svc::delete_rule(&txn, &user, now, category).await?;
        Ok(((), txn))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(policies)
        .service(put_policy)
        .service(rules)
        .service(put_rule)
        .service(delete_rule);
}
