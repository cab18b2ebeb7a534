//! Whether the login behind an access token is still alive: the user is active, the token was
//! issued under the user's current session version (an administrator's deactivation raises it),
//! and its login (refresh-token family) has not been ended by logout or reuse detection (which
//! revoke every token of the family).
//!
//! Each api instance trusts an answer for `SESSION_CHECK_MS` (2 s by default) of real time, so
//! a session ended on one instance is refused by every instance within that time, at the cost
//! of one small indexed query per login and interval.

use super::jwt::Claims;
use crate::error::AppResult;
use entity::{refresh_token, user};
use quick_cache::sync::Cache;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use uuid::Uuid;

/// The per-instance cache of session answers, keyed by login.
#[derive(Clone)]
pub struct Sessions {
    answers: Arc<Cache<Uuid, (Instant, bool)>>,
    ttl: Duration,
}

impl Sessions {
    /// A cache trusting each answer for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            answers: Arc::new(Cache::new(100_000)),
            ttl,
        }
    }

    /// Whether the token's login may still be used.
    pub async fn alive(&self, conn: &impl ConnectionTrait, claims: &Claims) -> AppResult<bool> {
        if let Some((at, ok)) = self.answers.get(&claims.sid)
            && at.elapsed() < self.ttl
        {
            return Ok(ok);
        }
        let ok = check(conn, claims).await?;
        if !self.ttl.is_zero() {
            self.answers.insert(claims.sid, (Instant::now(), ok));
        }
        Ok(ok)
    }

    /// Forgets what this instance knows of a login (the others learn within the interval).
    pub fn forget(&self, sid: Uuid) {
        self.answers.remove(&sid);
    }

    /// Forgets every login of this instance (after a user's sessions were ended).
    pub fn forget_all(&self) {
        self.answers.clear();
    }
}

async fn check(conn: &impl ConnectionTrait, claims: &Claims) -> AppResult<bool> {
    let user: Option<(bool, i32)> = user::Entity::find_by_id(claims.sub)
        .select_only()
        .column(user::Column::Active)
        .column(user::Column::SessionVersion)
        .into_tuple()
        .one(conn)
        .await?;
    let Some((active, version)) = user else {
        return Ok(false);
    };
    if !active || version != claims.sv {
        return Ok(false);
    }
    // Logout and reuse detection revoke every token of the login, used ones included.
    let ended: Option<Uuid> = refresh_token::Entity::find()
        .select_only()
        .column(refresh_token::Column::Id)
        .filter(refresh_token::Column::FamilyId.eq(claims.sid))
        .filter(refresh_token::Column::RevokedAt.is_not_null())
        .into_tuple()
        .one(conn)
        .await?;
    Ok(ended.is_none())
}
