//! `/dashboard/*`: SLA figures by department, chain or category, as JSON or CSV, and the
//! at-risk list.

use crate::{
    auth::AuthUser,
    error::{AppResult, Problem},
    services::dashboard::{self as svc, AtRiskPage, AtRiskQuery, SlaDashboard, SlaQuery},
    state::AppState,
};
use actix_web::{HttpResponse, get, web};

/// The figures of one request, read from one snapshot.
async fn figures(state: &AppState, user: &AuthUser, q: &SlaQuery) -> AppResult<SlaDashboard> {
    let txn = svc::read_snapshot(&state.read_db).await?;
    let d = svc::sla(&txn, &state.calendar, user, state.clock.now(), q).await?;
    txn.commit().await?;
    Ok(d)
}

/// SLA figures of a period, one row per department, chain or category.
#[utoipa::path(get, path = "/api/v1/dashboard/sla", tag = "dashboard", params(SlaQuery), security(("bearer" = [])),
    responses((status = 200, body = SlaDashboard), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[get("/dashboard/sla")]
pub async fn sla(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<SlaQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(figures(&state, &user, &q).await?))
}

/// The same figures as CSV (UTF-8, a header row of the field names).
#[utoipa::path(get, path = "/api/v1/dashboard/sla.csv", tag = "dashboard", params(SlaQuery), security(("bearer" = [])),
    responses((status = 200, body = String, content_type = "text/csv"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[get("/dashboard/sla.csv")]
pub async fn sla_csv(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<SlaQuery>,
) -> AppResult<HttpResponse> {
    let d = figures(&state, &user, &q).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"sla-{}-{}.csv\"", d.from, d.to),
        ))
        .body(svc::to_csv(&d)))
}

/// Open appeals by their nearest unmet due time, overdue first.
#[utoipa::path(get, path = "/api/v1/dashboard/at-risk", tag = "dashboard", params(AtRiskQuery), security(("bearer" = [])),
    responses((status = 200, body = AtRiskPage), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/dashboard/at-risk")]
pub async fn at_risk(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<AtRiskQuery>,
) -> AppResult<HttpResponse> {
    let page = svc::at_risk(
        &state.read_db,
        &state.calendar,
        &user,
        state.clock.now(),
        &q,
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Registers the dashboard routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(sla).service(sla_csv).service(at_risk);
}
