//! `/credit-lines`: reads, the ledger (drawdowns, repayments, reversals) and the status actions.

use super::write;
use crate::{
    auth::AuthUser,
    error::{AppResult, Problem},
    idempotency::{self, IdempotencyKey},
    pagination::PageQuery,
    services::credit_lines::{
        self as svc, Booked, CreditLineView, LineAction, LineFilter, MovementView, NewMovement,
        ReverseInput,
    },
    state::AppState,
};
use actix_web::{HttpRequest, HttpResponse, get, http::StatusCode, post, web};
use entity::enums::MovementKind;
use uuid::Uuid;

/// A page of credit lines.
#[derive(utoipa::ToSchema)]
pub struct CreditLinePage {
    pub items: Vec<CreditLineView>,
    pub next_cursor: Option<String>,
}

/// A page of a line's movements.
#[derive(utoipa::ToSchema)]
pub struct MovementPage {
    pub items: Vec<MovementView>,
    pub next_cursor: Option<String>,
}

/// The credit lines the caller may see, filtered, oldest first.
#[utoipa::path(get, path = "/api/v1/credit-lines", tag = "finance", params(LineFilter, PageQuery),
    security(("bearer" = [])), responses((status = 200, body = CreditLinePage)))]
#[get("/credit-lines")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<LineFilter>,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::list(&state.read_db, &user, &filter, &page).await?))
}

/// One credit line.
#[utoipa::path(get, path = "/api/v1/credit-lines/{id}", tag = "finance", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 200, body = CreditLineView)))]
#[get("/credit-lines/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::get(&state.read_db, &user, *id).await?))
}

/// A line's ledger, oldest first.
#[utoipa::path(get, path = "/api/v1/credit-lines/{id}/movements", tag = "finance",
    params(("id" = Uuid, Path), PageQuery), security(("bearer" = [])),
    responses((status = 200, body = MovementPage)))]
#[get("/credit-lines/{id}/movements")]
pub async fn movements(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::movements(&state.read_db, &user, *id, &page).await?))
}

/// Books a drawdown or a repayment under a required `Idempotency-Key`.
async fn post_movement(
    state: &AppState,
    req: &HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    id: Uuid,
    kind: MovementKind,
    body: NewMovement,
) -> AppResult<HttpResponse> {
    let key = key.required()?;
    let now = state.clock.now();
    let cache = state.calendar.clone();
    idempotency::create(
        state,
        req,
        user.id.to_string(),
        key,
        body,
        StatusCode::CREATED,
        |txn, input| async move {
            // Only the time zone is needed (no clock is written): no share lock on the calendar.
            let cal = cache.current(&txn).await?;
            let v = svc::book(&txn, &cal, &user, now, id, kind, input).await?;
            Ok((v, txn))
        },
    )
    .await
}

/// Draws on the line (its bank): 409 `exceeds_available` past what is available,
/// `line_not_active` unless the line is active.
#[utoipa::path(post, path = "/api/v1/credit-lines/{id}/drawdowns", tag = "finance",
    params(("id" = Uuid, Path), ("Idempotency-Key" = String, Header, description = "required: a retry with the same key and body books nothing new")),
    request_body = NewMovement, security(("bearer" = [])),
    responses((status = 201, body = Booked),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "No `Idempotency-Key`, or a malformed body."),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`exceeds_available`, `line_not_active`, or the same key still in progress."),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/credit-lines/{id}/drawdowns")]
pub async fn drawdown(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    id: web::Path<Uuid>,
    body: web::Json<NewMovement>,
) -> AppResult<HttpResponse> {
    post_movement(
        &state,
        &req,
        user,
        key,
        *id,
        MovementKind::Drawdown,
        body.into_inner(),
    )
    .await
}

/// Books a repayment (its bank): 409 `exceeds_outstanding` past the outstanding balance.
#[utoipa::path(post, path = "/api/v1/credit-lines/{id}/repayments", tag = "finance",
    params(("id" = Uuid, Path), ("Idempotency-Key" = String, Header, description = "required: a retry with the same key and body books nothing new")),
    request_body = NewMovement, security(("bearer" = [])),
    responses((status = 201, body = Booked),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "No `Idempotency-Key`, or a malformed body."),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`exceeds_outstanding`, `line_closed`, or the same key still in progress."),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/credit-lines/{id}/repayments")]
pub async fn repayment(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    id: web::Path<Uuid>,
    body: web::Json<NewMovement>,
) -> AppResult<HttpResponse> {
    post_movement(
        &state,
        &req,
        user,
        key,
        *id,
        MovementKind::Repayment,
        body.into_inner(),
    )
    .await
}

/// Reverses a drawdown or a repayment (its bank), once: 409 `already_reversed`,
/// `cannot_reverse_reversal`, `reversal_below_zero`, `reversal_exceeds_limit`.
#[utoipa::path(post, path = "/api/v1/credit-lines/{id}/movements/{movement_id}/reverse", tag = "finance",
    params(("id" = Uuid, Path), ("movement_id" = Uuid, Path), ("Idempotency-Key" = String, Header, description = "required: a retry with the same key and body books nothing new")),
    request_body = ReverseInput, security(("bearer" = [])),
    responses((status = 201, body = Booked),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "No `Idempotency-Key`, or a malformed body."),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/credit-lines/{id}/movements/{movement_id}/reverse")]
pub async fn reverse(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<ReverseInput>,
) -> AppResult<HttpResponse> {
    let key = key.required()?;
    let (id, movement_id) = path.into_inner();
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
            let v = svc::reverse(&txn, &cal, &user, now, id, movement_id, input).await?;
            Ok((v, txn))
        },
    )
    .await
}

async fn run(
    state: &AppState,
    user: AuthUser,
    id: Uuid,
    action: LineAction,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let cache = state.calendar.clone();
    let v = write(state, |txn| async move {
        let cal = cache.current_for_write(&txn).await?;
        Ok((svc::act(&txn, &cal, &user, now, id, action).await?, txn))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

macro_rules! action {
    ($(#[doc = $doc:literal])* $name:ident, $api_path:literal, $path:literal, $variant:ident) => {
        $(#[doc = $doc])*
        #[utoipa::path(post, path = $api_path, tag = "finance", params(("id" = Uuid, Path)),
            security(("bearer" = [])),
            responses((status = 200, body = CreditLineView),
                (status = 403, body = Problem, content_type = "application/problem+json"),
                (status = 409, body = Problem, content_type = "application/problem+json")))]
        #[post($path)]
        pub async fn $name(
            state: web::Data<AppState>,
            user: AuthUser,
            id: web::Path<Uuid>,
        ) -> AppResult<HttpResponse> {
            run(&state, user, *id, LineAction::$variant).await
        }
    };
}

action!(
    /// Freezes an active line (its bank): no drawdowns until unfrozen.
    freeze, "/api/v1/credit-lines/{id}/freeze", "/credit-lines/{id}/freeze", Freeze);
action!(
    /// Unfreezes a frozen line (its bank).
    unfreeze, "/api/v1/credit-lines/{id}/unfreeze", "/credit-lines/{id}/unfreeze", Unfreeze);
action!(
    /// Closes an active or frozen line with nothing outstanding (its bank); its limit goes
    /// back to the program (409 `outstanding_not_zero` otherwise).
    close, "/api/v1/credit-lines/{id}/close", "/credit-lines/{id}/close", Close);

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(get)
        .service(movements)
        .service(drawdown)
        .service(repayment)
        .service(reverse)
        .service(freeze)
        .service(unfreeze)
        .service(close);
}
