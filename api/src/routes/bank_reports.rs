//! `/bank-reports`: the lead banks' monthly reports — generation, reads, CSV.

use crate::{
    auth::AuthUser,
    error::{AppResult, Problem},
    idempotency::{self, IdempotencyKey},
    pagination::PageQuery,
    services::bank_reports::{self as svc, BankReportView, GenerateInput, Generated, ReportFilter},
    state::AppState,
};
use actix_web::{HttpRequest, HttpResponse, get, http::StatusCode, post, web};
use uuid::Uuid;

/// A page of reports.
#[derive(utoipa::ToSchema)]
pub struct BankReportPage {
    pub items: Vec<BankReportView>,
    pub next_cursor: Option<String>,
}

/// Generates a month's reports (admin and service centre: every bank and chain; a bank: its
/// own); a regeneration is a new version.
#[utoipa::path(post, path = "/api/v1/bank-reports/generate", tag = "finance", request_body = GenerateInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    security(("bearer" = [])),
    responses((status = 201, body = Generated), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`period` is not a month that has ended.")))]
#[post("/bank-reports/generate")]
pub async fn generate(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    body: web::Json<GenerateInput>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let cache = state.calendar.clone();
    idempotency::create(
        &state,
        &req,
        user.id.to_string(),
        key,
        body.into_inner(),
        StatusCode::CREATED,
        |txn, input| async move {
            let cal = cache.current(&txn).await?;
            let v = svc::generate(&txn, &cal, &user, now, input).await?;
            Ok((v, txn))
        },
    )
    .await
}

/// The reports the caller may see, filtered, oldest first.
#[utoipa::path(get, path = "/api/v1/bank-reports", tag = "finance", params(ReportFilter, PageQuery),
    security(("bearer" = [])), responses((status = 200, body = BankReportPage)))]
#[get("/bank-reports")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<ReportFilter>,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::list(&state.read_db, &user, &filter, &page).await?))
}

/// One report as CSV (UTF-8, a header row of the field names).
#[utoipa::path(get, path = "/api/v1/bank-reports/{id}.csv", tag = "finance", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 200, body = String, content_type = "text/csv")))]
#[get("/bank-reports/{id}.csv")]
pub async fn csv(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let (name, body) = svc::csv(&state.read_db, &user, *id).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body))
}

/// One report.
#[utoipa::path(get, path = "/api/v1/bank-reports/{id}", tag = "finance", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 200, body = BankReportView)))]
#[get("/bank-reports/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::get(&state.read_db, &user, *id).await?))
}

/// Registers the routes (the CSV before the plain read, which would take `{id}.csv` too).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(generate)
        .service(list)
        .service(csv)
        .service(get);
}
