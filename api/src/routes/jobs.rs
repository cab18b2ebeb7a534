//! `/jobs` (admin): the background jobs, their last run and next slot; run one now.

use crate::{
    auth::AuthUser,
    error::{AppError, AppResult, Problem},
    pagination::Page,
    state::AppState,
};
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use entity::{
    enums::Role,
    job_run::{self, RunStatus, Trigger},
};
use jobs::runner::{JobStatus, RunError};
use serde::Serialize;
use uuid::Uuid;

/// A job with its schedule, last run and next slot.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobView {
    pub name: String,
    /// E.g. `every 10s`, `daily 03:30 Asia/Shanghai`, `monthly first working day 08:00 Asia/Shanghai`.
    pub schedule: String,
    pub last_started_at: Option<DateTime<Utc>>,
    pub last_finished_at: Option<DateTime<Utc>>,
    pub last_status: Option<RunStatus>,
    pub next_run_at: Option<DateTime<Utc>>,
}

impl From<JobStatus> for JobView {
    fn from(s: JobStatus) -> Self {
        Self {
            name: s.name,
            schedule: s.schedule,
            last_started_at: s.last_started_at,
            last_finished_at: s.last_finished_at,
            last_status: s.last_status,
            next_run_at: s.next_run_at,
        }
    }
}

/// One run of a job.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobRunView {
    pub id: Uuid,
    pub job: String,
    /// The scheduled slot (the start for manual runs).
    pub slot: DateTime<Utc>,
    pub trigger: Trigger,
    /// The process that ran it.
    pub owner: String,
    pub attempts: i32,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
    /// Items processed (mails sent, rows pruned, ...).
    pub items: i64,
    pub error: Option<String>,
}

impl From<job_run::Model> for JobRunView {
    fn from(r: job_run::Model) -> Self {
        Self {
            id: r.id,
            job: r.job,
            slot: r.slot,
            trigger: r.trigger,
            owner: r.owner,
            attempts: r.attempts,
            started_at: r.started_at,
            finished_at: r.finished_at,
            status: r.status,
            items: r.items,
            error: r.error,
        }
    }
}

/// A page of jobs (always one page).
#[derive(utoipa::ToSchema)]
pub struct JobPage {
    pub items: Vec<JobView>,
    pub next_cursor: Option<String>,
}

/// Every job with its last run and next run (admin).
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", security(("bearer" = [])),
    responses((status = 200, body = JobPage), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/jobs")]
pub async fn list(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    let items = state
        .jobs
        .statuses()
        .await?
        .into_iter()
        .map(JobView::from)
        .collect();
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

/// Runs a job now, outside its schedule, and answers the finished run (admin). A failed step
/// answers 200 with `status: failed`; 409 while the job runs elsewhere.
#[utoipa::path(post, path = "/api/v1/jobs/{name}/run", tag = "jobs", params(("name" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = JobRunView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
#[post("/jobs/{name}/run")]
pub async fn run(
    state: web::Data<AppState>,
    user: AuthUser,
    name: web::Path<String>,
) -> AppResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    let run = state.jobs.run_now(&name).await.map_err(|e| match e {
        RunError::UnknownJob(_) => AppError::NotFound,
        RunError::Busy(n) => AppError::conflict(
            "job_running",
            format!("job {n} is running; try again later"),
        ),
        RunError::Db(e) => e.into(),
        RunError::Other(e) => AppError::Internal(e),
    })?;
    Ok(HttpResponse::Ok().json(JobRunView::from(run)))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(run);
}
