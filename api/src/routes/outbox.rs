//! `/outbox` (admin): queued, sent and failed mails; retry a failed one.

use crate::{
    auth::AuthUser,
    error::{AppError, AppResult, Problem},
    pagination::{self, PageQuery},
    state::AppState,
};
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use entity::{
    enums::Role,
    mail_outbox::{self, COLUMN as M, MailStatus},
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A mail of the outbox.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MailView {
    pub id: Uuid,
    pub message_id: String,
    pub template: String,
    pub recipient: String,
    pub subject: String,
    pub status: MailStatus,
    pub attempts: i32,
    /// When the dispatcher tries next (pending mails).
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<mail_outbox::Model> for MailView {
    fn from(m: mail_outbox::Model) -> Self {
        Self {
            id: m.id,
            message_id: m.message_id,
            template: m.template,
            recipient: m.recipient,
            subject: m.subject,
            status: m.status,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

/// A page of mails.
#[derive(utoipa::ToSchema)]
pub struct MailPage {
    pub items: Vec<MailView>,
    pub next_cursor: Option<String>,
}

/// `?status=` plus paging.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OutboxQuery {
    /// `pending`, `sent` or `failed`; all when absent.
    pub status: Option<MailStatus>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Mails, oldest first (admin).
#[utoipa::path(get, path = "/api/v1/outbox", tag = "jobs", params(OutboxQuery), security(("bearer" = [])),
    responses((status = 200, body = MailPage), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[get("/outbox")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<OutboxQuery>,
) -> AppResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    let q = q.into_inner();
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    Ok(HttpResponse::Ok().json(
        list_mails(&state.db, q.status, &page)
            .await?
            .map(MailView::from),
    ))
}

/// Puts a failed mail back in the queue with fresh attempts (admin); 409 unless it failed.
#[utoipa::path(post, path = "/api/v1/outbox/{id}/retry", tag = "jobs", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = MailView), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
#[post("/outbox/{id}/retry")]
pub async fn retry(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    match jobs::mail::dispatch::retry(&state.db, *id, state.clock.now()).await? {
        None => Err(AppError::NotFound),
        Some(Err(status)) => Err(AppError::conflict(
            "mail_not_failed",
            format!(
                "only failed mails can be retried; this one is {}",
                sea_orm::ActiveEnum::to_value(&status)
            ),
        )),
        Some(Ok(m)) => Ok(HttpResponse::Ok().json(MailView::from(m))),
    }
}

async fn list_mails(
    conn: &impl ConnectionTrait,
    status: Option<MailStatus>,
    page: &PageQuery,
) -> AppResult<pagination::Page<mail_outbox::Model>> {
    let mut select = mail_outbox::Entity::find();
    if let Some(s) = status {
        select = select.filter(M.status.eq(s));
    }
    pagination::fetch(
        conn,
        select,
        mail_outbox::Column::Id,
        page,
        |m: &mail_outbox::Model| m.id,
    )
    .await
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(retry);
}
