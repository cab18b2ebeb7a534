//! `/appeals`: submission, lists, the timeline and every workflow action.

use super::write;
use crate::{
    auth::AuthUser,
    error::{AppResult, Problem},
    idempotency::{self, IdempotencyKey},
    pagination::PageQuery,
    services::appeals::{
        self as svc, Act, AppealFilter, AppealView, AssignInput, EventView, ExtensionDecisionInput,
        ExtensionInput, MessageInput, NewAppeal, OptionalReasonInput, RateInput, ReasonInput,
        Rules, SuperviseInput, SupplementInput, TransferInput,
    },
    state::AppState,
};
use actix_web::{HttpRequest, HttpResponse, get, http::StatusCode, post, web};
use uuid::Uuid;

/// Submits an appeal (a verified enterprise); a routing rule assigns it at once.
#[utoipa::path(post, path = "/api/v1/appeals", tag = "appeals", request_body = NewAppeal,
    params(("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    security(("bearer" = [])),
    responses((status = 201, body = AppealView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/appeals")]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    key: IdempotencyKey,
    body: web::Json<NewAppeal>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let cache = state.calendar.clone();
    // Without a key or attachments nothing needs a transaction: the write is combined with
    // those of concurrent submissions (PostgreSQL).
    if let Some(combiner) = &state.combiner
        && key.0.is_none()
        && body.attachment_ids.is_empty()
    {
        let v = svc::submit_combined(&state.db, &cache, combiner, &user, now, body.into_inner())
            .await?;
        return Ok(HttpResponse::Created().json(v));
    }
    idempotency::create(
        &state,
        &req,
        user.id.to_string(),
        key,
        body.into_inner(),
        StatusCode::CREATED,
        |txn, input| async move {
            // The submission reads the calendar (locked for the write) with its context.
            let v = svc::submit(&txn, &cache, None, &user, now, input).await?;
            Ok((v, txn))
        },
    )
    .await
}

/// The appeals the caller may see, filtered, oldest first.
#[utoipa::path(get, path = "/api/v1/appeals", tag = "appeals", params(AppealFilter, PageQuery), security(("bearer" = [])),
    responses((status = 200, body = crate::routes::pages::AppealPage), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`due_before` outside 1900-01-01..9999-12-31")))]
#[get("/appeals")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    filter: web::Query<AppealFilter>,
    page: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let body = svc::list_json(
        &state.read_db,
        &state.calendar,
        &state.appeal_cache,
        state.clock.now(),
        &user,
        &filter,
        &page,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(body))
}

/// One appeal with its clocks.
#[utoipa::path(get, path = "/api/v1/appeals/{id}", tag = "appeals", params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = AppealView), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/appeals/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::get(&state.read_db, &user, *id).await?))
}

/// The timeline of an appeal, oldest first.
#[utoipa::path(get, path = "/api/v1/appeals/{id}/events", tag = "appeals", params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = [EventView]), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/appeals/{id}/events")]
pub async fn events(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::events(&state.read_db, &user, *id).await?))
}

/// Runs one action in one transaction and answers the whole updated appeal.
async fn run(state: &AppState, user: AuthUser, id: Uuid, act: Act) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let cache = state.calendar.clone();
    let rules = Rules {
        return_window: state.settings.appeal_return_window_working_days,
        reopen_window: state.settings.appeal_reopen_window_working_days,
    };
    let v = write(state, |txn| async move {
        let cal = cache.current_for_write(&txn).await?;
        Ok((
            svc::act(&txn, &cal, &rules, &user, now, id, act).await?,
            txn,
        ))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

macro_rules! action {
    ($(#[doc = $doc:literal])* $name:ident, $api_path:literal, $path:literal, $input:ty, $variant:ident) => {
        $(#[doc = $doc])*
        #[utoipa::path(post, path = $api_path, tag = "appeals", params(("id" = Uuid, Path)),
            request_body = $input, security(("bearer" = [])),
            responses((status = 200, body = AppealView),
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
}

// Each action: the OpenAPI path, then the path inside the `/api/v1` scope.
action!(
    /// Routes the appeal to a department (service centre), also to re-route.
    assign, "/api/v1/appeals/{id}/assign", "/appeals/{id}/assign", AssignInput, Assign);
action!(
    /// Transfers (转办) the appeal to another department (its department or the service centre).
    transfer, "/api/v1/appeals/{id}/transfer", "/appeals/{id}/transfer", TransferInput, Transfer);
action!(
    /// Returns (退回) the appeal to the service centre (its department, within the window).
    return_, "/api/v1/appeals/{id}/return", "/appeals/{id}/return", ReasonInput, Return);
action!(
    /// First answer: meets the reply clock.
    reply, "/api/v1/appeals/{id}/reply", "/appeals/{id}/reply", MessageInput, Reply);
action!(
    /// A clear opinion: meets the opinion clock (and the reply clock).
    opinion, "/api/v1/appeals/{id}/opinion", "/appeals/{id}/opinion", MessageInput, Opinion);
action!(
    /// Resolved: meets every open clock.
    resolve, "/api/v1/appeals/{id}/resolve", "/appeals/{id}/resolve", MessageInput, Resolve);
action!(
    /// Asks the enterprise for more information; open clocks pause.
    request_info, "/api/v1/appeals/{id}/request_info", "/appeals/{id}/request_info", MessageInput, RequestInfo);
action!(
    /// The enterprise supplements; clocks resume, later by the working time paused.
    supplement, "/api/v1/appeals/{id}/supplement", "/appeals/{id}/supplement", SupplementInput, Supplement);
action!(
    /// The department asks for more working days (延期).
    extension, "/api/v1/appeals/{id}/extension", "/appeals/{id}/extension", ExtensionInput, Extension);
action!(
    /// The service centre decides an extension; approval moves the close clock.
    extension_decision, "/api/v1/appeals/{id}/extension_decision", "/appeals/{id}/extension_decision", ExtensionDecisionInput, ExtensionDecision);
action!(
    /// The enterprise rates a resolved appeal (1–5) and closes it.
    rate, "/api/v1/appeals/{id}/rate", "/appeals/{id}/rate", RateInput, Rate);
action!(
    /// The enterprise reopens (重办): a fresh close clock, same department.
    reopen, "/api/v1/appeals/{id}/reopen", "/appeals/{id}/reopen", ReasonInput, Reopen);
action!(
    /// The enterprise withdraws the appeal before it is resolved.
    withdraw, "/api/v1/appeals/{id}/withdraw", "/appeals/{id}/withdraw", OptionalReasonInput, Withdraw);
action!(
    /// The service centre supervises (督办): a record and a mail to the department.
    supervise, "/api/v1/appeals/{id}/supervise", "/appeals/{id}/supervise", SuperviseInput, Supervise);

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(events)
        .service(assign)
        .service(transfer)
        .service(return_)
        .service(reply)
        .service(opinion)
        .service(resolve)
        .service(request_info)
        .service(supplement)
        .service(extension)
        .service(extension_decision)
        .service(rate)
        .service(reopen)
        .service(withdraw)
        .service(supervise);
}
