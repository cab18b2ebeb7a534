//! Supply-chain finance: `/credit-programs`, `/financing-requests` and `/banks/{id}/settings`.

use super::write;
use crate::{
    auth::AuthUser,
    error::{AppResult, Problem},
    idempotency::{self, IdempotencyKey},
    pagination::PageQuery,
    services::finance::{
        programs::{self, NewProgram, ProgramFilter, ProgramView},
        requests::{
            self as svc, Act, ApproveInput, FinancingEventView, FinancingFilter, FinancingMessage,
            FinancingReason, FinancingRequestView, FinancingSupplement, NewFinancingRequest,
            ReferInput,
        },
        settings::{self, BankSettings, BankSettingsInput},
    },
    state::AppState,
};
use actix_web::{HttpRequest, HttpResponse, get, http::StatusCode, post, put, web};
use uuid::Uuid;

/// Sets up a credit program for a chain (a lead or partner bank of it).
#[utoipa::path(post, path = "/api/v1/credit-programs", tag = "finance", request_body = NewProgram,
    params(("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    security(("bearer" = [])),
    responses((status = 201, body = ProgramView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/credit-programs")]
pub async fn create_program(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    body: web::Json<NewProgram>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    idempotency::create(
        &state,
        &req,
        user.id.to_string(),
        key,
        body.into_inner(),
        StatusCode::CREATED,
        |txn, input| async move { Ok((programs::create(&txn, &user, now, input).await?, txn)) },
    )
    .await
}

/// The credit programs the caller may see, with granted and remaining quota.
#[utoipa::path(get, path = "/api/v1/credit-programs", tag = "finance", params(ProgramFilter, PageQuery),
    security(("bearer" = [])), responses((status = 200, body = crate::routes::pages::ProgramPage)))]
#[get("/credit-programs")]
pub async fn list_programs(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<ProgramFilter>,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(programs::list(&state.read_db, &user, &filter, &page).await?))
}

/// One credit program.
#[utoipa::path(get, path = "/api/v1/credit-programs/{id}", tag = "finance", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 200, body = ProgramView)))]
#[get("/credit-programs/{id}")]
pub async fn get_program(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(programs::get(&state.read_db, &user, *id).await?))
}

/// Submits a financing request (a verified enterprise, a member of the chain): routed to the
/// program's bank, else the chain's lead bank.
#[utoipa::path(post, path = "/api/v1/financing-requests", tag = "finance", request_body = NewFinancingRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    security(("bearer" = [])),
    responses((status = 201, body = FinancingRequestView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "no lead bank, or the program is outside its validity"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/financing-requests")]
pub async fn create_request(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    body: web::Json<NewFinancingRequest>,
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
            let cal = cache.current_for_write(&txn).await?;
            Ok((svc::submit(&txn, &cal, &user, now, input).await?, txn))
        },
    )
    .await
}

/// The financing requests the caller may see, oldest first.
#[utoipa::path(get, path = "/api/v1/financing-requests", tag = "finance", params(FinancingFilter, PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = crate::routes::pages::FinancingRequestPage),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/financing-requests")]
pub async fn list_requests(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<FinancingFilter>,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::list(&state.read_db, &user, &filter, &page).await?))
}

/// One financing request with its clocks and any pending proposal.
#[utoipa::path(get, path = "/api/v1/financing-requests/{id}", tag = "finance", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 200, body = FinancingRequestView)))]
#[get("/financing-requests/{id}")]
pub async fn get_request(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::get(&state.read_db, &user, *id).await?))
}

/// The timeline of a financing request, oldest first.
#[utoipa::path(get, path = "/api/v1/financing-requests/{id}/events", tag = "finance", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 200, body = [FinancingEventView])))]
#[get("/financing-requests/{id}/events")]
pub async fn request_events(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::events(&state.read_db, &user, *id).await?))
}

