//! Funds and subsidies: `/fund-programs`, `/fund-applications`, `/public-notices`,
//! `/objections`, `/disbursements`, `/conflicts` and `/risk-claims`.

use super::write;
use crate::{
    auth::AuthUser,
    error::{AppError, AppResult, Problem},
    idempotency::{self, IdempotencyKey},
    pagination::PageQuery,
    services::funds::{
        applications::{
            self as apps, Act, DisbursementView, FinalReviewInput, FundApplicationFilter,
            FundApplicationView, FundEventView, InitialReviewInput, NewFundApplication,
            ObjectionView, ResubmitInput,
        },
        conflicts::{self, ConflictFilter, ConflictView, NewConflict},
        disbursements::{self, NewPayment, ReversePayment},
        notices::{self, NewObjection, NoticeFilter, ObjectionDecision},
        programs::{self, FundProgramFilter, FundProgramView, NewFundProgram},
        risk_claims::{
            self as claims, ClaimDecision, NewRecovery, NewRiskClaim, RecoveryView,
            RiskClaimFilter, RiskClaimView,
        },
    },
    state::AppState,
};
use actix_web::{HttpRequest, HttpResponse, get, http::StatusCode, post, web};
use uuid::Uuid;

/// A page of fund programs.
#[derive(utoipa::ToSchema)]
pub struct FundProgramPage {
    pub items: Vec<FundProgramView>,
    pub next_cursor: Option<String>,
}

/// A page of open programs with the caller's eligibility.
#[derive(utoipa::ToSchema)]
pub struct EligiblePage {
    pub items: Vec<programs::EligibleProgram>,
    pub next_cursor: Option<String>,
}

/// A page of fund applications.
#[derive(utoipa::ToSchema)]
pub struct FundApplicationPage {
    pub items: Vec<FundApplicationView>,
    pub next_cursor: Option<String>,
}

/// A page of the public notice.
#[derive(utoipa::ToSchema)]
pub struct PublicNoticePage {
    pub items: Vec<notices::PublicNotice>,
    pub next_cursor: Option<String>,
}

/// A page of declared conflicts.
#[derive(utoipa::ToSchema)]
pub struct ConflictPage {
    pub items: Vec<ConflictView>,
    pub next_cursor: Option<String>,
}

/// A page of risk claims.
#[derive(utoipa::ToSchema)]
pub struct RiskClaimPage {
    pub items: Vec<RiskClaimView>,
    pub next_cursor: Option<String>,
}

