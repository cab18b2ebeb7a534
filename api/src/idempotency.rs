//! `Idempotency-Key` for every creating POST: the first answer is saved in the same transaction
//! as the creation, so a replay returns it and creates nothing; a reuse with another body is 422.
//! The key row is written first: a concurrent duplicate waits on the primary key and then sees
//! the committed answer instead of creating twice.

use crate::{
    error::{AppError, AppResult},
    state::AppState,
};
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, http::StatusCode};
use chrono::TimeDelta;
use entity::idempotency_key;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::future::{Future, Ready, ready};

/// The `Idempotency-Key` header, when present.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl IdempotencyKey {
    /// The key of an operation that must be retry-safe (a ledger posting): 400 without one.
    pub fn required(self) -> AppResult<Self> {
        if self.0.is_some() {
            Ok(self)
        } else {
            Err(AppError::BadRequest(
                "this operation requires an Idempotency-Key header".into(),
            ))
        }
    }
}

/// The longest accepted key.
pub const MAX_KEY_LEN: usize = 128;

impl FromRequest for IdempotencyKey {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(v) = req.headers().get("Idempotency-Key") else {
            return ready(Ok(Self(None)));
        };
        let parsed = match v.to_str() {
            Ok(s) if !s.is_empty() && s.len() <= MAX_KEY_LEN => Ok(Self(Some(s.to_string()))),
            _ => Err(AppError::invalid(
                "Idempotency-Key",
                format!("must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
            )),
        };
        ready(parsed)
    }
}

/// Runs a creating use-case in one transaction under an optional idempotency key and answers
/// with `status` and the JSON of what it returns. `scope` is the caller (user id, or
/// `anonymous`); `request` is the parsed body, hashed together with the method and path.
pub async fn create<I, T, F, Fut>(
    state: &AppState,
    req: &HttpRequest,
    scope: String,
    key: IdempotencyKey,
    request: I,
    status: StatusCode,
    f: F,
) -> AppResult<HttpResponse>
where
    I: Serialize,
    T: Serialize,
    F: FnOnce(DatabaseTransaction, I) -> Fut,
    Fut: Future<Output = AppResult<(T, DatabaseTransaction)>>,
{
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    let claim = match &key.0 {
        None => None,
        Some(k) => {
            let hash = fingerprint(state, req, &request)?;
            let row = idempotency_key::ActiveModel {
                scope: Set(scope.clone()),
                key: Set(k.clone()),
                request_hash: Set(hash.clone()),
                status_code: Set(0),
                response_body: Set(String::new()),
                created_at: Set(now),
                expires_at: Set(now + TimeDelta::seconds(state.settings.idempotency_ttl_secs)),
            };
            // One statement claims the key: a new key is inserted, an expired one taken over;
            // a live one (committed, or waited for until its transaction ends) is left alone,
            // and the request is a replay.
            use idempotency_key::Column as K;
            let claimed = idempotency_key::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([K::Scope, K::Key])
                        .update_columns([
                            K::RequestHash,
                            K::StatusCode,
                            K::ResponseBody,
                            K::CreatedAt,
                            K::ExpiresAt,
                        ])
                        .action_and_where(
                            Expr::col((idempotency_key::Entity, K::ExpiresAt)).lte(now),
                        )
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await;
            let taken = match claimed {
                Ok(n) => n == 1,
                Err(e)
                    if matches!(
                        e.sql_err(),
                        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                    ) =>
                {
                    false
                }
                Err(e) => return Err(e.into()),
            };
            if !taken {
                txn.rollback().await?;
                return replay(state, &scope, k, &hash).await;
            }
            Some((k.clone(), hash))
        }
    };
    let (value, txn) = f(txn, request).await?;
    let body = serde_json::to_string(&value).map_err(anyhow::Error::from)?;
    if let Some((k, _)) = claim {
        idempotency_key::Entity::update_many()
            .col_expr(
                idempotency_key::Column::StatusCode,
                (status.as_u16() as i32).into(),
            )
            .col_expr(idempotency_key::Column::ResponseBody, body.clone().into())
            .filter(idempotency_key::Column::Scope.eq(scope.as_str()))
            .filter(idempotency_key::Column::Key.eq(k.as_str()))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(HttpResponse::build(status)
        .content_type("application/json")
        .body(body))
}

async fn replay(state: &AppState, scope: &str, key: &str, hash: &str) -> AppResult<HttpResponse> {
    let row = idempotency_key::Entity::find_by_id((scope.to_string(), key.to_string()))
        .one(&state.db)
        .await?
        .ok_or_else(|| {
            AppError::conflict(
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still in progress",
            )
        })?;
    if row.request_hash != hash {
        return Err(AppError::invalid(
            "Idempotency-Key",
            "this key was already used with a different request",
        ));
    }
    let status = StatusCode::from_u16(row.status_code as u16).map_err(|_| {
        AppError::conflict(
            "idempotency_in_progress",
            "a request with this Idempotency-Key is still in progress",
        )
    })?;
    Ok(HttpResponse::build(status)
        .content_type("application/json")
        .insert_header(("Idempotent-Replayed", "true"))
        .body(row.response_body))
}

/// A keyed hash of method, path and body: bodies may carry passwords, so an unkeyed hash stored
/// for 24 hours would let anyone reading the table guess them offline.
fn fingerprint(state: &AppState, req: &HttpRequest, body: &impl Serialize) -> AppResult<String> {
    // serde_json's map is ordered, so equal bodies give equal text whatever the key order.
    let canonical = serde_json::to_value(body)
        .map_err(anyhow::Error::from)?
        .to_string();
    let mut h = Sha256::new();
    h.update(state.jwt.fingerprint_key());
    h.update(req.method().as_str().as_bytes());
    h.update(b" ");
    h.update(req.path().as_bytes());
    h.update(b"\n");
    h.update(canonical.as_bytes());
    h.update(state.jwt.fingerprint_key());
    Ok(hex::encode(h.finalize()))
}

/// The idempotency scope of an unauthenticated request: per claimed identity (e.g. the username
/// being registered), so unrelated anonymous clients that pick the same key never collide.
pub fn anonymous_scope(identity: &str) -> String {
    let digest = Sha256::digest(identity.trim().to_lowercase().as_bytes());
    format!("anon:{}", &hex::encode(digest)[..32])
}