/// Runs one action in one transaction and answers the whole updated request.
async fn run(state: &AppState, user: AuthUser, id: Uuid, act: Act) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let cache = state.calendar.clone();
    let v = write(state, |txn| async move {
        let cal = cache.current_for_write(&txn).await?;
        Ok((svc::act(&txn, &cal, &user, now, id, act).await?, txn))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

macro_rules! action {
    ($(#[doc = $doc:literal])* $name:ident, $api_path:literal, $path:literal, $input:ty, $variant:ident) => {
        $(#[doc = $doc])*
        #[utoipa::path(post, path = $api_path, tag = "finance", params(("id" = Uuid, Path)),
            request_body = $input, security(("bearer" = [])),
            responses((status = 200, body = FinancingRequestView),
                (status = 403, body = Problem, content_type = "application/problem+json"),
                (status = 404, body = Problem, content_type = "application/problem+json"),
                (status = 409, body = Problem, content_type = "application/problem+json"),
                (status = 422, body = Problem, content_type = "application/problem+json")))]
        #[post($path)]
        pub async fn $name(
            state: web::Data<AppState>,
            user: AuthUser,
            id: web::Path<Uuid>,
            body: web::Json<$input>,
        ) -> AppResult<HttpResponse> {
            run(&state, user, *id, Act::$variant(body.into_inner())).await
        }
    };
    ($(#[doc = $doc:literal])* $name:ident, $api_path:literal, $path:literal, $variant:ident) => {
        $(#[doc = $doc])*
        #[utoipa::path(post, path = $api_path, tag = "finance", params(("id" = Uuid, Path)),
            security(("bearer" = [])),
            responses((status = 200, body = FinancingRequestView),
                (status = 403, body = Problem, content_type = "application/problem+json"),
                (status = 404, body = Problem, content_type = "application/problem+json"),
                (status = 409, body = Problem, content_type = "application/problem+json")))]
        #[post($path)]
        pub async fn $name(
            state: web::Data<AppState>,
            user: AuthUser,
            id: web::Path<Uuid>,
        ) -> AppResult<HttpResponse> {
            run(&state, user, *id, Act::$variant).await
        }
    };
}

action!(
    /// The bank accepts (受理) the request: meets the accept clock.
    accept, "/api/v1/financing-requests/{id}/accept", "/financing-requests/{id}/accept", Accept);
action!(
    /// The bank asks the enterprise for more information; the clocks pause.
    request_info, "/api/v1/financing-requests/{id}/request_info", "/financing-requests/{id}/request_info", FinancingMessage, RequestInfo);
action!(
    /// The enterprise supplements; the clocks resume, later by the working time paused.
    supplement, "/api/v1/financing-requests/{id}/supplement", "/financing-requests/{id}/supplement", FinancingSupplement, Supplement);
action!(
    /// The bank approves with the line's terms and the credit line is granted; above the bank's
    /// four-eyes threshold the first approval is a proposal a second user confirms with the
    /// same terms.
    approve, "/api/v1/financing-requests/{id}/approve", "/financing-requests/{id}/approve", ApproveInput, Approve);
action!(
    /// The bank rejects the request with a reason (also discards a pending proposal).
    reject, "/api/v1/financing-requests/{id}/reject", "/financing-requests/{id}/reject", FinancingReason, Reject);
action!(
    /// The enterprise withdraws its request; its clocks are cancelled.
    withdraw, "/api/v1/financing-requests/{id}/withdraw", "/financing-requests/{id}/withdraw", Withdraw);
action!(
    /// The lead bank refers (转介) a request without a program to a partner bank of the chain;
    /// the accept clock starts again for it.
    refer, "/api/v1/financing-requests/{id}/refer", "/financing-requests/{id}/refer", ReferInput, Refer);

/// A bank's settings for financing requests (that bank's users, admin).
#[utoipa::path(get, path = "/api/v1/banks/{organization_id}/settings", tag = "finance",
    params(("organization_id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = BankSettings), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/banks/{organization_id}/settings")]
pub async fn get_settings(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(settings::get(&state.read_db, &user, *id).await?))
}

/// Changes a bank's settings: four-eyes threshold (a money string or `null`), the working days
/// to accept and to decide, and the days after which an unused line expires.
#[utoipa::path(put, path = "/api/v1/banks/{organization_id}/settings", tag = "finance",
    params(("organization_id" = Uuid, Path)), request_body = BankSettingsInput, security(("bearer" = [])),
    responses((status = 200, body = BankSettings), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/banks/{organization_id}/settings")]
pub async fn put_settings(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<BankSettingsInput>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let id = *id;
    let v = write(&state, |txn| async move {
        Ok((
            settings::put(&txn, &user, now, id, body.into_inner()).await?,
            txn,
        ))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create_program)
        .service(list_programs)
        .service(get_program)
        .service(create_request)
        .service(list_requests)
        .service(get_request)
        .service(request_events)
        .service(accept)
        .service(request_info)
        .service(supplement)
        .service(approve)
        .service(reject)
        .service(withdraw)
        .service(refer)
        .service(get_settings)
        .service(put_settings);
}
