//! One error type for the HTTP layer, rendered as `application/problem+json` (RFC 9457).

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use sea_orm::{DbErr, SqlErr};
use serde::Serialize;

/// One invalid field of a 422 answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The problem+json body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// A stable machine-readable code.
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: i64 },
    #[error("payload too large")]
    PayloadTooLarge(String),
    #[error("request timeout")]
    RequestTimeout,
    #[error("unsupported media type")]
    UnsupportedMediaType(String),
    #[error("range not satisfiable")]
    RangeNotSatisfiable(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("service unavailable")]
    Unavailable,
    /// Too busy right now (for example every password-hashing slot taken); retry shortly.
    #[error("busy")]
    Busy { retry_after_secs: i64 },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// A 409 with a stable code.
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
        }
    }

    /// A 422 about one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// A 403 with a reason.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::Forbidden(detail.into())
    }

    fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict { code, .. } => code,
            Self::Validation(_) => "validation_failed",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::RequestTimeout => "request_timeout",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::RangeNotSatisfiable(_) => "range_not_satisfiable",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Unavailable => "unavailable",
            Self::Busy { .. } => "busy",
            Self::Internal(_) => "internal_error",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::Unauthorized(d) | Self::BadRequest(d) | Self::Forbidden(d) => d.clone(),
            Self::PayloadTooLarge(d)
            | Self::UnsupportedMediaType(d)
            | Self::RangeNotSatisfiable(d) => d.clone(),
            Self::RequestTimeout => "the request body did not arrive within the deadline".into(),
            Self::NotFound => "the resource does not exist or is not visible to you".into(),
            Self::Conflict { detail, .. } => detail.clone(),
            Self::Validation(errs) => errs
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            Self::TooManyRequests { retry_after_secs } => {
                format!("too many attempts; retry after {retry_after_secs} seconds")
            }
            Self::MethodNotAllowed => "this method is not allowed on this resource".into(),
            Self::Unavailable => "a dependency is not available".into(),
            Self::Busy { retry_after_secs } => {
                format!("the service is busy; retry after {retry_after_secs} seconds")
            }
            Self::Internal(_) => "an internal error occurred; it has been logged".into(),
        }
    }

    /// The problem+json body of this error.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let code = self.code();
        Problem {
            type_: format!("https://liantong.dev/problems/{}", code.replace('_', "-")),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: self.detail(),
            code: code.to_string(),
            errors: match self {
                Self::Validation(errs) => Some(errs.clone()),
                _ => None,
            },
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RangeNotSatisfiable(_) => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(e) = self {
            tracing::error!(error = ?e, "request failed");
        }
        let mut res = HttpResponse::build(self.status_code());
        res.content_type("application/problem+json");
        if let Self::TooManyRequests { retry_after_secs } | Self::Busy { retry_after_secs } = self {
            res.insert_header(("Retry-After", retry_after_secs.max(&1).to_string()));
        }
        if let Self::Unauthorized(_) = self {
            res.insert_header(("WWW-Authenticate", "Bearer"));
        }
        res.json(self.problem())
    }
}

impl From<DbErr> for AppError {
    fn from(e: DbErr) -> Self {
        // No connection to be had (pool exhausted past its timeout, server gone): the request
        // may well succeed later, so 503 as the API description says, not 500.
        if matches!(e, DbErr::ConnectionAcquire(_) | DbErr::Conn(_)) {
            tracing::warn!(error = %e, "database unavailable");
            return Self::Unavailable;
        }
        if let Some(SqlErr::UniqueConstraintViolation(_)) = e.sql_err() {
            return Self::conflict(
                "duplicate",
                "a record with the same unique value already exists",
            );
        }
        if let Some(SqlErr::ForeignKeyConstraintViolation(_)) = e.sql_err() {
            return Self::conflict(
                "in_use",
                "the record is referenced by or refers to another record",
            );
        }
        Self::Internal(e.into())
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        Self::Internal(e)
    }
}

/// Result of a handler or service.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::error::ConnAcquireErr;

    #[test]
    fn no_database_connection_is_503() {
        let e = AppError::from(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout));
        assert_eq!(e.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let e = AppError::from(DbErr::Custom("boom".into()));
        assert_eq!(e.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