/// Creates a fund program (the fund office).
#[utoipa::path(post, path = "/api/v1/fund-programs", tag = "funds", request_body = NewFundProgram,
    params(("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    security(("bearer" = [])),
    responses((status = 201, body = FundProgramView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/fund-programs")]
pub async fn create_program(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    body: web::Json<NewFundProgram>,
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

/// The fund programs, with what is committed, disbursed and remaining of each budget.
#[utoipa::path(get, path = "/api/v1/fund-programs", tag = "funds", params(FundProgramFilter, PageQuery),
    security(("bearer" = [])), responses((status = 200, body = FundProgramPage)))]
#[get("/fund-programs")]
pub async fn list_programs(
    state: web::Data<AppState>,
    _user: AuthUser,
    filter: web::Query<FundProgramFilter>,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    Ok(HttpResponse::Ok().json(programs::list(&state.read_db, now, &filter, &page).await?))
}

/// Every open program with whether the calling enterprise may apply, and why (in Chinese).
#[utoipa::path(get, path = "/api/v1/fund-programs/eligible", tag = "funds", params(PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = EligiblePage), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/fund-programs/eligible")]
pub async fn eligible(
    state: web::Data<AppState>,
    user: AuthUser,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let body = programs::eligible_json(
        &state.read_db,
        (&state.program_cache, &state.eligible_answers),
        &state.calendar,
        &user,
        now,
        &page,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// One fund program.
#[utoipa::path(get, path = "/api/v1/fund-programs/{id}", tag = "funds", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 200, body = FundProgramView)))]
#[get("/fund-programs/{id}")]
pub async fn get_program(
    state: web::Data<AppState>,
    _user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    Ok(HttpResponse::Ok().json(programs::get(&state.read_db, now, *id).await?))
}

/// Applies to a program (a verified, eligible enterprise, inside the window, one live
/// application per program).
#[utoipa::path(post, path = "/api/v1/fund-applications", tag = "funds", request_body = NewFundApplication,
    params(("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    security(("bearer" = [])),
    responses((status = 201, body = FundApplicationView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "window closed, not eligible (with the reasons), or a live application exists"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/fund-applications")]
pub async fn create_application(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    body: web::Json<NewFundApplication>,
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
            Ok((apps::submit(&txn, &cal, &user, now, input).await?, txn))
        },
    )
    .await
}

/// The fund applications the caller may see, oldest first.
#[utoipa::path(get, path = "/api/v1/fund-applications", tag = "funds", params(FundApplicationFilter, PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = FundApplicationPage), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/fund-applications")]
pub async fn list_applications(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<FundApplicationFilter>,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(apps::list(&state.read_db, &user, &filter, &page).await?))
}

/// One application with its reviews, objections, disbursements and timeline.
#[utoipa::path(get, path = "/api/v1/fund-applications/{id}", tag = "funds", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 200, body = FundApplicationView)))]
#[get("/fund-applications/{id}")]
pub async fn get_application(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(apps::get(&state.read_db, &user, *id).await?))
}

/// The timeline of an application, oldest first.
#[utoipa::path(get, path = "/api/v1/fund-applications/{id}/events", tag = "funds", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 200, body = [FundEventView])))]
#[get("/fund-applications/{id}/events")]
pub async fn application_events(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let v = apps::get(&state.read_db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(v.timeline.unwrap_or_default()))
}

/// Runs one action in one transaction and answers the whole updated application.
async fn run(state: &AppState, user: AuthUser, id: Uuid, act: Act) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let cache = state.calendar.clone();
    let v = write(state, |txn| async move {
        let cal = cache.current_for_write(&txn).await?;
        Ok((apps::act(&txn, &cal, &user, now, id, act).await?, txn))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The initial review (the office of the chain the enterprise applied through): `pass` with
/// an optional recommended amount, `return` for changes, or `reject`.
#[utoipa::path(post, path = "/api/v1/fund-applications/{id}/initial_review", tag = "funds", params(("id" = Uuid, Path)),
    request_body = InitialReviewInput, security(("bearer" = [])),
    responses((status = 200, body = FundApplicationView),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "not a reviewer of it, or a declared conflict of interest"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/fund-applications/{id}/initial_review")]
pub async fn initial_review(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<InitialReviewInput>,
) -> AppResult<HttpResponse> {
    run(&state, user, *id, Act::InitialReview(body.into_inner())).await
}

/// The enterprise resubmits a returned application, optionally changed; the initial review
/// starts again.
#[utoipa::path(post, path = "/api/v1/fund-applications/{id}/resubmit", tag = "funds", params(("id" = Uuid, Path)),
    request_body(content = Option<ResubmitInput>, description = "optional: what changed"), security(("bearer" = [])),
    responses((status = 200, body = FundApplicationView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/fund-applications/{id}/resubmit")]
pub async fn resubmit(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let input = if body.iter().all(u8::is_ascii_whitespace) {
        ResubmitInput::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            if e.is_data() {
                AppError::invalid("body", e.to_string())
            } else {
                AppError::BadRequest(format!("malformed JSON: {e}"))
            }
        })?
    };
    run(&state, user, *id, Act::Resubmit(input)).await
}

/// The final review (the fund office): `approve` reserves the amount from the budget and opens
/// the public notice (with no notice days, approves at once); `reject`.
#[utoipa::path(post, path = "/api/v1/fund-applications/{id}/final_review", tag = "funds", params(("id" = Uuid, Path)),
    request_body = FinalReviewInput, security(("bearer" = [])),
    responses((status = 200, body = FundApplicationView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "wrong status, budget exceeded, or no longer eligible"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/fund-applications/{id}/final_review")]
pub async fn final_review(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<FinalReviewInput>,
) -> AppResult<HttpResponse> {
    run(&state, user, *id, Act::FinalReview(body.into_inner())).await
}

/// The enterprise withdraws (declines) its application before anything is paid; a
/// reservation goes back to the budget.
#[utoipa::path(post, path = "/api/v1/fund-applications/{id}/withdraw", tag = "funds", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = FundApplicationView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
#[post("/fund-applications/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    run(&state, user, *id, Act::Withdraw).await
}

/// The applications in public notice (公示), readable without signing in.
#[utoipa::path(get, path = "/api/v1/public-notices", tag = "funds", params(NoticeFilter, PageQuery),
    responses((status = 200, body = PublicNoticePage)))]
#[get("/public-notices")]
pub async fn public_notices(
    state: web::Data<AppState>,
    filter: web::Query<NoticeFilter>,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(notices::list(&state.read_db, &filter, &page).await?))
}

/// Objects to an application in notice (any signed-in user, until the notice ends).
#[utoipa::path(post, path = "/api/v1/fund-applications/{id}/objections", tag = "funds", params(("id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    request_body = NewObjection, security(("bearer" = [])),
    responses((status = 201, body = ObjectionView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "not in notice, or the notice ended"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/fund-applications/{id}/objections")]
pub async fn raise_objection(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    id: web::Path<Uuid>,
    body: web::Json<NewObjection>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let cache = state.calendar.clone();
    let id = *id;
    idempotency::create(
        &state,
        &req,
        user.id.to_string(),
        key,
        body.into_inner(),
        StatusCode::CREATED,
        |txn, input| async move {
            let cal = cache.current_for_write(&txn).await?;
            Ok((
                notices::object(&txn, &cal, &user, now, id, input).await?,
                txn,
            ))
        },
    )
    .await
}

/// The fund office decides an objection: upheld rejects the application and releases its
/// reservation.
#[utoipa::path(post, path = "/api/v1/objections/{id}/decision", tag = "funds", params(("id" = Uuid, Path)),
    request_body = ObjectionDecision, security(("bearer" = [])),
    responses((status = 200, body = ObjectionView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/objections/{id}/decision")]
pub async fn decide_objection(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<ObjectionDecision>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let id = *id;
    let v = write(&state, |txn| async move {
        Ok((
            notices::decide(&txn, &user, now, id, body.into_inner()).await?,
            txn,
        ))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Pays an approved application (the fund office); the eligibility rules are checked again.
#[utoipa::path(post, path = "/api/v1/fund-applications/{id}/disbursements", tag = "funds", params(("id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    request_body = NewPayment, security(("bearer" = [])),
    responses((status = 201, body = DisbursementView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "not approved, beyond the approved amount, or no longer eligible"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/fund-applications/{id}/disbursements")]
pub async fn disburse(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    id: web::Path<Uuid>,
    body: web::Json<NewPayment>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let cache = state.calendar.clone();
    let id = *id;
    idempotency::create(
        &state,
        &req,
        user.id.to_string(),
        key,
        body.into_inner(),
        StatusCode::CREATED,
        |txn, input| async move {
            let cal = cache.current_for_write(&txn).await?;
            Ok((
                disbursements::pay_application(&txn, &cal, &user, now, id, input).await?,
                txn,
            ))
        },
    )
    .await
}

/// Voids a payment (of an application or a claim) with a reversal row, once.
#[utoipa::path(post, path = "/api/v1/disbursements/{id}/reverse", tag = "funds", params(("id" = Uuid, Path)),
    request_body = ReversePayment, security(("bearer" = [])),
    responses((status = 200, body = DisbursementView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/disbursements/{id}/reverse")]
pub async fn reverse_disbursement(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<ReversePayment>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let cache = state.calendar.clone();
    let id = *id;
    let v = write(&state, |txn| async move {
        let cal = cache.current_for_write(&txn).await?;
        Ok((
            disbursements::reverse(&txn, &cal, &user, now, id, body.into_inner()).await?,
            txn,
        ))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Declares the caller's conflict of interest with an enterprise (chain office and fund office
/// users).
#[utoipa::path(post, path = "/api/v1/conflicts", tag = "funds", request_body = NewConflict,
    params(("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    security(("bearer" = [])),
    responses((status = 201, body = ConflictView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/conflicts")]
pub async fn declare_conflict(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    body: web::Json<NewConflict>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    idempotency::create(
        &state,
        &req,
        user.id.to_string(),
        key,
        body.into_inner(),
        StatusCode::CREATED,
        |txn, input| async move { Ok((conflicts::declare(&txn, &user, now, input).await?, txn)) },
    )
    .await
}

/// Declared conflicts: the fund office and admins all, a reviewer their own.
#[utoipa::path(get, path = "/api/v1/conflicts", tag = "funds", params(ConflictFilter, PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = ConflictPage), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/conflicts")]
pub async fn list_conflicts(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<ConflictFilter>,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(conflicts::list(&state.read_db, &user, &filter, &page).await?))
}

/// Claims risk compensation on a credit line the bank granted; the line defaults and the
/// payable amount is reserved from the program's budget.
#[utoipa::path(post, path = "/api/v1/risk-claims", tag = "funds", request_body = NewRiskClaim,
    params(("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    security(("bearer" = [])),
    responses((status = 201, body = RiskClaimView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/risk-claims")]
pub async fn create_claim(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    body: web::Json<NewRiskClaim>,
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
            Ok((claims::submit(&txn, &cal, &user, now, input).await?, txn))
        },
    )
    .await
}

/// The risk claims the caller may see, oldest first.
#[utoipa::path(get, path = "/api/v1/risk-claims", tag = "funds", params(RiskClaimFilter, PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = RiskClaimPage), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/risk-claims")]
pub async fn list_claims(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<RiskClaimFilter>,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(claims::list(&state.read_db, &user, &filter, &page).await?))
}

/// One risk claim with its payments, recoveries and timeline.
#[utoipa::path(get, path = "/api/v1/risk-claims/{id}", tag = "funds", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 200, body = RiskClaimView)))]
#[get("/risk-claims/{id}")]
pub async fn get_claim(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(claims::get(&state.read_db, &user, *id).await?))
}

/// The fund office approves or rejects a claim; a rejection releases the reservation.
#[utoipa::path(post, path = "/api/v1/risk-claims/{id}/decision", tag = "funds", params(("id" = Uuid, Path)),
    request_body = ClaimDecision, security(("bearer" = [])),
    responses((status = 200, body = RiskClaimView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/risk-claims/{id}/decision")]
pub async fn decide_claim(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<ClaimDecision>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let cache = state.calendar.clone();
    let id = *id;
    let v = write(&state, |txn| async move {
        let cal = cache.current_for_write(&txn).await?;
        Ok((
            claims::decide(&txn, &cal, &user, now, id, body.into_inner()).await?,
            txn,
        ))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Pays an approved claim to the bank (the fund office).
#[utoipa::path(post, path = "/api/v1/risk-claims/{id}/payments", tag = "funds", params(("id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    request_body = NewPayment, security(("bearer" = [])),
    responses((status = 201, body = DisbursementView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/risk-claims/{id}/payments")]
pub async fn pay_claim(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    id: web::Path<Uuid>,
    body: web::Json<NewPayment>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let cache = state.calendar.clone();
    let id = *id;
    idempotency::create(
        &state,
        &req,
        user.id.to_string(),
        key,
        body.into_inner(),
        StatusCode::CREATED,
        |txn, input| async move {
            let cal = cache.current_for_write(&txn).await?;
            Ok((claims::pay(&txn, &cal, &user, now, id, input).await?, txn))
        },
    )
    .await
}

/// The bank books a recovery on a paid claim's line; the covered share goes back to the
/// program's budget.
#[utoipa::path(post, path = "/api/v1/risk-claims/{id}/recoveries", tag = "funds", params(("id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    request_body = NewRecovery, security(("bearer" = [])),
    responses((status = 201, body = RecoveryView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/risk-claims/{id}/recoveries")]
pub async fn recover(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    id: web::Path<Uuid>,
    body: web::Json<NewRecovery>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let cache = state.calendar.clone();
    let id = *id;
    idempotency::create(
        &state,
        &req,
        user.id.to_string(),
        key,
        body.into_inner(),
        StatusCode::CREATED,
        |txn, input| async move {
            let cal = cache.current_for_write(&txn).await?;
            Ok((
                claims::recover(&txn, &cal, &user, now, id, input).await?,
                txn,
            ))
        },
    )
    .await
}

/// Registers the routes (`eligible` before `{id}`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create_program)
        .service(list_programs)
        .service(eligible)
        .service(get_program)
        .service(create_application)
        .service(list_applications)
        .service(get_application)
        .service(application_events)
        .service(initial_review)
        .service(resubmit)
        .service(final_review)
        .service(withdraw)
        .service(public_notices)
        .service(raise_objection)
        .service(decide_objection)
        .service(disburse)
        .service(reverse_disbursement)
        .service(declare_conflict)
        .service(list_conflicts)
        .service(create_claim)
        .service(list_claims)
        .service(get_claim)
        .service(decide_claim)
        .service(pay_claim)
        .service(recover);
}
