//! `/calendar/*`: days, settings and the deadline engine.

use super::write;
use crate::{
    auth::AuthUser,
    error::{AppResult, Problem},
    services::calendar::{
        self as svc, DayInput, DayView, DeadlineInput, DeadlineView, SettingsDto,
    },
    state::AppState,
};
use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::NaiveDate;
use serde::Deserialize;

/// `?from=&to=` (inclusive dates).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RangeQuery {
    /// From 1900-01-01.
    #[param(pattern = r"^(?:19[0-9]{2}|[2-9][0-9]{3})-")]
    pub from: NaiveDate,
    /// Not before `from`, at most 1100 days after it, up to 9999-12-31.
    #[param(pattern = r"^(?:19[0-9]{2}|[2-9][0-9]{3})-")]
    pub to: NaiveDate,
}

/// Every date of a range with whether it is worked.
#[utoipa::path(get, path = "/api/v1/calendar/days", tag = "calendar", params(RangeQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<DayView>), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[get("/calendar/days")]
pub async fn days(
    state: web::Data<AppState>,
    _user: AuthUser,
    q: web::Query<RangeQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::days(&state.read_db, &state.calendar, q.from, q.to).await?))
}

/// Marks a date as holiday or make-up workday (admin).
#[utoipa::path(put, path = "/api/v1/calendar/days/{date}", tag = "calendar", params(("date" = NaiveDate, Path, description = "From 1900-01-01 to 9999-12-31.", pattern = r"^(?:19[0-9]{2}|[2-9][0-9]{3})-")),
    request_body = DayInput, security(("bearer" = [])),
    responses((status = 200, body = DayView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/calendar/days/{date}")]
pub async fn put_day(
    state: web::Data<AppState>,
    user: AuthUser,
    date: web::Path<NaiveDate>,
    body: web::Json<DayInput>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let (date, input) = (*date, body.into_inner());
    let v = write(&state, |txn| async move {
        Ok((svc::put_day(&txn, &user, now, date, input).await?, txn))
    })
    .await?;
    svc::recompute_clocks(&state.db, &state.calendar, now).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Reverts a date to normal (admin).
#[utoipa::path(delete, path = "/api/v1/calendar/days/{date}", tag = "calendar", params(("date" = NaiveDate, Path, description = "From 1900-01-01 to 9999-12-31.", pattern = r"^(?:19[0-9]{2}|[2-9][0-9]{3})-")),
    security(("bearer" = [])), responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[delete("/calendar/days/{date}")]
pub async fn delete_day(
    state: web::Data<AppState>,
    user: AuthUser,
    date: web::Path<NaiveDate>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let date = *date;
    write(&state, |txn| async move {
        Ok((svc::delete_day(&txn, &user, now, date).await?, txn))
    })
    .await?;
    svc::recompute_clocks(&state.db, &state.calendar, now).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Time zone and working hours in effect.
#[utoipa::path(get, path = "/api/v1/calendar/settings", tag = "calendar", security(("bearer" = [])),
    responses((status = 200, body = SettingsDto)))]
#[get("/calendar/settings")]
pub async fn get_settings(state: web::Data<AppState>, _user: AuthUser) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::get_settings(&state.read_db, &state.calendar).await?))
}

/// Replaces time zone and working hours (admin).
#[utoipa::path(put, path = "/api/v1/calendar/settings", tag = "calendar", request_body = SettingsDto, security(("bearer" = [])),
    responses((status = 200, body = SettingsDto), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/calendar/settings")]
pub async fn put_settings(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<SettingsDto>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let input = body.into_inner();
    let cache = state.calendar.clone();
    let v = write(&state, |txn| async move {
        Ok((
            svc::put_settings(&txn, &cache, &user, now, input).await?,
            txn,
        ))
    })
    .await?;
    svc::recompute_clocks(&state.db, &state.calendar, now).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The due time a number of working days after a start.
#[utoipa::path(post, path = "/api/v1/calendar/deadline", tag = "calendar", request_body = DeadlineInput, security(("bearer" = [])),
    responses((status = 200, body = DeadlineView), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/calendar/deadline")]
pub async fn deadline(
    state: web::Data<AppState>,
    _user: AuthUser,
    body: web::Json<DeadlineInput>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(svc::deadline(&state.read_db, &state.calendar, body.into_inner()).await?))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(days)
        .service(put_day)
        .service(delete_day)
        .service(get_settings)
        .service(put_settings)
        .service(deadline);
}
